/**
 * The change feed on the real store (docs/storage.md, "Change feed"): one event per transaction that changes
 * something, written in that transaction; none for a write that fails; reading with signed cursors; retention
 * and `expiredCursor`; the cost of a page, which does not grow with the feed.
 */
import { describe, expect, it } from 'vitest';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import type { ChangeEvent } from '../../shared/feed/events';
import { encodeCursor, startOfFeed } from '../../shared/feed/cursor';
import { readIndexConfiguration } from '../../shared/scim/attributeIndexes';
import { EntityTable, MAX_TRANSACTION_OPERATIONS } from '../../shared/store/EntityTable';
import { MAX_ATTRIBUTES_JSON_LENGTH, MAX_INDEX_ROWS_PER_RESOURCE } from '../../shared/store/entities';
import { eventRow } from '../../shared/store/FeedLog';
import { TableResourceStore } from '../../shared/store/TableResourceStore';
import { FEED_HEAD_ROW_KEY, GROUPS_PARTITION, USERS_PARTITION } from '../../shared/store/keys';
import { countStorageRequests } from '../../shared/store/requestCounter';
import { checkConsistency } from '../support/consistencyChecker';
import { testConnectionString, testTableName } from '../support/tables';
import { LATER, NOW, group, storeErrorOf, storeOnFreshTable, submitInTransactions, user } from './storeFixture';
import { ScimError } from '../../shared/scim/errors';
import { scimErrorOf, StoreError } from '../../shared/scim/storeErrors';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

async function allEvents(fixture: ReturnType<typeof storeOnFreshTable>, pageSize = 1000): Promise<ChangeEvent[]> {
    const events: ChangeEvent[] = [];
    let cursor = '';
    for (let pages = 0; pages < 10_000; pages++) {
        const page = await fixture.store.changes.readPage(cursor, pageSize);
        events.push(...page.events);
        cursor = page.nextCursor;
        if (page.events.length === 0) return events;
    }
    throw new Error('the feed did not end');
}

