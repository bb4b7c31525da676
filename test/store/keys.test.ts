/** How the SCIM table spells its keys (keys.ts): pure functions, checked against Table Storage's key rules. */
import { describe, expect, it } from 'vitest';
import { caseFolded } from '../../shared/scim/caseFold';
import {
    encodeKeyPart,
    etagOfVersion,
    externalIdRowKey,
    externalIdRowPrefix,
    memberEdgeRowKey,
    memberOfEdgeRowKey,
    prefixRange,
    resourceRowKey,
    reverseOfEdgeRowKey,
    uniqueNameRowKey,
    versionOfEtag,
} from '../../shared/store/keys';

/** Table Storage forbids these in PartitionKey and RowKey (docs/azure-notes.md §6); ':' is our separator. */
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const FORBIDDEN_IN_KEYS = /[/\\#?\u0000-\u001f\u007f-\u009f:]/;

describe('encodeKeyPart', () => {
    it.each([
        ['a plain value', 'alice@contoso.com'],
        ['the forbidden characters', 'a/b\\c#d?e'],
        ['our separator and the escape character', 'a:b%3Ac'],
        ['control characters', 'tab\there\nnewline\u0000nul\u007fdel'],
        ['non-ASCII', 'Zoë Ørsted 東京 😀'],
    ])('makes %s safe inside a RowKey', (_what, value) => {
        const encoded = encodeKeyPart(value);
        expect(encoded).not.toMatch(FORBIDDEN_IN_KEYS);
        expect(encoded.length).toBeLessThanOrEqual(200);
    });

    it('keeps distinct values distinct, and the encoding readable back', () => {
        const values = ['a/b', 'a%2Fb', 'a:b', 'A:b', "o'brien", 'x y'];
        const encoded = values.map(encodeKeyPart);
        expect(new Set(encoded).size).toBe(values.length);
        expect(encoded.map(decodeURIComponent)).toEqual(values);
        expect(encodeKeyPart("o'brien")).toBe("o'brien"); // quotes are the odata template's job
    });

    it('refuses a lone surrogate (400 invalidValue) rather than mapping it to U+FFFD, which made two values one key', () => {
        expect(() => encodeKeyPart('x\uDC00')).toThrow(expect.objectContaining({ kind: 'invalidChange' }));
        expect(() => encodeKeyPart('broken\uD800pair')).toThrow(/lone surrogate/);
        expect(encodeKeyPart('x\uFFFD')).toBe('x%EF%BF%BD');
    });

    it('hashes long values: `$` + SHA-256, different for values that share a long prefix, never equal to an encoded value', () => {
        const a = encodeKeyPart('y'.repeat(2048) + 'a');
        const b = encodeKeyPart('y'.repeat(2048) + 'b');
        expect(a).toMatch(/^\$[0-9a-f]{64}$/);
        expect(b).toMatch(/^\$[0-9a-f]{64}$/);
        expect(a).not.toBe(b);
        expect(encodeKeyPart('$')).toBe('%24'); // `$` never survives encoding, so a hash cannot collide with a value
        expect(encodeKeyPart('z'.repeat(200))).toBe('z'.repeat(200)); // the longest value kept readable
        expect(encodeKeyPart('z'.repeat(201))).toMatch(/^\$/);
    });

    it('keeps the longest RowKey (an edge of two hashed parts) under the 1 KiB limit', () => {
        const longest = memberOfEdgeRowKey('%'.repeat(66), 'é'.repeat(33)); // each encodes to ≤ 200 characters
        expect(longest.length).toBeLessThan(512); // 512 UTF-16 code units = 1 KiB
    });
});

describe('caseFolded', () => {
    it('folds case and Unicode normalisation, so composed and decomposed spellings clash', () => {
        expect(caseFolded('Zoë@Contoso.COM')).toBe(caseFolded('zoe\u0308@contoso.com'));
        expect(caseFolded('ÅSA')).toBe('åsa');
    });
});

describe('row keys', () => {
    it('spell each row kind with its own prefix', () => {
        expect(resourceRowKey('User', 'u1')).toBe('u:u1');
        expect(resourceRowKey('Group', 'g1')).toBe('g:g1');
        expect(uniqueNameRowKey('User', 'Alice@X.com')).toBe('un:alice%40x.com');
        expect(uniqueNameRowKey('Group', 'Sales')).toBe('dn:sales');
        expect(externalIdRowKey('E-1', 'u1')).toBe('ext:E-1:u1');
        expect(memberEdgeRowKey('g1', 'u1')).toBe('m:g1:u1');
        expect(memberOfEdgeRowKey('u1', 'g1')).toBe('mo:u1:g1');
    });

    it('fold userName and displayName (unique case-insensitively) but keep externalId case-exact', () => {
        expect(uniqueNameRowKey('User', 'ALICE@x.com')).toBe(uniqueNameRowKey('User', 'alice@X.COM'));
        expect(externalIdRowKey('ABC', 'u1')).not.toBe(externalIdRowKey('abc', 'u1'));
        expect(externalIdRowKey('ABC', 'u1').startsWith(externalIdRowPrefix('ABC'))).toBe(true);
    });

    it('turn an edge into its reverse from the RowKey alone, and refuse anything else', () => {
        const forward = memberEdgeRowKey('g/1', 'u:1');
        const reverse = memberOfEdgeRowKey('u:1', 'g/1');
        expect(reverseOfEdgeRowKey(forward)).toBe(reverse);
        expect(reverseOfEdgeRowKey(reverse)).toBe(forward);
        expect(() => reverseOfEdgeRowKey(resourceRowKey('User', 'u1'))).toThrow('not an edge row key');
    });
});

describe('prefixRange', () => {
    it('covers exactly the keys that start with the prefix', () => {
        const prefix = externalIdRowPrefix('E');
        const { from, to } = prefixRange(prefix);
        const inRange = (key: string) => key >= from && key < to;
        expect(inRange(externalIdRowKey('E', 'u1'))).toBe(true);
        expect(inRange(externalIdRowKey('E', '\uFFFF'))).toBe(true);
        expect(inRange(prefix)).toBe(true);
        // A longer externalId sharing the first characters, and the neighbours, are outside.
        expect(inRange(externalIdRowKey('E2', 'u1'))).toBe(false);
        expect(inRange(externalIdRowKey('D', 'u1'))).toBe(false);
        expect(inRange(externalIdRowKey('F', 'u1'))).toBe(false);
    });
});

describe('versions', () => {
    const etag = 'W/"datetime\'2031-05-01T12%3A00%3A00.1234567Z\'"';

    it('map a storage ETag to an opaque weak ETag and back', () => {
        const version = versionOfEtag(etag);
        expect(version).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
        expect(version).not.toContain('datetime');
        expect(etagOfVersion(version)).toBe(etag);
        expect(etagOfVersion(version.slice(2))).toBe(etag); // the strong form a client may send
        expect(etagOfVersion(` ${version} `)).toBe(etag);
        expect(etagOfVersion('W/"QQ"')).toBe('A');
    });

    it.each([
        ['an empty text', ''],
        ['a star', '*'],
        ['an unquoted value', 'abc'],
        ['characters outside base64url', 'W/"a+b/c="'],
        ['a non-canonical encoding (QR decodes like QQ, to "A")', 'W/"QR"'],
    ])('refuse %s (the caller answers 412)', (_what, text) => {
        expect(etagOfVersion(text)).toBeUndefined();
    });
});
