/**
 * Reading the bearer token Entra sends (`Authorization: Bearer <Secret Token>`, docs/entra-protocol.md §3) and the
 * verifier for a token configured directly in the SCIM_TOKEN setting (local development).
 */
import type { TokenVerifier } from './TokenVerifier';
import { matchesDigest, tokenDigest } from './tokenDigest';

/** `Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1), the token one run of non-space characters. */
const BEARER_CREDENTIALS = /^bearer[ \t]+([^\s]+)$/i;

/**
 * The token of a `Bearer` Authorization header, or undefined when the header is missing, uses another
 * scheme, or is malformed (no token, or spaces inside it). Surrounding whitespace is ignored.
 */
export function bearerToken(authorizationHeader: string | null): string | undefined {
    if (authorizationHeader === null) return undefined;
    const match = BEARER_CREDENTIALS.exec(authorizationHeader.trim());
    return match?.[1];
}

/** Accepts exactly one configured token, compared in constant time. */
export class StaticTokenVerifier implements TokenVerifier {
    readonly #acceptedDigest: Buffer;

    constructor(acceptedToken: string) {
        // An empty accepted token would make a missing credential look valid to a careless caller.
        if (acceptedToken === '') throw new Error('StaticTokenVerifier needs a non-empty token');
        this.#acceptedDigest = tokenDigest(acceptedToken);
    }

    async verify(presented: string): Promise<boolean> {
        return matchesDigest(presented, this.#acceptedDigest);
    }
}
