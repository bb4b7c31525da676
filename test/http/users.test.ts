/**
 * /scim/Users over real HTTP on Azurite: CRUD, lookups, paging, ETags, and what each request costs in
 * storage requests (read from the request's summary log line, so the whole handler path is counted).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from '../../shared/scim/schemas';
import { startScimServer, type ScimReply, type ScimTestServer } from '../support/scimServer';

let server: ScimTestServer;

beforeAll(async () => {
    server = await startScimServer();
    // The first request of a process creates the table; budgets below are about requests after that.
    await server.request('GET', `/Users?filter=userName+eq+%22${randomUUID()}%22`);
});
afterAll(async () => {
    await server.close();
});

/** Storage requests of the last SCIM request, from its summary log line. */
function lastStorageRequests(): number {
    const line = [...server.logs].reverse().find((l) => l.startsWith('scim request '));
    return JSON.parse(line!.slice('scim request '.length)).storageRequests;
}

async function createUser(userName: string, extra: Record<string, unknown> = {}): Promise<ScimReply> {
    return server.request('POST', '/Users', { schemas: [USER_SCHEMA], userName, active: true, ...extra });
}

const query = (filter: string) => `/Users?filter=${encodeURIComponent(filter).replace(/%20/g, '+')}`;

describe('POST /Users', () => {
    it('creates a user: 201 with Location, ETag and meta; values stored as sent', async () => {
        const reply = await createUser('alice@contoso.com', {
            schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, 'urn:example:unknown'],
            externalId: 'ext-alice',
            active: 'True',
            name: { givenName: 'Alice', familyName: 'Liddell', formatted: 'Alice Liddell' },
            emails: [{ type: 'work', value: 'alice@contoso.com', primary: 'true' }],
            phoneNumbers: [{ type: 'work', value: '55555555555' }],
            title: null,
            roles: [],
            [ENTERPRISE_USER_SCHEMA]: { department: 'R&D', employeeNumber: '007' },
            someUnknownAttribute: 'tolerated',
        });
        expect(reply.status).toBe(201);
        expect(lastStorageRequests()).toBe(1);
        const user = reply.body;
        expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(reply.headers.get('location')).toBe(`${server.base}/Users/${user.id}`);
        expect(reply.headers.get('etag')).toBe(user.meta.version);
        expect(user.meta).toMatchObject({ resourceType: 'User', location: `${server.base}/Users/${user.id}` });
        expect(Date.parse(user.meta.created)).not.toBeNaN();
        expect(user.schemas).toEqual([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]);
        expect(user.active).toBe(true);
        expect(user.emails[0].primary).toBe(true);
        expect(user.phoneNumbers[0].value).toBe('55555555555');
        expect(user.title).toBeUndefined();
        expect(user[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'R&D', employeeNumber: '007' });
        // Attributes outside our schemas are ignored (not stored), by name in the log.
        expect(user.someUnknownAttribute).toBeUndefined();
        const line = [...server.logs].reverse().find((l) => l.startsWith('scim request '))!;
        expect(JSON.parse(line.slice('scim request '.length)).ignoredPaths).toEqual(['someUnknownAttribute']);
    });

    it('never stores a password, custom extension or readOnly attribute', async () => {
        const reply = await createUser('pat@contoso.com', {
            password: 'Secret#1',
            groups: [{ value: 'g1' }],
            'urn:ietf:params:scim:schemas:extension:alvao_tPersonCust:2.0:User': { shoeSize: '44' },
        });
        expect(reply.status).toBe(201);
        expect(reply.text).not.toContain('Secret#1');
        expect(reply.text).not.toContain('shoeSize');
        expect(reply.body.groups).toBeUndefined();
        const stored = await server.request('GET', `/Users/${reply.body.id}?attributes=password,groups`);
        expect(stored.text).not.toContain('Secret#1');
        expect(stored.body).not.toHaveProperty('groups');
    });

    it('rejects a duplicate userName in any letter case with 409 uniqueness', async () => {
        await createUser('dup.user@contoso.com');
        const reply = await createUser('DUP.User@Contoso.com');
        expect(reply.status).toBe(409);
        expect(reply.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
        expect(reply.body.detail).not.toContain('dup.user');
        const found = await server.request('GET', query('userName eq "dup.user@contoso.com"'));
        expect(found.body.totalResults).toBe(1);
    });

    it('rejects invalid bodies with 400 invalidValue naming the attribute, and stores nothing', async () => {
        const missing = await server.request('POST', '/Users', { schemas: [USER_SCHEMA], displayName: 'No Name' });
        expect(missing.status).toBe(400);
        expect(missing.body.scimType).toBe('invalidValue');
        expect(missing.body.detail).toContain('userName');
        const wrongType = await createUser('typed@contoso.com', { emails: 'not-an-array' });
        expect(wrongType.status).toBe(400);
        expect(wrongType.body.detail).toContain('emails');
        const notObject = await server.request('POST', '/Users', [1, 2]);
        expect(notObject.status).toBe(400);
        expect((await server.request('GET', query('userName eq "typed@contoso.com"'))).body.totalResults).toBe(0);
    });

    it('accepts userNames with characters that are unsafe in table keys', async () => {
        for (const userName of ['a/b\\c#d?e', 'ctl\u0001\u001fchar', 'ünïcødé@例え.jp', 'x'.repeat(2048)]) {
            const created = await createUser(userName);
            expect(created.status, userName.slice(0, 20)).toBe(201);
            const found = await server.request('GET', query(`userName eq ${JSON.stringify(userName.toUpperCase())}`));
            expect(found.body.totalResults).toBe(1);
            expect(found.body.Resources[0].id).toBe(created.body.id);
        }
    });
});

