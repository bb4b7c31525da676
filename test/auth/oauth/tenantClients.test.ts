/**
 * A named tenant's own OAuth client over real HTTP on Azurite (local settings: digests in the registry row, the
 * in-memory signing key): `npm run tenant -- client create|rotate|status <name>`, `POST /tenants/<t>/oauth/token`,
 * and its access tokens on the tenant's SCIM routes. Every crossing (another tenant's token, the default's, a feed
 * route, another tenant's endpoint, an unknown or disabled tenant) gets the very same 401 as a wrong credential.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAccessToken } from '../../../shared/auth/oauth/accessTokens';
import { GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../../../shared/scim/schemas';
import { checkConsistency } from '../../support/consistencyChecker';
import { basicCredentials, decodeJwt, requestToken, type TokenReply } from '../../support/oauth';
import { startScimServer, type ScimTestServer } from '../../support/scimServer';
import { addTenant, runTenant, type AddedTenant } from '../../support/tenants';

const DEFAULT_CLIENT_ID = 'default-client-id';
const DEFAULT_CLIENT_SECRET = 'default-client-secret-0123456789abcdef';
const CACHE_MS = 300_000;

let server: ScimTestServer;
let clock = Date.parse('2031-05-01T09:00:00Z');
let acme: AddedTenant;
let globex: AddedTenant;
let acmeClient: TenantClient;
let globexClient: TenantClient;

interface TenantClient {
    tokenEndpoint: string;
    clientId: string;
    clientSecret: string;
}

/** A fresh app instance (nothing cached) on the test's clock. */
function startInstance(): void {
    server.reconfigure({ SCIM_OAUTH_CLIENT_ID: DEFAULT_CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: DEFAULT_CLIENT_SECRET }, {
        tokenVerifier: { now: () => clock, log: () => undefined },
        oauth: { now: () => clock, log: () => undefined },
    });
}

/** `client create|rotate <name>`: the four lines Entra asks for, the secret last. */
async function runClient(command: 'create' | 'rotate', tenant: AddedTenant): Promise<TenantClient> {
    const { code, out, err } = await runTenant(server, ['client', command, tenant.name]);
    expect(code, err.join('\n')).toBe(0);
    expect(out).toHaveLength(4);
    expect(out[0]).toBe(`Tenant URL: ${tenant.base}`);
    expect(out[1]).toBe(`Token Endpoint: ${server.origin}/tenants/${tenant.name}/oauth/token`);
    expect(out[2]).toMatch(/^Client Identifier: [0-9a-f-]{36}$/);
    expect(out[3]).toMatch(/^Client Secret: [A-Za-z0-9_-]{43}$/);
    return { tokenEndpoint: out[1]!.slice('Token Endpoint: '.length), clientId: out[2]!.slice('Client Identifier: '.length), clientSecret: out[3]!.slice('Client Secret: '.length) };
}

/** POST to `<origin>/tenants/<tenant>/oauth/token` (any tenant segment) with Basic credentials. */
function tenantToken(tenant: string, clientId: string, clientSecret: string): Promise<TokenReply> {
    return requestToken(`${server.origin}/tenants/${tenant}`, { grant_type: 'client_credentials' }, { authorization: basicCredentials(clientId, clientSecret) });
}

async function accessTokenOf(tenant: string, client: TenantClient): Promise<string> {
    const reply = await tenantToken(tenant, client.clientId, client.clientSecret);
    expect(reply.status, reply.text).toBe(200);
    return reply.body.access_token;
}

async function call(url: string, token: string, method = 'GET', body?: unknown): Promise<{ status: number; text: string; body: any }> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/scim+json; charset=utf-8';
    const response = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await response.text();
    return { status: response.status, text, body: text === '' ? undefined : JSON.parse(text) };
}

function lastStorageRequests(): number {
    const line = [...server.logs].reverse().find((l) => l.startsWith('scim request '));
    return JSON.parse(line!.slice('scim request '.length)).storageRequests;
}

beforeAll(async () => {
    server = await startScimServer();
    startInstance();
    acme = await addTenant(server, 'acme');
    globex = await addTenant(server, 'globex-2');
    acmeClient = await runClient('create', acme);
    globexClient = await runClient('create', globex);
});
afterAll(async () => {
    expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    await server?.close();
});

