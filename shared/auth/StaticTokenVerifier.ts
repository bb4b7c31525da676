/** The verifier for a token configured directly in the SCIM_TOKEN setting (local development only). */
import type { TokenVerifier } from './TokenVerifier';
import { matchesDigest, tokenDigest } from './tokenDigest';

/** Accepts exactly one configured token, compared in constant time. */
export class StaticTokenVerifier implements TokenVerifier {
    readonly #acceptedDigest: Buffer;

    constructor(acceptedToken: string) {
        // An empty accepted token would make a missing credential look valid to a careless caller.
        if (acceptedToken === '') throw new Error('StaticTokenVerifier needs a non-empty token');
        this.#acceptedDigest = tokenDigest(acceptedToken);
    }

    verify(presented: string): Promise<boolean> {
        return Promise.resolve(matchesDigest(presented, this.#acceptedDigest));
    }
}
