/**
 * Equality indexes in the store (docs/storage.md, "Equality indexes"): rows written in the resource's own
 * transaction, lookups by every default index, state rows that decide when an index may be read, and the
 * rebuild (resumable, idempotent, safe under concurrent writes). Every table is checked with the
 * consistency checker, which recomputes each index row from the attributes.
 */
import { describe, expect, it } from 'vitest';
import { odata, TableClient, type TransactionAction } from '@azure/data-tables';
import {
    DEFAULT_INDEXED_ATTRIBUTES,
    parseIndexedAttribute,
    readIndexConfiguration,
    type AttributeIndex,
    type IndexConfiguration,
} from '../../shared/scim/attributeIndexes';
import { ENTERPRISE_USER_SCHEMA } from '../../shared/scim/schemas';
import { createEntityTable } from '../../shared/store/EntityTable';
import { createTableResourceStore, MAX_LOOKUP_RESOURCES } from '../../shared/store/TableResourceStore';
import { buildResourceRows, MAX_INDEX_ROWS_PER_RESOURCE } from '../../shared/store/entities';
import { rebuildIndex, readIndexStatus } from '../../shared/store/indexRebuild';
import { DEFAULT_PARTITIONS, INDEX_STATE_PREFIX } from '../../shared/store/keys';
import { countStorageRequests } from '../../shared/store/requestCounter';
import { checkConsistency } from '../support/consistencyChecker';
import { testConnectionString, testTableName } from '../support/tables';
import { NOW, LATER, collect, storeErrorOf, storeOnFreshTable, submitInTransactions, user } from './storeFixture';

const WORK = 'emails[type eq "work"].value';
const EMPLOYEE_NUMBER = `${ENTERPRISE_USER_SCHEMA}:employeeNumber`;

function person(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return user(`person${n}@example.com`, `ext-${n}`, {
        displayName: `Person ${n % 7}`,
        title: `Title ${n % 5}`,
        emails: [{ type: 'work', value: `Work${n}@Example.com` }, { type: 'home', value: `home${n}@example.com` }],
        [ENTERPRISE_USER_SCHEMA]: { employeeNumber: `E${n}` },
        ...extra,
    });
}

const by = (attribute: string, value: string) => [{ kind: 'attribute' as const, attribute, value }];

async function requests(work: () => Promise<unknown>): Promise<number> {
    return (await countStorageRequests(work)).requests.total;
}

function storeWith(tableName: string, setting: string | undefined) {
    return createTableResourceStore({ tableName, connectionString: testConnectionString() }, { allowInsecureConnection: true, indexes: readIndexConfiguration(setting) });
}

function tableOf(tableName: string) {
    return createEntityTable({ tableName, connectionString: testConnectionString() }, { allowInsecureConnection: true });
}

function index(configuration: IndexConfiguration, path: string): AttributeIndex {
    return configuration.User.find((candidate) => candidate.path === path)!;
}

/** Users as an earlier version wrote them: no generic index rows and no `indexKeys`. */
async function seedUnindexedUsers(tableName: string, from: number, count: number): Promise<void> {
    const raw = TableClient.fromConnectionString(testConnectionString(), tableName, { allowInsecureConnection: true });
    const actions: TransactionAction[] = [];
    for (let n = from; n < from + count; n++) {
        const rows = buildResourceRows('User', `old-${String(n).padStart(5, '0')}`, person(n), DEFAULT_PARTITIONS, { created: NOW, lastModified: NOW });
        actions.push(['create', rows.resource], ['create', rows.uniqueName], ['create', rows.externalId!]);
    }
    await submitInTransactions(raw, actions);
}

