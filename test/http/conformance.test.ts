/**
 * What a conformance checker finds beyond Entra's traffic (RFC 7644 §3.4.3 search, RFC 7643 §4.3
 * manager.$ref, §2.5 unassigned attributes, sub-attributes on POST/PUT) and Microsoft's own endpoint-
 * testing conventions (/serviceConfiguration, members as bare ids), over real HTTP on Azurite. Storage
 * requests are read from each request's summary log line.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../../shared/scim/schemas';
import { SEARCH_REQUEST_SCHEMA } from '../../shared/scim/searchRequest';
import { startScimServer, type ScimTestServer } from '../support/scimServer';

let server: ScimTestServer;
const run = randomUUID().slice(0, 8);

beforeAll(async () => {
    server = await startScimServer();
    await server.request('GET', '/Users?filter=userName+eq+%22warm-up%22'); // creates the table
});
afterAll(async () => {
    await server.close();
});

function lastSummary(): { storageRequests: number; status: number; ignoredPaths?: string[] } {
    const line = [...server.logs].reverse().find((l) => l.startsWith('scim request '));
    return JSON.parse(line!.slice('scim request '.length));
}

async function createUser(userName: string, extra: Record<string, unknown> = {}): Promise<any> {
    const reply = await server.request('POST', '/Users', { schemas: [USER_SCHEMA], userName, ...extra });
    expect(reply.status, reply.text).toBe(201);
    return reply.body;
}

async function createGroup(displayName: string, extra: Record<string, unknown> = {}): Promise<any> {
    const reply = await server.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName, ...extra });
    expect(reply.status, reply.text).toBe(201);
    return reply.body;
}

const search = (filter: string, extra: Record<string, unknown> = {}) => ({ schemas: [SEARCH_REQUEST_SCHEMA], filter, ...extra });

describe('POST /Users/.search, /Groups/.search and /.search (RFC 7644 §3.4.3)', () => {
    it('answers a SearchRequest like the GET with the same parameters, at the same storage cost', async () => {
        const user = await createUser(`search-${run}@contoso.com`, { displayName: 'Searched' });
        const filter = `userName eq "SEARCH-${run}@contoso.com"`;
        const viaGet = await server.request('GET', `/Users?filter=${encodeURIComponent(filter)}&attributes=displayName`);
        const getCost = lastSummary().storageRequests;
        const viaPost = await server.request('POST', '/Users/.search', search(filter, { attributes: ['displayName'] }));
        expect(viaPost.status).toBe(200);
        expect(lastSummary().storageRequests).toBe(getCost);
        expect(getCost).toBe(2);
        expect(viaPost.body).toEqual(viaGet.body);
        expect(viaPost.body.Resources).toEqual([{ schemas: [USER_SCHEMA], id: user.id, displayName: 'Searched', meta: expect.any(Object) }]);
    });

    it('pages and projects groups: excludedAttributes=members leaves the members out', async () => {
        const member = await createUser(`search-member-${run}@contoso.com`);
        await createGroup(`search-group-${run}-a`, { members: [{ value: member.id }] });
        await createGroup(`search-group-${run}-b`, { members: [{ value: member.id }] });
        const pages = [];
        for (const startIndex of [1, 2]) {
            const reply = await server.request('POST', '/Groups/.search', search(`displayName sw "search-group-${run}"`, { excludedAttributes: ['members'], startIndex, count: 1 }));
            expect(reply.status).toBe(200);
            expect(reply.body).toMatchObject({ totalResults: 2, startIndex, itemsPerPage: 1 });
            expect(reply.body.Resources[0]).not.toHaveProperty('members');
            pages.push(reply.body.Resources[0].displayName);
        }
        expect(pages.sort()).toEqual([`search-group-${run}-a`, `search-group-${run}-b`]);
    });

    it('searches both resource types from the root, Users first; a userName filter never reads a group', async () => {
        const user = await createUser(`root-${run}@contoso.com`, { externalId: `root-ext-${run}` });
        const group = await createGroup(`root-group-${run}`, { externalId: `root-ext-${run}` });
        const both = await server.request('POST', '/.search', search(`externalId eq "root-ext-${run}"`, { excludedAttributes: 'members' }));
        expect(both.status).toBe(200);
        expect(both.body.totalResults).toBe(2);
        expect(both.body.Resources.map((r: { id: string }) => r.id)).toEqual([user.id, group.id]);
        expect(both.body.Resources[1].meta.resourceType).toBe('Group');
        // A page across the boundary: the second result only.
        const second = await server.request('POST', '/.search', search(`externalId eq "root-ext-${run}"`, { startIndex: 2, count: 1 }));
        expect(second.body).toMatchObject({ totalResults: 2, startIndex: 2, itemsPerPage: 1 });
        expect(second.body.Resources[0].id).toBe(group.id);
        // userName exists only on Users: the root search costs what /Users/.search costs.
        await server.request('POST', '/Users/.search', search(`userName eq "root-${run}@contoso.com"`));
        const usersCost = lastSummary().storageRequests;
        const byUserName = await server.request('POST', '/.search', search(`userName eq "root-${run}@contoso.com"`));
        expect(byUserName.body.Resources.map((r: { id: string }) => r.id)).toEqual([user.id]);
        expect(lastSummary().storageRequests).toBe(usersCost);
    });

    it('refuses a body that is not a SearchRequest, and GET on a search path, with SCIM errors', async () => {
        const noSchema = await server.request('POST', '/Users/.search', { filter: 'userName eq "x"' });
        expect(noSchema.status).toBe(400);
        expect(noSchema.body.scimType).toBe('invalidSyntax');
        const badFilter = await server.request('POST', '/.search', search('userName eq'));
        expect(badFilter.status).toBe(400);
        expect(badFilter.body.scimType).toBe('invalidFilter');
        expect((await server.request('GET', '/.search')).status).toBe(405);
        expect((await server.request('GET', '/Users/.search')).status).toBe(404);
    });
});

describe('manager.$ref (RFC 7643 §4.3)', () => {
    it('is returned, derived from manager.value like a member\'s $ref; only the id is stored', async () => {
        const boss = await createUser(`boss-${run}@contoso.com`);
        const user = await createUser(`report-${run}@contoso.com`, { [ENTERPRISE_USER_SCHEMA]: { manager: { value: boss.id, displayName: 'Boss' } } });
        expect(user[ENTERPRISE_USER_SCHEMA].manager).toEqual({ value: boss.id, $ref: `${server.base}/Users/${boss.id}` });
        const projected = await server.request('GET', `/Users/${user.id}?attributes=${ENTERPRISE_USER_SCHEMA}:manager.$ref`);
        expect(projected.body[ENTERPRISE_USER_SCHEMA]).toEqual({ manager: { $ref: `${server.base}/Users/${boss.id}` } });
        const byRef = await server.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "report-${run}@contoso.com" and manager.$ref ew "${boss.id}"`)}`);
        expect(byRef.body.totalResults).toBe(1);
    });
});

describe('a group with no members', () => {
    it('returns no members attribute rather than [] (RFC 7643 §2.5), also after its last member is removed', async () => {
        const member = await createUser(`lonely-${run}@contoso.com`);
        const group = await createGroup(`lonely-${run}`, { members: [{ value: member.id }] });
        expect(group.members).toEqual([expect.objectContaining({ value: member.id })]);
        const removed = await server.request('PATCH', `/Groups/${group.id}?attributes=members,displayName`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'remove', path: `members[value eq "${member.id}"]` }] });
        expect(removed.status).toBe(200);
        expect(removed.body).not.toHaveProperty('members');
        const read = await server.request('GET', `/Groups/${group.id}`);
        expect(read.body).not.toHaveProperty('members');
        expect(read.body.displayName).toBe(`lonely-${run}`);
    });
});

describe('POST and PUT drop unknown and readOnly sub-attributes, as PATCH does', () => {
    /** `{evil: {evil: … {evil: "x"}}}`, `depth` levels. */
    function nested(depth: number): unknown {
        let value: unknown = 'x';
        for (let i = 0; i < depth; i++) value = { evil: value };
        return value;
    }

    it('never stores or returns them, and names them (never their values) in the log line', async () => {
        const boss = await createUser(`sub-boss-${run}@contoso.com`);
        const reply = await server.request('POST', '/Users', {
            schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            userName: `sub-${run}@contoso.com`,
            name: { givenName: 'Sub', evil: nested(58) },
            emails: [{ value: `sub-${run}@contoso.com`, type: 'work', junk: 'SECRET-JUNK' }],
            [ENTERPRISE_USER_SCHEMA]: { manager: { value: boss.id, displayName: 'Spoofed Name' } },
        });
        expect(reply.status).toBe(201);
        expect(lastSummary().ignoredPaths).toEqual(['name.evil', 'emails.junk']);
        expect(JSON.stringify(server.logs)).not.toContain('SECRET-JUNK');
        const read = await server.request('GET', `/Users/${reply.body.id}`);
        expect(read.body.name).toEqual({ givenName: 'Sub' });
        expect(read.body.emails).toEqual([{ value: `sub-${run}@contoso.com`, type: 'work' }]);
        expect(read.body[ENTERPRISE_USER_SCHEMA].manager).toEqual({ value: boss.id, $ref: `${server.base}/Users/${boss.id}` });
        expect(read.text).not.toContain('evil');
        expect(read.text).not.toContain('Spoofed');

        const replaced = await server.request('PUT', `/Users/${reply.body.id}`, { userName: `sub-${run}@contoso.com`, addresses: [{ type: 'work', locality: 'Brno', planet: 'Earth' }] });
        expect(replaced.status).toBe(200);
        expect(lastSummary().ignoredPaths).toEqual(['addresses.planet']);
        expect(replaced.body.addresses).toEqual([{ type: 'work', locality: 'Brno' }]);
    });
});

