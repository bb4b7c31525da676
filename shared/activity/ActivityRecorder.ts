/**
 * Counts every answered SCIM request in memory and flushes the counts to storage in the background
 * (docs/activity.md): the request path only adds to a map — never a storage request — and one batch per
 * tenant and flush interval goes out in one transaction, into that tenant's activity partition.
 *
 * Named tenants ("Tenants" there): the endpoint records a named tenant's request only once it knows the tenant
 * exists, so a made-up name never gets here. At most `MAX_TENANTS_BETWEEN_FLUSHES` named tenants are held between
 * two flushes; a request of one more tenant is not recorded (counted in `notRecorded`, logged once per flush). A
 * tenant's batch is stored only if the tenant still exists at flush time (`tenantExists`): a tenant being removed
 * gets no rows back. That check alone leaves a race (a remove can finish between the check and the write), so the
 * write itself requires the tenant's marker row, which a remove deletes first (shared/store/activityMarker.ts): a
 * batch refused for want of it is dropped, logged with the tenant's name and count, and never retried. A tenant
 * added before markers gets one here, on its first flush (`openLegacyTenant`).
 *
 * What can be lost: on a clean shutdown nothing (the host's terminate hook and the local host's Ctrl-C call
 * `close`, which flushes). On a crash, what this process counted since its last successful flush: at most
 * one flush interval of requests (a minute), or more while storage is unreachable — then the counts wait
 * here, bounded to the most recent hours and failures.
 */
import { describeError } from '../describeError';
import { outsideRequestCounts } from '../store/requestCounter';
import { TenantRecordsClosedError, type ActivityBatch, type ActivityStore } from './ActivityStore';
import { failureOf, type FailureRecord } from './failures';
import { addRequest, emptyHour, hourOf, mergeHours, type HourCounts, type HourKey } from './hourlyCounts';
import { NO_CHANGE, type TotalsDelta } from '../scim/operations';
import { addTotals, isNoChange, type RequestActivity } from './requestActivity';
import { inParallel } from '../store/inParallel';

export const DEFAULT_FLUSH_INTERVAL_MS = 60_000;
/** Failures kept per batch (and shown on the page): the newest ones. */
export const MAX_FAILURES_PER_BATCH = 20;
/** Hours kept waiting while storage is down; older ones are dropped (the page shows a week). */
const MAX_PENDING_HOURS = 48;
/**
 * Named tenants whose counts this process holds between two flushes (the default tenant comes on top). Bounds the
 * memory: each holds at most `MAX_PENDING_HOURS` hours and `MAX_FAILURES_PER_BATCH` failures, twice (pending and
 * a batch whose flush failed); normally the current hour and a few failures.
 */
export const MAX_TENANTS_BETWEEN_FLUSHES = 1_000;
/** Tenants flushed at the same time: one flush of many tenants must not flood the table. */
const TENANT_FLUSHES_IN_FLIGHT = 8;

export interface ActivityRecorderOptions {
    /** Names this process in the batches it writes (random per process). */
    instanceId: string;
    flushIntervalMs?: number;
    /** Hours and failures older than this are pruned, at most once an hour. */
    retentionMs?: number;
    /**
     * Whether a named tenant still exists (registry row, not being removed), asked before its batch is stored; a
     * removed tenant's counts are dropped. Without it every tenant's batch is stored.
     */
    tenantExists?: (tenant: string) => Promise<boolean>;
    /** Named tenants held between two flushes; default `MAX_TENANTS_BETWEEN_FLUSHES` (tests use fewer). */
    maxTenants?: number;
    now?: () => number;
    log?: (line: string) => void;
}

/** What this process counted and has not stored yet. */
export interface UnflushedActivity {
    hours: Map<HourKey, HourCounts>;
    totals: TotalsDelta;
    /** Newest last. */
    failures: FailureRecord[];
}

/** One tenant's counts in this process. */
interface TenantCounts {
    pending: UnflushedActivity;
    /** The batch being stored (or that failed to store and goes first next time), with its number. */
    outstanding: ActivityBatch | undefined;
}

/** The default tenant's key in `counts` (no tenant name is empty). */
const DEFAULT_TENANT = '';

export class ActivityRecorder {
    /** Per tenant, by name; the default tenant under `DEFAULT_TENANT`. */
    private readonly counts = new Map<string, TenantCounts>();
    /** Batch numbers: one sequence per process, so they grow in every tenant's partition. */
    private sequence = 0;
    /** Requests of named tenants not recorded because `MAX_TENANTS_BETWEEN_FLUSHES` were held (since the last flush). */
    private notRecorded = 0;
    /** Tenants flushed since the last prune: each one's partition is pruned at the next one. */
    private readonly flushedSincePrune = new Set<string>();
    private timer: NodeJS.Timeout | undefined;
    private flushing: Promise<void> | undefined;
    private lastPruneAt = Number.NEGATIVE_INFINITY;
    private failingSince: number | undefined;
    private readonly now: () => number;
    private readonly log: (line: string) => void;
    private readonly maxTenants: number;

