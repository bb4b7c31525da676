/**
 * Operational logs (issue #9): one structured summary line per SCIM request, the app-side record an admin
 * lines up with Entra's provisioning log. Its shape and values are what docs/logs.md promises and what
 * the Kusto queries there parse, so they are asserted here, field by field.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimServer, type ScimReply, type ScimTestServer } from '../support/scimServer';
import { testConnectionString } from '../support/tables';
import { groupBody, patchBody, userBody } from './support/resources';
import { summaryLines, type RequestSummary } from './support/summaryLines';

const USER_NAME = 'logged.person@contoso.example';
let server: ScimTestServer;
let requestsTried = 0;

beforeAll(async () => {
    server = await startScimServer();
    // The first request creates the table; the budgets below are those of a warm app.
    expect((await server.request('GET', '/Users?count=1')).status).toBe(200);
});
afterAll(async () => {
    console.info(`operational-logs suite: ${requestsTried} requests`);
    await server.close();
});

/** Sends one request and returns its reply with the one summary line it produced. */
async function logged(method: string, pathAndQuery: string, body?: unknown, headers?: Record<string, string>): Promise<{ reply: ScimReply; summary: RequestSummary }> {
    requestsTried++;
    const from = server.logs.length;
    const reply = await server.request(method, pathAndQuery, body, headers);
    const summaries = summaryLines(server.logs, from);
    expect(summaries, `summary lines of ${method} ${pathAndQuery}`).toHaveLength(1);
    return { reply, summary: summaries[0]! };
}