describe('a tenant\'s own client (npm run tenant -- client …)', () => {
    it('create keeps the client id and a digest of the secret in the row, never the secret; a second create is refused', async () => {
        const record = (await server.currentApp().store.tenantRegistry().get('acme'))!;
        expect(record.clientId).toBe(acmeClient.clientId);
        expect(record.clientSecretDigest).toMatch(/^[0-9a-f]{64}$/);
        expect(record.clientSecretName).toBeUndefined();
        expect(JSON.stringify(record)).not.toContain(acmeClient.clientSecret);
        expect(acmeClient.clientId).not.toBe(globexClient.clientId);
        const again = await runTenant(server, ['client', 'create', 'acme']);
        expect(again.code).toBe(1);
        expect(again.out).toEqual([]);
        expect(again.err.join('\n')).toContain('already has OAuth client');
    });

    it('list names each tenant\'s client id (or none), never a secret', async () => {
        const { code, out } = await runTenant(server, ['list']);
        expect(code).toBe(0);
        expect(out.find((line) => line.startsWith('acme  '))).toMatch(new RegExp(`  OAuth client ${acmeClient.clientId}$`));
        expect(out.find((line) => line.startsWith('globex-2  '))).toMatch(new RegExp(`  OAuth client ${globexClient.clientId}$`));
        expect(out.join('\n')).not.toContain(acmeClient.clientSecret);
        const plain = await addTenant(server, 'plainco');
        expect((await runTenant(server, ['list'])).out.find((line) => line.startsWith(`${plain.name}  `))).toMatch(/ {2}no OAuth client$/);
    });

    it('status names the client and where its secret is, never a secret', async () => {
        const { code, out, err } = await runTenant(server, ['client', 'status', 'acme']);
        expect(code).toBe(0);
        expect(out).toEqual([
            `Tenant 'acme': OAuth client ${acmeClient.clientId} (active).`,
            'Client secret: its digest is stored locally; a rotate replaces it at once (no previous secret is accepted).',
        ]);
        expect([...out, ...err].join('\n')).not.toContain(acmeClient.clientSecret);
    });

    it('refuses bad usage (exit 2) and unknown tenants (exit 1), printing nothing on stdout', async () => {
        expect((await runTenant(server, ['client', 'frobnicate', 'acme'])).code).toBe(2);
        expect((await runTenant(server, ['client'])).code).toBe(2);
        expect((await runTenant(server, ['client', 'create'])).code).toBe(2);
        expect((await runTenant(server, ['client', 'create', 'Not_A_Name'])).code).toBe(2);
        const unknown = await runTenant(server, ['client', 'create', 'nobody']);
        expect(unknown.code).toBe(1);
        expect(unknown.out).toEqual([]);
        const noClient = await addTenant(server, 'noclient');
        const status = await runTenant(server, ['client', 'status', noClient.name]);
        expect(status.out[0]).toContain('no OAuth client');
        expect((await runTenant(server, ['client', 'rotate', noClient.name])).code).toBe(1);
    });
});

