/**
 * How the SCIM routes' check is composed once OAuth is on (SecretOrAccessTokenVerifier): which verifier sees
 * what depends only on the shape of the presented token, so the Secret Token path stays what it was —
 * the same constant-time digest comparison, reached for every token that is not a compact JWT, and never a
 * Key Vault call for a valid access token.
 */
import { describe, expect, it } from 'vitest';
import { StaticTokenVerifier } from '../../../shared/auth/StaticTokenVerifier';
import { AccessTokenVerifier, issueAccessToken, looksLikeJwt } from '../../../shared/auth/oauth/accessTokens';
import { SecretOrAccessTokenVerifier } from '../../../shared/auth/oauth/SecretOrAccessTokenVerifier';
import { InMemorySigningKeys } from '../../../shared/auth/oauth/signingKeys';
import type { TokenVerifier } from '../../../shared/auth/TokenVerifier';

const BASE = 'https://scim.example/scim';
const SECRET_TOKEN = 'the-secret-token-0123456789abcdefghijklmnopq';

/** The real Secret Token verifier, with a count of the tokens it was asked about. */
function countingSecretVerifier(): TokenVerifier & { asked: string[] } {
    const inner = new StaticTokenVerifier(SECRET_TOKEN);
    const asked: string[] = [];
    return { asked, verify: (presented) => { asked.push(presented); return inner.verify(presented); } };
}

describe('SecretOrAccessTokenVerifier', () => {
    const keys = new InMemorySigningKeys();
    const now = Date.parse('2031-10-01T00:00:00Z');
    const accessTokens = new AccessTokenVerifier(keys, { now: () => now });

    it('a token that is not a compact JWT goes to the Secret Token verifier alone, as before', async () => {
        const secret = countingSecretVerifier();
        const verifier = new SecretOrAccessTokenVerifier(secret, accessTokens);
        expect(await verifier.verify(SECRET_TOKEN, { scimBaseUrl: BASE })).toBe(true);
        expect(await verifier.verify('wrong-token', { scimBaseUrl: BASE })).toBe(false);
        expect(secret.asked).toEqual([SECRET_TOKEN, 'wrong-token']);
    });

    it('a valid access token is accepted without asking the Secret Token verifier (no Key Vault call)', async () => {
        const secret = countingSecretVerifier();
        const verifier = new SecretOrAccessTokenVerifier(secret, accessTokens);
        const token = await issueAccessToken(keys, { clientId: 'c', scimBaseUrl: BASE, expiresAt: now + 3_600_000 }, now);
        expect(looksLikeJwt(token)).toBe(true);
        expect(await verifier.verify(token, { scimBaseUrl: BASE })).toBe(true);
        expect(secret.asked).toEqual([]);
    });

    it('a JWT-shaped token that is no valid access token still gets its Secret Token check (one shaped like a JWT works)', async () => {
        const jwtShapedSecret = 'eyJhIjoxfQ.eyJiIjoyfQ.c2lnbmF0dXJl';
        const inner = new StaticTokenVerifier(jwtShapedSecret);
        const asked: string[] = [];
        const verifier = new SecretOrAccessTokenVerifier({ verify: (p) => { asked.push(p); return inner.verify(p); } }, accessTokens);
        expect(await verifier.verify(jwtShapedSecret, { scimBaseUrl: BASE })).toBe(true);
        expect(asked).toEqual([jwtShapedSecret]);
    });

    it('an access token for another audience is refused, and so is one checked without a request context', async () => {
        const verifier = new SecretOrAccessTokenVerifier(countingSecretVerifier(), accessTokens);
        const token = await issueAccessToken(keys, { clientId: 'c', scimBaseUrl: BASE, expiresAt: now + 3_600_000 }, now);
        expect(await verifier.verify(token, { scimBaseUrl: 'https://other.example/scim' })).toBe(false);
        expect(await verifier.verify(token)).toBe(false);
    });
});
