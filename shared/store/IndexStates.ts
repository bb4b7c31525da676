/**
 * Which generic equality indexes the service may read from (docs/storage.md, "Equality indexes").
 *
 * Writers maintain every configured index from the moment the app runs with it, but resources written
 * before then have no rows in it: an index is used for lookups only once its state row `ixstate:<index>`
 * says `complete`. Until then filters on it behave as before (a capped scan). The protocol:
 *
 * - **Declare** (each store's first use): a state row for each configured generic index that has none —
 *   `complete` if the resource type has no resources yet (nothing to backfill: a new deployment), else
 *   `building` (`npm run index -- rebuild` backfills it and marks it complete). State rows of indexes this
 *   app does not configure are deleted: while an instance runs without an index, writes stop maintaining
 *   it, so it must not count as complete when it is configured again.
 * - **Refresh**: a filter request that finds the states it knows older than `BUILDING_REFRESH_MS` while an
 *   index is building (a finished rebuild is used within that time), or older than `COMPLETE_REFRESH_MS`
 *   otherwise (an instance that started with another configuration and deleted a state row stops every
 *   other instance from trusting that index too), starts a re-declaration in the background, outside its
 *   own storage-request count: a request's cost never depends on the clock.
 *
 * What this does not catch: an instance that runs without an index and keeps writing after the rebuild
 * marked it complete (its own start-up deleted the state row before the rebuild, which then found none to
 * complete — unless another instance re-declared it). Hence the rule in docs/operate.md: rebuild once every
 * instance runs the new setting (an app-setting change restarts them all).
 */
import type { TransactionAction } from '@azure/data-tables';
import type { ResourceTypeName } from '../scim/schemas';
import type { EqualityIndexes, IndexCatalog } from '../scim/store';
import type { EntityTable } from './EntityTable';
import { INDEX_STATE_PREFIX, indexStateRowKey, partitionOf, resourceRowPrefix, type Partitions } from './keys';
import { outsideRequestCounts } from './requestCounter';
import { statusCodeOf } from '../statusCodeOf';

export type IndexStatus = 'building' | 'complete';

/** An `ixstate:<index>` row. */
export interface IndexStateRow {
    partitionKey: string;
    rowKey: string;
    /** The index's canonical path (the RowKey may hold its hash). */
    path: string;
    status: IndexStatus;
    declaredAt?: string;
    /** Rebuild progress: the RowKey of the last resource row a rebuild has finished, and counts. */
    cursor?: string;
    processed?: number;
    total?: number;
    updatedAt?: string;
    completedAt?: string;
}

const BUILDING_REFRESH_MS = 30_000;
const COMPLETE_REFRESH_MS = 5 * 60_000;

export class IndexStates {
    private readonly known = new Map<ResourceTypeName, { statuses: Map<string, IndexStatus>; readAt: number }>();
    private readonly refreshing = new Set<ResourceTypeName>();

    constructor(
        private readonly table: EntityTable,
        private readonly configuration: EqualityIndexes,
        /** Whose indexes: the state rows live in the tenant's own partitions. */
        private readonly partitions: Partitions,
        private readonly clock: () => number = Date.now,
    ) {}

    /** Writes the state rows this app's configuration implies (see the file comment). */
    async declare(now: string): Promise<void> {
        for (const resourceType of ['User', 'Group'] as const) await this.declareFor(resourceType, now);
    }

    /** The indexes usable now; call after `declare`. */
    async catalog(resourceType: ResourceTypeName): Promise<IndexCatalog> {
        const configured = this.configuration[resourceType];
        let known = this.known.get(resourceType);
        if (known === undefined) {
            await this.declareFor(resourceType, new Date(this.clock()).toISOString());
            known = this.known.get(resourceType)!;
        }
        const waiting = configured.some((index) => index.storage === 'rows' && known.statuses.get(index.path) !== 'complete');
        if (this.clock() - known.readAt >= (waiting ? BUILDING_REFRESH_MS : COMPLETE_REFRESH_MS)) this.refreshInBackground(resourceType);
        const catalog: IndexCatalog = { usable: [], building: [] };
        for (const index of configured) {
            if (index.storage !== 'rows' || known.statuses.get(index.path) === 'complete') catalog.usable.push(index.path);
            else catalog.building.push(index.path);
        }
        return catalog;
    }

    private refreshInBackground(resourceType: ResourceTypeName): void {
        if (this.refreshing.has(resourceType)) return;
        this.refreshing.add(resourceType);
        outsideRequestCounts(() => {
            this.declareFor(resourceType, new Date(this.clock()).toISOString())
                .catch(() => undefined) // storage trouble: the next request tries again
                .finally(() => this.refreshing.delete(resourceType));
        });
    }

    private async declareFor(resourceType: ResourceTypeName, now: string): Promise<void> {
        const partitionKey = partitionOf(resourceType, this.partitions);
        const configured = this.configuration[resourceType].filter((index) => index.storage === 'rows');
        const configuredPaths = new Set(configured.map((index) => index.path));
        let states = await readIndexStates(this.table, partitionKey);
        for (const state of states.filter((candidate) => !configuredPaths.has(candidate.path))) {
            await this.submitIgnoringRace([['delete', { partitionKey, rowKey: state.rowKey }]], 404);
        }
        const missing = configured.filter((index) => !states.some((state) => state.path === index.path));
        if (missing.length > 0) {
            const status: IndexStatus = (await this.hasResources(resourceType)) ? 'building' : 'complete';
            const rows = missing.map((index): IndexStateRow => ({ partitionKey, rowKey: indexStateRowKey(index.path), path: index.path, status, declaredAt: now }));
            // Another instance declaring at the same time wins the 409; read what it wrote.
            await this.submitIgnoringRace(rows.map((row): TransactionAction => ['create', { ...row }]), 409);
        }
        states = states.filter((state) => configuredPaths.has(state.path));
        if (missing.length > 0) states = await readIndexStates(this.table, partitionKey);
        this.remember(resourceType, states);
    }

    private async hasResources(resourceType: ResourceTypeName): Promise<boolean> {
        for await (const page of this.table.pages(partitionOf(resourceType, this.partitions), resourceRowPrefix(resourceType), { select: [], pageSize: 1 })) {
            if (page.length > 0) return true;
        }
        return false;
    }

    private async submitIgnoringRace(actions: TransactionAction[], raceStatus: number): Promise<void> {
        try {
            await this.table.submit(actions);
        } catch (error) {
            if (statusCodeOf(error) !== raceStatus) throw error;
        }
    }

    private remember(resourceType: ResourceTypeName, states: IndexStateRow[]): void {
        this.known.set(resourceType, { statuses: new Map(states.map((state) => [state.path, state.status])), readAt: this.clock() });
    }
}

/** Every state row of a partition: one range read of `ixstate:`. */
export async function readIndexStates(table: EntityTable, partitionKey: string): Promise<IndexStateRow[]> {
    const states: IndexStateRow[] = [];
    for await (const page of table.pages(partitionKey, INDEX_STATE_PREFIX)) {
        for (const entity of page) {
            const { etag: _etag, timestamp: _timestamp, ...row } = entity;
            states.push(row as unknown as IndexStateRow);
        }
    }
    return states;
}
