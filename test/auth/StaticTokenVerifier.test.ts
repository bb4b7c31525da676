import { describe, expect, it } from 'vitest';
import { StaticTokenVerifier } from '../../shared/auth/StaticTokenVerifier';

describe('StaticTokenVerifier', () => {
    const verifier = new StaticTokenVerifier('the-configured-token');

    it('accepts the configured token', async () => {
        await expect(verifier.verify('the-configured-token')).resolves.toBe(true);
    });

    it.each([
        ['a different token of the same length', 'the-configured-tokeN'],
        ['a prefix', 'the-configured'],
        ['a longer token', 'the-configured-token-and-more'],
        ['the empty string', ''],
    ])('rejects %s', async (_what, presented) => {
        await expect(verifier.verify(presented)).resolves.toBe(false);
    });

    it('refuses to be built with an empty token', () => {
        expect(() => new StaticTokenVerifier('')).toThrow(/non-empty/);
    });
});
