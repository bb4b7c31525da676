/**
 * What the change feed's timer does each run (docs/feed.md): push new events to the queue when one is
 * configured, then remove events older than the retention period — never events the push has not forwarded
 * yet, and never a stream's newest event (so a cursor from before the oldest retained event is recognised
 * as expired). First for the default tenant, then for the named tenants (docs/feed.md, "Tenants"), a
 * bounded share of the run each, resuming next run where this one stopped.
 */
import type { ForwardableFeed } from './ChangeFeed';
import { forwardChanges, type EventQueue, type ForwardResult } from './forwardChanges';

export interface MaintenanceResult {
    push?: ForwardResult;
    removed: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** One feed's maintenance; `tenant` names a named tenant's feed in its queue messages. */
export async function maintainChangeFeed(
    feed: ForwardableFeed,
    queue: EventQueue | undefined,
    retentionDays: number,
    deadline: number,
    now = Date.now(),
    tenant?: string,
): Promise<MaintenanceResult> {
    const result: MaintenanceResult = { removed: 0 };
    if (queue) result.push = await forwardChanges(feed, queue, deadline, tenant);
    const keepFrom = queue ? (await feed.readCheckpoint()).cursor : undefined;
    result.removed = await feed.removeExpired(new Date(now - retentionDays * DAY_MS), deadline, keepFrom);
    return result;
}

/** The named tenants as the timer sees them: the registry in name order, each tenant's feed, and where the last run stopped. */
export interface TenantFeeds {
    /** At most `limit` tenants whose names sort after `after` ('' for the first), in name order (one range read). */
    listAfter(after: string, limit: number): Promise<{ name: string; state: string }[]>;
    feedOf(tenant: string): ForwardableFeed;
    /** The last tenant a run finished with ('' when a run finished the list, or none ran yet). */
    readProgress(): Promise<string>;
    saveProgress(lastTenant: string): Promise<void>;
}

export interface TenantsMaintenanceResult {
    /** Tenants whose feeds this run maintained (pushed and pruned). */
    maintained: number;
    forwarded: number;
    removed: number;
    /** Tenants whose push did not catch up within their share (they go on at their next turn). */
    behind: number;
    /** Tenants whose maintenance failed (storage or queue unavailable); retried at their next turn. */
    failed: number;
}

export interface EveryMaintenanceResult extends MaintenanceResult {
    /** Present when the deployment has named tenants. */
    tenants?: TenantsMaintenanceResult;
}

/** Registry rows read at once (one range read each). */
export const TENANTS_PER_READ = 100;
/** The most one feed gets of a run while named tenants wait, so one tenant's backlog cannot starve the others. */
export const FEED_SHARE_MS = 10_000;

/**
 * The default tenant's feed, then the named tenants in name order from where the last run stopped, wrapping
 * around, until the deadline or one full lap. Each feed gets at most `FEED_SHARE_MS` (the default the whole run
 * when there are no tenants, as before tenants). A tenant being removed is skipped (its rows are being deleted).
 * A tenant is done once its share ran; one the run's deadline cut short is where the next run starts. A failure of
 * the default feed does not keep the named tenants from their turn; the run then ends with that failure. Work per
 * run: bounded by the deadline and by one lap of the registry (⌈tenants/100⌉ range reads of it).
 */
export async function maintainEveryChangeFeed(
    options: {
        defaultFeed: ForwardableFeed;
        tenants: TenantFeeds;
        queue: EventQueue | undefined;
        retentionDays: number;
        /** Milliseconds since the epoch, by `clock`. */
        deadline: number;
        /** "Now" for retention (default: the clock at the start). */
        now?: number;
        /** Tests: a clock that jumps (default Date.now), and fewer registry rows per read. */
        clock?: () => number;
        tenantsPerRead?: number;
    },
): Promise<EveryMaintenanceResult> {
    const { defaultFeed, tenants, queue, retentionDays, deadline } = options;
    const clock = options.clock ?? (() => Date.now());
    const now = options.now ?? clock();
    const perRead = options.tenantsPerRead ?? TENANTS_PER_READ;
    const start = await tenants.readProgress();
    let batch = await tenants.listAfter(start, perRead);
    let wrapped = false;
    if (batch.length === 0 && start !== '') {
        wrapped = true;
        batch = await tenants.listAfter('', perRead);
    }
    const shareEnd = () => (batch.length === 0 ? deadline : Math.min(deadline, clock() + FEED_SHARE_MS));
    let result: EveryMaintenanceResult;
    let defaultFailure: { error: unknown } | undefined;
    try {
        result = await maintainChangeFeed(defaultFeed, queue, retentionDays, shareEnd(), now);
    } catch (error) {
        if (batch.length === 0) throw error;
        // The named tenants' streams are other partitions: they still get their turn, and the run fails at its end.
        defaultFailure = { error };
        result = { removed: 0 };
    }
    if (batch.length === 0) return result;

    const summary: TenantsMaintenanceResult = { maintained: 0, forwarded: 0, removed: 0, behind: 0, failed: 0 };
    result.tenants = summary;
    let last = wrapped ? '' : start;
    const stop = async () => {
        await tenants.saveProgress(last);
        if (defaultFailure) throw defaultFailure.error;
        return result;
    };
    for (;;) {
        for (const tenant of batch) {
            // One lap per run: past where this run began, the tenants already had their turn.
            if (wrapped && start !== '' && tenant.name > start) return stop();
            if (clock() >= deadline) return stop();
            if (tenant.state !== 'removing') {
                try {
                    const done = await maintainChangeFeed(tenants.feedOf(tenant.name), queue, retentionDays, shareEnd(), now, tenant.name);
                    summary.maintained += 1;
                    summary.forwarded += done.push?.forwarded ?? 0;
                    summary.removed += done.removed;
                    if (done.push && !done.push.caughtUp) summary.behind += 1;
                } catch {
                    summary.failed += 1;
                }
                // Cut short by the end of the run rather than by its share: the next run starts with it.
                if (clock() >= deadline) return stop();
            }
            last = tenant.name;
        }
        let next = batch.length < perRead ? [] : await tenants.listAfter(last, perRead);
        if (next.length === 0) {
            // The end of the registry: the next turn is the first name's, in this run unless it began there.
            last = '';
            if (wrapped || start === '') return stop();
            wrapped = true;
            next = await tenants.listAfter('', perRead);
        }
        batch = next;
    }
}
