/**
 * The activity records in Table Storage (docs/activity.md), in the SCIM table's `activity` partition (the default
 * tenant) or a named tenant's `<tenant>~activity` (`forTenant`, keys.ts `partitionsOf`):
 *
 *   h:<UTC hour>                     one row per hour: every instance's counts added up (JSON `counts`)
 *   totals                           users, active users, groups; when counting began; which batches are in
 *   f:<reversed time>:<instance>:<n> one row per recent failure, newest first (JSON `failure`)
 *
 * A batch goes in with one entity-group transaction: its hour rows and the totals row are replaced with
 * If-Match on the ETags just read (or inserted), its failures inserted; a named tenant's transaction also merges
 * its marker row (activityMarker.ts), so it fails whole once a remove has deleted that row. Two instances
 * flushing at once: one transaction fails with 412/409 and that instance reads again and retries. The totals row remembers the last
 * batch number of each recent instance, so a transaction that committed but whose reply was lost is not added
 * a second time when it is retried.
 */
import type { TransactionAction } from '@azure/data-tables';
import { failureFromJson, type FailureRecord } from '../activity/failures';
import { emptyHour, hourFromJson, mergeHours, type HourCounts, type HourKey } from '../activity/hourlyCounts';
import { addTotals } from '../activity/requestActivity';
import { TenantRecordsClosedError, type ActivityBatch, type ActivityStore, type StoredTotals } from '../activity/ActivityStore';
import { activityMarkerCheck, activityMarkerExists, deleteActivityMarker, insertActivityMarker } from './activityMarker';
import { createEntityTable, MAX_TRANSACTION_OPERATIONS, type Entity, type EntityTable, type TableOptions } from './EntityTable';
import {
    ACTIVITY_FAILURE_PREFIX,
    ACTIVITY_HOUR_PREFIX,
    ACTIVITY_PARTITION,
    ACTIVITY_TOTALS_ROW_KEY,
    partitionsOf,
    activityFailureRowKey,
    activityFailuresOlderThan,
    activityHourRowKey,
    prefixRange,
} from './keys';
import { statusCodeOf } from '../statusCodeOf';

/** Attempts of one batch against concurrent flushes of other instances before it waits for the next flush. */
const MAX_APPEND_ATTEMPTS = 5;
/** How long an instance's last batch number is remembered: far longer than any retry of a lost reply. */
const APPLIED_MEMORY_MS = 24 * 3_600_000;
/** A batch must fit one transaction with the totals row: hours + failures ≤ 99 (one fewer with a named tenant's marker check). */
export const MAX_BATCH_ROWS = MAX_TRANSACTION_OPERATIONS - 1;

export function createTableActivityStore(options: TableOptions, extra: { allowInsecureConnection?: boolean } = {}): ActivityStore {
    return new TableActivityStore(createEntityTable(options, extra));
}

/** The totals row as stored: the counts, since when, and the batches already in. */
interface TotalsRow {
    totals: StoredTotals;
    applied: Record<string, { sequence: number; at: number }>;
    etag?: string;
}

export class TableActivityStore implements ActivityStore {
    constructor(
        private readonly table: EntityTable,
        private readonly partition: string = ACTIVITY_PARTITION,
        /** A named tenant's partition: every transaction requires its marker row. */
        private readonly named = false,
    ) {}

    /** The same table's records of a named tenant: its own partition, its own hours, totals and failures. */
    forTenant(tenant: string): ActivityStore {
        return new TableActivityStore(this.table, partitionsOf(tenant).activity, true);
    }

    async openTenantRecords(): Promise<void> {
        if (this.named) await insertActivityMarker(this.table, this.partition);
    }

    async closeTenantRecords(): Promise<void> {
        if (this.named) await deleteActivityMarker(this.table, this.partition);
    }

    async append(batch: ActivityBatch): Promise<void> {
        if (batch.hours.size + batch.failures.length + (this.named ? 1 : 0) > MAX_BATCH_ROWS) throw new Error('activity batch too large for one transaction');
        await this.table.ensureExists();
        for (let attempt = 1; ; attempt++) {
            const totals = await this.readTotals();
            if ((totals?.applied[batch.instanceId]?.sequence ?? 0) >= batch.sequence) return; // in already
            const hourKeys = [...batch.hours.keys()];
            const stored = await this.table.readMany(this.partition, hourKeys.map(activityHourRowKey), ['counts']);
            const storedByKey = new Map(stored.map((entity) => [String(entity.rowKey), entity]));
            const now = Date.now();
            // First, so that a missing marker is the operation that fails (and nothing else is tried).
            const actions: TransactionAction[] = this.named ? [activityMarkerCheck(this.partition)] : [];
            for (const [hour, counts] of batch.hours) {
                const rowKey = activityHourRowKey(hour);
                const existing = storedByKey.get(rowKey);
                const merged = mergeHours(existing ? hourFromJson(textOf(existing.counts)) : emptyHour(), counts);
                const row = { partitionKey: this.partition, rowKey, counts: JSON.stringify(merged) };
                actions.push(existing ? ['update', row, 'Replace', { etag: String(existing.etag) }] : ['create', row]);
            }
            actions.push(this.totalsAction(totals, batch, now));
            batch.failures.forEach((failure, index) => {
                const rowKey = activityFailureRowKey(Date.parse(failure.at), batch.instanceId, batch.sequence * MAX_BATCH_ROWS + index);
                actions.push(['create', { partitionKey: this.partition, rowKey, failure: JSON.stringify(failure) }]);
            });
            try {
                await this.table.submit(actions);
                return;
            } catch (error) {
                const status = statusCodeOf(error);
                // 404 in a named tenant's partition: its marker is gone (a remove began), or a row read above was
                // pruned meanwhile (then read again, like a 412). Nothing of the batch was written either way.
                if (status === 404 && this.named && !(await activityMarkerExists(this.table, this.partition))) throw new TenantRecordsClosedError();
                // 412 / 409 on a row another instance wrote meanwhile: read again and add to what is there now.
                if ((status !== 412 && status !== 409 && !(status === 404 && this.named)) || attempt >= MAX_APPEND_ATTEMPTS) throw error;
                await sleep(Math.random() * 50 * attempt);
            }
        }
    }

