/**
 * The Table Storage implementation of the change feed ports (shared/feed/ChangeFeed.ts): reading pages
 * (FeedReader.ts), the queue forwarder's checkpoint and retention. The events themselves are written by the
 * store's transactions (FeedLog.ts); the design is in docs/storage.md, "Change feed".
 */
import type { TransactionAction } from '@azure/data-tables';
import type { ChangeFeed, Checkpoint, FeedPage, ForwardableFeed } from '../feed/ChangeFeed';
import { FEED_STREAMS, startOfFeed, type FeedCursor } from '../feed/cursor';
import type { ChangeEvent } from '../feed/events';
import { EntityTable, MAX_TRANSACTION_OPERATIONS } from './EntityTable';
import type { FeedReader } from './FeedReader';
import { microsOf } from './FeedReader';
import { statusCodeOf } from '../statusCodeOf';
import { EVENT_ROW_PREFIX, FEED_PUSH_CHECKPOINT_ROW_KEY, partitionOfStream, positionOfEventRowKey, type Partitions } from './keys';
import { asStoreError } from './storageErrors';

interface TableCheckpoint extends Checkpoint {
    /** ETag of each stream's checkpoint row; undefined where none exists yet. */
    etags: Record<string, string | undefined>;
}

export class TableChangeFeed implements ChangeFeed, ForwardableFeed {
    constructor(
        private readonly table: EntityTable,
        private readonly partitions: Partitions,
        private readonly reader: FeedReader,
        /** The store's start-up: the table exists and both streams' heads are known. */
        private readonly ready: () => Promise<unknown>,
    ) {}

    async readPage(cursor: string, count: number): Promise<FeedPage> {
        return this.guarded(() => this.reader.readPage(cursor, count));
    }

    async page(cursor: FeedCursor, count: number): Promise<{ events: ChangeEvent[]; next: FeedCursor }> {
        return this.guarded(() => this.reader.page(cursor, count));
    }

    async readCheckpoint(): Promise<TableCheckpoint> {
        return this.guarded(async () => {
            const cursor = startOfFeed();
            const etags: Record<string, string | undefined> = {};
            for (const stream of FEED_STREAMS) {
                const row = await this.table.read(partitionOfStream(stream, this.partitions), FEED_PUSH_CHECKPOINT_ROW_KEY);
                if (row) cursor[stream] = { position: Number(row.position) };
                etags[stream] = row ? String(row.etag) : undefined;
            }
            return { cursor, etags };
        });
    }

    /** One conditional write per stream that moved (insert where none exists, If-Match otherwise). */
    async saveCheckpoint(previous: Checkpoint, cursor: FeedCursor): Promise<TableCheckpoint | undefined> {
        const { etags } = previous as TableCheckpoint;
        return this.guarded(async () => {
            const saved: Record<string, string | undefined> = { ...etags };
            for (const stream of FEED_STREAMS) {
                if (cursor[stream].position === previous.cursor[stream].position && etags[stream] !== undefined) continue;
                const row = { partitionKey: partitionOfStream(stream, this.partitions), rowKey: FEED_PUSH_CHECKPOINT_ROW_KEY, position: String(cursor[stream].position) };
                const etag = etags[stream];
                const action: TransactionAction = etag === undefined ? ['create', row] : ['update', row, 'Replace', { etag }];
                try {
                    [saved[stream]] = await this.table.submit([action]);
                } catch (error) {
                    if (statusCodeOf(error) === 409 || statusCodeOf(error) === 412) return undefined; // another forwarder got there first
                    throw error;
                }
            }
            return { cursor, etags: saved };
        });
    }

    async removeExpired(before: Date, deadline: number, keepFrom?: FeedCursor): Promise<number> {
        return this.guarded(async () => {
            const cutoff = before.getTime() * 1000;
            let removed = 0;
            for (const stream of FEED_STREAMS) {
                const partition = partitionOfStream(stream, this.partitions);
                const lastForwarded = keepFrom?.[stream].position ?? Number.POSITIVE_INFINITY;
                let expired: string[] = [];
                // Delete an event only once a later one is known to exist: a stream's newest event stays.
                let candidate: string | undefined;
                scan: for await (const page of this.table.pages(partition, EVENT_ROW_PREFIX, { select: ['Timestamp'] })) {
                    for (const row of page) {
                        if (candidate !== undefined) expired.push(candidate);
                        candidate = undefined;
                        if (expired.length >= MAX_TRANSACTION_OPERATIONS) {
                            if (Date.now() >= deadline) return removed;
                            removed += await this.deleteEvents(partition, expired);
                            expired = [];
                        }
                        const position = positionOfEventRowKey(String(row.rowKey)) ?? 0;
                        if (microsOf(String(row.timestamp)) >= cutoff || position > lastForwarded) break scan;
                        candidate = String(row.rowKey);
                    }
                }
                if (Date.now() >= deadline) return removed;
                removed += await this.deleteEvents(partition, expired);
            }
            return removed;
        });
    }

    private async deleteEvents(partition: string, rowKeys: string[]): Promise<number> {
        if (rowKeys.length === 0) return 0;
        await this.table.submit(rowKeys.map((rowKey): TransactionAction => ['delete', { partitionKey: partition, rowKey }]));
        return rowKeys.length;
    }

    private async guarded<T>(work: () => Promise<T>): Promise<T> {
        try {
            await this.ready();
            return await work();
        } catch (error) {
            throw asStoreError(error);
        }
    }
}
