import { describe, expect, it } from 'vitest';
import { readIndexConfiguration } from '../../shared/scim/attributeIndexes';
import { countStorageRequests, emptyStorageRequestCounts } from '../../shared/store/requestCounter';
import { createTableResourceStore } from '../../shared/store/TableResourceStore';
import { checkConsistency } from '../support/consistencyChecker';
import { LATER, NOW, collect, storeErrorOf, storeOnFreshTable, user } from './storeFixture';
import { unusedPort } from '../support/unusedPort';

const { store, tableName, connectionString } = storeOnFreshTable();

describe('users: create, read, uniqueness', () => {
    it('creates a user and reads it back by id, userName and externalId', async () => {
        const created = await store.create('User', 'id-alice', user('Alice@Example.com', 'ext-alice'), NOW);
        expect(created).toMatchObject({ resourceType: 'User', id: 'id-alice', created: NOW, lastModified: NOW });
        expect(created.version).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);

        const read = await store.get('User', 'id-alice');
        expect(read).toEqual(created);
        expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'userName', value: 'alice@EXAMPLE.com' }])).toEqual([created]);
        expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'externalId', value: 'ext-alice' }])).toEqual([created]);
        expect(await store.lookup('User', [{ kind: 'id', value: 'id-alice' }])).toEqual([created]);
    });

    it('answers misses with nothing', async () => {
        expect(await store.get('User', 'no-such-id')).toBeUndefined();
        expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'userName', value: 'nobody@example.com' }])).toEqual([]);
        expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'externalId', value: 'nobody' }])).toEqual([]);
        // userName is a User index; a Group lookup by it answers nothing rather than reading the wrong index.
        await expect(store.lookup('Group', [{ kind: 'attribute', attribute: 'userName', value: 'Alice@Example.com' }])).rejects.toThrow(); // groups have no userName index
    });

    it('refuses a userName that differs only in case or Unicode composition with 409 uniqueness', async () => {
        await store.create('User', 'id-jose', user('Jos\u00e9'), NOW); // é precomposed
        for (const clash of ['JOS\u00c9', 'jose\u0301', 'JOSE\u0301']) {
            const error = await storeErrorOf(store.create('User', `id-clash-${clash.length}`, user(clash), NOW));
            expect(error.kind).toBe('uniqueness');
            expect(error.message).not.toContain('Jos'); // no personal data in errors
        }
        expect(await store.get('User', 'id-clash-4')).toBeUndefined(); // nothing half-written
    });

    it('treats externalId as case-exact and not unique', async () => {
        await store.create('User', 'id-ext-1', user('ext1@example.com', 'SharedExt'), NOW);
        await store.create('User', 'id-ext-2', user('ext2@example.com', 'SharedExt'), NOW);
        const both = await store.lookup('User', [{ kind: 'attribute', attribute: 'externalId', value: 'SharedExt' }]);
        expect(both.map((resource) => resource.id).sort()).toEqual(['id-ext-1', 'id-ext-2']);
        expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'externalId', value: 'sharedext' }])).toEqual([]);
    });

    it('stores keys with / \\ # ?, control characters, unicode and 2 KiB values', async () => {
        const awkward = [
            'a/b\\c#d?e%f\'g h:i;j',
            'tab\there\nnewline\u0000nul\u007f\u0085',
            '\u{1F600}\u0416\u0436\u00e9\u4e2d\u6587', // (ß is left out: toLowerCase folding keeps ß ≠ SS)
            'x'.repeat(2048),
            '\u00e9'.repeat(1024) + '/#?',
        ];
        for (const [index, value] of awkward.entries()) {
            const id = `awkward/${index}#?`; // ids from URLs are client text too
            const created = await store.create('User', id, user(value, value), NOW);
            expect(await store.get('User', id)).toEqual(created);
            expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'userName', value: value.toUpperCase() }])).toEqual([created]);
            expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'externalId', value }])).toEqual([created]);
            expect((await storeErrorOf(store.create('User', `${id}-again`, user(value), NOW))).kind).toBe('uniqueness');
        }
        // Two long values that share a 2 KiB prefix are still different keys (hashes, not truncation).
        await store.create('User', 'long-a', user('y'.repeat(2048) + 'a'), NOW);
        await store.create('User', 'long-b', user('y'.repeat(2048) + 'b'), NOW);
        expect((await store.lookup('User', [{ kind: 'attribute', attribute: 'userName', value: 'y'.repeat(2048) + 'b' }]))[0]?.id).toBe('long-b');
    });

    it('lets exactly one of concurrent creates of the same userName in varied case succeed', async () => {
        const spellings = ['race@example.com', 'RACE@example.com', 'Race@Example.com', 'race@EXAMPLE.COM', 'rAcE@example.com', 'RACE@EXAMPLE.COM'];
        const outcomes = await Promise.allSettled(spellings.map((name, index) => store.create('User', `id-race-${index}`, user(name), NOW)));
        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        for (const outcome of outcomes.filter((outcome) => outcome.status === 'rejected')) {
            expect(outcome.reason).toMatchObject({ kind: 'uniqueness' });
        }
        expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'userName', value: 'race@example.com' }])).toHaveLength(1);
    });

    it('round-trips a large resource split across properties and refuses one over the limit with 413', async () => {
        const big = user('big@example.com', undefined, { notes: '\u{1F600}'.repeat(60_000) }); // 120K UTF-16 units, 4+ chunks
        await store.create('User', 'id-big', big, NOW);
        expect((await store.get('User', 'id-big'))?.attributes).toEqual(big);

        const tooBig = user('toobig@example.com', undefined, { notes: 'z'.repeat(460_000) });
        const error = await storeErrorOf(store.create('User', 'id-too-big', tooBig, NOW));
        expect(error.kind).toBe('tooLarge');
        const updateError = await storeErrorOf(store.update('User', 'id-big', { attributes: tooBig }, LATER));
        expect(updateError.kind).toBe('tooLarge');
        expect((await store.get('User', 'id-big'))?.attributes).toEqual(big);
    });
});

