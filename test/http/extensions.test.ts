/**
 * Declared schema extensions over real HTTP (SCIM_SCHEMA_EXTENSIONS = the ALVAO example in docs/examples,
 * plus a Group extension): discovered, stored in the resource row, returned, validated, filtered,
 * projected and patched in both of Entra's dialects, whether or not `schemas` lists the URN, at the
 * storage-request cost of the same operations without them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../../shared/scim/schemas';
import { startScimServer, type ScimTestServer } from '../support/scimServer';

const PERSON = 'urn:ietf:params:scim:schemas:extension:alvao_tPersonCust:2.0:User';
const PROPERTY = 'urn:ietf:params:scim:schemas:extension:alvao_tblProperty:2.0:User';
const GROUP_EXTRAS = 'urn:example:params:scim:schemas:extension:roles:1.0:Group';

const DECLARED = [
    ...(JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'docs', 'examples', 'alvao-schema-extensions.json'), 'utf8')) as unknown[]),
    { id: GROUP_EXTRAS, name: 'GroupExtras', resourceType: 'Group', attributes: [{ name: 'objectId', caseExact: true }, { name: 'weight', type: 'integer' }] },
];

let server: ScimTestServer;

beforeAll(async () => {
    server = await startScimServer({ settings: { SCIM_SCHEMA_EXTENSIONS: JSON.stringify(DECLARED) } });
    await server.request('GET', '/Users?filter=userName+eq+%22warm-up%22'); // creates the table
});
afterAll(async () => {
    await server.close();
});

function lastSummary(): { storageRequests: number; ignoredPaths?: string[] } {
    const line = [...server.logs].reverse().find((l) => l.startsWith('scim request '));
    return JSON.parse(line!.slice('scim request '.length));
}

const query = (resource: string, filter: string) => `/${resource}?filter=${encodeURIComponent(filter).replace(/%20/g, '+')}`;
const patch = (...operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations: operations });

/** A user as Entra creates it with custom mappings: extension objects, the URN not in `schemas`. */
async function createAlvaoUser(userName: string, extra: Record<string, unknown> = {}): Promise<any> {
    const reply = await server.request('POST', '/Users', {
        schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        userName,
        active: true,
        [ENTERPRISE_USER_SCHEMA]: { department: 'IT' },
        [PERSON]: { sCostCenterCode: 'CC-100', bExternal: 'False', dContractEnd: '2027-06-30T00:00:00Z' },
        [PROPERTY]: { kindId_9: 'Building B' },
        ...extra,
    });
    expect(reply.status, reply.text).toBe(201);
    return reply.body;
}

describe('discovery', () => {
    it('lists the declared schemas in /Schemas and in the resource types\' schemaExtensions', async () => {
        const listed = await server.request('GET', '/Schemas');
        expect(listed.body.Resources.map((s: { id: string }) => s.id)).toEqual(expect.arrayContaining([PERSON, PROPERTY, GROUP_EXTRAS]));
        const one = await server.request('GET', `/Schemas/${PROPERTY}`);
        expect(one.status).toBe(200);
        expect(one.body.attributes.map((a: { name: string }) => a.name)).toEqual(['kindId_9', 'kindId_12']);
        const user = await server.request('GET', '/ResourceTypes/User');
        expect(user.body.schemaExtensions.map((e: { schema: string }) => e.schema)).toEqual([ENTERPRISE_USER_SCHEMA, PERSON, PROPERTY]);
        const group = await server.request('GET', '/ResourceTypes/Group');
        expect(group.body.schemaExtensions).toEqual([{ schema: GROUP_EXTRAS, required: false }]);
    });
});

