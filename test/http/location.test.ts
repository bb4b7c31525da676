/**
 * `Location` and `meta.location` never follow the request's Host header (issue 17): in Azure they use the app's
 * own host name (WEBSITE_HOSTNAME) unless SCIM_PUBLIC_BASE_URL says otherwise (test/config.test.ts).
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimServer, type ScimTestServer } from '../support/scimServer';

let server: ScimTestServer;

beforeAll(async () => {
    server = await startScimServer();
});

afterAll(async () => {
    await server.close();
});

/** A POST /Users with a Host header of our choosing (fetch does not let a caller set Host). */
function postUserWithHost(host: string, userName: string): Promise<{ status: number; location: string | undefined; body: { meta?: { location?: string } } }> {
    const url = new URL(`${server.base}/Users`);
    const payload = JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName });
    return new Promise((resolve, reject) => {
        const outgoing = httpRequest({
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: { Host: host, Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/scim+json', 'Content-Length': Buffer.byteLength(payload) },
        }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({
                status: response.statusCode ?? 0,
                location: response.headers.location,
                body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { meta?: { location?: string } },
            }));
        });
        outgoing.on('error', reject);
        outgoing.end(payload);
    });
}

describe('Location over HTTP', () => {
    it('in Azure uses the app host name, not a Host header the client chose', async () => {
        server.reconfigure({ WEBSITE_HOSTNAME: 'scim-app.azurewebsites.net' });
        const reply = await postUserWithHost('evil.example', 'host.header.person@contoso.example');
        expect(reply.status).toBe(201);
        expect(reply.location).toMatch(/^https:\/\/scim-app\.azurewebsites\.net\/scim\/Users\/[0-9a-f-]{36}$/);
        expect(reply.body.meta?.location).toBe(reply.location);
    });
});