describe('GET /Users', () => {
    it('Test Connection: a random userName is an empty 200 ListResponse for one storage request', async () => {
        const reply = await server.request('GET', `/Users?filter=userName+eq+%22${randomUUID()}%22`);
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual({
            schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
            totalResults: 0,
            startIndex: 1,
            itemsPerPage: 0,
            Resources: [],
        });
        expect(lastStorageRequests()).toBe(1);
    });

    it('finds by userName in another letter case and by externalId, within two storage requests each', async () => {
        const created = (await createUser('bob@contoso.com', { externalId: 'Ext-Bob' })).body;
        const byName = await server.request('GET', '/Users?filter=userName+eq+%22BOB%40CONTOSO.COM%22');
        expect(byName.body.totalResults).toBe(1);
        expect(byName.body.Resources[0].id).toBe(created.id);
        expect(lastStorageRequests()).toBeLessThanOrEqual(2);
        const byExternalId = await server.request('GET', query('externalId eq "Ext-Bob"'));
        expect(byExternalId.body.Resources.map((u: { id: string }) => u.id)).toEqual([created.id]);
        expect(lastStorageRequests()).toBeLessThanOrEqual(2);
        // externalId is case-exact (RFC 7643 §3.1).
        expect((await server.request('GET', query('externalId eq "ext-bob"'))).body.totalResults).toBe(0);
    });

    it('GET by id costs one storage request; an unknown id is a SCIM 404', async () => {
        const created = (await createUser('carol@contoso.com')).body;
        const reply = await server.request('GET', `/Users/${created.id}`);
        expect(reply.status).toBe(200);
        expect(reply.body.userName).toBe('carol@contoso.com');
        expect(reply.headers.get('etag')).toBe(created.meta.version);
        expect(lastStorageRequests()).toBe(1);
        const missing = await server.request('GET', `/Users/${randomUUID()}`);
        expect(missing.status).toBe(404);
        expect(missing.body.status).toBe('404');
    });

    it('applies attributes and excludedAttributes', async () => {
        const created = (await createUser('dave@contoso.com', { displayName: 'Dave', title: 'Boss' })).body;
        const some = await server.request('GET', `/Users/${created.id}?attributes=title`);
        expect(some.body).toEqual({ schemas: [USER_SCHEMA], id: created.id, title: 'Boss', meta: created.meta });
        const without = await server.request('GET', `/Users/${created.id}?excludedAttributes=title,displayName`);
        expect(without.body.title).toBeUndefined();
        expect(without.body.userName).toBe('dave@contoso.com');
    });

    it('rejects a malformed filter with 400 invalidFilter', async () => {
        const reply = await server.request('GET', query('userName eq'));
        expect(reply.status).toBe(400);
        expect(reply.body.scimType).toBe('invalidFilter');
    });

    it('evaluates filters no index answers (Microsoft\'s unquoted words, co, sw)', async () => {
        await createUser('erin@contoso.com', { displayName: 'ErinIsAmazing', name: { familyName: 'Employee' } });
        expect((await server.request('GET', '/Users?filter=DisplayName+eq+ErinIsAmazing')).body.totalResults).toBe(1);
        expect((await server.request('GET', query('userName sw "ERIN@"'))).body.totalResults).toBe(1);
        expect((await server.request('GET', query('name.familyName eq "Employee" and userName co "contoso"'))).body.totalResults).toBe(1);
    });
});