describe('events are written with the change they describe', () => {
    const fixture = storeOnFreshTable();
    const { store } = fixture;

    it('records a create, a rename, a deactivation, a PUT and a delete of a user, in order, with versions and changed values', async () => {
        const created = await store.create('User', 'u1', user('ada@example.com', 'ext-ada', { name: { givenName: 'Ada' }, [ENTERPRISE]: { department: 'R&D' } }), NOW);
        const renamed = await store.update('User', 'u1', { attributes: user('ada.lovelace@example.com', 'ext-ada', { name: { givenName: 'Ada' }, [ENTERPRISE]: { department: 'Math' } }) }, LATER, created.version);
        const disabled = await store.update('User', 'u1', { attributes: { ...renamed.attributes, active: false } }, LATER, renamed.version);
        const replaced = await store.update('User', 'u1', { kind: 'put', attributes: { userName: 'ada.lovelace@example.com', active: false, title: 'Countess' } }, LATER, disabled.version);
        expect((await store.delete('User', 'u1'))?.attributes).toMatchObject({ title: 'Countess' }); // the user as it was

        const events = await allEvents(fixture);
        expect(events.map((event) => event.type)).toEqual(['prov:create', 'prov:patch', 'prov:deactivate', 'prov:put', 'prov:delete']);
        expect(events.map((event) => event.version)).toEqual([created.version, renamed.version, disabled.version, replaced.version, undefined]);
        expect(new Set(events.map((event) => event.id)).size).toBe(5);
        for (const event of events) expect(event).toMatchObject({ resourceType: 'User', resourceId: 'u1' });
        expect(events[0]!.attributes).toMatchObject({ userName: 'ada@example.com', externalId: 'ext-ada', active: true, name: { givenName: 'Ada' }, [`${ENTERPRISE}:department`]: 'R&D' });
        expect(events[1]!.attributes).toEqual({ userName: 'ada.lovelace@example.com', [`${ENTERPRISE}:department`]: 'Math' });
        expect(events[2]!.attributes).toEqual({ active: false });
        // PUT: what the new representation removed is null, what it added has its value.
        expect(events[3]!.attributes).toEqual({ externalId: null, name: null, [`${ENTERPRISE}:department`]: null, title: 'Countess' });
        expect(events[0]!.externalId).toBe('ext-ada');
        expect(events[3]!.externalId).toBeUndefined();
        expect(events[4]).not.toHaveProperty('attributes');
        for (const event of events) expect(Date.parse(event.time)).not.toBeNaN();
        expect(await checkConsistency(fixture.connectionString, fixture.tableName)).toEqual([]);
    });

    it('writes no event for a write that fails: a uniqueness clash, a stale version, a no-op', async () => {
        const before = (await allEvents(fixture)).length;
        await store.create('User', 'u2', user('grace@example.com'), NOW);
        await store.create('User', 'u3', user('hopper@example.com'), NOW);
        expect((await storeErrorOf(store.create('User', 'u4', user('GRACE@example.com'), NOW))).kind).toBe('uniqueness');
        const current = await store.get('User', 'u2');
        expect((await storeErrorOf(store.update('User', 'u2', { attributes: user('hopper@example.com') }, LATER, current!.version))).kind).toBe('uniqueness');
        expect((await storeErrorOf(store.update('User', 'u2', { attributes: user('grace.h@example.com') }, LATER, 'W/"stale"'))).kind).toBe('versionConflict');
        await store.update('Group', 'missing', { members: { clear: false, add: [], remove: [] } }, LATER).catch(() => undefined);
        const events = (await allEvents(fixture)).slice(before);
        expect(events.map((event) => [event.type, event.resourceId])).toEqual([
            ['prov:create', 'u2'],
            ['prov:create', 'u3'],
        ]);
    });

    it('records member changes: one self-contained event per transaction, the first with the new version', async () => {
        const members = Array.from({ length: 120 }, (_, index) => `m${index}`);
        await submitInTransactions(fixture.raw, []);
        for (const id of members) await store.create('User', id, user(`${id}@example.com`), NOW);
        const before = (await allEvents(fixture)).length;
        await store.create('Group', 'g1', group('Engineers', 'ext-eng'), NOW);
        const added = await store.update('Group', 'g1', { members: { clear: false, add: members, remove: [] } }, LATER);
        const removed = await store.update('Group', 'g1', { members: { clear: false, add: [], remove: ['m1', 'm2', 'not-a-member'] } }, LATER);
        const events = (await allEvents(fixture)).slice(before).filter((event) => event.resourceType === 'Group');

        expect(events[0]).toMatchObject({ type: 'prov:create', resourceId: 'g1', externalId: 'ext-eng', attributes: { displayName: 'Engineers' } });
        const addEvents = events.slice(1, -1);
        // 120 adds: 48 with the group row in the first transaction, then 49 and 23 (docs/storage.md, "Membership edges").
        expect(addEvents.map((event) => event.members?.added?.length)).toEqual([48, 49, 23]);
        expect(addEvents.flatMap((event) => event.members!.added!).sort()).toEqual([...members].sort());
        expect(addEvents[0]!.version).toBe(added.version);
        expect(addEvents.slice(1).every((event) => event.version === undefined)).toBe(true);
        for (const event of addEvents) expect(event).toMatchObject({ type: 'prov:patch', resourceType: 'Group', resourceId: 'g1', externalId: 'ext-eng' });
        expect(events.at(-1)).toMatchObject({ type: 'prov:patch', version: removed.version, members: { removed: ['m1', 'm2'] } });
    });

    it('records the cascade of a user delete on each group it left, before the delete itself', async () => {
        await store.create('User', 'leaver', user('leaver@example.com'), NOW);
        await store.create('Group', 'ga', group('Group A'), NOW, ['leaver']);
        await store.create('Group', 'gb', group('Group B'), NOW, ['leaver']);
        const before = (await allEvents(fixture)).length;
        await store.delete('User', 'leaver');
        const events = (await allEvents(fixture)).slice(before);
        const cascade = events.filter((event) => event.resourceType === 'Group');
        expect(cascade.map((event) => event.resourceId).sort()).toEqual(['ga', 'gb']);
        for (const event of cascade) {
            expect(event).toMatchObject({ type: 'prov:patch', members: { removed: ['leaver'] }, cause: { type: 'prov:delete', resourceType: 'User', resourceId: 'leaver' } });
            expect(event.version).toBeUndefined();
        }
        expect(events.filter((event) => event.resourceType === 'User')).toMatchObject([{ type: 'prov:delete', resourceId: 'leaver' }]);
        // Group events commit before the user's delete (edges go first), and the merge is by commit time.
        expect(events.findIndex((event) => event.type === 'prov:delete')).toBe(events.length - 1);
    });

    it('records a group delete once, and its memberships in other groups as a cascade', async () => {
        await store.create('Group', 'parent', group('Parent'), NOW);
        await store.create('Group', 'child', group('Child'), NOW);
        await store.update('Group', 'parent', { members: { clear: false, add: ['child'], remove: [] } }, LATER);
        const before = (await allEvents(fixture)).length;
        expect((await store.delete('Group', 'child'))?.id).toBe('child');
        const events = (await allEvents(fixture)).slice(before);
        expect(events.map((event) => [event.type, event.resourceId])).toEqual([
            ['prov:delete', 'child'],
            ['prov:patch', 'parent'],
        ]);
        expect(events[1]).toMatchObject({ members: { removed: ['child'] }, cause: { resourceType: 'Group', resourceId: 'child' } });
        expect(await checkConsistency(fixture.connectionString, fixture.tableName)).toEqual([]);
    });

    it('keeps a user\'s version when only its membership flag moved its ETag, so a conditional write with it still succeeds', async () => {
        const before = await store.create('User', 'flagged', user('flagged@example.com'), NOW);
        await store.create('Group', 'flagger', group('Flagger'), NOW, ['flagged']); // merges hasMemberships into the user row
        // The store still remembers the row from the create, with its old ETag: the write gets a 412 on the row,
        // reads it again, finds the same version, and writes.
        const { result: updated, requests } = await countStorageRequests(() =>
            store.update('User', 'flagged', { attributes: user('flagged@example.com', undefined, { title: 'T' }) }, LATER, before.version),
        );
        expect(requests).toMatchObject({ transaction: 2, pointRead: 1 });
        expect(updated.version).not.toBe(before.version);
        expect((await store.get('User', 'flagged'))!.version).toBe(updated.version);
        expect((await storeErrorOf(store.update('User', 'flagged', { attributes: user('flagged@example.com') }, LATER, before.version))).kind).toBe('versionConflict');
    });

    it('never puts password in an event', async () => {
        await store.create('User', 'pw', user('pw@example.com', undefined, { password: 'Secret#1' }), NOW);
        const raw = JSON.stringify(await allEvents(fixture));
        expect(raw).not.toContain('Secret#1');
        expect(raw).not.toContain('password');
    });
});

