/**
 * Bounded group deletes (docs/storage.md, "Deletes"): a DELETE answers once the group is invisible and its
 * time budget is spent; the `del:` marker lets `sweepDeletedGroups` finish the edges later, and no reader sees
 * the half-done state meanwhile. A budget of 0 makes "edges left over" deterministic.
 */
import { describe, expect, it } from 'vitest';
import { odata, type TransactionAction } from '@azure/data-tables';
import { InvocationContext, type Timer } from '@azure/functions';
import { readIndexConfiguration } from '../../shared/scim/attributeIndexes';
import { sweepDeletedGroups } from '../../functions/SweepDeletedGroups';
import { createApp } from '../../shared/app';
import { readSettings } from '../../shared/config';
import { buildResourceRows } from '../../shared/store/entities';
import {
    DEFAULT_PARTITIONS,
    GROUPS_PARTITION,
    deletionMarkerRowKey,
    memberEdgePrefix,
    memberOfEdgePrefix,
    memberOfEdgeRowKey,
    partitionsOf,
    prefixRange,
    resourceRowKey,
    uniqueNameRowKey,
} from '../../shared/store/keys';
import { createTableResourceStore } from '../../shared/store/TableResourceStore';
import { checkConsistency } from '../support/consistencyChecker';
import { LATER, NOW, collect, group, storeErrorOf, storeOnFreshTable, submitInTransactions, user } from './storeFixture';

const { store, raw, tableName, connectionString } = storeOnFreshTable();
/** The same table, but a DELETE that spends no time on edges: the marking transaction and nothing else. */
const hastyStore = createTableResourceStore({ tableName, connectionString }, { allowInsecureConnection: true, indexes: readIndexConfiguration(undefined), groupDeleteBudgetMs: 0 });
const noChange = { clear: false, add: [] as string[], remove: [] as string[] };

/** Users (row + index rows, `hasMemberships` set) in 100-operation transactions, as storeFixture seeds. */
async function seedUsers(prefix: string, count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, index) => `${prefix}-${String(index).padStart(4, '0')}`);
    const actions: TransactionAction[] = ids.flatMap((id): TransactionAction[] => {
        const rows = buildResourceRows('User', id, user(`${id}@example.com`), DEFAULT_PARTITIONS, { created: NOW, lastModified: NOW }, { hasMemberships: true });
        return [['create', rows.resource], ['create', rows.uniqueName]];
    });
    await submitInTransactions(raw, actions);
    return ids;
}

async function rowKeysFrom(prefix: string): Promise<string[]> {
    const { from, to } = prefixRange(prefix);
    const filter = odata`PartitionKey eq ${GROUPS_PARTITION} and RowKey ge ${from} and RowKey lt ${to}`;
    return (await collect(raw.listEntities({ queryOptions: { filter, select: ['RowKey'] } }))).map((entity) => String(entity.rowKey));
}

async function rowExists(rowKey: string): Promise<boolean> {
    return raw.getEntity(GROUPS_PARTITION, rowKey).then(
        () => true,
        (error: { statusCode?: number }) => {
            if (error.statusCode === 404) return false;
            throw error;
        },
    );
}

/** A group of `memberCount` users, itself a member of `outer`; `shared` is also in `other`. */
async function bigGroup(id: string, displayName: string, memberCount: number): Promise<{ members: string[]; outer: string; other: string }> {
    const members = await seedUsers(`${id}-u`, memberCount);
    const outer = `${id}-outer`;
    const other = `${id}-other`;
    await store.create('Group', id, group(displayName, `ext-${id}`), NOW, members);
    await store.create('Group', outer, group(`${displayName} outer`), NOW, [id, members[0]!]);
    await store.create('Group', other, group(`${displayName} other`), NOW, [members[0]!]);
    return { members, outer, other };
}