describe('POST and GET', () => {
    it('stores extension attributes sent without their URN in schemas, in one storage request, and lists the URNs when returning them', async () => {
        const created = await createAlvaoUser('ext-post@contoso.com');
        expect(lastSummary().storageRequests).toBe(1);
        expect(created.schemas).toEqual([USER_SCHEMA, ENTERPRISE_USER_SCHEMA, PERSON, PROPERTY]);
        expect(created[PERSON]).toEqual({ sCostCenterCode: 'CC-100', bExternal: false, dContractEnd: '2027-06-30T00:00:00Z' });
        const read = await server.request('GET', `/Users/${created.id}`);
        expect(lastSummary().storageRequests).toBe(1);
        expect(read.body[PROPERTY]).toEqual({ kindId_9: 'Building B' });
    });

    it('reads URN-qualified keys into their extension, names in any case', async () => {
        const reply = await server.request('POST', '/Users', {
            schemas: [USER_SCHEMA],
            userName: 'ext-flat@contoso.com',
            [`${PERSON}:sCostCenterCode`]: 'CC-7',
            [`${PROPERTY.toUpperCase()}:KINDID_12`]: 'Floor 3',
        });
        expect(reply.status).toBe(201);
        expect(reply.body[PERSON]).toEqual({ sCostCenterCode: 'CC-7' });
        expect(reply.body[PROPERTY]).toEqual({ kindId_12: 'Floor 3' });
        expect(lastSummary().ignoredPaths).toBeUndefined();
    });

    it('checks declared types: 400 invalidValue naming the attribute, nothing stored', async () => {
        const reply = await server.request('POST', '/Users', { userName: 'ext-bad@contoso.com', [PERSON]: { bExternal: 'maybe' } });
        expect(reply.status).toBe(400);
        expect(reply.body.scimType).toBe('invalidValue');
        expect(reply.body.detail).toContain(`${PERSON}:bExternal`);
        expect(reply.body.detail).not.toContain('maybe');
        const lookup = await server.request('GET', query('Users', 'userName eq "ext-bad@contoso.com"'));
        expect(lookup.body.totalResults).toBe(0);
    });

    it('still ignores attributes no declaration covers, by name in the log', async () => {
        await createAlvaoUser('ext-unknown@contoso.com', { [PERSON]: { sCostCenterCode: 'CC-1', sShoeSize: '44' }, 'urn:example:other:1.0:User': { x: 'y' } });
        expect(lastSummary().ignoredPaths).toEqual([`${PERSON}:sShoeSize`, 'urn:example:other:1.0:User']);
    });
});

describe('filters', () => {
    it('match on extension attributes by full path, with the declared type and case rules', async () => {
        const alvao = await createAlvaoUser('ext-filter@contoso.com', { [PROPERTY]: { kindId_9: 'Building F' } });
        const byProperty = await server.request('GET', query('Users', `${PROPERTY}:kindId_9 eq "building f"`));
        expect(byProperty.body.Resources.map((r: { id: string }) => r.id)).toEqual([alvao.id]);
        const combined = await server.request('GET', query('Users', `userName eq "ext-filter@contoso.com" and ${PERSON}:bExternal eq false`));
        expect(combined.body.totalResults).toBe(1);
        expect(lastSummary().storageRequests).toBe(2); // the userName index, then the user: the extension clause is checked in memory
        const none = await server.request('GET', query('Users', `userName eq "ext-filter@contoso.com" and ${PERSON}:bExternal eq true`));
        expect(none.body.totalResults).toBe(0);
        const byDate = await server.request('GET', query('Users', `${PERSON}:dContractEnd gt "2027-01-01T00:00:00Z" and userName eq "ext-filter@contoso.com"`));
        expect(byDate.body.totalResults).toBe(1);
    });
});

describe('projection', () => {
    it('selects and excludes extension attributes and whole extensions by URN', async () => {
        const user = await createAlvaoUser('ext-projection@contoso.com');
        const only = await server.request('GET', `/Users/${user.id}?attributes=${PROPERTY}:kindId_9`);
        expect(Object.keys(only.body).sort()).toEqual(['id', 'meta', 'schemas', PROPERTY].sort());
        expect(only.body[PROPERTY]).toEqual({ kindId_9: 'Building B' });
        const withoutPerson = await server.request('GET', `/Users/${user.id}?excludedAttributes=${PERSON}`);
        expect(withoutPerson.body[PERSON]).toBeUndefined();
        expect(withoutPerson.body[PROPERTY]).toBeDefined();
        expect(withoutPerson.body.userName).toBe('ext-projection@contoso.com');
    });
});

