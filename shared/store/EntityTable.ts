/**
 * The few ways the store talks to its table: point reads (one or many), key-range pages,
 * entity-group transactions and a conditional single delete. Filters are built only with the `odata` template, so no RowKey (which holds
 * client text) can change a query's meaning. Errors pass through raw; the store decides what they mean.
 */
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { inParallel } from './inParallel';
import { NEVER_PRESENT_ROW_KEY, prefixRange } from './keys';
import { failedOperationIndex } from './storageErrors';
import { statusCodeOf } from '../statusCodeOf';

/** An entity as the SDK returns it: properties plus `partitionKey`, `rowKey`, `etag`. */
export type Entity = Record<string, unknown> & { partitionKey?: string; rowKey?: string; etag?: string };

/** Entity-group transaction limit (docs/azure-notes.md §6). */
export const MAX_TRANSACTION_OPERATIONS = 100;
/** Point reads `readMany` keeps in flight: enough to hide latency, few enough not to flood a partition. */
const POINT_READS_IN_FLIGHT = 16;
/** Keys one existence probe settles at most: a transaction's operations, less the one that always fails. */
export const PROBE_BATCH = MAX_TRANSACTION_OPERATIONS - 1;
/** Probe transactions in flight at once, after the first (as many as a delete of many edges keeps in flight). */
const PROBES_IN_FLIGHT = 4;
/** A query returns at most 1,000 entities per page anyway (docs/azure-notes.md §6). */
export const MAX_PAGE_SIZE = 1000;

export class EntityTable {
    private tableReady: Promise<void> | undefined;

    constructor(private readonly client: TableClient) {}

    /**
     * Creates the table on first use: once per store (the app, shared/app.ts, keeps one store per process),
     * not per request. A failure is forgotten so the next request tries again.
     */
    ensureExists(): Promise<void> {
        this.tableReady ??= this.client.createTable().catch((error: unknown) => {
            this.tableReady = undefined;
            throw error;
        });
        return this.tableReady;
    }

    /** One point read; undefined if the entity does not exist. */
    async read(partitionKey: string, rowKey: string, select?: string[]): Promise<Entity | undefined> {
        try {
            return await this.client.getEntity<Record<string, unknown>>(partitionKey, rowKey, select ? { queryOptions: { select } } : {});
        } catch (error) {
            if (statusCodeOf(error) === 404) return undefined;
            throw error;
        }
    }

