/**
 * Tenants over real HTTP on Azurite (issue 22): every tenant has its own Tenant URL, token and partitions, and
 * nothing of one is visible to another. Tenants are onboarded with the admin command (test/support/tenants.ts).
 */
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../../shared/scim/schemas';
import { checkConsistency } from '../support/consistencyChecker';
import { startScimServer, type ScimReply, type ScimTestServer } from '../support/scimServer';
import { addTenant, runTenant, type TenantCredentials } from '../support/tenants';

let server: ScimTestServer;
let acme: TenantCredentials;
let globex: TenantCredentials;
/** The default tenant (plain `/scim`) as a credential, to treat all three alike. */
let plain: TenantCredentials;

beforeAll(async () => {
    server = await startScimServer();
    plain = { name: 'default', base: server.base, token: server.token };
    acme = await addTenant(server, 'acme');
    globex = await addTenant(server, 'globex-2');
});
afterAll(async () => {
    expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    await server.close();
});

function request(as: TenantCredentials, method: string, path: string, body?: unknown): Promise<ScimReply> {
    return server.request(method, path, body, {}, { as });
}

function lastStorageRequests(): number {
    const line = [...server.logs].reverse().find((l) => l.startsWith('scim request '));
    return JSON.parse(line!.slice('scim request '.length)).storageRequests;
}

async function createUser(as: TenantCredentials, userName: string, externalId?: string): Promise<string> {
    const reply = await request(as, 'POST', '/Users', { schemas: [USER_SCHEMA], userName, ...(externalId ? { externalId } : {}) });
    expect(reply.status).toBe(201);
    return reply.body.id;
}

async function createGroup(as: TenantCredentials, displayName: string): Promise<string> {
    const reply = await request(as, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName, externalId: `ext-${displayName}` });
    expect(reply.status).toBe(201);
    return reply.body.id;
}

/** Every route under a SCIM root, with a method it serves. */
const ROUTES: [string, string][] = [
    ['GET', '/Users'],
    ['GET', '/Users/some-id'],
    ['POST', '/Users/.search'],
    ['GET', '/Groups'],
    ['POST', '/Groups/.search'],
    ['POST', '/.search'],
    ['GET', '/ServiceProviderConfig'],
    ['GET', '/serviceConfiguration'],
    ['GET', '/ResourceTypes'],
    ['GET', '/Schemas'],
    ['GET', '/no-such-endpoint'],
];