describe('users: update and versions', () => {
    it('renames atomically and frees the old userName', async () => {
        const before = await store.create('User', 'id-ren', user('old.name@example.com', 'ren-ext'), NOW);
        const after = await store.update('User', 'id-ren', { attributes: user('new.name@example.com', 'ren-ext-2') }, LATER, before.version);
        expect(after).toMatchObject({ created: NOW, lastModified: LATER });
        expect(after.version).not.toBe(before.version);
        expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'userName', value: 'old.name@example.com' }])).toEqual([]);
        expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'externalId', value: 'ren-ext' }])).toEqual([]);
        expect((await store.lookup('User', [{ kind: 'attribute', attribute: 'userName', value: 'NEW.name@example.com' }]))[0]?.id).toBe('id-ren');
        expect((await store.lookup('User', [{ kind: 'attribute', attribute: 'externalId', value: 'ren-ext-2' }]))[0]?.id).toBe('id-ren');
        await store.create('User', 'id-takes-old', user('old.name@example.com'), LATER);
    });

    it('refuses a rename onto a taken userName with 409 and changes nothing', async () => {
        await store.create('User', 'id-taken', user('taken@example.com'), NOW);
        const mine = await store.create('User', 'id-mine', user('mine@example.com'), NOW);
        const error = await storeErrorOf(store.update('User', 'id-mine', { attributes: user('TAKEN@example.com') }, LATER));
        expect(error).toMatchObject({ kind: 'uniqueness' });
        expect(await store.get('User', 'id-mine')).toEqual(mine);
    });

    it('changes the version on every write and answers a stale or foreign version with 412', async () => {
        const v1 = await store.create('User', 'id-ver', user('ver@example.com'), NOW);
        const v2 = await store.update('User', 'id-ver', { attributes: user('ver@example.com', undefined, { title: 'a' }) }, LATER, v1.version);
        expect(v2.version).not.toBe(v1.version);
        // A case-only rename keeps the index row but is still a new version.
        const v3 = await store.update('User', 'id-ver', { attributes: user('VER@example.com') }, LATER);
        expect(v3.version).not.toBe(v2.version);
        expect((await store.get('User', 'id-ver'))?.version).toBe(v3.version);

        for (const stale of [v1.version, v2.version, 'W/"not-a-version"', '*', '']) {
            const error = await storeErrorOf(store.update('User', 'id-ver', { attributes: user('x@example.com') }, LATER, stale));
            expect(error.kind).toBe('versionConflict');
        }
        expect((await store.get('User', 'id-ver'))?.attributes.userName).toBe('VER@example.com');
        // Another store instance (another Functions instance) knows nothing of this one's reads: still 412.
        const other = createTableResourceStore({ tableName, connectionString }, { allowInsecureConnection: true, indexes: readIndexConfiguration(undefined) });
        expect((await storeErrorOf(other.update('User', 'id-ver', { attributes: user('y@example.com') }, LATER, v2.version))).kind).toBe('versionConflict');
        expect((await other.update('User', 'id-ver', { attributes: user('y@example.com') }, LATER, v3.version)).attributes.userName).toBe('y@example.com');
    });

    it('answers 404 for updates of missing users and refuses members on a user', async () => {
        expect((await storeErrorOf(store.update('User', 'id-missing', { attributes: user('m@example.com') }, LATER))).kind).toBe('notFound');
        await store.create('User', 'id-nomembers', user('nomembers@example.com'), NOW);
        const error = await storeErrorOf(store.update('User', 'id-nomembers', { members: { clear: true, add: [], remove: [] } }, LATER));
        expect(error).toMatchObject({ kind: 'invalidChange' });
    });
});

