/**
 * Writing the change feed (docs/storage.md, "Change feed"): every transaction that changes a resource
 * also writes its event rows and bumps its partition's stream head, in the same entity-group transaction.
 *
 * Positions are allocated in commit order: the head row `feed:head` holds the last position, and a
 * transaction that records events k+1 … k+n updates it from k to k+n with If-Match on the ETag it read.
 * Two transactions can therefore never both commit from head k: the second fails (412 on the head, or 409
 * on the event row it inserts) and takes the next positions. A committed event's position is thus always greater than every position committed
 * before it, and a reader that has seen position p never later finds an event at a position ≤ p.
 *
 * The price is that writers of one partition take turns. Within a process they queue here (one
 * transaction in flight per partition, the head's ETag remembered from the last commit, so no read); a
 * writer in another process that committed in between costs a 412, one point read of the head and a retry.
 */
import { randomBytes } from 'node:crypto';
import type { TransactionAction } from '@azure/data-tables';
import type { EventDraft } from '../feed/events';
import { StoreError } from '../scim/storeErrors';
import { statusCodeOf } from '../statusCodeOf';
import { EntityTable } from './EntityTable';
import { chunkedProperties, joinedProperties, jsonForStorage, MAX_ATTRIBUTES_JSON_LENGTH } from './entities';
import { eventRowKey, FEED_HEAD_ROW_KEY } from './keys';
import { failedOperationIndex } from './storageErrors';

/** Operations the feed adds to a transaction that records one event: the head bump and the event row. */
export const FEED_OPERATIONS_PER_EVENT = 2;

/** Attempts at a transaction whose head another process moved first, before answering 503. */
const MAX_HEAD_ATTEMPTS = 30;

/** What one transaction writes: the change's own operations and the events that record it. */
export interface FeedTransaction {
    actions: TransactionAction[];
    events: EventDraft[];
}

export interface StreamHead {
    position: number;
    etag: string;
    /** Random, written once with the head: signs this feed's cursors (shared/feed/cursor.ts). */
    cursorKey: Buffer;
}

export class FeedLog {
    private readonly heads = new Map<string, StreamHead>();
    /** The tail of each partition's queue of writers in this process. */
    private readonly queues = new Map<string, Promise<unknown>>();

    constructor(private readonly table: EntityTable) {}

    /**
     * Submits `build(first position)` plus the head bump and the event rows as one transaction, retrying
     * with fresh positions while another process's writer moves the head first. The change's operations come
     * first, so a failure of one of them keeps the index the caller expects (uniqueness, 404 of a remove) and
     * is thrown as storage reported it. Returns the ETags of the change's operations.
     */
    async append(partition: string, build: (firstPosition: number) => FeedTransaction): Promise<{ etags: string[]; firstPosition: number }> {
        return (await this.appendAfterRead(partition, build))!;
    }

    /**
     * `append` whose `build` may first read (inside this partition's turn, so the read and the transaction are
     * one round trip apart, as without the queue) and may decide to write nothing (undefined).
     */
    async appendAfterRead(
        partition: string,
        build: (firstPosition: number) => FeedTransaction | undefined | Promise<FeedTransaction | undefined>,
    ): Promise<{ etags: string[]; firstPosition: number } | undefined> {
        return this.serially(partition, async () => {
            for (let attempt = 1; ; attempt++) {
                const head = this.heads.get(partition) ?? (await this.readHead(partition));
                const firstPosition = head.position + 1;
                const transaction = await build(firstPosition);
                if (transaction === undefined) return undefined;
                const { actions, events } = transaction;
                const headIndex = actions.length;
                const lastPosition = head.position + events.length;
                const operations: TransactionAction[] = [
                    ...actions,
                    ['update', { partitionKey: partition, rowKey: FEED_HEAD_ROW_KEY, position: String(lastPosition) }, 'Merge', { etag: head.etag }],
                    ...events.map((event, index): TransactionAction => ['create', eventRow(partition, firstPosition + index, event)]),
                ];
                try {
                    const etags = await this.table.submit(operations);
                    this.heads.set(partition, { ...head, position: lastPosition, etag: etags[headIndex]! });
                    return { etags: etags.slice(0, headIndex), firstPosition };
                } catch (error) {
                    const index = failedOperationIndex(error);
                    if (index === undefined || index < headIndex) throw error;
                    // The head or an event row: another process wrote this partition since we read its head.
                    this.heads.delete(partition);
                    if (attempt >= MAX_HEAD_ATTEMPTS) throw new StoreError('unavailable', 'Too many concurrent writers, retry later', { retryAfterSeconds: 1 });
                    await sleep(Math.random() * 5 * attempt);
                }
            }
        });
    }

    /** The head of a partition's stream, read (and created on first use) unless this process already knows it. */
    async head(partition: string): Promise<StreamHead> {
        return this.heads.get(partition) ?? this.readHead(partition);
    }

    /** Reads the head; creates it at position 0 with a fresh cursor key when the partition has none yet. */
    private async readHead(partition: string): Promise<StreamHead> {
        for (;;) {
            const entity = await this.table.read(partition, FEED_HEAD_ROW_KEY);
            if (entity) {
                const head: StreamHead = {
                    position: Number(entity.position),
                    etag: String(entity.etag),
                    cursorKey: Buffer.from(String(entity.cursorKey), 'base64'),
                };
                this.heads.set(partition, head);
                return head;
            }
            const cursorKey = randomBytes(32);
            try {
                const [etag] = await this.table.submit([['create', { partitionKey: partition, rowKey: FEED_HEAD_ROW_KEY, position: '0', cursorKey: cursorKey.toString('base64') }]]);
                const head: StreamHead = { position: 0, etag: etag!, cursorKey };
                this.heads.set(partition, head);
                return head;
            } catch (error) {
                if (statusCodeOf(error) !== 409) throw error; // created by someone else meanwhile: read it
            }
        }
    }

    /** Runs `work` after every earlier writer of the partition in this process has finished. */
    private serially<T>(partition: string, work: () => Promise<T>): Promise<T> {
        const previous = this.queues.get(partition) ?? Promise.resolve();
        const run = previous.then(work, work);
        const tail = run.then(
            () => undefined,
            () => undefined,
        );
        this.queues.set(partition, tail);
        void tail.then(() => {
            if (this.queues.get(partition) === tail) this.queues.delete(partition);
        });
        return run;
    }
}

/**
 * An event row: the draft as JSON in chunks, like resource attributes. A draft too large for an entity (only
 * a resource near the 450,000-character limit can make one) keeps its attribute names and drops their values.
 */
export function eventRow(partitionKey: string, position: number, event: EventDraft): Record<string, unknown> & { partitionKey: string; rowKey: string } {
    let json = jsonForStorage(event);
    if (json.length > MAX_ATTRIBUTES_JSON_LENGTH && event.attributes) {
        const { attributes, ...rest } = event;
        json = jsonForStorage({ ...rest, attributesOmitted: Object.keys(attributes) });
    }
    return { partitionKey, rowKey: eventRowKey(position), ...chunkedProperties('data', json) };
}

/** The draft stored in an event row. */
export function eventDraftOf(row: Record<string, unknown>): EventDraft {
    return JSON.parse(joinedProperties(row, 'data')) as EventDraft;
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