describe('POST /tenants/<tenant>/oauth/token', () => {
    it('issues a token for the tenant, bound to its SCIM root, its name and its client (Basic and body credentials)', async () => {
        const reply = await tenantToken('acme', acmeClient.clientId, acmeClient.clientSecret);
        expect(reply.status, reply.text).toBe(200);
        expect(reply.headers.get('cache-control')).toBe('no-store');
        expect(reply.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 120 * 60 });
        const { header, payload } = decodeJwt(reply.body.access_token);
        expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
        expect(payload).toMatchObject({
            aud: acme.base,
            iss: `${server.origin}/tenants/acme/oauth`,
            sub: acmeClient.clientId,
            client_id: acmeClient.clientId,
            tenant: 'acme',
        });
        const body = await requestToken(`${server.origin}/tenants/acme`, { grant_type: 'client_credentials', client_id: acmeClient.clientId, client_secret: acmeClient.clientSecret });
        expect(body.status, body.text).toBe(200);
    });

    it('runs Entra-shaped requests on the tenant\'s routes with the access token, in the tenant\'s partitions only', async () => {
        const token = await accessTokenOf('acme', acmeClient);
        const created = await call(`${acme.base}/Users`, token, 'POST', { schemas: [USER_SCHEMA], userName: 'oauth@acme.com', externalId: 'ext-1', active: true });
        expect(created.status, created.text).toBe(201);
        const found = await call(`${acme.base}/Users?filter=userName+eq+%22oauth%40acme.com%22`, token);
        expect(found.body.totalResults).toBe(1);
        const patched = await call(`${acme.base}/Users/${created.body.id}`, token, 'PATCH', { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
        expect(patched.status, patched.text).toBe(200);
        expect(patched.body.active).toBe(false);
        const group = await call(`${acme.base}/Groups`, token, 'POST', { schemas: [GROUP_SCHEMA], displayName: 'OAuth Group', externalId: 'g-1', members: [{ value: created.body.id }] });
        expect(group.status, group.text).toBe(201);
        // The same name under globex (its Secret Token) and the default: nothing of acme's is there.
        expect((await call(`${globex.base}/Users?filter=userName+eq+%22oauth%40acme.com%22`, globex.token)).body.totalResults).toBe(0);
        expect((await call(`${server.base}/Users?filter=userName+eq+%22oauth%40acme.com%22`, server.token)).body.totalResults).toBe(0);
        // Its Secret Token still works beside the access token.
        expect((await call(`${acme.base}/Users/${created.body.id}`, acme.token)).status).toBe(200);
    });

    it('a SCIM request with an access token costs what the default tenant\'s costs once the row is cached', async () => {
        const defaultToken = (await requestToken(server.origin, { grant_type: 'client_credentials', client_id: DEFAULT_CLIENT_ID, client_secret: DEFAULT_CLIENT_SECRET })).body.access_token;
        const token = await accessTokenOf('acme', acmeClient);
        const tenantUser = (await call(`${acme.base}/Users`, token, 'POST', { schemas: [USER_SCHEMA], userName: 'cost@acme.com' })).body.id;
        const plainUser = (await call(`${server.base}/Users`, defaultToken, 'POST', { schemas: [USER_SCHEMA], userName: 'cost@acme.com' })).body.id;
        await call(`${acme.base}/Users/${tenantUser}`, token);
        const tenantCost = lastStorageRequests();
        await call(`${server.base}/Users/${plainUser}`, defaultToken);
        expect(lastStorageRequests()).toBe(tenantCost);
        expect(tenantCost).toBe(1);
    });
});

describe('every crossing is the same 401', () => {
    it('refuses tenant A\'s token on B\'s routes, on /scim, on every feed; the default\'s token on every tenant\'s routes', async () => {
        const acmeToken = await accessTokenOf('acme', acmeClient);
        const defaultToken = (await requestToken(server.origin, { grant_type: 'client_credentials', client_id: DEFAULT_CLIENT_ID, client_secret: DEFAULT_CLIENT_SECRET })).body.access_token;
        const wrong = await call(`${acme.base}/Users`, 'not-a-token');
        expect(wrong.status).toBe(401);
        const refusals: [string, string][] = [
            [`${globex.base}/Users`, acmeToken],
            [`${globex.base}/Groups`, acmeToken],
            [`${globex.base}/ServiceProviderConfig`, acmeToken],
            [`${server.base}/Users`, acmeToken],
            [`${server.base}/Groups`, acmeToken],
            [acme.feedUrl, acmeToken],
            [globex.feedUrl, acmeToken],
            [`${server.origin}/changes`, acmeToken],
            [`${acme.base}/Users`, defaultToken],
            [`${acme.base}/Groups`, defaultToken],
            [`${globex.base}/Users`, defaultToken],
            [acme.feedUrl, defaultToken],
            [`${server.origin}/tenants/nobody/scim/Users`, acmeToken],
        ];
        for (const [url, token] of refusals) {
            const reply = await call(url, token);
            expect([url, reply.status]).toEqual([url, 401]);
            expect(reply.text).toBe(wrong.text);
        }
        // Each still opens its own.
        expect((await call(`${acme.base}/Users`, acmeToken)).status).toBe(200);
        expect((await call(`${server.base}/Users`, defaultToken)).status).toBe(200);
    });

    it('requires the tenant claim beside the audience: signed by the app\'s own key, a mismatch either way is refused', async () => {
        const keys = server.currentApp().oauth!.signingKeys;
        const sign = (scimBaseUrl: string, clientId: string, tenant?: string) =>
            issueAccessToken(keys, { clientId, scimBaseUrl, expiresAt: clock + 3_600_000, ...(tenant !== undefined ? { tenant } : {}) }, clock);
        const wrong = (await call(`${acme.base}/Users`, 'not-a-token')).text;
        const cases: [string, string][] = [
            [`${acme.base}/Users`, await sign(acme.base, acmeClient.clientId)], // no tenant claim
            [`${acme.base}/Users`, await sign(acme.base, acmeClient.clientId, 'globex-2')], // another tenant's name
            [`${acme.base}/Users`, await sign(acme.base, globexClient.clientId, 'acme')], // another client
            [`${server.base}/Users`, await sign(server.base, DEFAULT_CLIENT_ID, 'acme')], // the default's audience, a tenant's name
        ];
        for (const [url, token] of cases) {
            const reply = await call(url, token);
            expect(reply.status).toBe(401);
            expect(reply.text).toBe(wrong);
        }
        // The control: the same signer, everything matching.
        expect((await call(`${acme.base}/Users`, await sign(acme.base, acmeClient.clientId, 'acme'))).status).toBe(200);
        expect((await call(`${server.base}/Users`, await sign(server.base, DEFAULT_CLIENT_ID))).status).toBe(200);
    });

    it('answers invalid_client with the same body for A\'s client at B\'s endpoint, unknown and impossible names, and a wrong secret', async () => {
        const wrongSecret = await tenantToken('acme', acmeClient.clientId, 'wrong-secret');
        expect(wrongSecret.status).toBe(401);
        expect(wrongSecret.body.error).toBe('invalid_client');
        expect(wrongSecret.headers.get('www-authenticate')).toMatch(/^Basic /);
        const crossings = [
            await tenantToken('globex-2', acmeClient.clientId, acmeClient.clientSecret),
            await tenantToken('globex-2', globexClient.clientId, acmeClient.clientSecret),
            await tenantToken('nobody', acmeClient.clientId, acmeClient.clientSecret),
            await tenantToken('Not_A_Name', acmeClient.clientId, acmeClient.clientSecret),
            await tenantToken('noclient', acmeClient.clientId, acmeClient.clientSecret),
            // The default's client at a tenant's endpoint, and a tenant's client at the default's.
            await tenantToken('acme', DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            await requestToken(server.origin, { grant_type: 'client_credentials' }, { authorization: basicCredentials(acmeClient.clientId, acmeClient.clientSecret) }),
        ];
        for (const reply of crossings) {
            expect(reply.status, reply.text).toBe(401);
            expect(reply.text).toBe(wrongSecret.text);
            expect(reply.headers.get('www-authenticate')).toBe(wrongSecret.headers.get('www-authenticate'));
        }
    });

    it('a tenant\'s client id is throttled after 10 failures, like the default\'s', async () => {
        const victim = await addTenant(server, 'throttled');
        const client = await runClient('create', victim);
        for (let i = 0; i < 10; i++) expect((await tenantToken('throttled', client.clientId, `wrong-${i}`)).status).toBe(401);
        const throttled = await tenantToken('throttled', client.clientId, client.clientSecret);
        expect(throttled.status).toBe(429);
        expect(throttled.body.error).toBe('invalid_client');
        expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });
});

describe('disable, rotate, remove', () => {
    it('disable refuses the token endpoint and the tenant\'s access tokens within SCIM_TOKEN_CACHE_SECONDS; enable brings them back', async () => {
        const tenant = await addTenant(server, 'initech');
        const client = await runClient('create', tenant);
        const token = await accessTokenOf('initech', client);
        expect((await call(`${tenant.base}/Users`, token)).status).toBe(200);
        expect((await runTenant(server, ['disable', 'initech'])).code).toBe(0);
        // This instance read the row a moment ago: like the Secret Token, accepted until its cache expires.
        expect((await call(`${tenant.base}/Users`, token)).status).toBe(200);
        clock += CACHE_MS;
        const refused = await call(`${tenant.base}/Users`, token);
        expect(refused.status).toBe(401);
        expect((await call(`${tenant.base}/Users`, tenant.token)).status).toBe(401);
        const endpoint = await tenantToken('initech', client.clientId, client.clientSecret);
        expect(endpoint.status).toBe(401);
        expect(endpoint.text).toBe((await tenantToken('acme', acmeClient.clientId, 'wrong-secret')).text);

        expect((await runTenant(server, ['enable', 'initech'])).code).toBe(0);
        clock += CACHE_MS;
        expect((await call(`${tenant.base}/Users`, token)).status).toBe(200);
        expect((await tenantToken('initech', client.clientId, client.clientSecret)).status).toBe(200);
    });

    it('local rotate: the new secret works (after at most a minute on a running instance), the previous one has no grace', async () => {
        const tenant = await addTenant(server, 'rotating');
        const first = await runClient('create', tenant);
        const issued = await accessTokenOf('rotating', first);
        const second = await runClient('rotate', tenant);
        expect(second.clientId).toBe(first.clientId);
        expect(second.clientSecret).not.toBe(first.clientSecret);
        clock += 61_000; // the row is re-read on a mismatch at most once a minute
        expect((await tenantToken('rotating', second.clientId, second.clientSecret)).status).toBe(200);
        expect((await tenantToken('rotating', first.clientId, first.clientSecret)).status).toBe(401);
        // Tokens already issued stay valid until they expire: they name the client, which did not change.
        expect((await call(`${tenant.base}/Users`, issued)).status).toBe(200);
    });

    it('a token of a removed tenant does not open a new tenant of the same name', async () => {
        const tenant = await addTenant(server, 'reborn');
        const oldToken = await accessTokenOf('reborn', await runClient('create', tenant));
        expect((await runTenant(server, ['remove', 'reborn'])).code).toBe(0);
        const again = await addTenant(server, 'reborn');
        const newClient = await runClient('create', again);
        clock += CACHE_MS;
        expect((await call(`${again.base}/Users`, oldToken)).status).toBe(401);
        expect((await call(`${again.base}/Users`, await accessTokenOf('reborn', newClient))).status).toBe(200);
    });
});
