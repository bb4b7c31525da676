/**
 * Fills a tenant fast for the growth benchmark. Users go straight into the table as the store writes them —
 * `buildResourceRows` with the app's indexes, so every row (resource, userName, externalId and each index row)
 * is exactly what an HTTP create writes — but several users per 100-operation transaction, a few transactions
 * in flight, instead of one HTTP request or one transaction per user: at 100,000 users with five indexes
 * (600,000 rows) one transaction per user took well over an hour on this machine. Groups are created through
 * the store; membership edges go straight into the table in 100-operation transactions. Progress is printed
 * every few seconds; every loop stops at its count or at the deadline.
 */
import { randomUUID } from 'node:crypto';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { canonicalizeResource } from '../../shared/scim/attributeValues';
import type { EqualityIndexes, ResourceStore, ScimResource } from '../../shared/scim/store';
import { buildResourceRows } from '../../shared/store/entities';
import { DEFAULT_PARTITIONS, GROUPS_PARTITION, memberEdgeRowKey, memberOfEdgeRowKey, partitionsOf, resourceRowKey, USERS_PARTITION, type Partitions } from '../../shared/store/keys';
import type { TableResourceStore } from '../../shared/store/TableResourceStore';
import { Deadline } from './deadline';
import * as entra from './entraRequests';
import { formatCount } from './stats';

const TRANSACTIONS_IN_FLIGHT = 4;
const WRITES_IN_FLIGHT = 16;
const PROGRESS_EVERY_MS = 5_000;
/** Table Storage's limit of operations per transaction. */
const OPERATIONS_PER_TRANSACTION = 100;

/** What an HTTP create of this body would store: canonical attributes, no schemas, id or meta. */
function storedUserAttributes(n: number, runId: string): ScimResource {
    const { schemas: _schemas, meta: _meta, ...attributes } = canonicalizeResource(entra.createUser(n, runId).body as ScimResource, 'User');
    return attributes;
}

/**
 * Creates users `from` … `to − 1` (named `entra.userNameOf(n, runId)`) in `table` (the partitions of a tenant),
 * with the rows of `indexes`; returns their ids, index n − from. Stops early at the deadline; the returned array
 * then ends where seeding stopped (whole transactions, so without gaps). Let a store of the same indexes declare
 * them first (`store.indexes('User')` on the empty partitions), as the app does before its first write.
 */
export async function seedUsers(
    table: { connectionString: string; tableName: string; partitions?: Partitions },
    indexes: EqualityIndexes,
    label: string,
    from: number,
    to: number,
    runId: string,
    deadline: Deadline,
): Promise<string[]> {
    const client = TableClient.fromConnectionString(table.connectionString, table.tableName, { allowInsecureConnection: true });
    await client.createTable().catch(() => undefined); // exists already: the store made it
    const ids: string[] = [];
    let next = from;
    let done = 0;
    const started = Date.now();
    let lastReport = started;
    const report = (final = false) => {
        const seconds = (Date.now() - started) / 1000;
        const rate = done / Math.max(seconds, 0.001);
        const eta = rate > 0 ? Math.round((to - from - done) / rate) : NaN;
        console.log(`  ${label}: ${formatCount(done)} / ${formatCount(to - from)} users in ${seconds.toFixed(0)} s (${rate.toFixed(0)}/s${final ? '' : `, ~${eta} s left`})`);
    };
    const now = new Date().toISOString();
    const writer = async () => {
        while (next < to && !deadline.expired()) {
            const batch: { n: number; id: string }[] = [];
            const actions: TransactionAction[] = [];
            while (next < to) {
                const id = randomUUID();
                const rows = buildResourceRows('User', id, storedUserAttributes(next, runId), table.partitions ?? DEFAULT_PARTITIONS, { created: now, lastModified: now }, { indexes: indexes.User });
                const userActions: TransactionAction[] = [['create', rows.resource], ['create', rows.uniqueName], ...(rows.externalId ? [['create', rows.externalId] as TransactionAction] : [])];
                userActions.push(...rows.indexRows.map((row): TransactionAction => ['create', row]));
                if (actions.length + userActions.length > OPERATIONS_PER_TRANSACTION) break;
                actions.push(...userActions);
                batch.push({ n: next++, id });
            }
            await client.submitTransaction(actions);
            for (const { n, id } of batch) ids[n - from] = id;
            done += batch.length;
            if (Date.now() - lastReport >= PROGRESS_EVERY_MS) {
                lastReport = Date.now();
                report();
            }
        }
    };
    await Promise.all(Array.from({ length: TRANSACTIONS_IN_FLIGHT }, writer));
    report(true);
    if (done < to - from) console.log(`  ${label}: seeding stopped at the time budget`);
    // Every started write has finished (a failed one rejects), and batches are taken in order, so the ids have no gaps.
    return ids.slice(0, done);
}