describe('PUT, PATCH, DELETE', () => {
    it('PUT replaces attributes, keeping id and meta.created', async () => {
        const created = (await createUser('frank@contoso.com', { title: 'Old', displayName: 'Frank' })).body;
        const reply = await server.request('PUT', `/Users/${created.id}`, { schemas: [USER_SCHEMA], id: 'ignored', userName: 'frank@contoso.com', title: 'New' });
        expect(reply.status).toBe(200);
        expect(reply.body).toMatchObject({ id: created.id, title: 'New' });
        expect(reply.body.displayName).toBeUndefined();
        expect(reply.body.meta.created).toBe(created.meta.created);
        expect(reply.body.meta.version).not.toBe(created.meta.version);
    });

    it('PATCH applies Entra\'s operations in at most two storage requests and answers 200 with the user', async () => {
        const created = (await createUser('grace@contoso.com', { emails: [{ type: 'work', value: 'old@contoso.com', primary: true }] })).body;
        const reply = await server.request('PATCH', `/Users/${created.id}`, {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [
                { op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@contoso.com' },
                { op: 'Replace', path: 'active', value: 'False' },
                { op: 'replace', value: { 'name.givenName': 'Grace', [`${ENTERPRISE_USER_SCHEMA}:department`]: 'Ops' } },
            ],
        });
        expect(reply.status).toBe(200);
        expect(lastStorageRequests()).toBeLessThanOrEqual(2);
        expect(reply.body.active).toBe(false);
        expect(reply.body.emails).toEqual([{ type: 'work', value: 'new@contoso.com', primary: true }]);
        expect(reply.body.name).toEqual({ givenName: 'Grace' });
        expect(reply.body[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'Ops' });
        expect(reply.body.schemas).toEqual([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]);
    });

    it('PATCH renaming userName frees the old name and claims the new one', async () => {
        const created = (await createUser('heidi@contoso.com')).body;
        const rename = await server.request('PATCH', `/Users/${created.id}`, {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', value: { userName: 'heidi.new@contoso.com' } }],
        });
        expect(rename.status).toBe(200);
        expect((await server.request('GET', query('userName eq "heidi@contoso.com"'))).body.totalResults).toBe(0);
        expect((await server.request('GET', query('userName eq "HEIDI.NEW@contoso.com"'))).body.totalResults).toBe(1);
        expect((await createUser('heidi@contoso.com')).status).toBe(201);
        const clash = await server.request('PATCH', `/Users/${created.id}`, {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', path: 'userName', value: 'Heidi@Contoso.com' }],
        });
        expect(clash.status).toBe(409);
        expect(clash.body.scimType).toBe('uniqueness');
    });

    it('PATCH errors: wrong schemas, bad op, readOnly attribute, unknown id', async () => {
        const created = (await createUser('ivan@contoso.com')).body;
        const patch = (body: unknown, id = created.id) => server.request('PATCH', `/Users/${id}`, body);
        expect((await patch({ Operations: [{ op: 'add', path: 'title', value: 'x' }] })).body.scimType).toBe('invalidSyntax');
        expect((await patch({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'move', path: 'title' }] })).body.scimType).toBe('invalidSyntax');
        expect((await patch({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'id', value: 'x' }] })).body.scimType).toBe('mutability');
        expect((await patch({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'title', value: 'x' }] }, randomUUID())).status).toBe(404);
        const unchanged = await server.request('GET', `/Users/${created.id}`);
        expect(unchanged.body.meta.version).toBe(created.meta.version);
    });

    it('If-Match: a stale version is 412, the current one succeeds', async () => {
        const created = (await createUser('judy@contoso.com')).body;
        const body = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'title', value: 'A' }] };
        const first = await server.request('PATCH', `/Users/${created.id}`, body, { 'If-Match': created.meta.version });
        expect(first.status).toBe(200);
        const stale = await server.request('PATCH', `/Users/${created.id}`, body, { 'If-Match': created.meta.version });
        expect(stale.status).toBe(412);
        expect((await server.request('DELETE', `/Users/${created.id}`, undefined, { 'If-Match': created.meta.version })).status).toBe(412);
        expect((await server.request('DELETE', `/Users/${created.id}`, undefined, { 'If-Match': first.body.meta.version })).status).toBe(204);
    });

    it('DELETE answers 204 within two storage requests, then 404; the user is gone from lookups', async () => {
        const created = (await createUser('mallory@contoso.com')).body;
        const reply = await server.request('DELETE', `/Users/${created.id}`);
        expect(reply.status).toBe(204);
        expect(reply.text).toBe('');
        expect(lastStorageRequests()).toBeLessThanOrEqual(2);
        expect((await server.request('DELETE', `/Users/${created.id}`)).status).toBe(404);
        expect((await server.request('GET', `/Users/${created.id}`)).status).toBe(404);
        expect((await server.request('GET', query('userName eq "mallory@contoso.com"'))).body.totalResults).toBe(0);
    });

    it('refuses PATCH, PUT and DELETE on the collection and POST on a resource with a SCIM 405', async () => {
        expect((await server.request('DELETE', '/Users')).status).toBe(405);
        expect((await server.request('POST', `/Users/${randomUUID()}`, { userName: 'x' })).status).toBe(405);
        expect((await server.request('PATCH', '/Users', { schemas: [] })).status).toBe(405);
    });
});

