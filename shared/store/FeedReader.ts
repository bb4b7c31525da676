/**
 * Reading the change feed (docs/storage.md, "Change feed"; docs/feed.md for consumers).
 *
 * Each partition is one stream with gap-free positions in commit order (FeedLog.ts). A page merges the
 * streams by commit time: it reads each stream from its cursor position (one range read of up to `count`
 * events), and emits the oldest event first. A stream whose next event the cursor already knows (the
 * previous page read it without emitting it) is read only once the merge reaches that event's time, so
 * a page that advances one stream costs ⌈count/1000⌉ range reads of it, and both streams are read only
 * when both have events due or a stream's next event is unknown (the reader is caught up).
 *
 * Guarantees (argued in docs/storage.md):
 * - no skip: a stream's events are read in position order from the cursor position, and no event can
 *   commit later at a lower position; a gap inside what one read returned ends the page before the gap;
 * - expiry: positions are gap-free, so a read from position p whose first event is later than p + 1 means
 *   retention removed events the reader has not seen: `expiredCursor` (retention keeps each stream's newest event).
 */
import { createHash } from 'node:crypto';
import type { FeedPage } from '../feed/ChangeFeed';
import type { ChangeEvent } from '../feed/events';
import { StoreError } from '../scim/storeErrors';
import { decodeCursor, encodeCursor, FEED_STREAMS, type FeedCursor, type FeedStream, type StreamCursor } from '../feed/cursor';
import { EntityTable, MAX_PAGE_SIZE, type Entity } from './EntityTable';
import { eventDraftOf, type FeedLog } from './FeedLog';
import { EVENT_ROW_PREFIX, eventRowKey, partitionOfStream, positionOfEventRowKey, type Partitions } from './keys';

interface ReadEvent {
    position: number;
    /** Commit time, microseconds since the epoch (storage timestamps have sub-millisecond digits). */
    micros: number;
    event: ChangeEvent;
}

interface StreamState {
    stream: FeedStream;
    cursor: StreamCursor;
    loaded: boolean;
    events: ReadEvent[];
    /** Index of the next event of `events` to emit. */
    next: number;
    /** True when the read reached the end of the stream (nothing after `events` at that moment). */
    complete: boolean;
}

export class FeedReader {
    constructor(
        private readonly table: EntityTable,
        /** Whose feed: the streams are this tenant's partitions. */
        private readonly partitions: Partitions,
        private readonly log: FeedLog,
    ) {}

    /** A page of at most `count` events after `cursorText` (empty: from the oldest retained event). */
    async readPage(cursorText: string | null | undefined, count: number): Promise<FeedPage> {
        const key = await this.cursorKey();
        const { events, next } = await this.page(decodeCursor(cursorText, key), count);
        return { events, nextCursor: encodeCursor(next, key) };
    }

    /** The same, on a decoded cursor (the queue forwarder keeps its checkpoint decoded). */
    async page(cursor: FeedCursor, count: number): Promise<{ events: ChangeEvent[]; next: FeedCursor }> {
        const size = Math.max(0, Math.min(MAX_PAGE_SIZE, Math.floor(count)));
        // Groups before users: a membership event commits after the user it names was created, so reading the
        // groups stream first means any user a group event names is already visible to the users read.
        const states: StreamState[] = ['groups', 'users'].map((stream) => ({
            stream: stream as FeedStream,
            cursor: cursor[stream as FeedStream],
            loaded: false,
            events: [],
            next: 0,
            complete: false,
        }));
        const emitted: ReadEvent[] = [];
        while (size > 0 && emitted.length < size) {
            for (const state of states) if (!state.loaded && state.cursor.nextEventTime === undefined) await this.load(state, size);
            // A stream read to its limit and emitted in full: its next event could be older than anything else.
            if (states.some((state) => state.loaded && !state.complete && state.next >= state.events.length)) break;
            // Users win ties: a user's creation and a group change naming it should read in that order.
            let best: { state: StreamState; micros: number } | undefined;
            for (const state of [...states].reverse()) {
                const micros = state.loaded ? state.events[state.next]?.micros : state.cursor.nextEventTime;
                if (micros !== undefined && (!best || micros < best.micros)) best = { state, micros };
            }
            if (!best) break;
            if (!best.state.loaded) {
                await this.load(best.state, size);
                continue;
            }
            emitted.push(best.state.events[best.state.next++]!);
        }
        return { events: emitted.map((read) => read.event), next: this.nextCursor(states) };
    }