describe('Tenant URLs', () => {
    it('serves every route under the Tenant URL the command printed, with the tenant\'s own token', async () => {
        expect(acme.base).toBe(server.base.replace(/\/scim$/, '/tenants/acme/scim'));
        const config = await request(acme, 'GET', '/ServiceProviderConfig');
        expect(config.status).toBe(200);
        expect(config.body.meta.location).toBe(`${acme.base}/ServiceProviderConfig`);
        const types = await request(acme, 'GET', '/ResourceTypes');
        expect(types.status).toBe(200);
        expect(types.body.Resources.map((t: { endpoint: string }) => t.endpoint).sort()).toEqual(['/Groups', '/Users']);
        expect((await request(acme, 'GET', '/no-such-endpoint')).status).toBe(404);
    });

    it('refuses each tenant\'s token on every other tenant\'s URL, on every route (401)', async () => {
        let refused = 0;
        for (const owner of [plain, acme, globex]) {
            for (const other of [plain, acme, globex]) {
                if (owner === other) continue;
                for (const [method, path] of ROUTES) {
                    const reply = await request({ ...other, token: owner.token }, method, path, method === 'POST' ? { schemas: [] } : undefined);
                    expect(reply.status, `${owner.name}'s token on ${other.name} ${method} ${path}`).toBe(401);
                    expect(reply.headers.get('www-authenticate')).toBe('Bearer');
                    refused++;
                }
            }
        }
        expect(refused).toBe(6 * ROUTES.length);
    });

    it('answers 401 (no storage error, no 500) for unknown tenants and names no tenant can have', async () => {
        for (const name of ['nobody', 'UPPER', 'a', 'x'.repeat(41), 'a_b', 'acme~users', '%2e%2e']) {
            const reply = await request({ name, base: server.base.replace(/\/scim$/, `/tenants/${name}/scim`), token: acme.token }, 'GET', '/Users');
            expect(reply.status, name).toBe(401);
            expect(reply.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
        }
    });
});

describe('isolation of data', () => {
    it('lets the same userName, displayName and externalId exist in every tenant, each in its own partitions', async () => {
        const ids = new Map<TenantCredentials, string>();
        for (const tenant of [plain, acme, globex]) ids.set(tenant, await createUser(tenant, 'same@contoso.com', 'ext-same'));
        for (const tenant of [plain, acme, globex]) await createGroup(tenant, 'Same Group');
        expect(new Set(ids.values()).size).toBe(3);
        // A clash still is a clash inside one tenant.
        expect((await request(acme, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'SAME@contoso.com' })).status).toBe(409);

        const raw = TableClient.fromConnectionString(server.connectionString, server.tableName, { allowInsecureConnection: true });
        const partitions = new Set<string>();
        for await (const entity of raw.listEntities()) partitions.add(entity.partitionKey!);
        // Each named tenant's activity partition holds its marker from `add` on (docs/activity.md, "Tenants"); no flush ran yet.
        expect([...partitions].sort()).toEqual(['acme~activity', 'acme~groups', 'acme~users', 'globex-2~activity', 'globex-2~groups', 'globex-2~users', 'groups', 'tenants', 'users']);

        for (const tenant of [plain, acme, globex]) {
            const found = await request(tenant, 'GET', '/Users?filter=userName+eq+%22same@contoso.com%22');
            expect(found.body.Resources.map((u: { id: string }) => u.id)).toEqual([ids.get(tenant)]);
            const byExternalId = await request(tenant, 'GET', '/Users?filter=externalId+eq+%22ext-same%22');
            expect(byExternalId.body.Resources.map((u: { id: string }) => u.id)).toEqual([ids.get(tenant)]);
            expect(found.body.Resources[0].meta.location).toBe(`${tenant.base}/Users/${ids.get(tenant)}`);
        }
    });

    it('answers 404 under tenant B for every operation on an id of tenant A, and changes nothing', async () => {
        const id = await createUser(acme, 'only-acme@contoso.com');
        const groupId = await createGroup(acme, 'Only Acme');
        for (const other of [plain, globex]) {
            expect((await request(other, 'GET', `/Users/${id}`)).status).toBe(404);
            expect((await request(other, 'PUT', `/Users/${id}`, { schemas: [USER_SCHEMA], userName: 'taken@contoso.com' })).status).toBe(404);
            expect((await request(other, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: false }] })).status).toBe(404);
            expect((await request(other, 'DELETE', `/Users/${id}`)).status).toBe(404);
            expect((await request(other, 'GET', `/Groups/${groupId}`)).status).toBe(404);
            expect((await request(other, 'DELETE', `/Groups/${groupId}`)).status).toBe(404);
        }
        const still = await request(acme, 'GET', `/Users/${id}`);
        expect(still.status).toBe(200);
        expect(still.body.userName).toBe('only-acme@contoso.com');
        expect((await request(acme, 'GET', `/Groups/${groupId}`)).status).toBe(200);
    });

    it('lists, filters and searches only the tenant\'s own resources', async () => {
        const mine = [await createUser(globex, 'list-1@globex.com'), await createUser(globex, 'list-2@globex.com')];
        await createUser(acme, 'list-1@acme.com');
        const listed = await request(globex, 'GET', '/Users?count=1000');
        const listedIds: string[] = listed.body.Resources.map((u: { id: string }) => u.id);
        for (const id of mine) expect(listedIds).toContain(id);
        expect(listed.body.Resources.every((u: { userName: string }) => !u.userName.endsWith('@acme.com') && u.userName !== 'only-acme@contoso.com')).toBe(true);

        const filtered = await request(globex, 'GET', '/Users?filter=userName+sw+%22list-%22');
        expect(filtered.body.Resources.map((u: { userName: string }) => u.userName).sort()).toEqual(['list-1@globex.com', 'list-2@globex.com']);
        const searched = await request(acme, 'POST', '/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "list-"' });
        expect(searched.status).toBe(200);
        expect(searched.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['list-1@acme.com']);
    });

    it('refuses a member id of another tenant (400 invalidValue) and writes no edge', async () => {
        const foreignUser = await createUser(acme, 'foreign-member@contoso.com');
        const groupId = await createGroup(globex, 'Globex Team');
        const added = await request(globex, 'PATCH', `/Groups/${groupId}`, {
            schemas: [PATCH_OP_SCHEMA],
            Operations: [{ op: 'add', path: 'members', value: [{ value: foreignUser }] }],
        });
        expect(added.status).toBe(400);
        expect(added.body.scimType).toBe('invalidValue');
        const created = await request(globex, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'With Foreign', members: [{ value: foreignUser }] });
        expect(created.status).toBe(400);
        expect((await request(globex, 'GET', `/Groups/${groupId}`)).body.members).toBeUndefined();
        expect((await request(globex, 'GET', '/Groups?filter=displayName+eq+%22With+Foreign%22')).body.totalResults).toBe(0);
        // The same member from its own tenant works.
        const ownGroup = await createGroup(acme, 'Acme Team');
        const own = await request(acme, 'PATCH', `/Groups/${ownGroup}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: foreignUser }] }] });
        expect([200, 204]).toContain(own.status);
    });
});

describe('cost', () => {
    it('costs a tenant request the storage requests of the same default-tenant request once its row is cached', async () => {
        const tenantUser = await createUser(acme, 'cost@contoso.com');
        const plainUser = await createUser(plain, 'cost@contoso.com');
        await request(acme, 'GET', `/Users/${tenantUser}`);
        await request(acme, 'GET', `/Users/${tenantUser}`);
        const tenantCost = lastStorageRequests();
        await request(plain, 'GET', `/Users/${plainUser}`);
        expect(lastStorageRequests()).toBe(tenantCost);
        expect(tenantCost).toBe(1);
        await request(acme, 'GET', '/Users?filter=userName+eq+%22cost@contoso.com%22');
        const tenantLookup = lastStorageRequests();
        await request(plain, 'GET', '/Users?filter=userName+eq+%22cost@contoso.com%22');
        expect(lastStorageRequests()).toBe(tenantLookup);
    });
});

describe('administration', () => {
    it('disable refuses the token (fresh instance = cache expired), keeps the data; enable brings it back', async () => {
        const tenant = await addTenant(server, 'initech');
        const id = await createUser(tenant, 'kept@initech.com');
        expect((await runTenant(server, ['disable', 'initech'])).code).toBe(0);
        server.reconfigure({}); // another instance, or this one after its cache TTL
        expect((await request(tenant, 'GET', `/Users/${id}`)).status).toBe(401);
        expect((await runTenant(server, ['enable', 'initech'])).code).toBe(0);
        server.reconfigure({});
        expect((await request(tenant, 'GET', `/Users/${id}`)).body.userName).toBe('kept@initech.com');
    });

    it('rotate: a running instance takes the new token on a mismatch (at most one re-read a minute), then refuses the old one', async () => {
        let clock = Date.parse('2026-03-01T09:00:00Z');
        server.reconfigure({}, { tokenVerifier: { now: () => clock } });
        const tenant = await addTenant(server, 'rotating');
        expect((await request(tenant, 'GET', '/Users')).status).toBe(200);
        const { code, out } = await runTenant(server, ['rotate', 'rotating']);
        expect(code).toBe(0);
        const rotated = { ...tenant, token: out.at(-1)!.slice('Secret Token: '.length) };
        expect(rotated.token).not.toBe(tenant.token);
        expect((await request(rotated, 'GET', '/Users')).status).toBe(401); // row read a moment ago: no re-read yet
        clock += 61_000; // still inside the 300 s cache TTL
        expect((await request(rotated, 'GET', '/Users')).status).toBe(200);
        expect((await request(tenant, 'GET', '/Users')).status).toBe(401);
    });

    it('remove deletes the tenant\'s data and its token; the name can be added again, empty', async () => {
        const tenant = await addTenant(server, 'leaving');
        const userId = await createUser(tenant, 'bye@leaving.com');
        const groupId = await createGroup(tenant, 'Leavers');
        await request(tenant, 'PATCH', `/Groups/${groupId}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }] });
        const removed = await runTenant(server, ['remove', 'leaving']);
        expect(removed.code).toBe(0);
        expect(removed.err.at(-1)).toMatch(/^Removing leaving \[#{20}\] 100% \((\d+)\/\1 rows\)$/);
        server.reconfigure({});
        expect((await request(tenant, 'GET', '/Users')).status).toBe(401);

        const again = await addTenant(server, 'leaving');
        server.reconfigure({}); // this instance refused the name a moment ago: it re-reads it after a minute or a restart
        expect((await request(again, 'GET', '/Users')).body.totalResults).toBe(0);
        expect((await request(again, 'GET', `/Users/${userId}`)).status).toBe(404);
        expect((await request(plain, 'GET', '/Users?filter=userName+eq+%22same@contoso.com%22')).body.totalResults).toBe(1);
    });
});