    constructor(
        private readonly store: ActivityStore,
        private readonly options: ActivityRecorderOptions,
    ) {
        this.now = options.now ?? Date.now;
        this.log = options.log ?? ((line) => console.warn(line));
        this.maxTenants = options.maxTenants ?? MAX_TENANTS_BETWEEN_FLUSHES;
    }

    /**
     * Adds one answered request of the default tenant, or of the named tenant `tenant` (one that exists: the
     * caller checked). Synchronous and in memory: this is all the request path pays.
     */
    record(activity: RequestActivity, tenant?: string): void {
        const key = tenant ?? DEFAULT_TENANT;
        let counts = this.counts.get(key);
        if (!counts) {
            if (key !== DEFAULT_TENANT && this.namedTenantsHeld() >= this.maxTenants) {
                this.notRecorded++;
                this.startTimer();
                return;
            }
            counts = { pending: emptyActivity(), outstanding: undefined };
            this.counts.set(key, counts);
        }
        const pending = counts.pending;
        const hourKey = hourOf(activity.at);
        let hour = pending.hours.get(hourKey);
        if (!hour) {
            hour = emptyHour();
            pending.hours.set(hourKey, hour);
            dropOldest(pending.hours, MAX_PENDING_HOURS);
        }
        addRequest(hour, activity);
        if (activity.totalsChange) pending.totals = addTotals(pending.totals, activity.totalsChange);
        const failure = failureOf(activity);
        if (failure) {
            pending.failures.push(failure);
            if (pending.failures.length > MAX_FAILURES_PER_BATCH) pending.failures.shift();
        }
        this.startTimer();
    }

    /** What is counted here but not yet stored, of the default tenant or of `tenant`: the status page adds it to what storage holds. */
    unflushed(tenant?: string): UnflushedActivity {
        const activity = emptyActivity();
        const counts = this.counts.get(tenant ?? DEFAULT_TENANT);
        if (!counts) return activity;
        for (const part of counts.outstanding ? [counts.outstanding, counts.pending] : [counts.pending]) {
            for (const [key, hour] of part.hours) {
                const known = activity.hours.get(key);
                activity.hours.set(key, known ? mergeHours(known, hour) : mergeHours(emptyHour(), hour));
            }
            activity.totals = addTotals(activity.totals, part.totals);
            activity.failures.push(...part.failures);
        }
        return activity;
    }

    /** Named tenants whose counts this process holds (at most `MAX_TENANTS_BETWEEN_FLUSHES`). */
    namedTenantsHeld(): number {
        return this.counts.size - (this.counts.has(DEFAULT_TENANT) ? 1 : 0);
    }

    /**
     * Stores what was counted, one batch per tenant: first a batch that failed before (same number, so it is
     * never added twice), then everything since. Never rejects; a failure is logged once and retried on the next
     * flush. Its storage requests are not counted against whichever request happens to be running.
     */
    flush(): Promise<void> {
        this.flushing ??= outsideRequestCounts(() => this.flushNow()).finally(() => {
            this.flushing = undefined;
        });
        return this.flushing;
    }

    /** Clean shutdown: stop the timer and flush. */
    async close(): Promise<void> {
        if (this.timer) clearInterval(this.timer);
        this.timer = undefined;
        await this.flush();
        await this.flush(); // anything recorded while the first flush ran
    }

    private async flushNow(): Promise<void> {
        if (this.notRecorded > 0) {
            this.log(`activity records: ${this.notRecorded} requests not recorded: more than ${this.maxTenants} tenants between two flushes.`);
            this.notRecorded = 0;
        }
        let failure: unknown;
        // The default tenant first; a failure of one tenant does not hold up the others.
        const tenants = [...this.counts.keys()].sort();
        await inParallel(tenants, TENANT_FLUSHES_IN_FLIGHT, async (tenant) => {
            try {
                await this.flushTenant(tenant);
            } catch (error) {
                failure ??= error;
            }
        });
        if (failure !== undefined) {
            if (this.failingSince === undefined) {
                this.failingSince = this.now();
                this.log(`activity records: flush failed (${describeError(failure)}); the counts are kept in memory and retried.`); // name and status only: storage messages can quote keys
            }
            return;
        }
        if (this.failingSince !== undefined) this.log(`activity records: stored again after failures since ${new Date(this.failingSince).toISOString()}.`);
        this.failingSince = undefined;
        await this.pruneHourly().catch(() => undefined); // pruning is tidying: the next hour tries again
    }

