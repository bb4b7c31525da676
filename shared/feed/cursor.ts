/**
 * The change feed's cursor (RFC 9865 §2: an opaque, URL-safe string; empty for the first page).
 *
 * The feed is one stream per storage partition (users, groups: docs/storage.md, "Change feed"), each
 * with gap-free positions in commit order, so a cursor is, per stream, the position of the last event
 * delivered (0: nothing yet, start at the oldest retained event), plus — when the reader already saw it —
 * the commit time of the stream's next event, which lets the next page skip reading a stream whose next
 * event is not due yet.
 *
 * It is signed (HMAC-SHA-256, truncated to 128 bits) with a key of the feed it came from, so a
 * malformed, edited or foreign cursor (another deployment's, another tenant's, a SCIM paging cursor) is
 * refused with `invalidCursor` (RFC 9865 §2.1, §6: "easily detect forged cursor values").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ScimError } from '../scim/errors';

export const FEED_STREAMS = ['users', 'groups'] as const;
export type FeedStream = (typeof FEED_STREAMS)[number];

export interface StreamCursor {
    /** Position of the last event delivered from this stream; 0 before the first. */
    position: number;
    /** Commit time (microseconds since the epoch) of the event at `position + 1`, when known. */
    nextEventTime?: number;
}

export type FeedCursor = Record<FeedStream, StreamCursor>;

const FORMAT_VERSION = 1;
const MAC_BYTES = 16;
/** A cursor longer than this is not one of ours (ours are under 100 characters). */
const MAX_CURSOR_LENGTH = 512;

export function startOfFeed(): FeedCursor {
    return { users: { position: 0 }, groups: { position: 0 } };
}

export function encodeCursor(cursor: FeedCursor, key: Buffer): string {
    const payload = Buffer.from(JSON.stringify([FORMAT_VERSION, ...FEED_STREAMS.map((stream) => streamFields(cursor[stream]))]), 'utf8').toString('base64url');
    return `${payload}.${mac(payload, key)}`;
}

/** The cursor a client sent; empty or absent means the start of the feed. Anything not signed by `key` is `invalidCursor`. */
export function decodeCursor(text: string | null | undefined, key: Buffer): FeedCursor {
    if (text === null || text === undefined || text === '') return startOfFeed();
    if (text.length > MAX_CURSOR_LENGTH) throw invalidCursor();
    const [payload, signature, extra] = text.split('.');
    if (payload === undefined || signature === undefined || extra !== undefined) throw invalidCursor();
    const expected = Buffer.from(mac(payload, key), 'utf8');
    const presented = Buffer.from(signature, 'utf8');
    if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) throw invalidCursor();
    let fields: unknown;
    try {
        fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
        throw invalidCursor();
    }
    if (!Array.isArray(fields) || fields[0] !== FORMAT_VERSION || fields.length !== FEED_STREAMS.length + 1) throw invalidCursor();
    const cursor = startOfFeed();
    FEED_STREAMS.forEach((stream, index) => (cursor[stream] = streamCursorOf(fields[index + 1])));
    return cursor;
}

export function invalidCursor(): ScimError {
    return ScimError.badRequest('invalidCursor', 'The cursor is not valid for this feed; send an empty cursor to start at the oldest retained event');
}

function streamFields(stream: StreamCursor): number[] {
    return stream.nextEventTime === undefined ? [stream.position] : [stream.position, stream.nextEventTime];
}

function streamCursorOf(fields: unknown): StreamCursor {
    if (!Array.isArray(fields) || fields.length < 1 || fields.length > 2 || !fields.every(isNonNegativeInteger)) throw invalidCursor();
    const [position, nextEventTime] = fields;
    return nextEventTime === undefined ? { position: position! } : { position: position!, nextEventTime };
}

function isNonNegativeInteger(value: unknown): value is number {
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function mac(payload: string, key: Buffer): string {
    return createHmac('sha256', key).update(`scim-change-feed-cursor:${payload}`).digest().subarray(0, MAC_BYTES).toString('base64url');
}