describe('multi-valued attributes are bounded (issue 17)', () => {
    const emails = (count: number, from = 0) => Array.from({ length: count }, (_, n) => ({ value: `mail${from + n}@contoso.example` }));

    it('refuses a PATCH that sends more values than an attribute may hold, before merging, changing nothing', async () => {
        // Before: 32,000 distinct e-mails took 40 s of pairwise comparisons, then failed on the entity size.
        const user = (await createUser('many.mails@contoso.com')).body;
        for (const operations of [
            [{ op: 'add', path: 'emails', value: emails(1001) }],
            [{ op: 'remove', path: 'emails', value: emails(1001) }],
            [{ op: 'add', path: 'emails', value: emails(600) }, { op: 'add', path: 'emails', value: emails(600, 600) }],
        ]) {
            const reply = await server.request('PATCH', `/Users/${user.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations });
            expect(reply.status).toBe(400);
            expect(reply.body).toMatchObject({ scimType: 'invalidValue' });
            expect(reply.body.detail).toContain('at most 1000 values');
        }
        const after = await server.request('GET', `/Users/${user.id}`);
        expect(after.headers.get('etag')).toBe(user.meta.version);
        expect(after.body.emails).toBeUndefined();
    });

    it('merges and removes the largest allowed number of values exactly', async () => {
        const user = (await createUser('full.mails@contoso.com')).body;
        const patch = (operations: unknown[]) => server.request('PATCH', `/Users/${user.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations });
        const added = await patch([{ op: 'add', path: 'emails', value: emails(1000) }, { op: 'add', path: 'emails', value: emails(1000).reverse() }]);
        expect(added.status).toBe(200);
        expect(added.body.emails).toHaveLength(1000);
        const removed = await patch([{ op: 'remove', path: 'emails', value: emails(1000).filter((_, n) => n % 2 === 0).map(({ value }) => value.toUpperCase()) }]);
        expect(removed.status).toBe(200);
        expect(removed.body.emails.map((email: { value: string }) => email.value)).toEqual(emails(1000).filter((_, n) => n % 2 === 1).map(({ value }) => value));
    });

    it('refuses a POST with more values than an attribute may hold', async () => {
        const reply = await createUser('posted.mails@contoso.com', { emails: emails(1001) });
        expect(reply.status).toBe(400);
        expect(reply.body).toMatchObject({ scimType: 'invalidValue' });
    });
});