describe('a group DELETE bounded by its time budget', () => {
    it('answers true with edges left, and readers see nothing of the group', async () => {
        const { members, outer, other } = await bigGroup('g-big', 'Big Group', 300);

        expect(await hastyStore.delete('Group', 'g-big')).toBe(true);
        // Nothing but the marking happened: all 300 member pairs and the outer membership remain, behind the marker.
        expect(await rowKeysFrom(memberEdgePrefix('g-big'))).toHaveLength(300);
        expect(await rowKeysFrom(memberOfEdgePrefix('g-big'))).toHaveLength(1);
        expect(await rowExists(deletionMarkerRowKey('g-big'))).toBe(true);

        expect(await store.get('Group', 'g-big')).toBeUndefined();
        expect(await store.lookup('Group', [{ kind: 'id', value: 'g-big' }])).toEqual([]);
        expect(await store.lookup('Group', [{ kind: 'attribute', attribute: 'displayName', value: 'BIG GROUP' }])).toEqual([]);
        expect(await store.lookup('Group', [{ kind: 'attribute', attribute: 'externalId', value: 'ext-g-big' }])).toEqual([]);
        expect((await collect(store.list('Group', 1000))).map((resource) => resource.id)).not.toContain('g-big');
        expect(await collect(store.listIds('Group', 1000))).not.toContain('g-big');
        expect((await store.existingIds(['g-big'])).size).toBe(0);
        // (Through hastyStore: `store` created the group under 2 s ago and may skip the read of a members-only change.)
        expect((await storeErrorOf(hastyStore.update('Group', 'g-big', { members: { ...noChange, add: [members[1]!] } }, LATER))).kind).toBe('notFound');
        expect((await storeErrorOf(store.update('Group', 'g-big', { attributes: group('Revived') }, LATER))).kind).toBe('notFound');
        // A user's groups and the groups the deleted group was in: the edges are still there, the group is not.
        expect(await store.groupsOf(members[0]!)).toEqual([other, outer]);
        expect(await store.groupsOf(members[299]!)).toEqual([]);
        expect((await collect(store.members(outer))).map((member) => member.value)).toEqual([members[0]]);
        expect(await store.hasMember(outer, 'g-big')).toBe(false);
        expect(await store.hasMember(outer, members[0]!)).toBe(true);
        // The name and externalId are free at once.
        await store.create('Group', 'g-big-again', group('big group', 'ext-g-big'), LATER);
        // Cleanup pending is not a violation: the group row is `deleting` and its marker says so.
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);

        // A second DELETE: the group is already deleted for every reader, so 404 unless it finishes the job.
        expect(await hastyStore.delete('Group', 'g-big')).toBe(false);
        expect(await rowKeysFrom(memberEdgePrefix('g-big'))).toHaveLength(300);

        expect(await store.sweepDeletedGroups(0)).toEqual({ groupsFinished: 0, groupsRemaining: 1 });
        expect(await store.sweepDeletedGroups(60_000)).toEqual({ groupsFinished: 1, groupsRemaining: 0 });
        expect(await rowKeysFrom(memberEdgePrefix('g-big'))).toEqual([]);
        expect(await rowKeysFrom(memberOfEdgePrefix('g-big'))).toEqual([]);
        expect(await rowExists(deletionMarkerRowKey('g-big'))).toBe(false);
        expect(await rowExists(resourceRowKey('Group', 'g-big'))).toBe(false);
        expect(await store.groupsOf(members[0]!)).toEqual([other, outer]);
        expect(await store.delete('Group', 'g-big')).toBe(false);
        expect(await store.sweepDeletedGroups(60_000)).toEqual({ groupsFinished: 0, groupsRemaining: 0 });
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
    }, 60_000);

    it('a second DELETE with time to spare finishes the cleanup and answers true', async () => {
        const { members } = await bigGroup('g-retry', 'Retried', 120);
        expect(await hastyStore.delete('Group', 'g-retry')).toBe(true);
        expect(await store.delete('Group', 'g-retry')).toBe(true);
        expect(await rowKeysFrom(memberEdgePrefix('g-retry'))).toEqual([]);
        expect(await rowExists(deletionMarkerRowKey('g-retry'))).toBe(false);
        expect(await store.groupsOf(members[7]!)).toEqual([]);
        expect(await store.delete('Group', 'g-retry')).toBe(false);
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
    }, 60_000);

    it('gives a group marked without a marker (an interrupted delete of an older version) one, so the sweep finds it', async () => {
        const members = await seedUsers('u-legacy', 3);
        await store.create('Group', 'g-legacy', group('Legacy'), NOW, members);
        await raw.submitTransaction([
            ['update', { partitionKey: GROUPS_PARTITION, rowKey: resourceRowKey('Group', 'g-legacy'), deleting: true }, 'Merge'],
            ['delete', { partitionKey: GROUPS_PARTITION, rowKey: uniqueNameRowKey('Group', 'Legacy') }],
        ]);
        expect(await checkConsistency(connectionString, tableName)).toEqual([`groups ${resourceRowKey('Group', 'g-legacy')}: group left in the deleting state`]);

        expect(await hastyStore.delete('Group', 'g-legacy')).toBe(false); // not finished within 0 ms
        expect(await rowExists(deletionMarkerRowKey('g-legacy'))).toBe(true);
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
        expect(await store.sweepDeletedGroups(60_000)).toEqual({ groupsFinished: 1, groupsRemaining: 0 });
        expect(await rowExists(resourceRowKey('Group', 'g-legacy'))).toBe(false);
        expect(await store.groupsOf(members[0]!)).toEqual([]);
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
    });

    it('the checker reports a marker without a deleting group; the sweep drops it without touching a live group', async () => {
        const members = await seedUsers('u-stale', 2);
        await store.create('Group', 'g-live', group('Live'), NOW, members);
        const stale = (groupId: string): TransactionAction => ['create', { partitionKey: GROUPS_PARTITION, rowKey: deletionMarkerRowKey(groupId), groupId }];
        await raw.submitTransaction([stale('g-live'), stale('g-never')]);
        expect((await checkConsistency(connectionString, tableName)).sort()).toEqual([
            `groups ${deletionMarkerRowKey('g-live')}: deletion marker without a deleting group row`,
            `groups ${deletionMarkerRowKey('g-never')}: deletion marker without a deleting group row`,
        ]);

        expect(await store.sweepDeletedGroups(60_000)).toEqual({ groupsFinished: 2, groupsRemaining: 0 });
        expect(await store.get('Group', 'g-live')).toBeDefined();
        expect(await store.groupsOf(members[1]!)).toEqual(['g-live']);
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
    });

    it('the SweepDeletedGroups timer runs the sweep on the app\'s store and logs one line with the counts', async () => {
        await bigGroup('g-timer', 'Timer', 20);
        expect(await hastyStore.delete('Group', 'g-timer')).toBe(true);
        // A named tenant's unfinished delete too: the timer sweeps every tenant's partitions.
        const tenantStore = hastyStore.withPartitions(partitionsOf('sweep-co'));
        await store.tenantRegistry().add({ name: 'sweep-co', state: 'active', created: NOW, tokenDigest: '00'.repeat(32) });
        await tenantStore.create('User', 'tu', user('tu@example.com'), NOW);
        await tenantStore.create('Group', 'g-tenant', group('Tenant team'), NOW, ['tu']);
        expect(await tenantStore.delete('Group', 'g-tenant')).toBe(true);
        expect(await tenantStore.groupsOf('tu')).toEqual([]);
        const app = createApp(readSettings({ TABLES_CONNECTION_STRING: connectionString, SCIM_TABLE_NAME: tableName }), { tokenVerifier: { log: () => undefined } });
        const logs: string[] = [];
        const context = new InvocationContext({ functionName: 'SweepDeletedGroups', logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')) });
        const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: NOW, next: LATER, lastUpdated: NOW } };
        await sweepDeletedGroups(() => Promise.resolve(app))(timer, context);
        expect(logs).toHaveLength(1);
        expect(logs[0]).toMatch(/^group delete sweep \{"groupsFinished":2,"groupsRemaining":0,"durationMs":\d+\}$/);
        expect(await raw.getEntity(partitionsOf('sweep-co').groups, memberOfEdgeRowKey('tu', 'g-tenant')).then(() => true, () => false)).toBe(false);
        expect(await rowExists(resourceRowKey('Group', 'g-timer'))).toBe(false);
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
    });
});