describe('a change, its index rows and its event share one transaction', () => {
    /** Every entity-group transaction the store sends: its operations and its payload in bytes, as sent. */
    function measuredStore(): { store: TableResourceStore; tableName: string; transactions: { operations: number; bytes: number }[] } {
        const tableName = testTableName('store');
        const client = TableClient.fromConnectionString(testConnectionString(), tableName, { allowInsecureConnection: true });
        const transactions: { operations: number; bytes: number }[] = [];
        client.pipeline.addPolicy({
            name: 'measureTransactions',
            sendRequest(request, next) {
                if (request.url.endsWith('$batch') && typeof request.body === 'string') {
                    transactions.push({ operations: request.body.split(': application/http\r\n').length - 1, bytes: Buffer.byteLength(request.body, 'utf8') });
                }
                return next(request);
            },
        });
        return { store: new TableResourceStore(new EntityTable(client), readIndexConfiguration(undefined)), tableName, transactions };
    }

    /**
     * The most a user can ask of one transaction: all 40 generic index rows (the default indexes: 38 work emails,
     * displayName, employeeNumber), the resource row and the event near 450,000 characters each. In text of
     * 2 bytes per character on the wire: Azurite refuses an entity over 1 MiB of UTF-8 (Table Storage counts
     * 2 bytes per character, so it takes 3-byte text too: docs/storage.md, "One transaction, both kinds of rows").
     */
    function largest(variant: string): Record<string, unknown> {
        const emails = Array.from({ length: MAX_INDEX_ROWS_PER_RESOURCE - 2 }, (_, n) => ({ type: 'work', value: `${variant}${n}@example.com` }));
        return user(`${variant}@example.com`, `ext-${variant}`, {
            displayName: `Display ${variant}`,
            [ENTERPRISE]: { employeeNumber: `E-${variant}` },
            emails,
            title: (variant === 'a' ? 'é' : 'ü').repeat(MAX_ATTRIBUTES_JSON_LENGTH - 4_000),
        });
    }

    it('replacing every index row of the largest user is 87 operations and under 4 MiB; its delete is 45', async () => {
        const { store, tableName, transactions } = measuredStore();
        const created = await store.create('User', 'big', largest('a'), NOW);
        const createdAt = transactions.length - 1;
        const updated = await store.update('User', 'big', { kind: 'put', attributes: largest('b') }, LATER, created.version);
        const updatedAt = transactions.length - 1;
        expect((await store.delete('User', 'big'))?.id).toBe('big');
        const deletedAt = transactions.length - 1;

        // row + un + ext + 40 ix + head + event; the update moves un and ext (2 each) and all 40 ix rows (80).
        expect(transactions[createdAt]!.operations).toBe(3 + MAX_INDEX_ROWS_PER_RESOURCE + 2);
        expect(transactions[updatedAt]!.operations).toBe(1 + 2 + 2 + 2 * MAX_INDEX_ROWS_PER_RESOURCE + 2);
        expect(transactions[deletedAt]!.operations).toBe(3 + MAX_INDEX_ROWS_PER_RESOURCE + 2);
        // The update carries the whole new row and an event naming the new title: two rows near the limit.
        expect(transactions[updatedAt]!.bytes).toBeGreaterThan(2 * 2 * (MAX_ATTRIBUTES_JSON_LENGTH - 4_000));
        for (const transaction of transactions) {
            expect(transaction.operations).toBeLessThanOrEqual(MAX_TRANSACTION_OPERATIONS);
            expect(transaction.bytes).toBeLessThan(4 * 1024 * 1024); // docs/azure-notes.md §6
        }

        const events = (await store.changes.readPage('', 10)).events;
        expect(events.map((event) => [event.type, event.version])).toEqual([
            ['prov:create', created.version],
            ['prov:put', updated.version],
            ['prov:delete', undefined],
        ]);
        expect(String(events[1]!.attributes?.title).length).toBe(MAX_ATTRIBUTES_JSON_LENGTH - 4_000);
        expect(await checkConsistency(testConnectionString(), tableName)).toEqual([]);
    }, 60_000);
});