/**
 * Creates a group through the store, then writes its membership edges straight into the table, 100
 * operations per transaction, exactly as the store's MembershipEdges writes them (forward `m:` and reverse
 * `mo:` edge in the groups partition, `hasMemberships` on each user). Why not `store.update`: it takes at
 * most 1,000 members per change and checks them before and after the edges, three times the transactions
 * of writing the edges alone, which is all seeding needs.
 */
export async function seedGroup(
    store: ResourceStore,
    table: { connectionString: string; tableName: string },
    displayName: string,
    memberIds: readonly string[],
    deadline: Deadline,
): Promise<string> {
    const id = randomUUID();
    await store.create('Group', id, { displayName }, new Date().toISOString());
    const client = TableClient.fromConnectionString(table.connectionString, table.tableName, { allowInsecureConnection: true });
    const edgeBatches: TransactionAction[][] = [];
    const userBatches: TransactionAction[][] = [];
    const pairsPerTransaction = OPERATIONS_PER_TRANSACTION / 2;
    for (let start = 0; start < memberIds.length; start += pairsPerTransaction) {
        edgeBatches.push(
            memberIds.slice(start, start + pairsPerTransaction).flatMap((memberId): TransactionAction[] => {
                const edge = { partitionKey: GROUPS_PARTITION, groupId: id, memberId, memberType: 'User' };
                return [
                    ['upsert', { ...edge, rowKey: memberEdgeRowKey(id, memberId) }, 'Replace'],
                    ['upsert', { ...edge, rowKey: memberOfEdgeRowKey(memberId, id) }, 'Replace'],
                ];
            }),
        );
    }
    for (let start = 0; start < memberIds.length; start += OPERATIONS_PER_TRANSACTION) {
        userBatches.push(
            memberIds
                .slice(start, start + OPERATIONS_PER_TRANSACTION)
                .map((memberId): TransactionAction => ['update', { partitionKey: USERS_PARTITION, rowKey: resourceRowKey('User', memberId), hasMemberships: true }, 'Merge']),
        );
    }
    const batches = [...userBatches, ...edgeBatches];
    let next = 0;
    let done = 0;
    const started = Date.now();
    let lastReport = started;
    const writer = async () => {
        while (next < batches.length && !deadline.expired()) {
            await client.submitTransaction(batches[next++]!);
            done++;
            if (Date.now() - lastReport >= PROGRESS_EVERY_MS) {
                lastReport = Date.now();
                console.log(`  ${displayName}: ${done} / ${batches.length} transactions in ${((Date.now() - started) / 1000).toFixed(0)} s`);
            }
        }
    };
    await Promise.all(Array.from({ length: 4 }, writer));
    console.log(`  ${displayName}: ${formatCount(memberIds.length)} members (${done} transactions) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return id;
}

/**
 * Registers `names` as tenants (registry rows holding `tokenDigest`) and gives each `usersEach` users in its own
 * partitions, many writes in flight; one progress line every few seconds. Returns how many tenants were seeded.
 */
export async function seedTenants(store: TableResourceStore, names: readonly string[], tokenDigest: string, usersEach: number, runId: string, deadline: Deadline): Promise<number> {
    const registry = store.tenantRegistry();
    let next = 0;
    let done = 0;
    const started = Date.now();
    let lastReport = started;
    const writer = async () => {
        while (next < names.length && !deadline.expired()) {
            const name = names[next++]!;
            await registry.add({ name, state: 'active', created: new Date().toISOString(), tokenDigest });
            const tenantStore = store.withPartitions(partitionsOf(name));
            for (let n = 0; n < usersEach; n++) await tenantStore.create('User', randomUUID(), storedUserAttributes(n, runId), new Date().toISOString());
            done++;
            if (Date.now() - lastReport >= PROGRESS_EVERY_MS) {
                lastReport = Date.now();
                console.log(`  tenants: ${formatCount(done)} / ${formatCount(names.length)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
            }
        }
    };
    await Promise.all(Array.from({ length: WRITES_IN_FLIGHT }, writer));
    console.log(`  tenants: ${formatCount(done)} / ${formatCount(names.length)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return done;
}