describe('index rows in the resource transaction', () => {
    const { store, tableName, connectionString, raw } = storeOnFreshTable();

    it('declares the default indexes complete on a new table', async () => {
        const catalog = await store.indexes('User');
        expect(catalog.building).toEqual([]);
        expect(catalog.usable.map((path) => path)).toEqual(DEFAULT_INDEXED_ATTRIBUTES.User);
        const states = await collect(raw.listEntities({ queryOptions: { filter: odata`RowKey ge ${INDEX_STATE_PREFIX} and RowKey lt ${'ixstate;'}` } }));
        expect(states.map((state) => [state.path, state.status]).sort()).toEqual([[EMPLOYEE_NUMBER, 'complete'], ['displayName', 'complete'], [WORK, 'complete']].sort());
    });

    it('creates in one transaction and finds by every default index, folded like the evaluator', async () => {
        let created!: Awaited<ReturnType<typeof store.create>>;
        const createCost = await countStorageRequests(async () => {
            created = await store.create('User', 'id-1', person(1, { displayName: 'José Smith' }), NOW);
        });
        expect(createCost.requests).toMatchObject({ total: 1, transaction: 1 });
        expect(await store.lookup('User', by('displayName', 'JOSE\u0301 SMITH'))).toEqual([created]);
        expect(await store.lookup('User', by(WORK, 'work1@example.COM'))).toEqual([created]);
        expect(await store.lookup('User', by(WORK, 'home1@example.com'))).toEqual([]);
        expect(await store.lookup('User', by(EMPLOYEE_NUMBER, 'e1'))).toEqual([created]);
        expect(await requests(() => store.lookup('User', by(EMPLOYEE_NUMBER, 'E1')))).toBe(2);
        expect(await requests(() => store.lookup('User', by(EMPLOYEE_NUMBER, 'nobody')))).toBe(1);
    });

    it('answers several hits of a non-unique index with one range read plus a point read each, in id order', async () => {
        for (const id of ['id-c', 'id-a', 'id-b']) await store.create('User', id, person(100 + id.charCodeAt(3), { displayName: 'Shared Name' }), NOW);
        let hits: { id: string }[] = [];
        const cost = await countStorageRequests(async () => {
            hits = await store.lookup('User', by('displayName', 'shared name'));
        });
        expect(hits.map((hit) => hit.id)).toEqual(['id-a', 'id-b', 'id-c']);
        expect(cost.requests).toMatchObject({ total: 4, rangeRead: 1, pointRead: 3 });
        // A union reads each resource once.
        const union = await store.lookup('User', [...by('displayName', 'Shared Name'), ...by('userName', `person${100 + 'a'.charCodeAt(0)}@example.com`), { kind: 'id', value: 'id-b' }]);
        expect(union.map((hit) => hit.id)).toEqual(['id-a', 'id-b', 'id-c']);
    });

    it('moves index rows with the attributes in the update transaction, and deletes them with the resource', async () => {
        await store.create('User', 'id-mv', person(2), NOW);
        const cost = await requests(() => store.update('User', 'id-mv', { attributes: person(2, { displayName: 'Moved', emails: [{ type: 'work', value: 'moved@example.com' }] }) }, LATER));
        expect(cost).toBe(2); // read + one transaction
        expect(await store.lookup('User', by('displayName', 'Person 2'))).toEqual([]);
        expect(await store.lookup('User', by(WORK, 'work2@example.com'))).toEqual([]);
        expect((await store.lookup('User', by('displayName', 'moved'))).map((hit) => hit.id)).toEqual(['id-mv']);
        expect((await store.lookup('User', by(WORK, 'MOVED@example.com'))).map((hit) => hit.id)).toEqual(['id-mv']);
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
        expect((await store.delete('User', 'id-mv'))?.attributes).toMatchObject({ displayName: 'Moved' }); // what was deleted, as it was
        expect(await store.lookup('User', by('displayName', 'moved'))).toEqual([]);
        expect(await store.lookup('User', by(EMPLOYEE_NUMBER, 'E2'))).toEqual([]);
    });

    it(`refuses more than ${MAX_INDEX_ROWS_PER_RESOURCE} index rows with 400 invalidValue, writing nothing`, async () => {
        const emails = Array.from({ length: MAX_INDEX_ROWS_PER_RESOURCE }, (_, n) => ({ type: 'work', value: `many${n}@example.com` }));
        const error = await storeErrorOf(store.create('User', 'id-many', person(3, { emails }), NOW));
        expect(error.kind).toBe('invalidChange'); // 400 invalidValue (storeErrors.ts)
        expect(error.message).toContain(WORK);
        expect(error.message).not.toContain('many0@example.com');
        expect(await store.get('User', 'id-many')).toBeUndefined();
    });

    it(`refuses a lookup naming more than ${MAX_LOOKUP_RESOURCES} resources with 400 tooMany, before reading them`, async () => {
        const actions: TransactionAction[] = [];
        const indexes = readIndexConfiguration(undefined).User;
        for (let n = 0; n <= MAX_LOOKUP_RESOURCES; n++) {
            const rows = buildResourceRows('User', `crowd-${n}`, person(1000 + n, { displayName: 'Crowd' }), DEFAULT_PARTITIONS, { created: NOW, lastModified: NOW }, { indexes });
            actions.push(['create', rows.resource], ['create', rows.uniqueName], ['create', rows.externalId!], ...rows.indexRows.map((row): TransactionAction => ['create', row]));
        }
        await submitInTransactions(raw, actions);
        let error: unknown;
        const cost = await countStorageRequests(async () => {
            error = await store.lookup('User', by('displayName', 'crowd')).catch((caught: unknown) => caught);
        });
        expect(error).toMatchObject({ kind: 'tooMany' }); // 400 tooMany (storeErrors.ts)
        expect(cost.requests.pointRead).toBe(0);
        expect(cost.requests.rangeRead).toBeLessThanOrEqual(2);
    });

    it('leaves every invariant intact', async () => {
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
    });
});