describe('reading the feed', () => {
    it('pages with cursors: each event once, oldest first, and an empty page with the same position when caught up', async () => {
        const fixture = storeOnFreshTable();
        for (let index = 0; index < 25; index++) await fixture.store.create(index % 3 === 0 ? 'Group' : 'User', `r${index}`, index % 3 === 0 ? group(`G${index}`) : user(`u${index}@example.com`), NOW);
        const everything = await allEvents(fixture);
        const paged = await allEvents(fixture, 4);
        expect(paged.map((event) => event.id)).toEqual(everything.map((event) => event.id));
        expect(everything).toHaveLength(25);
        expect(everything.map((event) => event.resourceId)).toEqual(Array.from({ length: 25 }, (_, index) => `r${index}`));
        const times = everything.map((event) => Date.parse(event.time));
        expect([...times].sort((a, b) => a - b)).toEqual(times);

        let cursor = '';
        for (;;) {
            const page = await fixture.store.changes.readPage(cursor, 1000);
            cursor = page.nextCursor;
            if (page.events.length === 0) break;
        }
        await fixture.store.create('User', 'late', user('late@example.com'), NOW);
        const next = await fixture.store.changes.readPage(cursor, 1000);
        expect(next.events.map((event) => event.resourceId)).toEqual(['late']);
        expect((await fixture.store.changes.readPage(cursor, 0)).events).toEqual([]);
    });

    it('refuses malformed, edited and foreign cursors with 400 invalidCursor', async () => {
        const fixture = storeOnFreshTable();
        const other = storeOnFreshTable();
        await fixture.store.create('User', 'a', user('a@example.com'), NOW);
        await other.store.create('User', 'b', user('b@example.com'), NOW);
        const mine = (await fixture.store.changes.readPage('', 1)).nextCursor;
        const foreign = (await other.store.changes.readPage('', 1)).nextCursor;
        const [payload, mac] = mine.split('.');
        const edited = `${Buffer.from(Buffer.from(payload!, 'base64url').toString().replace(/\[1\]/, '[0]')).toString('base64url')}.${mac}`;
        for (const bad of [foreign, edited, 'abc', `${mine}x`, `${mine}.x`, 'x'.repeat(600), encodeCursor(startOfFeed(), Buffer.alloc(32))]) {
            const error = await answerOf(fixture.store.changes.readPage(bad, 10));
            expect([error.status, error.scimType], bad.slice(0, 40)).toEqual([400, 'invalidCursor']);
        }
    });

    it('answers expiredCursor once retention removed events the cursor has not seen, and keeps each stream\'s newest event', async () => {
        const fixture = storeOnFreshTable();
        for (let index = 0; index < 5; index++) await fixture.store.create('User', `x${index}`, user(`x${index}@example.com`), NOW);
        const atFirst = (await fixture.store.changes.readPage('', 1)).nextCursor;
        const removed = await fixture.store.changes.removeExpired(new Date(Date.now() + 60_000), Date.now() + 60_000);
        expect(removed).toBe(4);
        const error = await answerOf(fixture.store.changes.readPage(atFirst, 10));
        expect([error.status, error.scimType]).toEqual([400, 'expiredCursor']);
        expect((await fixture.store.changes.readPage('', 10)).events.map((event) => event.resourceId)).toEqual(['x4']);
        expect(await fixture.store.changes.removeExpired(new Date(Date.now() + 60_000), Date.now() + 60_000)).toBe(0);
        expect(await checkConsistency(fixture.connectionString, fixture.tableName)).toEqual([]);
    });
});