    private async flushTenant(tenant: string): Promise<void> {
        const counts = this.counts.get(tenant)!;
        const store = tenant === DEFAULT_TENANT ? this.store : this.store.forTenant(tenant);
        if (tenant !== DEFAULT_TENANT && !(await this.tenantExists(tenant))) {
            this.counts.delete(tenant); // removed (or being removed) since: its partition must not get rows back
            return;
        }
        for (let round = 0; round < 2; round++) {
            if (!counts.outstanding) {
                if (isEmpty(counts.pending)) break;
                counts.outstanding = { instanceId: this.options.instanceId, sequence: ++this.sequence, ...counts.pending };
                counts.pending = emptyActivity();
            }
            if (!(await this.append(tenant, store, counts.outstanding))) {
                this.log(`activity records: tenant '${tenant}' is being removed or gone; ${requestsIn(counts)} of its requests not stored.`);
                this.counts.delete(tenant); // dropped for good: never retried
                return;
            }
            counts.outstanding = undefined;
            this.flushedSincePrune.add(tenant);
        }
        // A named tenant with nothing left is forgotten: the map holds only tenants with counts to store.
        if (tenant !== DEFAULT_TENANT && !counts.outstanding && isEmpty(counts.pending)) this.counts.delete(tenant);
    }

    /**
     * Stores one batch; false if the tenant's records are closed (no marker row: nothing was written). A marker
     * missing because the tenant is older than markers is created, once, and the batch written again.
     */
    private async append(tenant: string, store: ActivityStore, batch: ActivityBatch): Promise<boolean> {
        for (let attempt = 1; ; attempt++) {
            try {
                await store.append(batch);
                return true;
            } catch (error) {
                if (!(error instanceof TenantRecordsClosedError)) throw error;
                if (attempt > 1 || !(await this.openLegacyTenant(tenant, store))) return false;
            }
        }
    }

    /** Without `tenantExists` every tenant is taken to exist (tests of the recorder alone). */
    private async tenantExists(tenant: string): Promise<boolean> {
        return this.options.tenantExists ? this.options.tenantExists(tenant) : true;
    }

    /**
     * Gives a tenant added before markers its marker, unless it is being removed or gone. Checked before and after
     * the insert: a remove that marked the tenant `removing` before the second check may have deleted the marker
     * already, so the marker is taken back; a remove that starts after it deletes the marker itself. Either way no
     * batch gets in after a remove's first step; a crash between insert and take-back leaves only a bare marker.
     */
    private async openLegacyTenant(tenant: string, store: ActivityStore): Promise<boolean> {
        if (!(await this.tenantExists(tenant))) return false;
        await store.openTenantRecords();
        if (await this.tenantExists(tenant)) return true;
        await store.closeTenantRecords();
        return false;
    }

    private async pruneHourly(): Promise<void> {
        const now = this.now();
        if (this.options.retentionMs === undefined || now - this.lastPruneAt < 3_600_000) return;
        this.lastPruneAt = now;
        const before = now - this.options.retentionMs;
        const tenants = [...new Set([DEFAULT_TENANT, ...this.flushedSincePrune])];
        this.flushedSincePrune.clear();
        await inParallel(tenants, TENANT_FLUSHES_IN_FLIGHT, async (tenant) => {
            await (tenant === DEFAULT_TENANT ? this.store : this.store.forTenant(tenant)).prune(before);
        });
    }

    /** Created outside any request's storage-request scope, so the flushes it runs count against none. */
    private startTimer(): void {
        if (this.timer) return;
        this.timer = outsideRequestCounts(() => setInterval(() => void this.flush(), this.options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS));
        this.timer.unref(); // never keeps a process alive that is otherwise done
    }
}

function emptyActivity(): UnflushedActivity {
    return { hours: new Map(), totals: NO_CHANGE, failures: [] };
}

/** Requests counted for a tenant and not stored: what a dropped tenant's log line says. */
function requestsIn(counts: TenantCounts): number {
    let requests = 0;
    for (const part of counts.outstanding ? [counts.outstanding, counts.pending] : [counts.pending]) {
        for (const hour of part.hours.values()) requests += hour.requests;
    }
    return requests;
}

function isEmpty(activity: UnflushedActivity): boolean {
    return activity.hours.size === 0 && isNoChange(activity.totals) && activity.failures.length === 0;
}

function dropOldest(hours: Map<HourKey, HourCounts>, keep: number): void {
    if (hours.size <= keep) return;
    const oldest = [...hours.keys()].sort().slice(0, hours.size - keep);
    for (const key of oldest) hours.delete(key);
}
