/**
 * A resource row keeps its attributes as JSON split into string properties of at most 30,000 UTF-16 code
 * units (a property holds 64 KiB, docs/azure-notes.md §6); these check the split and the join on their own.
 */
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../shared/scim/storeErrors';
import { attributesOf, buildResourceRows, MAX_ATTRIBUTES_JSON_LENGTH } from '../../shared/store/entities';
import { DEFAULT_PARTITIONS } from '../../shared/store/keys';

const TIMES = { created: '2031-05-01T12:00:00.000Z', lastModified: '2031-05-01T12:00:00.000Z' };
const CHUNK = 30_000;

function rowOf(attributes: Record<string, unknown>) {
    return buildResourceRows('User', 'u1', { userName: 'alice@contoso.com', ...attributes }, DEFAULT_PARTITIONS, TIMES).resource;
}

function chunksOf(row: Record<string, unknown>): string[] {
    return Array.from({ length: Number(row.attributesChunks) }, (_, index) => String(row[`attributes${index}`]));
}

describe('attribute chunks', () => {
    it('keep a small resource in one chunk, and read it back', () => {
        const row = rowOf({ displayName: 'Alice' });
        expect(row.attributesChunks).toBe(1);
        expect(attributesOf(row)).toEqual({ userName: 'alice@contoso.com', displayName: 'Alice' });
    });

    it('split a large resource into chunks of at most 30,000 code units that join back to the same JSON', () => {
        const attributes = { title: 'x'.repeat(100_000) };
        const row = rowOf(attributes);
        const chunks = chunksOf(row);
        expect(chunks.length).toBe(Math.ceil(JSON.stringify({ userName: 'alice@contoso.com', ...attributes }).length / CHUNK));
        for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(CHUNK);
        expect(attributesOf(row)).toEqual({ userName: 'alice@contoso.com', ...attributes });
    });

    it('never split a surrogate pair across chunks, wherever the boundary falls', () => {
        const prefix = JSON.stringify({ userName: 'alice@contoso.com', title: '' }).length - 2; // up to the title's first character
        let boundariesAtAPair = 0;
        for (let shift = 0; shift < 4; shift++) {
            const title = 'a'.repeat(CHUNK - prefix - 10 + shift) + '😀'.repeat(20);
            const row = rowOf({ title });
            const chunks = chunksOf(row);
            expect(chunks.length).toBe(2);
            for (const chunk of chunks) {
                expect(chunk).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
                expect(chunk.length).toBeLessThanOrEqual(CHUNK);
            }
            if (chunks[0]!.length < CHUNK) boundariesAtAPair++;
            expect(attributesOf(row)).toMatchObject({ title });
        }
        expect(boundariesAtAPair).toBeGreaterThan(0); // the case the rule is for did occur
    });

    it('write U+2028 and U+2029 as JSON escapes (Azurite fails a batch holding them raw) and read them back', () => {
        const row = rowOf({ title: 'line\u2028separator\u2029paragraph' });
        expect(chunksOf(row).join('')).not.toMatch(/[\u2028\u2029]/);
        expect(chunksOf(row).join('')).toContain('\\u2028');
        expect(attributesOf(row)).toMatchObject({ title: 'line\u2028separator\u2029paragraph' });
    });

    it('refuse a resource over the limit as tooLarge, before any row is built, and accept one just under it', () => {
        const overhead = JSON.stringify({ userName: 'alice@contoso.com', title: '' }).length;
        expect(() => rowOf({ title: 'x'.repeat(MAX_ATTRIBUTES_JSON_LENGTH - overhead) })).not.toThrow();
        let refused: unknown;
        try {
            rowOf({ title: 'x'.repeat(MAX_ATTRIBUTES_JSON_LENGTH - overhead + 1) });
        } catch (error) {
            refused = error;
        }
        expect(refused).toBeInstanceOf(StoreError);
        expect(refused).toMatchObject({ kind: 'tooLarge' });
    });

    it('refuse a resource without its unique attribute as an invalid change', () => {
        expect(() => buildResourceRows('Group', 'g1', { externalId: 'x' }, DEFAULT_PARTITIONS, TIMES)).toThrow(expect.objectContaining({ kind: 'invalidChange', message: 'displayName is required' }));
    });
});