describe('the summary line', () => {
    let userId: string;

    it('of a create: POST, User, 201, one storage request (one transaction), no scimType', async () => {
        const sent = Date.now();
        const { reply, summary } = await logged('POST', '/Users', userBody(USER_NAME));
        const answered = Date.now();
        expect(reply.status).toBe(201);
        userId = reply.body.id;
        expect(summary).toEqual({
            invocationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
            method: 'POST',
            resourceType: 'User',
            resourceId: reply.body.id,
            status: 201,
            storageRequests: 1,
            durationMs: expect.any(Number),
        });
        // Milliseconds of this request: within the time the client waited for it (a unit check, not a speed limit).
        expect(summary.durationMs).toBeGreaterThanOrEqual(0);
        expect(summary.durationMs).toBeLessThanOrEqual(answered - sent);
    });

    it('of a duplicate create: 409 with scimType uniqueness', async () => {
        const { reply, summary } = await logged('POST', '/Users', userBody(USER_NAME.toUpperCase()));
        expect(reply.status).toBe(409);
        expect(summary).toMatchObject({ method: 'POST', resourceType: 'User', status: 409, scimType: 'uniqueness', storageRequests: 1 });
    });

    it('of a read: the resource id, one point read', async () => {
        const { summary } = await logged('GET', `/Users/${userId}`);
        expect(summary).toMatchObject({ method: 'GET', resourceType: 'User', resourceId: userId, status: 200, storageRequests: 1 });
        expect(summary.scimType).toBeUndefined();
    });

    it("of Entra's matching query: one index read, 200", async () => {
        const { reply, summary } = await logged('GET', `/Users?filter=${encodeURIComponent(`userName eq "${USER_NAME}"`)}`);
        expect(reply.body.totalResults).toBe(1);
        expect(summary).toMatchObject({ method: 'GET', resourceType: 'User', status: 200 });
        expect(summary.resourceId).toBeUndefined();
        expect(summary.storageRequests).toBeGreaterThanOrEqual(1);
        expect(summary.storageRequests).toBeLessThanOrEqual(2);
    });

    it('of a PATCH, with the paths it ignored (by name, never by value)', async () => {
        const { reply, summary } = await logged('PATCH', `/Users/${userId}`, patchBody(
            { op: 'replace', path: 'active', value: false },
            { op: 'replace', path: 'urn:example:unknown:2.0:User:secretAttribute', value: 'value-that-must-not-be-logged' },
        ));
        expect(reply.status).toBe(200);
        expect(summary).toMatchObject({ method: 'PATCH', resourceType: 'User', resourceId: userId, status: 200 });
        expect(summary.storageRequests).toBeGreaterThanOrEqual(2); // read, then the conditional write
        expect(server.logs.join('\n')).not.toContain('value-that-must-not-be-logged');
    });

    it('of an unknown id: 404 with the id Entra asked for', async () => {
        const { summary } = await logged('DELETE', '/Users/00000000-0000-4000-8000-000000000000');
        expect(summary).toMatchObject({ method: 'DELETE', resourceType: 'User', resourceId: '00000000-0000-4000-8000-000000000000', status: 404 });
    });

    it('of a bad filter: 400 invalidFilter', async () => {
        const { summary } = await logged('GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
        expect(summary).toMatchObject({ status: 400, scimType: 'invalidFilter', storageRequests: 0 });
    });

    it('of a refused token: 401, no storage request', async () => {
        const { summary } = await logged('GET', `/Users/${userId}`, undefined, { Authorization: 'Bearer not-the-token' });
        expect(summary).toMatchObject({ method: 'GET', resourceType: 'User', status: 401, storageRequests: 0 });
    });

    it('of a group PATCH answered 204, and of a discovery endpoint without a resource type', async () => {
        const group = await logged('POST', '/Groups', groupBody('Logged group'));
        const { reply, summary } = await logged('PATCH', `/Groups/${group.reply.body.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: userId }] }));
        expect(reply.status).toBe(204);
        expect(summary).toMatchObject({ method: 'PATCH', resourceType: 'Group', resourceId: group.reply.body.id, status: 204 });
        const discovery = await logged('GET', '/ServiceProviderConfig');
        expect(discovery.summary).toMatchObject({ method: 'GET', status: 200, storageRequests: 0 });
        expect(discovery.summary.resourceType).toBeUndefined();
    });

    it('is one line per request, each with its own invocation id, and holds no userName or token', async () => {
        const from = server.logs.length;
        const replies = await Promise.all(Array.from({ length: 20 }, (_, n) => server.request('GET', n % 2 ? `/Users/${userId}` : '/Users?count=5')));
        requestsTried += replies.length;
        const summaries = summaryLines(server.logs, from);
        expect(summaries).toHaveLength(20);
        expect(new Set(summaries.map((s) => s.invocationId)).size).toBe(20);
        const everything = server.logs.join('\n');
        for (const secret of [USER_NAME, USER_NAME.toUpperCase(), encodeURIComponent(USER_NAME), server.token]) expect(everything).not.toContain(secret);
    });
});

describe('bounded and value-free (issue 17)', () => {
    it('a POST with 990 unknown keys logs 20 names and a count in a line of at most 4 KB', async () => {
        // Before: every key was logged (40,000 keys made a 640 KB line).
        const body: Record<string, unknown> = userBody('many.keys.person@contoso.example');
        for (let n = 0; n < 990; n++) body[`unknownKey${n}`] = 'x';
        const from = server.logs.length;
        const { reply, summary } = await logged('POST', '/Users', body);
        expect(reply.status).toBe(201);
        expect(summary.ignoredPaths).toHaveLength(20);
        expect(summary.ignoredPathsOmitted).toBe(990 - 20);
        for (const line of server.logs.slice(from)) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096);
    });

    it('a POST with 40,000 keys is refused before any of them is looked at', async () => {
        const body: Record<string, unknown> = userBody('forty.thousand.keys@contoso.example');
        for (let n = 0; n < 40_000; n++) body[`k${n}`] = 'x';
        const { reply, summary } = await logged('POST', '/Users', body);
        expect(reply.status).toBe(400);
        expect(reply.body).toMatchObject({ scimType: 'invalidSyntax' });
        expect(reply.body.detail).toContain('more than 1000 members');
        expect(summary).toMatchObject({ status: 400, storageRequests: 0 });
        expect(summary.ignoredPaths).toBeUndefined();
    });

    it('a PATCH through a filter on an unknown attribute logs the attribute name, not the filter value', async () => {
        const created = await logged('POST', '/Users', userBody('filter.value.person@contoso.example'));
        const secret = 'bob.private@example.com';
        const from = server.logs.length;
        const { reply, summary } = await logged('PATCH', `/Users/${created.reply.body.id}`, patchBody(
            { op: 'add', path: `secondaryEmails[value eq "${secret}"].value`, value: secret },
            { op: 'add', value: { [secret]: 'x' } },
        ));
        expect(reply.status).toBe(200);
        expect(summary.ignoredPaths).toEqual(['secondaryEmails.value', '(not an attribute name)']);
        expect(server.logs.slice(from).join('\n')).not.toContain('bob.private');
    });
});

describe('docs/logs.md', () => {
    const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'logs.md'), 'utf8');

    it('documents every field a summary line carries', () => {
        const fields = ['invocationId', 'method', 'resourceType', 'resourceId', 'status', 'scimType', 'storageRequests', 'durationMs', 'ignoredPaths', 'ignoredPathsOmitted'];
        for (const field of fields) expect(doc, field).toContain(`\`${field}\``);
        for (const summary of summaryLines(server.logs)) {
            for (const field of Object.keys(summary)) expect(fields, `undocumented field ${field}`).toContain(field);
        }
    });

    it('queries with the prefix the code writes, through parse_json', () => {
        expect(doc).toContain('traces');
        expect(doc).toContain('message startswith "scim request "');
        expect(doc).toContain('parse_json(');
    });
});

describe('the 500 path', () => {
    it('logs a summary line with status 500, and still no userName or token', async () => {
        await server.close();
        // The shared Azurite with a wrong account key: every storage request is refused with 403, which
        // is not transient, so the store answers 500 (nothing else in the app produces one on purpose).
        const wrongKey = testConnectionString().replace(/AccountKey=[^;]+/, `AccountKey=${Buffer.from('not-the-key').toString('base64')}`);
        server = await startScimServer({ connectionString: wrongKey });
        const name = 'five.hundred.person@contoso.example';
        const { reply, summary } = await logged('POST', '/Users', userBody(name));
        expect(reply.status).toBe(500);
        expect(reply.headers.get('content-type')).toMatch(/^application\/scim\+json/);
        expect(summary).toMatchObject({ method: 'POST', resourceType: 'User', status: 500 });
        const lookup = await logged('GET', `/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`);
        expect(lookup.summary.status).toBe(500);
        const everything = server.logs.join('\n');
        for (const secret of [name, encodeURIComponent(name), server.token]) expect(everything).not.toContain(secret);
    });
});
