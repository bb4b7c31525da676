/**
 * The few ways the store talks to its table: point read, key-range pages, batched key reads and
 * entity-group transactions. Filters are built only with the `odata` template, so no RowKey (which holds
 * client text) can change a query's meaning. Errors pass through raw; the store decides what they mean.
 */
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { prefixRange } from './keys';
import { storageStatusOf } from './storageErrors';

/** An entity as the SDK returns it: properties plus `partitionKey`, `rowKey`, `etag`. */
export type Entity = Record<string, unknown> & { partitionKey?: string; rowKey?: string; etag?: string };

/** Entity-group transaction limit (azure.md §6). */
export const MAX_TRANSACTION_OPERATIONS = 100;
/** Azure allows 15 comparisons per filter: one for PartitionKey, 14 RowKey equalities. */
const ROW_KEYS_PER_QUERY = 14;
/** A query returns at most 1,000 entities per page anyway (azure.md §6). */
export const MAX_PAGE_SIZE = 1000;

export class EntityTable {
    private tableReady: Promise<void> | undefined;

    constructor(private readonly client: TableClient) {}

    /**
     * Creates the table on first use: once per store (the handler layer keeps one store per process),
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
            if (storageStatusOf(error) === 404) return undefined;
            throw error;
        }
    }

    /** Every entity whose RowKey starts with `prefix`, page by page, in RowKey order. */
    async *pages(partitionKey: string, prefix: string, options: { select?: string[]; pageSize?: number } = {}): AsyncIterable<Entity[]> {
        const { from, to } = prefixRange(prefix);
        const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${from} and RowKey lt ${to}`;
        const select = options.select ? ['RowKey', ...options.select] : undefined;
        const entities = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter, ...(select ? { select } : {}) } });
        // Pages may be short or even empty with a continuation token (azure.md §6); byPage follows tokens.
        for await (const page of entities.byPage({ maxPageSize: options.pageSize ?? MAX_PAGE_SIZE })) {
            if (page.length > 0) yield page;
        }
    }

    /** The entities among `rowKeys` that exist: RowKey-equality queries of 14 keys each, in parallel. */
    async readMany(partitionKey: string, rowKeys: string[], select?: string[]): Promise<Entity[]> {
        const batches: string[][] = [];
        for (let start = 0; start < rowKeys.length; start += ROW_KEYS_PER_QUERY) batches.push(rowKeys.slice(start, start + ROW_KEYS_PER_QUERY));
        const results = await Promise.all(
            batches.map(async (batch) => {
                const anyKey = batch.map((rowKey) => odata`RowKey eq ${rowKey}`).join(' or ');
                const filter = `${odata`PartitionKey eq ${partitionKey}`} and (${anyKey})`;
                const found: Entity[] = [];
                const query = this.client.listEntities<Record<string, unknown>>({
                    queryOptions: { filter, ...(select ? { select: ['RowKey', ...select] } : {}) },
                });
                for await (const page of query.byPage({ maxPageSize: ROW_KEYS_PER_QUERY })) found.push(...page);
                return found;
            }),
        );
        return results.flat();
    }

    /** Deletes one entity only if it still has `etag` (412 otherwise). A single request: the SDK's
     * transaction API sends every delete with If-Match `*`. */
    async deleteIfUnchanged(partitionKey: string, rowKey: string, etag: string): Promise<void> {
        await this.client.deleteEntity(partitionKey, rowKey, { etag });
    }

    /** Submits one transaction (≤ 100 operations, one partition); returns each operation's new ETag ('' for deletes). */
    async submit(actions: TransactionAction[]): Promise<string[]> {
        const response = await this.client.submitTransaction(actions);
        return response.subResponses.map((subResponse) => subResponse.etag?.trim() ?? '');
    }
}