describe('index state and rebuild', () => {
    const titled = readIndexConfiguration('title');
    const title = index(titled, 'title');

    it('an index added to a table with data is used only after a rebuild marks it complete', async () => {
        const tableName = testTableName('idx');
        const before = storeWith(tableName, undefined);
        await before.create('User', 'u-old', person(1), NOW);
        await before.create('User', 'u-old2', person(6), NOW);

        const after = storeWith(tableName, 'title');
        expect((await after.indexes('User')).building.map((path) => path)).toEqual(['title']);
        // The app maintains it from now on: a create and an update by the configured app are covered.
        await after.create('User', 'u-new', person(11), NOW);
        await after.update('User', 'u-old2', { attributes: person(6, { title: 'Title 1' }) }, LATER);
        expect((await readIndexStatus(tableOf(tableName))).find((report) => report.path === 'title')).toMatchObject({ status: 'building' });

        const result = await rebuildIndex(tableOf(tableName), title);
        expect(result).toMatchObject({ outcome: 'complete', total: 3, covered: 1 });
        const restarted = storeWith(tableName, 'title');
        expect((await restarted.indexes('User')).usable.map((path) => path)).toContain('title');
        const hits = await restarted.lookup('User', by('title', 'title 1'));
        expect(hits.map((hit) => hit.id)).toEqual(['u-new', 'u-old', 'u-old2']);
        expect(await checkConsistency(testConnectionString(), tableName)).toEqual([]);
    });

    it('resumes where a stopped run left off, and a second run changes nothing', async () => {
        const tableName = testTableName('idx');
        await seedUnindexedUsers(tableName, 0, 450);
        const store = storeWith(tableName, 'title');
        expect((await store.indexes('User')).building.map((path) => path)).toEqual(['displayName', WORK, EMPLOYEE_NUMBER, 'title']);

        let pages = 0;
        const stopped = await rebuildIndex(tableOf(tableName), title, { shouldStop: () => ++pages >= 1 });
        expect(stopped).toMatchObject({ outcome: 'stopped', processed: 200, total: 450, covered: 200 });
        expect((await readIndexStatus(tableOf(tableName))).find((report) => report.path === 'title')).toMatchObject({ status: 'building', processed: 200, total: 450 });

        const resumed = await rebuildIndex(tableOf(tableName), title);
        expect(resumed).toMatchObject({ outcome: 'complete', processed: 450, total: 450, covered: 250, verifyPasses: 1 });
        const again = await rebuildIndex(tableOf(tableName), title);
        expect(again).toMatchObject({ outcome: 'complete', covered: 0, reread: 0 });
        expect(await storeWith(tableName, 'title').lookup('User', by('title', 'TITLE 3'))).toHaveLength(90);
        for (const path of ['displayName', WORK, EMPLOYEE_NUMBER]) expect(await rebuildIndex(tableOf(tableName), index(titled, path))).toMatchObject({ outcome: 'complete', covered: 450 });
        expect(await checkConsistency(testConnectionString(), tableName)).toEqual([]);
    }, 120_000);

    it('stays exact while the app renames, deletes and creates resources between its reads and its writes', async () => {
        const tableName = testTableName('idx');
        await seedUnindexedUsers(tableName, 0, 500);
        const app = storeWith(tableName, 'title');
        await app.indexes('User');
        let page = 0;
        const result = await rebuildIndex(tableOf(tableName), title, {
            // After each page is read: change rows of that page (the cover transaction then fails with 412/404
            // and the row is read again), rows of the next page, and add new users.
            afterRead: async () => {
                const first = page * 200;
                page++;
                for (let n = first; n < first + 260 && n < 500; n += 13) {
                    const id = `old-${String(n).padStart(5, '0')}`;
                    if (n % 2 === 0) await app.update('User', id, { attributes: person(n, { title: `Renamed ${n % 3}` }) }, LATER).catch(() => undefined);
                    else await app.delete('User', id);
                }
                await app.create('User', `new-${page}`, person(900 + page, { title: 'Renamed 0' }), LATER);
            },
        });
        if (result.outcome !== 'complete') throw new Error(`rebuild ended ${result.outcome}`);
        expect(result.reread, 'the concurrent writes hit the rebuild between its read and its write').toBeGreaterThan(0);
        expect(await checkConsistency(testConnectionString(), tableName)).toEqual([]);

        // Every title lookup answers exactly what a scan of the table answers.
        const restarted = storeWith(tableName, 'title');
        const everyone = await collect(restarted.list('User', 10_000));
        for (const value of ['Renamed 0', 'Renamed 1', 'Renamed 2', 'Title 0', 'Title 4']) {
            const expected = everyone.filter((resource) => resource.attributes.title === value).map((resource) => resource.id).sort();
            expect((await restarted.lookup('User', by('title', value))).map((hit) => hit.id), value).toEqual(expected);
            expect(expected.length, `${value} has matches`).toBeGreaterThan(0);
        }
    }, 120_000);

    it('changes no version and writes no feed event: a version a client holds from before the rebuild still opens a conditional write', async () => {
        const tableName = testTableName('idx');
        await seedUnindexedUsers(tableName, 0, 3); // rows older than the change feed too: their version comes from their ETag
        const app = storeWith(tableName, 'title');
        const old = await app.get('User', 'old-00000');
        const created = await app.create('User', 'new-1', person(10), NOW); // a row with its stored version, covered by this write
        const events = (await app.changes.readPage('', 100)).events.map((event) => event.id);
        expect(await rebuildIndex(tableOf(tableName), title)).toMatchObject({ outcome: 'complete', covered: 3 });

        const restarted = storeWith(tableName, 'title'); // remembers no row: reads what the rebuild left
        expect((await restarted.get('User', 'old-00000'))!.version).toBe(old!.version);
        expect((await restarted.get('User', 'new-1'))!.version).toBe(created.version);
        expect((await restarted.changes.readPage('', 100)).events.map((event) => event.id)).toEqual(events);
        const updated = await restarted.update('User', 'old-00000', { attributes: person(0, { title: 'After the rebuild' }) }, LATER, old!.version);
        expect(updated.version).not.toBe(old!.version);
        expect(await restarted.lookup('User', by('title', 'after the rebuild'))).toHaveLength(1);
        expect(await checkConsistency(testConnectionString(), tableName)).toEqual([]);
    });

    it('an app started without an index drops its state; started with it again, the index is building', async () => {
        const tableName = testTableName('idx');
        const first = storeWith(tableName, 'title');
        await first.create('User', 'u1', person(1), NOW);
        expect((await first.indexes('User')).usable.map((path) => path)).toContain('title');

        const without = storeWith(tableName, undefined);
        await without.update('User', 'u1', { attributes: person(1, { title: 'Changed without the index' }) }, LATER);
        expect((await readIndexStatus(tableOf(tableName))).map((report) => report.path)).not.toContain('title');
        expect(await checkConsistency(testConnectionString(), tableName)).toEqual([]); // its rows went with the update

        const again = storeWith(tableName, 'title');
        expect((await again.indexes('User')).building.map((path) => path)).toEqual(['title']);
        expect(await rebuildIndex(tableOf(tableName), title)).toMatchObject({ outcome: 'complete', covered: 1 });
        expect((await storeWith(tableName, 'title').lookup('User', by('title', 'changed without the index'))).map((hit) => hit.id)).toEqual(['u1']);
    });

    it('refuses to rebuild an index the app does not maintain', async () => {
        const tableName = testTableName('idx');
        await storeWith(tableName, undefined).create('User', 'u1', person(1), NOW);
        const phone = parseIndexedAttribute('User', 'phoneNumbers[type eq "mobile"].value');
        expect(await rebuildIndex(tableOf(tableName), 'index' in phone ? phone.index : title)).toEqual({ outcome: 'notDeclared' });
    });

    it('reports rows it cannot index instead of marking the index complete', async () => {
        const tableName = testTableName('idx');
        const store = storeWith(tableName, undefined);
        await store.create('User', 'u1', person(1), NOW);
        // A user with 41 mobile numbers, written before anyone indexed them.
        const phones = Array.from({ length: MAX_INDEX_ROWS_PER_RESOURCE }, (_, n) => ({ type: 'mobile', value: `+1 555 01${n}` }));
        await store.create('User', 'u-phones', person(2, { phoneNumbers: phones }), NOW);
        const phone = readIndexConfiguration('phoneNumbers[type eq "mobile"].value');
        await storeWith(tableName, 'phoneNumbers[type eq "mobile"].value').indexes('User');
        const result = await rebuildIndex(tableOf(tableName), index(phone, 'phoneNumbers[type eq "mobile"].value'));
        expect(result).toMatchObject({ outcome: 'uncoverable', ids: ['u-phones'] });
        expect((await readIndexStatus(tableOf(tableName))).find((report) => report.path.startsWith('phoneNumbers'))).toMatchObject({ status: 'building' });
        expect(await checkConsistency(testConnectionString(), tableName)).toEqual([]);
    });
});

describe('state rows', () => {
    it('live in each resource partition and are found by one range read', async () => {
        const tableName = testTableName('idx');
        const store = storeWith(tableName, 'Group:externalId, title');
        expect(await requests(() => store.get('User', 'nobody'))).toBeGreaterThan(1); // the first use declares
        expect(await requests(() => store.indexes('User'))).toBe(0);
        const states = await readIndexStatus(tableOf(tableName));
        expect(states.every((state) => state.resourceType === 'User')).toBe(true);
        expect(states.map((state) => state.path).sort()).toEqual(['displayName', EMPLOYEE_NUMBER, WORK, 'title'].sort());
    });
});
