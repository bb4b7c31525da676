/**
 * Backfills a generic equality index on a live table, and reports the state of every index: the storage
 * half of `npm run index -- rebuild|status` (dev/indexCommand.ts; docs/operate.md, "Indexes").
 *
 * The app maintains a configured index on every write from its start; a rebuild covers the resource rows
 * written before. It is:
 * - **safe under concurrent writes**: a row is covered by one transaction that merges its `indexKeys` with
 *   If-Match on the ETag just read and inserts its index rows. If the app changed or deleted the resource
 *   meanwhile, storage refuses the whole transaction (412/404) and the rebuild reads the row again — the
 *   app's own write already covered it, since it maintains the index. No stale row, no missing row.
 * - **resumable**: after each page of rows the state row records the last RowKey done (`cursor`); a run
 *   after Ctrl-C or a crash starts after it (at most one page is read twice, harmlessly).
 * - **idempotent**: covered rows are skipped; a second run over a complete index only verifies.
 * - **complete only when verified**: after the pass, a cheap pass over every resource row's `indexKeys`
 *   alone looks for rows still uncovered (written by an instance without the index); they are covered and
 *   the pass repeats, up to `MAX_VERIFY_PASSES`. Only a clean pass marks the state row complete, and only
 *   then does the app read from the index (IndexStates.ts).
 */
import type { TransactionAction } from '@azure/data-tables';
import type { ResourceTypeName } from '../scim/schemas';
import type { EqualityIndex } from '../scim/store';
import { MAX_TRANSACTION_OPERATIONS, type EntityTable } from './EntityTable';
import { attributesOf, indexCoverageOf, indexRowKeysOf, MAX_INDEX_ROWS_PER_RESOURCE, resourceRowOf, versionOfRow, type ResourceRow, type StoredRow } from './entities';
import { readIndexStates, type IndexStateRow } from './IndexStates';
import { DEFAULT_PARTITIONS, indexRowKey, indexStateRowKey, partitionOf, resourceRowPrefix, type Partitions } from './keys';
import { statusCodeOf } from '../statusCodeOf';
import { failedOperationIndex } from './storageErrors';

/** Verification passes before giving up on a table where uncovered rows keep appearing. */
const MAX_VERIFY_PASSES = 3;
/** Resource rows read per page of the backfill (full rows: attributes included). */
const BACKFILL_PAGE_SIZE = 200;

export interface RebuildProgress {
    /** Resource rows looked at so far (this run and, after a resume, the runs before). */
    processed: number;
    /** Resource rows of the type, counted at the start of this run. */
    total: number;
    /** Rows this run covered (the rest were covered already). */
    covered: number;
    /** Rows read again because the app changed or deleted them between the read and the cover. */
    reread: number;
}

export type RebuildOutcome =
    | ({ outcome: 'complete'; verifyPasses: number } & RebuildProgress)
    /** Stopped on request (Ctrl-C) after finishing a page: run again to resume. */
    | ({ outcome: 'stopped' } & RebuildProgress)
    /** No state row: the app does not maintain this index (not configured, or not restarted since). */
    | { outcome: 'notDeclared' }
    /** Rows that cannot be covered (ids; too many values, or text no key can hold): fix them, run again. */
    | ({ outcome: 'uncoverable'; ids: string[] } & RebuildProgress)
    /** Uncovered rows kept appearing: some instance writes without the index. */
    | ({ outcome: 'unsettled'; uncovered: number } & RebuildProgress);

export interface RebuildOptions {
    onProgress?: (progress: RebuildProgress) => void;
    /** Checked between pages; true stops the run with the cursor saved. */
    shouldStop?: () => boolean;
    /** Called after each page of rows is read and before it is covered: tests put concurrent writes here. */
    afterRead?: () => Promise<void>;
    /** Whose resources: a named tenant's partitions (keys.ts `partitionsOf`); the default tenant's otherwise. */
    partitions?: Partitions;
    now?: () => string;
}

