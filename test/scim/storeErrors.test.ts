/** The store's error values and the one place they become SCIM errors (RFC 7644 §3.12). */
import { describe, expect, it } from 'vitest';
import { scimErrorOf, StoreError, isStoreError, type StoreErrorKind } from '../../shared/scim/storeErrors';

/** Every kind, with the SCIM error it answers as: the table is exhaustive by type (a new kind must be added here). */
const EXPECTED: Record<StoreErrorKind, { status: number; scimType?: string }> = {
    versionConflict: { status: 412 },
    uniqueness: { status: 409, scimType: 'uniqueness' },
    notFound: { status: 404 },
    tooLarge: { status: 413 },
    invalidChange: { status: 400, scimType: 'invalidValue' },
    tooMany: { status: 400, scimType: 'tooMany' },
    throttled: { status: 429 },
    expiredCursor: { status: 400, scimType: 'expiredCursor' },
    unavailable: { status: 503 },
};

describe('scimErrorOf', () => {
    it.each(Object.entries(EXPECTED))('answers %s as %j, with the store\'s detail', (kind, expected) => {
        const scimError = scimErrorOf(new StoreError(kind as StoreErrorKind, `detail of ${kind}`));
        expect(scimError.status).toBe(expected.status);
        expect(scimError.scimType).toBe(expected.scimType);
        expect(scimError.detail).toBe(`detail of ${kind}`);
    });

    it('carries the retry-after of an unavailable store as Retry-After, 5 s unless the store says otherwise', () => {
        expect(scimErrorOf(new StoreError('unavailable', 'down', { retryAfterSeconds: 30 })).headers).toEqual({ 'Retry-After': '30' });
        expect(scimErrorOf(new StoreError('unavailable', 'down')).headers).toEqual({ 'Retry-After': '5' });
        expect(scimErrorOf(new StoreError('notFound', 'gone')).headers).toEqual({});
    });
});

describe('isStoreError', () => {
    it('tells a store error, of a kind or of any, from anything else', () => {
        const conflict = new StoreError('versionConflict', 'changed');
        expect(isStoreError(conflict)).toBe(true);
        expect(isStoreError(conflict, 'versionConflict')).toBe(true);
        expect(isStoreError(conflict, 'notFound')).toBe(false);
        expect(isStoreError(new Error('versionConflict'))).toBe(false);
        expect(isStoreError({ kind: 'versionConflict' }, 'versionConflict')).toBe(false);
    });
});