    /** The key that signs this feed's cursors: both streams' head keys (written once, with the heads). */
    async cursorKey(): Promise<Buffer> {
        const hash = createHash('sha256');
        for (const stream of FEED_STREAMS) hash.update((await this.log.head(partitionOfStream(stream, this.partitions))).cursorKey);
        return hash.digest();
    }

    /**
     * Reads up to `count` events of a stream after its cursor position: one range read per 1,000 (more only
     * when storage returns short pages). Refuses a cursor whose next event retention has removed.
     */
    private async load(state: StreamState, count: number): Promise<void> {
        state.loaded = true;
        for (let attempt = 1; ; attempt++) {
            const { events, complete } = await this.readAfter(state.stream, state.cursor.position, count);
            const first = events[0];
            if (state.cursor.position > 0 && first !== undefined && first.position > state.cursor.position + 1) {
                // Retention removed events after the cursor, or (never observed) the read raced a commit: look once more.
                if (attempt < 2) continue;
                throw new StoreError('expiredCursor', 'The cursor points before the oldest retained event; send an empty cursor to start at the oldest retained event');
            }
            // Positions are gap-free: a gap inside a read ends what can be emitted before it.
            let end = 0;
            while (end < events.length && (end === 0 || events[end]!.position === events[end - 1]!.position + 1)) end++;
            state.events = events.slice(0, end);
            state.complete = complete && end === events.length;
            return;
        }
    }

    private async readAfter(stream: FeedStream, position: number, count: number): Promise<{ events: ReadEvent[]; complete: boolean }> {
        const events: ReadEvent[] = [];
        const rows = this.table.pages(partitionOfStream(stream, this.partitions), EVENT_ROW_PREFIX, { after: eventRowKey(position), pageSize: Math.min(count, MAX_PAGE_SIZE) });
        for await (const page of rows) {
            for (const entity of page) {
                const read = readEvent(stream, entity);
                if (read) events.push(read);
            }
            if (events.length >= count) return { events: events.slice(0, count), complete: false };
        }
        return { events, complete: true };
    }

    private nextCursor(states: StreamState[]): FeedCursor {
        const cursor = {} as FeedCursor;
        for (const state of states) {
            if (!state.loaded) {
                cursor[state.stream] = state.cursor;
                continue;
            }
            const last = state.events[state.next - 1];
            const upcoming = state.events[state.next];
            const position = last?.position ?? state.cursor.position;
            cursor[state.stream] = upcoming ? { position, nextEventTime: upcoming.micros } : { position };
        }
        return cursor;
    }
}

function readEvent(stream: FeedStream, entity: Entity): ReadEvent | undefined {
    const position = positionOfEventRowKey(String(entity.rowKey));
    if (position === undefined) return undefined;
    const time = String(entity.timestamp);
    const { type, resourceType, resourceId, externalId, version, ...rest } = eventDraftOf(entity);
    const event: ChangeEvent = {
        id: `${stream}-${position}`,
        type,
        resourceType,
        resourceId,
        ...(externalId === undefined ? {} : { externalId }),
        ...(version === undefined ? {} : { version }),
        time,
        ...rest,
    };
    return { position, micros: microsOf(time), event };
}

/** `2026-11-29T13:55:10.1923456Z` → microseconds since the epoch (Date keeps only milliseconds). */
export function microsOf(iso: string): number {
    const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
    if (!match) return Date.parse(iso) * 1000;
    const fraction = (match[2] ?? '').padEnd(6, '0').slice(0, 6);
    return Date.parse(`${match[1]}Z`) * 1000 + Number(fraction);
}