export async function rebuildIndex(table: EntityTable, index: EqualityIndex, options: RebuildOptions = {}): Promise<RebuildOutcome> {
    const now = options.now ?? (() => new Date().toISOString());
    const partitions = options.partitions ?? DEFAULT_PARTITIONS;
    const partitionKey = partitionOf(index.resourceType, partitions);
    const prefix = resourceRowPrefix(index.resourceType);
    await table.ensureExists();
    const state = await readState(table, index, partitions);
    if (!state) return { outcome: 'notDeclared' };

    const progress: RebuildProgress = { processed: 0, total: await countRows(table, index.resourceType, partitions), covered: 0, reread: 0 };
    /** RowKey → id of rows that cannot be covered. */
    const uncoverable = new Map<string, string>();
    const saveState = async (changes: Partial<IndexStateRow>): Promise<boolean> => {
        try {
            await table.submit([['update', { partitionKey, rowKey: state.rowKey, ...changes, updatedAt: now() }, 'Merge']]);
            return true;
        } catch (error) {
            if (statusCodeOf(error) === 404) return false; // an instance without the index deleted it
            throw error;
        }
    };

    // The backfill, from the cursor of an interrupted run. A complete index skips it: the verify pass checks it.
    if (state.status !== 'complete') {
        progress.processed = state.cursor ? Math.min(state.processed ?? 0, progress.total) : 0;
        const pages = table.pages(partitionKey, prefix, { pageSize: BACKFILL_PAGE_SIZE, ...(state.cursor ? { after: state.cursor } : {}) });
        for await (const page of pages) {
            const rows = page.map(resourceRowOf).filter((stored) => needsCover(stored.row, index));
            await options.afterRead?.();
            await coverRows(table, index, rows, uncoverable, progress);
            progress.processed += page.length;
            if (!(await saveState({ cursor: String(page[page.length - 1]!.rowKey), processed: progress.processed, total: progress.total }))) {
                return { outcome: 'notDeclared' };
            }
            options.onProgress?.({ ...progress });
            if (options.shouldStop?.()) return { outcome: 'stopped', ...progress };
        }
    }

    for (let pass = 1; pass <= MAX_VERIFY_PASSES; pass++) {
        const uncovered: string[] = [];
        for await (const page of table.pages(partitionKey, prefix, { select: ['indexKeys', 'deleting'] })) {
            for (const entity of page) if (needsCover(entity, index)) uncovered.push(String(entity.rowKey));
            if (options.shouldStop?.()) return { outcome: 'stopped', ...progress };
        }
        const remaining = uncovered.filter((rowKey) => !uncoverable.has(rowKey));
        if (remaining.length === 0) {
            if (uncoverable.size > 0) return { outcome: 'uncoverable', ids: [...uncoverable.values()], ...progress };
            const completed = now();
            if (!(await saveState({ status: 'complete', cursor: '', processed: progress.total, total: progress.total, completedAt: completed }))) {
                return { outcome: 'notDeclared' };
            }
            return { outcome: 'complete', verifyPasses: pass, ...progress, processed: progress.total };
        }
        const rows = (await table.readMany(partitionKey, remaining)).map(resourceRowOf).filter((stored) => needsCover(stored.row, index));
        await coverRows(table, index, rows, uncoverable, progress);
        if (pass === MAX_VERIFY_PASSES) return { outcome: 'unsettled', uncovered: remaining.length, ...progress };
    }
    return { outcome: 'unsettled', uncovered: 0, ...progress };
}

export interface IndexStatusReport {
    resourceType: ResourceTypeName;
    path: string;
    status: IndexStateRow['status'];
    processed?: number;
    total?: number;
    updatedAt?: string;
    completedAt?: string;
}

/** The state row of every generic index the app declared, both resource types. */
export async function readIndexStatus(table: EntityTable, partitions: Partitions = DEFAULT_PARTITIONS): Promise<IndexStatusReport[]> {
    await table.ensureExists();
    const reports: IndexStatusReport[] = [];
    for (const resourceType of ['User', 'Group'] as const) {
        for (const state of await readIndexStates(table, partitionOf(resourceType, partitions))) {
            const report: IndexStatusReport = { resourceType, path: state.path, status: state.status };
            if (state.processed !== undefined) report.processed = state.processed;
            if (state.total !== undefined) report.total = state.total;
            if (state.updatedAt) report.updatedAt = state.updatedAt;
            if (state.completedAt) report.completedAt = state.completedAt;
            reports.push(report);
        }
    }
    return reports;
}

// ---- covering rows

