/**
 * The change feed as the `/changes` route and the push timer see it (docs/feed.md). One implementation,
 * `TableChangeFeed` (shared/store): each storage partition is a stream of events written in the same
 * transactions as the changes they describe (docs/storage.md, "Change feed").
 */
import type { FeedCursor } from './cursor';
import type { ChangeEvent } from './events';

export interface FeedPage {
    /** Oldest first; at most the `count` asked for. */
    events: ChangeEvent[];
    /** Where the next page starts: always present (a feed has no last page; an empty page means caught up). */
    nextCursor: string;
}

export interface ChangeFeed {
    /**
     * Events after `cursor` (empty: from the oldest retained event), at most `count` (≤ 1,000). Throws
     * ScimError 400 `invalidCursor` for a cursor this feed did not sign, `expiredCursor` for one pointing
     * before the oldest retained event, 503 when storage is unavailable.
     */
    readPage(cursor: string, count: number): Promise<FeedPage>;
}

/** Where forwarding to the queue got to: the implementation keeps what a conditional save needs beside the cursor. */
export interface Checkpoint {
    readonly cursor: FeedCursor;
}

/** What the push timer needs besides reading: decoded cursors, a checkpoint it moves conditionally, retention. */
export interface ForwardableFeed {
    page(cursor: FeedCursor, count: number): Promise<{ events: ChangeEvent[]; next: FeedCursor }>;
    /** Where forwarding got to; the start of the feed when it never ran. */
    readCheckpoint(): Promise<Checkpoint>;
    /** Moves the checkpoint from `previous`; undefined when another forwarder moved it first (the caller stops). */
    saveCheckpoint(previous: Checkpoint, cursor: FeedCursor): Promise<Checkpoint | undefined>;
    /**
     * Deletes events committed before `before`, oldest first, in transactions of 100, until `deadline` (ms since
     * the epoch). Never a stream's newest event (so an expired cursor is always recognised), and with `keepFrom`
     * never an event after that cursor (not yet forwarded). Returns how many it deleted.
     */
    removeExpired(before: Date, deadline: number, keepFrom?: FeedCursor): Promise<number>;
}