describe('Microsoft\'s endpoint-testing conventions', () => {
    it('serves the ServiceProviderConfig at /serviceConfiguration too', async () => {
        const alias = await server.request('GET', '/serviceConfiguration');
        const canonical = await server.request('GET', '/ServiceProviderConfig');
        expect(alias.status).toBe(200);
        expect(alias.headers.get('content-type')).toMatch(/^application\/scim\+json/);
        expect(alias.body).toEqual(canonical.body);
        expect((await server.request('GET', '/serviceConfiguration', undefined, { Authorization: 'Bearer wrong' })).status).toBe(401);
    });

    it('reads a member add whose value is a bare id, or an array of ids, as [{value: id}]', async () => {
        const [a, b, c] = [await createUser(`bare-a-${run}@x.test`), await createUser(`bare-b-${run}@x.test`), await createUser(`bare-c-${run}@x.test`)];
        const group = await createGroup(`bare-${run}`);
        const one = await server.request('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'members', value: a.id }] });
        expect(one.status).toBe(204);
        const many = await server.request('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [b.id, c.id] }] });
        expect(many.status).toBe(204);
        const read = await server.request('GET', `/Groups/${group.id}`);
        expect(read.body.members.map((m: { value: string }) => m.value).sort()).toEqual([a.id, b.id, c.id].sort());
        const unknown = await server.request('PATCH', `/Groups/${group.id}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'members', value: randomUUID() }] });
        expect(unknown.status).toBe(400);
        expect(unknown.body.scimType).toBe('invalidValue');
    });
});