    async hours(from: HourKey, to: HourKey): Promise<Map<HourKey, HourCounts>> {
        const hours = new Map<HourKey, HourCounts>();
        const upTo = activityHourRowKey(to) + '\u0000'; // `to` included
        try {
            // At most one row per hour: a week is 168 rows, one page.
            for await (const page of this.table.rangePages(this.partition, activityHourRowKey(from), upTo, { select: ['counts'], maxPages: 2 })) {
                for (const entity of page) hours.set(String(entity.rowKey).slice(ACTIVITY_HOUR_PREFIX.length), hourFromJson(textOf(entity.counts)));
            }
        } catch (error) {
            if (statusCodeOf(error) !== 404) throw error; // no table yet: nothing recorded
        }
        return hours;
    }

    async totals(): Promise<StoredTotals | undefined> {
        return (await this.readTotals())?.totals;
    }

    async recentFailures(limit: number): Promise<FailureRecord[]> {
        const failures: FailureRecord[] = [];
        const { from, to } = prefixRange(ACTIVITY_FAILURE_PREFIX);
        try {
            // Newest first (reversed time): the first page is the answer; a short page is followed at most twice.
            for await (const page of this.table.rangePages(this.partition, from, to, { select: ['failure'], pageSize: limit, maxPages: 3 })) {
                for (const entity of page) {
                    const failure = failureFromJson(textOf(entity.failure));
                    if (failure) failures.push(failure);
                    if (failures.length >= limit) return failures;
                }
            }
        } catch (error) {
            if (statusCodeOf(error) !== 404) throw error;
        }
        return failures;
    }

    async prune(beforeMs: number): Promise<number> {
        const old: string[] = [];
        const collect = async (from: string, to: string) => {
            for await (const page of this.table.rangePages(this.partition, from, to, { select: [], pageSize: MAX_TRANSACTION_OPERATIONS, maxPages: 1 })) {
                old.push(...page.map((entity: Entity) => String(entity.rowKey)));
            }
        };
        try {
            await collect(ACTIVITY_HOUR_PREFIX, activityHourRowKey(new Date(beforeMs).toISOString().slice(0, 13)));
            await collect(activityFailuresOlderThan(beforeMs), prefixRange(ACTIVITY_FAILURE_PREFIX).to);
        } catch (error) {
            if (statusCodeOf(error) === 404) return 0;
            throw error;
        }
        const doomed = old.slice(0, MAX_TRANSACTION_OPERATIONS);
        if (doomed.length === 0) return 0;
        await this.table.submit(doomed.map((rowKey): TransactionAction => ['delete', { partitionKey: this.partition, rowKey }]));
        return doomed.length;
    }

    private async readTotals(): Promise<TotalsRow | undefined> {
        const entity = await this.table.read(this.partition, ACTIVITY_TOTALS_ROW_KEY);
        if (!entity) return undefined;
        const row: TotalsRow = {
            totals: {
                users: integer(entity.users),
                activeUsers: integer(entity.activeUsers),
                groups: integer(entity.groups),
                since: typeof entity.since === 'string' ? entity.since : new Date(0).toISOString(),
            },
            applied: appliedFromJson(entity.applied),
        };
        if (entity.etag) row.etag = String(entity.etag);
        return row;
    }

    /** The totals row with the batch added and the batch's number remembered (stale instances forgotten). */
    private totalsAction(current: TotalsRow | undefined, batch: ActivityBatch, now: number): TransactionAction {
        const totals = addTotals(current?.totals ?? { users: 0, activeUsers: 0, groups: 0 }, batch.totals);
        const applied: TotalsRow['applied'] = {};
        for (const [instance, entry] of Object.entries(current?.applied ?? {})) {
            if (now - entry.at < APPLIED_MEMORY_MS) applied[instance] = entry;
        }
        applied[batch.instanceId] = { sequence: batch.sequence, at: now };
        const row = {
            partitionKey: this.partition,
            rowKey: ACTIVITY_TOTALS_ROW_KEY,
            ...totals,
            since: current?.totals.since ?? new Date(now).toISOString(),
            applied: JSON.stringify(applied),
        };
        return current?.etag ? ['update', row, 'Replace', { etag: current.etag }] : ['create', row];
    }
}

function integer(value: unknown): number {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : 0;
}

function appliedFromJson(value: unknown): TotalsRow['applied'] {
    try {
        const parsed = JSON.parse(textOf(value) || '{}') as Record<string, { sequence?: unknown; at?: unknown }>;
        const applied: TotalsRow['applied'] = {};
        for (const [instance, entry] of Object.entries(parsed)) {
            if (typeof entry?.sequence === 'number' && typeof entry.at === 'number') applied[instance] = { sequence: entry.sequence, at: entry.at };
        }
        return applied;
    } catch {
        return {};
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A string property as stored; anything else (absent, or not a string) reads as empty. */
function textOf(value: unknown): string {
    return typeof value === 'string' ? value : '';
}
