/**
 * Counts every answered SCIM request in memory and flushes the counts to storage in the background
 * (docs/activity.md): the request path only adds to a map — never a storage request — and one batch per
 * flush interval goes out in one transaction.
 *
 * What can be lost: on a clean shutdown nothing (the host's terminate hook and the local host's Ctrl-C call
 * `close`, which flushes). On a crash, what this process counted since its last successful flush: at most
 * one flush interval of requests (a minute), or more while storage is unreachable — then the counts wait
 * here, bounded to the most recent hours and failures.
 */
import { describeError } from '../describeError';
import { outsideRequestCounts } from '../store/requestCounter';
import type { ActivityBatch, ActivityStore } from './ActivityStore';
import { failureOf, type FailureRecord } from './failures';
import { addRequest, emptyHour, hourOf, mergeHours, type HourCounts, type HourKey } from './hourlyCounts';
import { NO_CHANGE, type TotalsDelta } from '../scim/operations';
import { addTotals, isNoChange, type RequestActivity } from './requestActivity';

export const DEFAULT_FLUSH_INTERVAL_MS = 60_000;
/** Failures kept per batch (and shown on the page): the newest ones. */
export const MAX_FAILURES_PER_BATCH = 20;
/** Hours kept waiting while storage is down; older ones are dropped (the page shows a week). */
const MAX_PENDING_HOURS = 48;

export interface ActivityRecorderOptions {
    /** Names this process in the batches it writes (random per process). */
    instanceId: string;
    flushIntervalMs?: number;
    /** Hours and failures older than this are pruned, at most once an hour. */
    retentionMs?: number;
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

export class ActivityRecorder {
    private pending = emptyActivity();
    /** The batch being stored (or that failed to store and goes first next time), with its number. */
    private outstanding: ActivityBatch | undefined;
    private sequence = 0;
    private timer: NodeJS.Timeout | undefined;
    private flushing: Promise<void> | undefined;
    private lastPruneAt = Number.NEGATIVE_INFINITY;
    private failingSince: number | undefined;
    private readonly now: () => number;
    private readonly log: (line: string) => void;

    constructor(
        private readonly store: ActivityStore,
        private readonly options: ActivityRecorderOptions,
    ) {
        this.now = options.now ?? Date.now;
        this.log = options.log ?? ((line) => console.warn(line));
    }

    /** Adds one answered request. Synchronous and in memory: this is all the request path pays. */
    record(activity: RequestActivity): void {
        const key = hourOf(activity.at);
        let hour = this.pending.hours.get(key);
        if (!hour) {
            hour = emptyHour();
            this.pending.hours.set(key, hour);
            dropOldest(this.pending.hours, MAX_PENDING_HOURS);
        }
        addRequest(hour, activity);
        if (activity.totalsChange) this.pending.totals = addTotals(this.pending.totals, activity.totalsChange);
        const failure = failureOf(activity);
        if (failure) {
            this.pending.failures.push(failure);
            if (this.pending.failures.length > MAX_FAILURES_PER_BATCH) this.pending.failures.shift();
        }
        this.startTimer();
    }

    /** What is counted here but not yet stored: the status page adds it to what storage holds. */
    unflushed(): UnflushedActivity {
        const activity = emptyActivity();
        for (const part of this.outstanding ? [this.outstanding, this.pending] : [this.pending]) {
            for (const [key, hour] of part.hours) {
                const known = activity.hours.get(key);
                activity.hours.set(key, known ? mergeHours(known, hour) : mergeHours(emptyHour(), hour));
            }
            activity.totals = addTotals(activity.totals, part.totals);
            activity.failures.push(...part.failures);
        }
        return activity;
    }

    /**
     * Stores what was counted: first a batch that failed before (same number, so it is never added twice),
     * then everything since. Never rejects; a failure is logged once and retried on the next flush.
     * Its storage requests are not counted against whichever request happens to be running.
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
        try {
            for (let round = 0; round < 2; round++) {
                if (!this.outstanding) {
                    if (isEmpty(this.pending)) break;
                    this.outstanding = { instanceId: this.options.instanceId, sequence: ++this.sequence, ...this.pending };
                    this.pending = emptyActivity();
                }
                await this.store.append(this.outstanding);
                this.outstanding = undefined;
            }
            if (this.failingSince !== undefined) this.log(`activity records: stored again after failures since ${new Date(this.failingSince).toISOString()}.`);
            this.failingSince = undefined;
            await this.pruneHourly();
        } catch (error) {
            if (this.failingSince === undefined) {
                this.failingSince = this.now();
                this.log(`activity records: flush failed (${describeError(error)}); the counts are kept in memory and retried.`); // name and status only: storage messages can quote keys
            }
        }
    }

    private async pruneHourly(): Promise<void> {
        const now = this.now();
        if (this.options.retentionMs === undefined || now - this.lastPruneAt < 3_600_000) return;
        this.lastPruneAt = now;
        await this.store.prune(now - this.options.retentionMs);
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

function isEmpty(activity: UnflushedActivity): boolean {
    return activity.hours.size === 0 && isNoChange(activity.totals) && activity.failures.length === 0;
}

function dropOldest(hours: Map<HourKey, HourCounts>, keep: number): void {
    if (hours.size <= keep) return;
    const oldest = [...hours.keys()].sort().slice(0, hours.size - keep);
    for (const key of oldest) hours.delete(key);
}