function needsCover(row: Record<string, unknown> | ResourceRow, index: EqualityIndex): boolean {
    return row.deleting !== true && !(index.path in indexCoverageOf(row));
}

/**
 * Covers rows in transactions of whole resources (≤ 100 operations each): per resource, a Merge of its
 * `indexKeys` with If-Match and an upsert per index row. A resource whose transaction operation fails
 * with 412 or 404 was changed or deleted by the app: it is read again and covered if it still needs it.
 * Counts into `progress.covered` and `progress.reread`.
 */
async function coverRows(
    table: EntityTable,
    index: EqualityIndex,
    rows: StoredRow<ResourceRow>[],
    uncoverable: Map<string, string>,
    progress: RebuildProgress,
): Promise<void> {
    let queue = rows.map((stored) => ({ stored, actions: coverActions(index, stored, uncoverable) })).filter((item) => item.actions.length > 0);
    while (queue.length > 0) {
        const batch: typeof queue = [];
        let operations = 0;
        while (queue.length > 0 && operations + queue[0]!.actions.length <= MAX_TRANSACTION_OPERATIONS) {
            const item = queue.shift()!;
            batch.push(item);
            operations += item.actions.length;
        }
        try {
            await table.submit(batch.flatMap((item) => item.actions));
            progress.covered += batch.length;
        } catch (error) {
            const status = statusCodeOf(error);
            const failedAt = failedOperationIndex(error);
            if ((status !== 412 && status !== 404) || failedAt === undefined) throw error;
            // Find the resource the failed operation belongs to, read it again, and retry the rest with it.
            let offset = 0;
            const failed = batch.find((item) => (offset += item.actions.length) > failedAt)!;
            const fresh = await table.read(failed.stored.row.partitionKey, failed.stored.row.rowKey);
            progress.reread++;
            const rest = batch.filter((item) => item !== failed);
            const retry = fresh ? resourceRowOf(fresh) : undefined;
            const again = retry && needsCover(retry.row, index) ? [{ stored: retry, actions: coverActions(index, retry, uncoverable) }] : [];
            queue = [...rest, ...again.filter((item) => item.actions.length > 0), ...queue];
        }
    }
}

/** The transaction operations that cover one row, or none if it cannot be covered (then noted in `uncoverable`). */
function coverActions(index: EqualityIndex, stored: StoredRow<ResourceRow>, uncoverable: Map<string, string>): TransactionAction[] {
    const { row } = stored;
    let keys: string[];
    try {
        keys = index.keysOf(attributesOf(row));
    } catch {
        uncoverable.set(row.rowKey, row.id); // text no key can hold (a lone surrogate stored before they were refused)
        return [];
    }
    const rowKeys = keys.map((key) => indexRowKey(index.path, key, row.id));
    if (indexRowKeysOf(row).length + rowKeys.length > MAX_INDEX_ROWS_PER_RESOURCE) {
        uncoverable.set(row.rowKey, row.id);
        return [];
    }
    const coverage = { ...indexCoverageOf(row), [index.path]: rowKeys };
    // The version is written too: a row older than the change feed takes its version from its ETag, which this
    // Merge moves, and covering changes nothing a client sees (docs/storage.md, "Versions"). No event either.
    return [
        ['update', { partitionKey: row.partitionKey, rowKey: row.rowKey, indexKeys: JSON.stringify(coverage), version: versionOfRow(stored) }, 'Merge', { etag: stored.etag }],
        ...rowKeys.map((rowKey): TransactionAction => ['upsert', { partitionKey: row.partitionKey, rowKey, id: row.id }, 'Replace']),
    ];
}

async function readState(table: EntityTable, index: EqualityIndex, partitions: Partitions): Promise<IndexStateRow | undefined> {
    const entity = await table.read(partitionOf(index.resourceType, partitions), indexStateRowKey(index.path));
    if (!entity) return undefined;
    const { etag: _etag, timestamp: _timestamp, ...row } = entity;
    return row as unknown as IndexStateRow;
}

/** Resource rows of a type, counted with RowKey-only pages (for the progress bar). */
async function countRows(table: EntityTable, resourceType: ResourceTypeName, partitions: Partitions): Promise<number> {
    let count = 0;
    for await (const page of table.pages(partitionOf(resourceType, partitions), resourceRowPrefix(resourceType), { select: [] })) count += page.length;
    return count;
}