    /**
     * Every entity whose RowKey starts with `prefix` (and, with `after`, sorts after that RowKey), page by page, in
     * RowKey order.
     */
    async *pages(partitionKey: string, prefix: string, options: { select?: string[]; pageSize?: number; after?: string } = {}): AsyncIterable<Entity[]> {
        const { from, to } = prefixRange(prefix);
        const filter = options.after === undefined || options.after < from
            ? odata`PartitionKey eq ${partitionKey} and RowKey ge ${from} and RowKey lt ${to}`
            : odata`PartitionKey eq ${partitionKey} and RowKey gt ${options.after} and RowKey lt ${to}`;
        const select = options.select ? ['RowKey', ...options.select] : undefined;
        const entities = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter, ...(select ? { select } : {}) } });
        // Pages may be short or even empty with a continuation token (docs/azure-notes.md §6); byPage follows tokens.
        for await (const page of entities.byPage({ maxPageSize: options.pageSize ?? MAX_PAGE_SIZE })) {
            if (page.length > 0) yield page;
        }
    }

    /** Every entity of a partition, page by page (removing a tenant; never on a SCIM request). */
    async *partitionPages(partitionKey: string, options: { select?: string[]; pageSize?: number } = {}): AsyncIterable<Entity[]> {
        const filter = odata`PartitionKey eq ${partitionKey}`;
        const entities = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter, ...(options.select ? { select: options.select } : {}) } });
        for await (const page of entities.byPage({ maxPageSize: options.pageSize ?? MAX_PAGE_SIZE })) {
            if (page.length > 0) yield page;
        }
    }

    /**
     * The entities among `rowKeys` that exist: point reads, several in flight. Not one query with
     * `RowKey eq a or RowKey eq b …`: Table Storage answers an `or` of RowKeys with a partition scan, not
     * a key lookup (Microsoft's table design guide, "Design for querying"), which made adding a member
     * cost 14× more at 100k users than at 1k (bench/RESULTS.md).
     */
    async readMany(partitionKey: string, rowKeys: string[], select?: string[]): Promise<Entity[]> {
        const found: Entity[] = [];
        await inParallel(rowKeys, POINT_READS_IN_FLIGHT, async (rowKey) => {
            const entity = await this.read(partitionKey, rowKey, select ? ['RowKey', ...select] : undefined);
            if (entity) found.push(entity);
        });
        return found;
    }

    /**
     * Which of `rowKeys` exist, settled with transactions that never write: each probe ends with a merge of
     * `NEVER_PRESENT_ROW_KEY`, which always fails, so the transaction always rolls back, and the index of the
     * operation that failed says how far the guess held. Merges of the keys fail (404) at the first absent
     * row; inserts fail (409) at the first present one. So one transaction settles a whole run of up to
     * `PROBE_BATCH` keys that agree: k keys cost about ⌈k/99⌉ transactions plus one per switch between present
     * and absent in the order given (point reads would cost k). The first batch of keys goes alone, first guessing
     * `expectPresent`; the others then go `PROBES_IN_FLIGHT` at a time, each first guessing what the batch before
     * them ended with, so a request of k keys waits for about 1 + ⌈k/99/4⌉ round trips. Stops early once
     * `stopAfterAbsent` absent keys are known (the rest are in neither list).
     */
    async probe(partitionKey: string, rowKeys: readonly string[], options: { expectPresent: boolean; stopAfterAbsent?: number }): Promise<{ present: string[]; absent: string[] }> {
        const present: string[] = [];
        const absent: string[] = [];
        const stopAfterAbsent = options.stopAfterAbsent ?? Number.POSITIVE_INFINITY;
        const batches: string[][] = [];
        for (let start = 0; start < rowKeys.length; start += PROBE_BATCH) batches.push(rowKeys.slice(start, start + PROBE_BATCH));
        let guessPresent = options.expectPresent;
        let next = 0;
        while (next < batches.length && absent.length < stopAfterAbsent) {
            const wave = batches.slice(next, next === 0 ? 1 : next + PROBES_IN_FLIGHT);
            const settled = await Promise.all(wave.map((batch) => this.probeBatch(partitionKey, batch, guessPresent)));
            for (const batch of settled) {
                present.push(...batch.present);
                absent.push(...batch.absent);
            }
            guessPresent = settled.at(-1)!.lastPresent;
            next += wave.length;
        }
        return { present, absent };
    }

    /** One batch of a probe (≤ `PROBE_BATCH` keys): one transaction per run of keys that agree. */
    private async probeBatch(partitionKey: string, batch: readonly string[], guessPresent: boolean): Promise<{ present: string[]; absent: string[]; lastPresent: boolean }> {
        const present: string[] = [];
        const absent: string[] = [];
        let guess = guessPresent;
        let next = 0;
        while (next < batch.length) {
            const keys = batch.slice(next);
            const probes = keys.map((rowKey): TransactionAction => (guess ? ['update', { partitionKey, rowKey }, 'Merge'] : ['create', { partitionKey, rowKey }]));
            const failedAt = await this.failingIndexOf([...probes, ['update', { partitionKey, rowKey: NEVER_PRESENT_ROW_KEY }, 'Merge']], guess ? 404 : 409);
            (guess ? present : absent).push(...keys.slice(0, failedAt));
            if (failedAt < keys.length) {
                (guess ? absent : present).push(keys[failedAt]!);
                guess = !guess;
            }
            next += Math.min(failedAt + 1, keys.length);
        }
        return { present, absent, lastPresent: guess };
    }

    /** Submits a transaction that must fail; returns the index of the failing operation (404 for the last one, `status` for the others). */
    private async failingIndexOf(actions: TransactionAction[], status: number): Promise<number> {
        try {
            await this.client.submitTransaction(actions);
        } catch (error) {
            const index = failedOperationIndex(error);
            const expected = index === actions.length - 1 ? 404 : status;
            if (index !== undefined && statusCodeOf(error) === expected) return index;
            throw error;
        }
        throw new Error('a probe transaction succeeded; it must always fail');
    }

    /**
     * Deletes one entity only if it is still at `etag` (If-Match): 412 otherwise, 404 if it is gone. The one
     * conditional delete there is; a transaction deletes with If-Match `*` (the SDK's transaction actions
     * carry no ETag for a delete).
     */
    async deleteAtVersion(partitionKey: string, rowKey: string, etag: string): Promise<void> {
        await this.client.deleteEntity(partitionKey, rowKey, { etag });
    }

    /** Submits one transaction (≤ 100 operations, one partition); returns each operation's new ETag ('' for deletes). */
    async submit(actions: TransactionAction[]): Promise<string[]> {
        const response = await this.client.submitTransaction(actions);
        return response.subResponses.map((subResponse) => subResponse.etag?.trim() ?? '');
    }
}
