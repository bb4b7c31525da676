/**
 * The no-skip guarantee of the change feed (docs/storage.md, "Change feed"), under concurrency: 20 writers on
 * 5 store instances (5 "Functions instances", each with its own cached stream heads) change users and groups
 * while a reader on another instance follows `nextCursor` in small pages. Every storage transaction is
 * randomly delayed before it is sent and after it committed (a slow transaction; a writer that has committed
 * but does not know it yet). Afterwards: every committed change was seen, each event exactly once, each
 * resource's events in the order its writer committed them, and no event for a write that failed.
 */
import { describe, expect, it } from 'vitest';
import { TableClient } from '@azure/data-tables';
import type { ChangeEvent } from '../../shared/feed/events';
import { readIndexConfiguration } from '../../shared/scim/attributeIndexes';
import { EntityTable } from '../../shared/store/EntityTable';
import { TableResourceStore } from '../../shared/store/TableResourceStore';
import { checkConsistency } from '../support/consistencyChecker';
import { testConnectionString, testTableName } from '../support/tables';
import { LATER, NOW, group, storeErrorOf, user } from './storeFixture';

const WRITERS = 20;
const INSTANCES = 5;
const PATCHES_PER_WRITER = 4;

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function seededRandom(seed: number): () => number {
    let state = seed;
    return () => {
        state = (state + 0x6d2b79f5) | 0;
        let t = Math.imul(state ^ (state >>> 15), 1 | state);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A store instance whose transactions are randomly slow before and after they commit. */
function instance(tableName: string, random: () => number, delays: { before: number; after: number }): TableResourceStore {
    const client = TableClient.fromConnectionString(testConnectionString(), tableName, { allowInsecureConnection: true });
    client.pipeline.addPolicy({
        name: 'slowTransactions',
        async sendRequest(request, next) {
            if (!request.url.endsWith('$batch')) return next(request);
            if (random() < 0.3) {
                delays.before++;
                await sleep(random() * 40);
            }
            const response = await next(request);
            if (random() < 0.3) {
                delays.after++;
                await sleep(random() * 40);
            }
            return response;
        },
    });
    // The app's default equality indexes: every write carries its index rows beside its event (the checker recomputes both).
    return new TableResourceStore(new EntityTable(client), readIndexConfiguration(undefined));
}

interface Committed {
    resourceId: string;
    /** The version the store returned, or 'deleted'. */
    version: string;
}

describe('the change feed under concurrent writers', () => {
    it('loses, repeats and reorders nothing: 20 writers on 5 instances, delayed commits, a concurrent reader', async () => {
        const tableName = testTableName('feed');
        const random = seededRandom(20);
        const delays = { before: 0, after: 0 };
        const stores = Array.from({ length: INSTANCES }, () => instance(tableName, random, delays));
        const reader = instance(tableName, random, delays);
        await stores[0]!.get('User', 'table-ready');

        const committed: Committed[][] = Array.from({ length: WRITERS }, () => []);
        let failedWrites = 0;
        let writersDone = false;

        const writer = async (index: number) => {
            const store = stores[index % INSTANCES]!;
            const log = committed[index]!;
            const userId = `user-${index}`;
            let current = await store.create('User', userId, user(`writer${index}@example.com`, `ext-${index}`), NOW);
            log.push({ resourceId: userId, version: current.version });
            for (let patch = 0; patch < PATCHES_PER_WRITER; patch++) {
                current = await store.update('User', userId, { attributes: { ...current.attributes, title: `title ${patch}` } }, LATER, current.version);
                log.push({ resourceId: userId, version: current.version });
            }
            // A write that fails writes no event: a create clashing with this writer's own userName.
            const clash = await storeErrorOf(store.create('User', `clash-${index}`, user(`WRITER${index}@example.com`), NOW));
            expect(clash.kind).toBe('uniqueness');
            failedWrites++;
            if (index % 2 === 0) {
                const groupId = `group-${index}`;
                let written = await store.create('Group', groupId, group(`Group ${index}`), NOW);
                log.push({ resourceId: groupId, version: written.version });
                written = await store.update('Group', groupId, { members: { clear: false, add: [userId], remove: [] } }, LATER);
                log.push({ resourceId: groupId, version: written.version });
                written = await store.update('Group', groupId, { attributes: { ...written.attributes, displayName: `Group ${index} renamed` } }, LATER, written.version);
                log.push({ resourceId: groupId, version: written.version });
                written = await store.update('Group', groupId, { members: { clear: false, add: [], remove: [userId] } }, LATER);
                log.push({ resourceId: groupId, version: written.version });
            }
            if (index % 5 === 4) {
                expect((await store.delete('User', userId))?.id).toBe(userId);
                log.push({ resourceId: userId, version: 'deleted' });
            }
        };

        const seen: ChangeEvent[] = [];
        let pages = 0;
        const follow = async () => {
            let cursor = '';
            let emptyAfterDone = 0;
            while (emptyAfterDone < 2) {
                const done = writersDone;
                const page = await reader.changes.readPage(cursor, 7);
                pages++;
                seen.push(...page.events);
                cursor = page.nextCursor;
                if (page.events.length === 0) {
                    if (done) emptyAfterDone++;
                    else await sleep(5);
                }
            }
        };

        const reading = follow();
        await Promise.all(Array.from({ length: WRITERS }, (_, index) => writer(index)));
        writersDone = true;
        await reading;

        // Exactly once per event id.
        const ids = seen.map((event) => event.id);
        expect(new Set(ids).size).toBe(ids.length);
        // Every committed change seen, in its writer's (= commit) order, and nothing else.
        const expectedCount = committed.flat().length;
        for (const log of committed) {
            for (const resourceId of new Set(log.map((entry) => entry.resourceId))) {
                const expected = log.filter((entry) => entry.resourceId === resourceId).map((entry) => entry.version);
                const events = seen.filter((event) => event.resourceId === resourceId);
                expect(events.map((event) => (event.type === 'prov:delete' ? 'deleted' : event.version)), resourceId).toEqual(expected);
            }
        }
        expect(seen).toHaveLength(expectedCount);
        expect(seen.some((event) => event.resourceId.startsWith('clash-'))).toBe(false);
        console.log(
            `feed under concurrency: ${expectedCount} committed changes, ${failedWrites} failed writes, ${seen.length} events read in ${pages} pages; ` +
                `${delays.before} transactions delayed before sending, ${delays.after} after committing`,
        );
        expect(delays.before).toBeGreaterThan(20);
        expect(delays.after).toBeGreaterThan(20);
        expect(pages).toBeGreaterThan(expectedCount / 7);
        expect(await checkConsistency(testConnectionString(), tableName)).toEqual([]);
    }, 180_000);
});
