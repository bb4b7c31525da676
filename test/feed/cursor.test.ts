/** The change feed's cursor (shared/feed/cursor.ts) and `count` (changesEndpoint.ts): signed, opaque, refused with RFC 9865's scimTypes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCount } from '../../shared/feed/changesEndpoint';
import { decodeCursor, encodeCursor, startOfFeed, type FeedCursor } from '../../shared/feed/cursor';
import { ScimError } from '../../shared/scim/errors';

const KEY = Buffer.alloc(32, 1);
const OTHER_KEY = Buffer.alloc(32, 2);

function scimTypeOf(work: () => unknown): string | undefined {
    try {
        work();
        return undefined;
    } catch (error) {
        expect(error).toBeInstanceOf(ScimError);
        return (error as ScimError).scimType;
    }
}

describe('feed cursors', () => {
    it('round-trip, URL-safe (RFC 3986 unreserved characters only), and an empty cursor is the start', () => {
        const cursor: FeedCursor = { users: { position: 42, nextEventTime: 1_764_424_931_523_000 }, groups: { position: 7 } };
        const text = encodeCursor(cursor, KEY);
        expect(text).toMatch(/^[A-Za-z0-9._~-]+$/);
        expect(decodeCursor(text, KEY)).toEqual(cursor);
        expect(decodeCursor('', KEY)).toEqual(startOfFeed());
        expect(decodeCursor(null, KEY)).toEqual(startOfFeed());
    });

    it('refuses a cursor signed by another feed, edited, truncated or extended', () => {
        const text = encodeCursor({ users: { position: 5 }, groups: { position: 3 } }, KEY);
        const [payload, mac] = text.split('.') as [string, string];
        const forged = Buffer.from(JSON.stringify([1, [999], [3]])).toString('base64url');
        for (const bad of [encodeCursor(startOfFeed(), OTHER_KEY), `${forged}.${mac}`, payload, `${text}.x`, text.slice(0, -1), `${payload}.`, '.']) {
            expect(scimTypeOf(() => decodeCursor(bad, KEY)), bad).toBe('invalidCursor');
        }
    });

    it('answers any other text with invalidCursor, never another error (property)', () => {
        let cases = 0;
        fc.assert(
            fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.base64String(), fc.constantFrom('a.b', 'WzFd.AAAA', `${'A'.repeat(600)}`)), (text) => {
                fc.pre(text !== '');
                cases++;
                expect(scimTypeOf(() => decodeCursor(text, KEY))).toBe('invalidCursor');
            }),
            { numRuns: 2000 },
        );
        expect(cases).toBeGreaterThan(1500);
    });
});

describe('count', () => {
    it('defaults to 100, caps at 1,000, reads a negative number as 0 (RFC 9865 §2) and refuses anything but an integer', () => {
        expect(readCount(null)).toBe(100);
        expect(readCount('')).toBe(100);
        expect(readCount('250')).toBe(250);
        expect(readCount('5000')).toBe(1000);
        expect(readCount('-4')).toBe(0);
        for (const bad of ['ten', '1.5', '1e3', '0x10', '9999999999']) expect(scimTypeOf(() => readCount(bad)), bad).toBe('invalidCount');
        expect(readCount(' 12 ')).toBe(12);
    });
});
