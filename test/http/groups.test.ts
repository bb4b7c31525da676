/**
 * /scim/Groups over real HTTP on Azurite: CRUD, membership edges through PATCH, Entra's read shapes, a
 * user's groups, cascades on delete, and storage requests per request (from the summary log line).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP_SCHEMA, PATCH_OP_SCHEMA } from '../../shared/scim/schemas';
import { checkConsistency } from '../support/consistencyChecker';
import { startScimServer, type ScimTestServer } from '../support/scimServer';

const ENTRA_GROUP_SCHEMA = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';
let server: ScimTestServer;

beforeAll(async () => {
    server = await startScimServer();
    await server.request('GET', `/Groups?filter=displayName+eq+%22${randomUUID()}%22`); // creates the table
});
afterAll(async () => {
    expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    await server.close();
});

function lastStorageRequests(): number {
    const line = [...server.logs].reverse().find((l) => l.startsWith('scim request '));
    return JSON.parse(line!.slice('scim request '.length)).storageRequests;
}

async function createUsers(count: number, prefix: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await server.request('POST', '/Users', { userName: `${prefix}-${i}@contoso.com` })).body.id);
    return ids;
}

async function createGroup(displayName: string, members: string[] = []): Promise<any> {
    const reply = await server.request('POST', '/Groups', {
        schemas: [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
        displayName,
        externalId: `ext-${displayName}`,
        meta: { resourceType: 'Group' },
        ...(members.length ? { members: members.map((value) => ({ value })) } : {}),
    });
    expect(reply.status).toBe(201);
    return reply.body;
}

function patch(groupId: string, operations: unknown[], query = ''): Promise<any> {
    return server.request('PATCH', `/Groups/${groupId}${query}`, { schemas: [PATCH_OP_SCHEMA], Operations: operations });
}

async function memberIds(groupId: string): Promise<string[]> {
    const reply = await server.request('GET', `/Groups/${groupId}`);
    return (reply.body.members ?? []).map((m: { value: string }) => m.value).sort();
}

describe('POST /Groups and reads', () => {
    it('creates a group with Entra\'s extra schema URI: 201 with Location and no members attribute (none: unassigned, not [])', async () => {
        const reply = await server.request('POST', '/Groups', { schemas: [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA], displayName: 'Sales', externalId: 'ext-sales' });
        expect(reply.status).toBe(201);
        expect(reply.body).toMatchObject({ schemas: [GROUP_SCHEMA], displayName: 'Sales', externalId: 'ext-sales' });
        expect(reply.body).not.toHaveProperty('members');
        expect(reply.headers.get('location')).toBe(`${server.base}/Groups/${reply.body.id}`);
    });

    it('rejects a duplicate displayName in any letter case with 409 uniqueness', async () => {
        await createGroup('Marketing');
        const reply = await server.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'MARKETING' });
        expect(reply.status).toBe(409);
        expect(reply.body.scimType).toBe('uniqueness');
    });

    it('Entra\'s lookup with excludedAttributes=members: one storage request, no members key', async () => {
        const users = await createUsers(2, 'lookup');
        const group = await createGroup('Finance', users);
        const reply = await server.request('GET', '/Groups?excludedAttributes=members&filter=displayName+eq+%22finance%22');
        expect(reply.body.totalResults).toBe(1);
        expect(reply.body.Resources[0].id).toBe(group.id);
        expect(reply.body.Resources[0].members).toBeUndefined();
        expect(lastStorageRequests()).toBeLessThanOrEqual(2);
        const byId = await server.request('GET', `/Groups/${group.id}?excludedAttributes=members`);
        expect(byId.body.members).toBeUndefined();
        expect(lastStorageRequests()).toBe(1);
        const miss = await server.request('GET', `/Groups?excludedAttributes=members&filter=displayName+eq+%22${randomUUID()}%22`);
        expect(miss.body).toMatchObject({ totalResults: 0, Resources: [] });
        expect(lastStorageRequests()).toBe(1);
    });

    it('GET with members lists them as references', async () => {
        const users = await createUsers(3, 'listed');
        const group = await createGroup('Legal', users);
        const reply = await server.request('GET', `/Groups/${group.id}`);
        expect(reply.body.members).toHaveLength(3);
        expect(reply.body.members).toContainEqual({ value: users[0], $ref: `${server.base}/Users/${users[0]}`, type: 'User' });
    });

    it('rejects members that exist neither as users nor as groups, and stores nothing', async () => {
        const reply = await server.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Ghosts', members: [{ value: randomUUID() }] });
        expect(reply.status).toBe(400);
        expect(reply.body.scimType).toBe('invalidValue');
        expect((await server.request('GET', '/Groups?filter=displayName+eq+%22Ghosts%22')).body.totalResults).toBe(0);
    });
});

describe('PATCH /Groups: membership through the member delta', () => {
    it('adds several members in one PATCH (idempotent) and answers 204', async () => {
        const users = await createUsers(4, 'add');
        const group = await createGroup('Engineering');
        const add = [{ op: 'Add', path: 'members', value: users.map((value) => ({ $ref: null, value })) }];
        const reply = await patch(group.id, add);
        expect(reply.status).toBe(204);
        expect(reply.text).toBe('');
        expect(await memberIds(group.id)).toEqual([...users].sort());
        expect((await patch(group.id, add)).status).toBe(204);
        expect(await memberIds(group.id)).toEqual([...users].sort());
    });

    it('removes only the listed members with Entra\'s value-array remove, and by filter path', async () => {
        const users = await createUsers(4, 'remove');
        const group = await createGroup('Support', users);
        expect((await patch(group.id, [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: users[0] }] }])).status).toBe(204);
        expect(await memberIds(group.id)).toEqual(users.slice(1).sort());
        expect((await patch(group.id, [{ op: 'remove', path: `members[value eq "${users[1]}"]` }])).status).toBe(204);
        expect(await memberIds(group.id)).toEqual(users.slice(2).sort());
        expect((await patch(group.id, [{ op: 'Remove', path: 'members', value: [{ value: randomUUID() }] }])).status).toBe(204);
        expect(await memberIds(group.id)).toEqual(users.slice(2).sort());
        expect((await patch(group.id, [{ op: 'Remove', path: 'members' }])).status).toBe(204);
        expect(await memberIds(group.id)).toEqual([]);
    });

    it('the validator\'s replace members sets exactly the given members', async () => {
        const users = await createUsers(3, 'replace');
        const group = await createGroup('Design', [users[0]!]);
        expect((await patch(group.id, [{ op: 'replace', path: 'members', value: users.slice(1).map((value) => ({ value })) }])).status).toBe(204);
        expect(await memberIds(group.id)).toEqual(users.slice(1).sort());
    });

    it('renames by path and path-less, keeping the name unique', async () => {
        const group = await createGroup('Ops');
        expect((await patch(group.id, [{ op: 'Replace', path: 'displayName', value: 'Operations' }])).status).toBe(204);
        expect((await patch(group.id, [{ op: 'replace', value: { displayName: 'Operations EU', externalId: 'ops-eu' } }])).status).toBe(204);
        const reply = await server.request('GET', `/Groups/${group.id}?excludedAttributes=members`);
        expect(reply.body).toMatchObject({ displayName: 'Operations EU', externalId: 'ops-eu' });
        expect((await server.request('GET', '/Groups?filter=displayName+eq+%22Ops%22')).body.totalResults).toBe(0);
        await createGroup('Taken');
        const clash = await patch(group.id, [{ op: 'Replace', path: 'displayName', value: 'TAKEN' }]);
        expect(clash.status).toBe(409);
        expect(clash.body.scimType).toBe('uniqueness');
    });

    it('answers 200 with the group when attributes are asked for', async () => {
        const group = await createGroup('Audit');
        const reply = await patch(group.id, [{ op: 'Replace', path: 'displayName', value: 'Audit 2' }], '?attributes=displayName');
        expect(reply.status).toBe(200);
        expect(reply.body).toMatchObject({ id: group.id, displayName: 'Audit 2' });
    });

    it('refuses to add members that do not exist, changing nothing', async () => {
        const users = await createUsers(1, 'ghost');
        const group = await createGroup('Careful', users);
        const reply = await patch(group.id, [{ op: 'Add', path: 'members', value: [{ value: randomUUID() }] }]);
        expect(reply.status).toBe(400);
        expect(reply.body.scimType).toBe('invalidValue');
        expect(await memberIds(group.id)).toEqual(users);
    });

    it('nested groups are members too', async () => {
        const child = await createGroup('Child');
        const parent = await createGroup('Parent');
        expect((await patch(parent.id, [{ op: 'Add', path: 'members', value: [{ value: child.id }] }])).status).toBe(204);
        const reply = await server.request('GET', `/Groups/${parent.id}`);
        expect(reply.body.members).toEqual([{ value: child.id, $ref: `${server.base}/Groups/${child.id}`, type: 'Group' }]);
    });

    it('costs the same storage requests for a group of 3 and one of 300', async () => {
        const costs: number[][] = [];
        for (const size of [3, 300]) {
            const users = await createUsers(size + 1, `cost${size}`);
            const group = await createGroup(`Cost ${size}`, users.slice(0, size));
            const newcomer = users[size]!;
            const cost: number[] = [];
            await patch(group.id, [{ op: 'Add', path: 'members', value: [{ value: newcomer }] }]);
            cost.push(lastStorageRequests());
            await patch(group.id, [{ op: 'Remove', path: 'members', value: [{ value: newcomer }] }]);
            cost.push(lastStorageRequests());
            await server.request('GET', `/Groups/${group.id}?excludedAttributes=members`);
            cost.push(lastStorageRequests());
            const probe = await server.request('GET', `/Groups?filter=${encodeURIComponent(`id eq "${group.id}" and members[value eq "${users[0]}"]`)}&excludedAttributes=members`);
            expect(probe.body.totalResults).toBe(1);
            cost.push(lastStorageRequests());
            costs.push(cost);
        }
        expect(costs[1]).toEqual(costs[0]);
        const [add, remove, get, probe] = costs[0]!;
        expect(remove).toBeLessThanOrEqual(2);
        expect(get).toBe(1);
        expect(probe).toBeLessThanOrEqual(2);
        // group read, batched existence check, edge transaction, re-check (docs/storage.md)
        expect(add).toBeLessThanOrEqual(4);
    }, 180_000);
});

describe('users and groups together', () => {
    it('a user\'s groups come from the edges, on request', async () => {
        const [user] = await createUsers(1, 'member');
        const group = await createGroup('Readers', [user!]);
        const plain = await server.request('GET', `/Users/${user}`);
        expect(plain.body.groups).toBeUndefined();
        const withGroups = await server.request('GET', `/Users/${user}?attributes=groups`);
        expect(withGroups.body.groups).toEqual([{ value: group.id, $ref: `${server.base}/Groups/${group.id}`, type: 'direct' }]);
    });

    it('deleting a user removes it from its groups; deleting a group removes its edges; second delete is 404', async () => {
        const users = await createUsers(3, 'cascade');
        const group = await createGroup('Cascade', users);
        expect((await server.request('DELETE', `/Users/${users[0]}`)).status).toBe(204);
        expect(await memberIds(group.id)).toEqual(users.slice(1).sort());
        expect((await server.request('DELETE', `/Groups/${group.id}`)).status).toBe(204);
        expect((await server.request('DELETE', `/Groups/${group.id}`)).status).toBe(404);
        expect((await server.request('GET', `/Groups/${group.id}`)).status).toBe(404);
        // In no group: `groups` is unassigned, left out rather than [] (RFC 7643 §2.5).
        expect((await server.request('GET', `/Users/${users[1]}?attributes=groups`)).body).not.toHaveProperty('groups');
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
        // The name is free again.
        expect((await server.request('POST', '/Groups', { displayName: 'cascade' })).status).toBe(201);
    });
});

describe('member ids that do not exist, and too many ids (issue 17)', () => {
    it('refuses 300 unknown ids with a 400 naming up to 10 of them, in at most 1 + ⌈300/100⌉ storage requests, writing nothing', async () => {
        // Before: the existence check was retried once per missing id, then each id point-read (601 requests).
        const group = await createGroup('Unknown ids target');
        const unknown = Array.from({ length: 300 }, () => randomUUID());
        const before = (await server.request('GET', `/Groups/${group.id}`)).headers.get('etag');
        const reply = await patch(group.id, [{ op: 'add', path: 'members', value: unknown.map((value) => ({ value })) }]);
        expect(reply.status).toBe(400);
        expect(reply.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
        const named = [...String(reply.body.detail).matchAll(/"([0-9a-f-]{36})"/g)].map((match) => match[1]);
        expect(named.length).toBeGreaterThan(0);
        expect(named.length).toBeLessThanOrEqual(10);
        for (const id of named) expect(unknown).toContain(id);
        expect(lastStorageRequests()).toBeLessThanOrEqual(1 + Math.ceil(300 / 100));
        expect((await server.request('GET', `/Groups/${group.id}`)).headers.get('etag')).toBe(before);
        expect(await memberIds(group.id)).toEqual([]);
    });

    it('finds the one unknown id among known ones, and still adds nothing', async () => {
        const users = await createUsers(5, 'one-unknown');
        const group = await createGroup('One unknown among known');
        const stranger = randomUUID();
        const reply = await patch(group.id, [{ op: 'add', path: 'members', value: [...users.slice(0, 3), stranger, ...users.slice(3)].map((value) => ({ value })) }]);
        expect(reply.status).toBe(400);
        expect(reply.body.detail).toContain(stranger);
        for (const id of users) expect(reply.body.detail).not.toContain(id);
        expect(await memberIds(group.id)).toEqual([]);
    });

    it('removes 300 non-members in a few storage requests, not one read each', async () => {
        const [member] = await createUsers(1, 'remove-many');
        const group = await createGroup('Remove many', [member!]);
        const strangers = Array.from({ length: 300 }, () => randomUUID());
        const reply = await patch(group.id, [{ op: 'remove', path: 'members', value: [...strangers, member!].map((value) => ({ value })) }]);
        expect(reply.status).toBe(204);
        expect(lastStorageRequests()).toBeLessThanOrEqual(1 + Math.ceil(301 / 99) + 2 + 1);
        expect(await memberIds(group.id)).toEqual([]);
    });

    it('refuses more than 1,000 member ids in one request before any storage write', async () => {
        const group = await createGroup('Too many ids');
        const ids = Array.from({ length: 1001 }, () => randomUUID());
        const reply = await patch(group.id, [{ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }]);
        expect(reply.status).toBe(400);
        expect(reply.body).toMatchObject({ scimType: 'invalidValue' });
        expect(reply.body.detail).toContain('At most 1000 members');
        expect(lastStorageRequests()).toBeLessThanOrEqual(1); // the group read only
        const post = await server.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Too many at create', members: ids.map((value) => ({ value })) });
        expect(post.status).toBe(400);
        expect(lastStorageRequests()).toBe(0);
    });
});
