/**
 * The few ways the store talks to its table: point reads (one or many), key-range pages,
 * entity-group transactions and a conditional single delete. Filters are built only with the `odata` template, so no RowKey (which holds
 * client text) can change a query's meaning. Errors pass through raw; the store decides what they mean.
 */
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { inParallel } from './inParallel';
import { prefixRange } from './keys';
import { statusCodeOf } from '../statusCodeOf';

/** An entity as the SDK returns it: properties plus `partitionKey`, `rowKey`, `etag`. */
export type Entity = Record<string, unknown> & { partitionKey?: string; rowKey?: string; etag?: string };

/** Entity-group transaction limit (docs/azure-notes.md §6). */
export const MAX_TRANSACTION_OPERATIONS = 100;
/** Point reads `readMany` keeps in flight: enough to hide latency, few enough not to flood a partition. */
const POINT_READS_IN_FLIGHT = 16;
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
     * Every entity whose RowKey starts with `prefix` (and, with `after`, sorts after that RowKey), page by
     * page, in RowKey order.
     */
    async *pages(partitionKey: string, prefix: string, options: { select?: string[]; pageSize?: number; after?: string } = {}): AsyncIterable<Entity[]> {
        const { from, to } = prefixRange(prefix);
        const filter =
            options.after === undefined
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
