/**
 * Equality indexes over real HTTP, as a new admin meets them: Entra's matching filters on any default
 * attribute at a size where scans are refused, the rebuild that makes an index usable, the refusal that says
 * which attribute to index, one case fold for filters and uniqueness, lone surrogates refused, and the start-up
 * line for a setting that cannot be indexed. Storage requests come from each request's summary log line.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIndexCommand } from '../../dev/indexCommand';
import { readSettings } from '../../shared/config';
import { createApp } from '../../shared/app';
import { SettingsError } from '../../shared/config';
import { checkStartup } from '../../shared/http/registerRoute';
import { readIndexConfiguration } from '../../shared/scim/attributeIndexes';
import { MAX_SCAN_RESOURCES } from '../../shared/scim/filter';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from '../../shared/scim/schemas';
import { buildResourceRows } from '../../shared/store/entities';
import { DEFAULT_PARTITIONS } from '../../shared/store/keys';
import { checkConsistency } from '../support/consistencyChecker';
import { summaryLines } from '../reliability/support/summaryLines';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { testConnectionString, testTableName } from '../support/tables';
import { NOW, submitInTransactions } from '../store/storeFixture';

const query = (filter: string) => `/Users?filter=${encodeURIComponent(filter)}&excludedAttributes=groups`;

function lastStorageRequests(server: ScimTestServer): number {
    return summaryLines(server.logs).at(-1)!.storageRequests;
}

function userBody(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        userName: `u${n}@c.test`,
        externalId: `ext-${n}`,
        displayName: `User ${n}`,
        emails: [{ type: 'work', value: `mail${n}@c.test`, primary: true }],
        [ENTERPRISE_USER_SCHEMA]: { employeeNumber: `E${n}` },
        ...extra,
    };
}

describe(`a tenant past the scan cap (${MAX_SCAN_RESOURCES.toLocaleString('en-US')} users) whose data predates the indexes`, () => {
    const tableName = testTableName('grown');
    const users = MAX_SCAN_RESOURCES + 50;
    let server: ScimTestServer;

    beforeAll(async () => {
        // Users written as the app writes them, before this app version first ran on the table: it then
        // declares its generic indexes `building` (they may miss rows) and serves them only after a rebuild.
        const raw = TableClient.fromConnectionString(testConnectionString(), tableName, { allowInsecureConnection: true });
        const indexes = readIndexConfiguration(undefined).User;
        const actions: TransactionAction[] = [];
        for (let n = 0; n < users; n++) {
            const { schemas: _schemas, ...attributes } = userBody(n);
            const rows = buildResourceRows('User', `id-${n}`, attributes, DEFAULT_PARTITIONS, { created: NOW, lastModified: NOW }, { indexes: n % 2 === 0 ? indexes : [] });
            actions.push(['create', rows.resource], ['create', rows.uniqueName], ['create', rows.externalId!], ...rows.indexRows.map((row): TransactionAction => ['create', row]));
        }
        await submitInTransactions(raw, actions);
        server = await startScimServer({ tableName });
        await server.request('GET', '/Users/warm-up'); // the first use prepares the store; budgets are about the requests after it
    }, 240_000);
    afterAll(async () => {
        await server.close();
    });

    it('answers userName and externalId (built in) at once, and refuses the others with the command that completes them', async () => {
        const byUserName = await server.request('GET', query('userName eq "U77@C.TEST"'));
        expect(byUserName.body.totalResults).toBe(1);
        expect(lastStorageRequests(server)).toBe(2);
        expect((await server.request('GET', query('externalId eq "ext-77"'))).body.Resources[0].id).toBe('id-77');

        for (const [filter, path] of [
            ['emails[type eq "work"].value eq "mail77@c.test"', 'emails[type eq "work"].value'],
            [`${ENTERPRISE_USER_SCHEMA}:employeeNumber eq "E77"`, `${ENTERPRISE_USER_SCHEMA}:employeeNumber`],
            ['displayName eq "User 77"', 'displayName'],
        ]) {
            const reply = await server.request('GET', query(filter!));
            expect(reply.status, filter).toBe(400);
            expect(reply.body.scimType).toBe('tooMany');
            expect(reply.body.detail).toContain(`the index on ${path} is not complete yet`);
            expect(reply.body.detail).toContain(`npm run index -- rebuild ${path}`);
            expect(reply.body.detail).not.toContain('77');
        }
    });

    it('refuses a filter on an attribute nobody indexed, naming it and the setting', async () => {
        const reply = await server.request('GET', query('phoneNumbers[type eq "mobile"].value eq "+1 555 0100"'));
        expect(reply.status).toBe(400);
        expect(reply.body.scimType).toBe('tooMany');
        expect(reply.body.detail).toContain('no index serves phoneNumbers[type eq "mobile"].value');
        expect(reply.body.detail).toContain('SCIM_INDEXED_ATTRIBUTES');
        expect(reply.body.detail).not.toContain('555');
        // Discovery still says filtering is supported: it is, for indexed attributes and small tables.
        expect((await server.request('GET', '/ServiceProviderConfig')).body.filter.supported).toBe(true);
    });

    it('after `npm run index -- rebuild` and a restart, answers each default index with a point or range read', async () => {
        const lines: string[] = [];
        const io = { env: { TABLES_CONNECTION_STRING: testConnectionString(), SCIM_TABLE_NAME: tableName }, out: (line: string) => lines.push(line), err: (line: string) => lines.push(line), progress: () => undefined };
        for (const path of ['displayName', 'emails[type eq "work"].value', `${ENTERPRISE_USER_SCHEMA}:employeeNumber`]) {
            expect(await runIndexCommand(['rebuild', path, '--type', 'User'], io), lines.join('\n')).toBe(0);
        }
        expect(lines.filter((line) => line.includes('is complete')).length).toBe(3);
        await server.close();
        server = await startScimServer({ tableName });
        await server.request('GET', '/Users/warm-up');

        for (const filter of [
            'emails[type eq "work"].value eq "MAIL77@c.test"',
            `${ENTERPRISE_USER_SCHEMA}:employeeNumber eq "e77"`,
            'employeeNumber eq "E77"',
            'displayName eq "user 77"',
            'emails[type eq "work" and value eq "mail77@c.test"]',
        ]) {
            const reply = await server.request('GET', query(filter));
            expect(reply.status, filter).toBe(200);
            expect(reply.body.Resources.map((resource: { id: string }) => resource.id), filter).toEqual(['id-77']);
            expect(lastStorageRequests(server), filter).toBe(2);
        }
        expect((await server.request('GET', query('displayName eq "Nobody"'))).body.totalResults).toBe(0);
        expect(lastStorageRequests(server)).toBe(1);

        // or of indexed equalities: the union; and with an unindexed condition: checked in memory.
        const union = await server.request('GET', query('userName eq "u5@c.test" or emails[type eq "work"].value eq "mail6@c.test" or displayName eq "User 7"'));
        expect(union.body.Resources.map((resource: { id: string }) => resource.id)).toEqual(['id-5', 'id-6', 'id-7']);
        expect(lastStorageRequests(server)).toBe(6);
        const narrowed = await server.request('GET', query('displayName eq "User 8" and title pr'));
        expect(narrowed.body.totalResults).toBe(0);
        expect(lastStorageRequests(server)).toBe(2);
    }, 240_000);

    it('keeps the indexes exact through PATCH and DELETE, each one read and one transaction', async () => {
        const patch = await server.request('PATCH', '/Users/id-78', {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [
                { op: 'Replace', path: 'displayName', value: 'Renamed 78' },
                { op: 'Replace', path: 'emails[type eq "work"].value', value: 'renamed78@c.test' },
                { op: 'Replace', path: `${ENTERPRISE_USER_SCHEMA}:employeeNumber`, value: 'R78' },
            ],
        });
        expect(patch.status).toBe(200);
        expect(lastStorageRequests(server)).toBe(2);
        expect((await server.request('GET', query('displayName eq "User 78"'))).body.totalResults).toBe(0);
        expect((await server.request('GET', query('emails[type eq "work"].value eq "mail78@c.test"'))).body.totalResults).toBe(0);
        expect((await server.request('GET', query('displayName eq "renamed 78"'))).body.Resources[0].id).toBe('id-78');
        expect((await server.request('GET', query('employeeNumber eq "r78"'))).body.Resources[0].id).toBe('id-78');
        expect((await server.request('DELETE', '/Users/id-78')).status).toBe(204);
        expect((await server.request('GET', query('employeeNumber eq "R78"'))).body.totalResults).toBe(0);
        expect(await checkConsistency(testConnectionString(), tableName)).toEqual([]);
    }, 120_000);
});

describe('one fold for filters, uniqueness and indexes', () => {
    let server: ScimTestServer;
    beforeAll(async () => {
        server = await startScimServer();
    });
    afterAll(async () => {
        await server.close();
    });

    it('finds josé by its decomposed spelling, and a create with that spelling is the 409 the lookup predicted', async () => {
        const created = await server.request('POST', '/Users', userBody(1, { userName: 'jos\u00e9@example.com', displayName: 'Jos\u00e9' }));
        expect(created.status).toBe(201);
        for (const filter of ['userName eq "jose\u0301@example.com"', 'userName eq "JOSE\u0301@EXAMPLE.COM"', 'displayName eq "JOSE\u0301"', 'userName sw "jose\u0301"']) {
            const found = await server.request('GET', query(filter));
            expect(found.body.Resources?.map((resource: { id: string }) => resource.id), filter).toEqual([created.body.id]);
        }
        const clash = await server.request('POST', '/Users', userBody(2, { userName: 'jose\u0301@example.com' }));
        expect(clash.status).toBe(409);
        expect(clash.body.scimType).toBe('uniqueness');
    });

    it('refuses a lone surrogate in a filter, a body or a PATCH value with 400 invalidValue and changes nothing', async () => {
        const filter = await server.request('GET', query('userName eq "\\ud800@example.com"'));
        expect(filter.status).toBe(400);
        expect(filter.body.scimType).toBe('invalidValue');
        const post = await server.request('POST', '/Users', '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"\\ud800@example.com"}');
        expect(post.status).toBe(400);
        expect(post.body.scimType).toBe('invalidValue');
        const target = await server.request('POST', '/Users', userBody(3));
        const patch = await server.request('PATCH', `/Users/${target.body.id}`, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"x\\udc00"}]}');
        expect(patch.status).toBe(400);
        expect(patch.body.scimType).toBe('invalidValue');
        expect((await server.request('GET', `/Users/${target.body.id}`)).body.displayName).toBe('User 3');
        expect(await checkConsistency(testConnectionString(), server.tableName)).toEqual([]);
    });
});

describe('SCIM_INDEXED_ATTRIBUTES', () => {
    it('indexes an added attribute from the first write on a new table', async () => {
        const server = await startScimServer({ settings: { SCIM_INDEXED_ATTRIBUTES: 'phoneNumbers[type eq "mobile"].value, title' } });
        try {
            const created = await server.request('POST', '/Users', userBody(1, { title: 'CEO', phoneNumbers: [{ type: 'mobile', value: '+1 555 0100' }] }));
            expect(created.status).toBe(201);
            expect(lastStorageRequests(server)).toBeGreaterThanOrEqual(1);
            const found = await server.request('GET', query('phoneNumbers[type eq "mobile"].value eq "+1 555 0100"'));
            expect(found.body.Resources.map((resource: { id: string }) => resource.id)).toEqual([created.body.id]);
            expect(lastStorageRequests(server)).toBe(2);
            expect((await server.request('GET', query('title eq "ceo"'))).body.totalResults).toBe(1);
            expect(lastStorageRequests(server)).toBe(2);
        } finally {
            await server.close();
        }
    });

    it('indexes attributes of declared schema extensions like built-in ones', async () => {
        const extensions = readFileSync(path.join(__dirname, '../../docs/examples/alvao-schema-extensions.json'), 'utf8');
        const costCenter = 'urn:ietf:params:scim:schemas:extension:alvao_tPersonCust:2.0:User:sCostCenterCode';
        expect(() => readSettings({ SCIM_SCHEMA_EXTENSIONS: extensions, SCIM_INDEXED_ATTRIBUTES: `${costCenter.replace('sCostCenterCode', 'dContractEnd')}` })).toThrow(/dateTime values compare as instants/);
        expect(() => readSettings({ SCIM_INDEXED_ATTRIBUTES: costCenter })).toThrow(SettingsError); // not declared: unknown
        const server = await startScimServer({ settings: { SCIM_SCHEMA_EXTENSIONS: extensions, SCIM_INDEXED_ATTRIBUTES: `${costCenter}, urn:ietf:params:scim:schemas:extension:alvao_tblProperty:2.0:User:kindId_9` } });
        try {
            const created = await server.request('POST', '/Users', userBody(5, { [costCenter.slice(0, costCenter.lastIndexOf(':'))]: { sCostCenterCode: 'CC-42' } }));
            expect(created.status).toBe(201);
            const found = await server.request('GET', query(`${costCenter} eq "cc-42"`));
            expect(found.body.Resources.map((resource: { id: string }) => resource.id)).toEqual([created.body.id]);
            expect(lastStorageRequests(server)).toBe(2);
            expect((await server.request('GET', query('sCostCenterCode eq "CC-42"'))).body.totalResults).toBe(1);
            expect(await checkConsistency(testConnectionString(), server.tableName)).toEqual([]);
        } finally {
            await server.close();
        }
    });

    it('stops the app at start with one line naming a path it cannot index', async () => {
        const env = { TABLES_CONNECTION_STRING: testConnectionString(), SCIM_TABLE_NAME: testTableName(), SCIM_TOKEN: 'x'.repeat(32) };
        expect(() => readSettings({ ...env, SCIM_INDEXED_ATTRIBUTES: 'title, nickname2' })).toThrow(/SCIM_INDEXED_ATTRIBUTES: 'nickname2' is not an attribute of Users/);
        const lines: string[] = [];
        await expect(checkStartup(() => Promise.resolve().then(() => createApp(readSettings({ ...env, SCIM_INDEXED_ATTRIBUTES: 'emails' }))), (line) => lines.push(line))).rejects.toBeInstanceOf(SettingsError);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^scim start-up: SCIM_INDEXED_ATTRIBUTES: 'emails' is multi-valued: pick one element with a value filter/);
        // With a good setting the start prepares the store: its index state rows are there for `npm run index`.
        const good = { ...env, SCIM_INDEXED_ATTRIBUTES: 'title' };
        await checkStartup(() => Promise.resolve(createApp(readSettings(good))), (line) => lines.push(line));
        expect(lines).toHaveLength(1);
        const status: string[] = [];
        expect(await runIndexCommand(['status'], { env: good, out: (line) => status.push(line), err: (line) => status.push(line), progress: () => undefined })).toBe(0);
        expect(status.join('\n')).toMatch(/User\s+title\s+complete/);
    });
});