/** What `/changes` would answer for a rejected read: the SCIM error (store errors mapped as the endpoint maps them). */
async function answerOf(promise: Promise<unknown>): Promise<ScimError> {
    const error = await promise.then(
        () => undefined,
        (caught: unknown) => caught,
    );
    if (error instanceof StoreError) return scimErrorOf(error);
    expect(error).toBeInstanceOf(ScimError);
    return error as ScimError;
}

/** Seeds `count` events straight into a stream (as the store would have written them), moving its head. */
async function seedEvents(fixture: ReturnType<typeof storeOnFreshTable>, partition: string, count: number): Promise<void> {
    const actions: TransactionAction[] = [];
    for (let position = 1; position <= count; position++) {
        actions.push(['create', eventRow(partition, position, { type: 'prov:patch', resourceType: partition === USERS_PARTITION ? 'User' : 'Group', resourceId: `seed-${position}`, attributes: { title: 'seeded' } })]);
    }
    await submitInTransactions(fixture.raw, actions);
    await fixture.raw.upsertEntity({ partitionKey: partition, rowKey: FEED_HEAD_ROW_KEY, position: String(count), cursorKey: Buffer.alloc(32, 7).toString('base64') }, 'Replace');
}

describe('page cost', () => {
    it('a page of 1,000 events is one range read of the stream it advances, and costs the same at 3,000 and 30,000 events', async () => {
        const costs: Record<string, unknown>[] = [];
        for (const length of [3_000, 30_000]) {
            const fixture = storeOnFreshTable();
            await seedEvents(fixture, USERS_PARTITION, length);
            await seedEvents(fixture, GROUPS_PARTITION, 1);
            await fixture.store.get('User', 'warm-up'); // the table creation and the heads: once per store
            // The first page reads both streams (nothing is known yet); later pages only the one they advance.
            let cursor = (await fixture.store.changes.readPage('', 100)).nextCursor;
            const { result: page, requests } = await countStorageRequests(() => fixture.store.changes.readPage(cursor, 1000));
            cursor = page.nextCursor;
            expect(page.events).toHaveLength(1000);
            const tail = await countStorageRequests(() => fixture.store.changes.readPage(cursor, 100));
            costs.push({ length, page: requests.total, rangeReads: requests.rangeRead, tail: tail.requests.total });
        }
        console.log('feed page costs:', JSON.stringify(costs));
        expect(costs[0]).toMatchObject({ page: 1, rangeReads: 1 });
        expect({ ...costs[1], length: 0 }).toEqual({ ...costs[0], length: 0 });
    }, 300_000);
});