describe('users: delete and list', () => {
    it('deletes a user with its index rows, once', async () => {
        await store.create('User', 'id-del', user('del@example.com', 'del-ext'), NOW);
        expect(await store.delete('User', 'id-del')).toBeDefined();
        expect(await store.get('User', 'id-del')).toBeUndefined();
        expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'userName', value: 'del@example.com' }])).toEqual([]);
        expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'externalId', value: 'del-ext' }])).toEqual([]);
        expect(await store.delete('User', 'id-del')).toBeUndefined();
        await store.create('User', 'id-del-2', user('del@example.com'), LATER); // the name is free again
    });

    it('deletes at an expected version only, checked by the storage request itself', async () => {
        const created = await store.create('User', 'id-del-ver', user('del-ver@example.com', 'ext-del-ver'), NOW);
        // Another instance changes the user; this store still remembers the row it created and reads nothing.
        const other = createTableResourceStore({ tableName, connectionString }, { allowInsecureConnection: true, indexes: readIndexConfiguration(undefined) });
        const changed = await other.update('User', 'id-del-ver', { attributes: user('del-ver@example.com', 'ext-del-ver', { title: 'changed' }) }, LATER);
        const refused = emptyStorageRequestCounts();
        expect((await storeErrorOf(countStorageRequests(() => store.delete('User', 'id-del-ver', created.version), refused))).kind).toBe('versionConflict');
        expect(refused).toMatchObject({ pointRead: 0, transaction: 1, total: 1 }); // the marking transaction's If-Match refused it
        expect(await store.get('User', 'id-del-ver')).toMatchObject({ version: changed.version, attributes: { title: 'changed' } });
        expect((await storeErrorOf(store.delete('User', 'id-del-ver', 'W/"not-a-version"'))).kind).toBe('versionConflict');

        // At the current version (just read, so no read again): mark and drop the index rows, then the row.
        // The other instance also moved the users stream's head (docs/storage.md, "Change feed"): this store's first
        // transaction after that costs one point read of the head and a retry.
        const { result: deleted, requests } = await countStorageRequests(() => store.delete('User', 'id-del-ver', changed.version));
        expect(deleted?.attributes).toMatchObject({ title: 'changed' }); // what was deleted, as it was
        expect(requests).toMatchObject({ pointRead: 1, transaction: 2, write: 1, total: 4 });
        expect(await store.get('User', 'id-del-ver')).toBeUndefined();
        expect(await store.lookup('User', [{ kind: 'attribute', attribute: 'externalId', value: 'ext-del-ver' }])).toEqual([]);
        expect(await store.delete('User', 'id-del-ver', changed.version)).toBeUndefined();
        await store.create('User', 'id-del-ver-2', user('DEL-VER@example.com'), LATER); // the userName is free
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
    });

    it('lists users in id order and stops at the limit', async () => {
        const all = await collect(store.list('User', 10_000));
        const ids = all.map((resource) => resource.id);
        expect(ids.length).toBeGreaterThan(10);
        expect(new Set(ids).size).toBe(ids.length);
        expect(await collect(store.list('User', 3))).toEqual(all.slice(0, 3));
        expect(await collect(store.list('User', 0))).toEqual([]);
        // A cursor: after an id (which need not exist), in the same order; ids alone through a key-only read.
        expect(await collect(store.list('User', 2, all[0]!.id))).toEqual(all.slice(1, 3));
        expect(await collect(store.list('User', 10_000, all.at(-1)!.id))).toEqual([]);
        expect(await collect(store.listIds('User', 10_000))).toEqual(all.map((stored) => stored.id));
        expect(ids).toContain('id-alice');
    });

    it('leaves the table consistent', async () => {
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
    });
});

describe('storage faults', () => {
    it('reports `unavailable` with a retry-after, after a bounded number of tries, when storage is unreachable', async () => {
        const port = await unusedPort();
        const down = createTableResourceStore(
            {
                tableName: 'unreachable',
                connectionString: connectionString.replace(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+/, `TableEndpoint=http://127.0.0.1:${port}`),
            },
            { allowInsecureConnection: true, indexes: readIndexConfiguration(undefined) },
        );
        const operations: (() => Promise<unknown>)[] = [() => down.get('User', 'x'), () => down.create('User', 'x', user('x@example.com'), NOW), () => collect(down.list('User', 5))];
        for (const operation of operations) {
            const counts = emptyStorageRequestCounts();
            const error = await storeErrorOf(countStorageRequests(operation, counts));
            expect(error.kind).toBe('unavailable');
            expect(error.retryAfterSeconds).toBeGreaterThan(0);
            // Fails fast: the table creation tried once and retried twice (RETRY_OPTIONS), nothing after it.
            expect(counts).toMatchObject({ tableCreate: 3, total: 3 });
        }
    });
});
