import { describe, expect, it } from 'vitest';
import { matchesDigest, tokenDigest } from '../../shared/auth/tokenDigest';

describe('matchesDigest', () => {
    it('compares tokens of any length without throwing (timingSafeEqual needs equal lengths)', () => {
        const digest = tokenDigest('short');
        expect(matchesDigest('short', digest)).toBe(true);
        expect(matchesDigest('s', digest)).toBe(false);
        expect(matchesDigest('x'.repeat(10_000), digest)).toBe(false);
    });
});
