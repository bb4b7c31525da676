/**
 * What the change feed's timer does each run (docs/feed.md): push new events to the queue when one is
 * configured, then remove events older than the retention period — never events the push has not forwarded
 * yet, and never a stream's newest event (so a cursor from before the oldest retained event is recognised
 * as expired).
 */
import type { ForwardableFeed } from './ChangeFeed';
import { forwardChanges, type EventQueue, type ForwardResult } from './forwardChanges';

export interface MaintenanceResult {
    push?: ForwardResult;
    removed: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export async function maintainChangeFeed(feed: ForwardableFeed, queue: EventQueue | undefined, retentionDays: number, deadline: number, now = Date.now()): Promise<MaintenanceResult> {
    const result: MaintenanceResult = { removed: 0 };
    if (queue) result.push = await forwardChanges(feed, queue, deadline);
    const keepFrom = queue ? (await feed.readCheckpoint()).cursor : undefined;
    result.removed = await feed.removeExpired(new Date(now - retentionDays * DAY_MS), deadline, keepFrom);
    return result;
}
