/**
 * The change feed's growth probe (part of `npm run bench:growth`; alone: `npm run bench:growth -- --only feed`):
 * does reading 100 events cost more when the feed holds 1,000,000 events than when it holds 1,000?
 *
 * Two tables on one in-process Azurite, each with a users stream of N events (seeded straight into the table in
 * 100-operation transactions, as the store writes them) and one group event after them. A reader holding a
 * cursor somewhere in the backlog (taken from a first page, as a consumer following `nextCursor` would) reads
 * the next 100 events; sides alternate (ABAB…). Goal: the same storage requests (ratio 1.00×); latency is shown.
 */
import type { TransactionAction } from '@azure/data-tables';
import { TableClient } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import type { FeedCursor } from '../shared/feed/cursor';
import { readIndexConfiguration } from '../shared/scim/attributeIndexes';
import { createStoreFromSettings } from '../shared/store/createStore';
import type { EmbeddedAzurite } from '../dev/embeddedAzurite';
import { eventRow } from '../shared/store/FeedLog';
import { FEED_HEAD_ROW_KEY, GROUPS_PARTITION, USERS_PARTITION } from '../shared/store/keys';
import { countStorageRequests } from '../shared/store/requestCounter';
import type { TableChangeFeed } from '../shared/store/TableChangeFeed';
import { Deadline } from './support/deadline';
import { markdownTable } from './support/markdown';
import { formatCount, formatMs, formatRatio, median } from './support/stats';

const TRANSACTIONS_IN_FLIGHT = 8;
const PAGE = 100;

interface FeedSide {
    label: string;
    length: number;
    feed: TableChangeFeed;
}

/** Seeds `length` user events and one group event after them; returns the side's change feed. */
async function seedFeed(azurite: EmbeddedAzurite, label: string, length: number, deadline: Deadline): Promise<FeedSide> {
    const tableName = `feed${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const raw = TableClient.fromConnectionString(azurite.connectionString, tableName, { allowInsecureConnection: true });
    await raw.createTable();
    const started = Date.now();
    let next = 1;
    let lastReport = started;
    const worker = async () => {
        while (next <= length && !deadline.expired()) {
            const first = next;
            next = Math.min(length + 1, next + 100);
            const actions: TransactionAction[] = [];
            for (let position = first; position < next; position++) {
                actions.push(['create', eventRow(USERS_PARTITION, position, { type: 'prov:patch', resourceType: 'User', resourceId: `user-${position % 5000}`, version: `W/"${position.toString(36)}"`, attributes: { title: `title ${position}` } })]);
            }
            await raw.submitTransaction(actions);
            if (Date.now() - lastReport > 10_000) {
                lastReport = Date.now();
                console.log(`  ${label}: ${formatCount(next - 1)} of ${formatCount(length)} events (${Math.round((next - 1) / ((Date.now() - started) / 1000))}/s)`);
            }
        }
    };
    await Promise.all(Array.from({ length: TRANSACTIONS_IN_FLIGHT }, worker));
    if (next <= length) throw new Error(`${label}: seeding did not finish in time (${next - 1} of ${length}); lower --feed-events or raise --seed-minutes`);
    await raw.createEntity(eventRow(GROUPS_PARTITION, 1, { type: 'prov:create', resourceType: 'Group', resourceId: 'group-1', version: 'W/"1"' }));
    const cursorKey = Buffer.from(randomUUID()).toString('base64');
    await raw.createEntity({ partitionKey: USERS_PARTITION, rowKey: FEED_HEAD_ROW_KEY, position: String(length), cursorKey });
    await raw.createEntity({ partitionKey: GROUPS_PARTITION, rowKey: FEED_HEAD_ROW_KEY, position: '1', cursorKey });
    console.log(`  ${label}: ${formatCount(length)} events seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const store = createStoreFromSettings({ tableName, connectionString: azurite.connectionString }, readIndexConfiguration(undefined));
    await store.get('User', 'warm-up'); // the heads, once per store
    return { label, length, feed: store.changes };
}

/** Reads 100 events from a cursor in the backlog (where a consumer following nextCursor would be). */
async function probe(side: FeedSide, rep: number): Promise<{ requests: number; rangeReads: number; ms: number; events: number }> {
    const position = (rep * 7919) % Math.max(1, side.length - 3 * PAGE);
    const start: FeedCursor = { users: { position }, groups: { position: 0 } };
    const { next } = await side.feed.page(start, PAGE); // the consumer's previous page
    const started = performance.now();
    const { result, requests } = await countStorageRequests(() => side.feed.page(next, PAGE));
    return { requests: requests.total, rangeReads: requests.rangeRead, ms: performance.now() - started, events: result.events.length };
}

export async function feedGrowthProbe(azurite: EmbeddedAzurite, options: { smallLength: number; largeLength: number; reps: number; seedDeadline: Deadline }): Promise<string> {
    console.log(`Change feed: reading ${PAGE} events at ${formatCount(options.smallLength)} vs ${formatCount(options.largeLength)} events`);
    const small = await seedFeed(azurite, 'small feed', options.smallLength, options.seedDeadline);
    const large = await seedFeed(azurite, 'large feed', options.largeLength, options.seedDeadline);
    const samples = { small: [] as Awaited<ReturnType<typeof probe>>[], large: [] as Awaited<ReturnType<typeof probe>>[] };
    for (let rep = 0; rep < options.reps; rep++) {
        const order = rep % 2 === 0 ? (['small', 'large'] as const) : (['large', 'small'] as const);
        for (const which of order) samples[which].push(await probe(which === 'small' ? small : large, rep));
    }
    const requests = (list: typeof samples.small) => median(list.map((s) => s.requests));
    const ms = (list: typeof samples.small) => median(list.map((s) => s.ms));
    const distinct = (list: typeof samples.small) => [...new Set(list.map((s) => `${s.requests} (${s.rangeReads} range)`))].join(', ');
    if ([...samples.small, ...samples.large].some((s) => s.events !== PAGE)) throw new Error('a probe read fewer events than asked');
    const met = requests(samples.small) === requests(samples.large) && distinct(samples.small) === distinct(samples.large);
    const row = [
        `read ${PAGE} events (cursor in the backlog)`,
        distinct(samples.small),
        distinct(samples.large),
        formatRatio(requests(samples.large), requests(samples.small)),
        formatMs(ms(samples.small)),
        formatMs(ms(samples.large)),
        formatRatio(ms(samples.large), ms(samples.small)),
        met ? '✓' : '✗',
    ];
    return [
        `### Change feed length: ${formatCount(small.length)} vs ${formatCount(large.length)} events`,
        '',
        `${options.reps} repetitions per side, alternating; storage requests per page (all of them range reads, never a scan) and median latency, in process against Azurite. ` +
            'The request count is the goal. The latency is the emulator\'s: even with the RowKey index narrowing of dev/embeddedAzurite.ts, Azurite materialises every row from the cursor to the end of the stream before it takes the page, so it grows with the backlog; Table Storage serves a key range within a partition from its index and stops at the page.',
        '',
        markdownTable(['Probe', `Storage requests, ${formatCount(small.length)}`, `Storage requests, ${formatCount(large.length)}`, 'Round-trip ratio', `p50, ${formatCount(small.length)}`, `p50, ${formatCount(large.length)}`, 'Latency ratio', 'Goal'], [row]),
    ].join('\n');
}
