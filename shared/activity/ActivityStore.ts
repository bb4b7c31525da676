/**
 * Where the activity records live (docs/activity.md): the storage port of the recorder and the status page,
 * owned here like the protocol owns its own. One implementation, shared/store/TableActivityStore.ts, in the
 * SCIM table's `activity` partition (the default tenant) and a `<tenant>~activity` partition per named tenant.
 *
 * Every method costs a fixed number of storage requests, whatever the size of the tenant: the page reads one
 * row per hour of its window, one totals row and one page of failures.
 */
import type { TotalsDelta } from '../scim/operations';
import type { FailureRecord } from './failures';
import type { HourCounts, HourKey } from './hourlyCounts';

/** What one process counted since its last flush. */
export interface ActivityBatch {
    /** The process that counted it, and its batch number: a batch is added at most once (see `append`). */
    instanceId: string;
    sequence: number;
    hours: ReadonlyMap<HourKey, HourCounts>;
    totals: TotalsDelta;
    /** Newest last. */
    failures: readonly FailureRecord[];
}

export interface StoredTotals extends TotalsDelta {
    /** When counting began (the first flush that stored totals). */
    since: string;
}

/**
 * A named tenant's records are closed: its marker row is absent (docs/activity.md, "Tenants"), because a remove
 * deleted it or the tenant was added before markers. Nothing of the batch was written.
 */
export class TenantRecordsClosedError extends Error {
    constructor() {
        super('the tenant\'s activity records are closed (no marker row)');
        this.name = 'TenantRecordsClosedError';
    }
}

export interface ActivityStore {
    /**
     * Adds a batch to the stored hours and totals and stores its failures, all in one transaction. Idempotent:
     * adding a batch whose (instanceId, sequence) is already in is a no-op, so a retry after a lost reply never
     * counts twice. A named tenant's transaction also requires its marker row: without it nothing is written
     * and `TenantRecordsClosedError` is thrown.
     */
    append(batch: ActivityBatch): Promise<void>;

    /** A named tenant's records: creates its marker row (kept if there). For tenants added before markers. */
    openTenantRecords(): Promise<void>;

    /** A named tenant's records: deletes its marker row (fine if absent), after which no batch gets in. */
    closeTenantRecords(): Promise<void>;

    /** The stored hours from `from` to `to` (both included), by hour. One range read. */
    hours(from: HourKey, to: HourKey): Promise<Map<HourKey, HourCounts>>;

    /** The stored totals, or undefined before the first flush. One point read. */
    totals(): Promise<StoredTotals | undefined>;

    /** The newest `limit` failures, newest first. */
    recentFailures(limit: number): Promise<FailureRecord[]>;

    /** The records of the named tenant `tenant` (an existing one: only those get records, docs/activity.md "Tenants"). */
    forTenant(tenant: string): ActivityStore;

    /** Deletes hours and failures older than `beforeMs`, at most one transaction's worth per call; returns how many. */
    prune(beforeMs: number): Promise<number>;
}