describe('PATCH, in both of Entra\'s dialects', () => {
    it('path = urn:…:User:attribute (default dialect): 2 storage requests, like any PATCH', async () => {
        const user = await createAlvaoUser('ext-patch-path@contoso.com');
        const reply = await server.request('PATCH', `/Users/${user.id}`, patch(
            { op: 'Replace', path: `${PERSON}:sCostCenterCode`, value: 'CC-200' },
            { op: 'Add', path: `${PROPERTY}:kindId_12`, value: 'Floor 2' },
            { op: 'Replace', path: `${PERSON}:bExternal`, value: 'True' },
        ));
        expect(reply.status).toBe(200);
        expect(lastSummary().storageRequests).toBe(2);
        expect(reply.body[PERSON]).toMatchObject({ sCostCenterCode: 'CC-200', bExternal: true });
        expect(reply.body[PROPERTY]).toEqual({ kindId_9: 'Building B', kindId_12: 'Floor 2' });
    });

    it('path-less values whose keys are urn:…:User:attribute (aadOptscim062020), or the nested object', async () => {
        const user = await createAlvaoUser('ext-patch-value@contoso.com');
        const flat = await server.request('PATCH', `/Users/${user.id}`, patch({ op: 'replace', value: { [`${PERSON}:sContractType`]: 'contractor', [`${PROPERTY}:kindId_9`]: 'Building C' } }));
        expect(flat.body[PERSON]).toMatchObject({ sCostCenterCode: 'CC-100', sContractType: 'contractor' });
        expect(flat.body[PROPERTY]).toEqual({ kindId_9: 'Building C' });
        const nested = await server.request('PATCH', `/Users/${user.id}`, patch({ op: 'add', value: { [PERSON]: { sCostCenterCode: 'CC-300' } } }));
        expect(nested.body[PERSON]).toMatchObject({ sCostCenterCode: 'CC-300', sContractType: 'contractor' });
    });

    it('removing the last attribute of an extension drops the extension and its URN from schemas', async () => {
        const user = await createAlvaoUser('ext-patch-remove@contoso.com');
        const reply = await server.request('PATCH', `/Users/${user.id}`, patch({ op: 'remove', path: `${PROPERTY}:kindId_9` }));
        expect(reply.body[PROPERTY]).toBeUndefined();
        expect(reply.body.schemas).toEqual([USER_SCHEMA, ENTERPRISE_USER_SCHEMA, PERSON]);
    });

    it('refuses a value of the wrong type with 400 invalidValue and changes nothing', async () => {
        const user = await createAlvaoUser('ext-patch-type@contoso.com');
        const reply = await server.request('PATCH', `/Users/${user.id}`, patch({ op: 'replace', path: `${PERSON}:dContractEnd`, value: 'next year' }));
        expect(reply.status).toBe(400);
        expect(reply.body.scimType).toBe('invalidValue');
        const read = await server.request('GET', `/Users/${user.id}`);
        expect(read.body.meta.version).toBe(user.meta.version);
    });
});

describe('a Group extension', () => {
    it('is stored, filtered and patched like a User one', async () => {
        const created = await server.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'ext-group', [GROUP_EXTRAS]: { objectId: 'OID-1', weight: 3 } });
        expect(created.status).toBe(201);
        expect(created.body.schemas).toEqual([GROUP_SCHEMA, GROUP_EXTRAS]);
        const found = await server.request('GET', query('Groups', `${GROUP_EXTRAS}:objectId eq "OID-1"`) + '&excludedAttributes=members');
        expect(found.body.Resources.map((g: { id: string }) => g.id)).toEqual([created.body.id]);
        // caseExact: true in the declaration
        expect((await server.request('GET', query('Groups', `${GROUP_EXTRAS}:objectId eq "oid-1"`))).body.totalResults).toBe(0);
        const patched = await server.request('PATCH', `/Groups/${created.body.id}?attributes=${GROUP_EXTRAS}`, patch({ op: 'replace', path: `${GROUP_EXTRAS}:weight`, value: 5 }));
        expect(patched.status).toBe(200);
        expect(patched.body[GROUP_EXTRAS]).toEqual({ objectId: 'OID-1', weight: 5 });
    });
});
