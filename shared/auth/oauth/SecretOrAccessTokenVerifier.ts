/**
 * The SCIM routes' check once OAuth is configured: the Secret Token, exactly as before, or an access token
 * from our token endpoint.
 *
 * Which check runs depends only on the shape of what was presented, never on a secret: a compact JWT (three
 * base64url parts) is tried as an access token first, a local CPU check with no Key Vault call; anything
 * else — and a JWT that is not a valid access token, in case someone's Secret Token looks like one — goes
 * to the Secret Token verifier, whose constant-time comparison is unchanged.
 */
import type { TokenVerifier, VerificationContext } from '../TokenVerifier';
import { looksLikeJwt, type AccessTokenVerifier } from './accessTokens';

export class SecretOrAccessTokenVerifier implements TokenVerifier {
    constructor(
        private readonly secretToken: TokenVerifier,
        private readonly accessTokens: AccessTokenVerifier,
    ) {}

    async verify(presented: string, context?: VerificationContext): Promise<boolean> {
        if (context !== undefined && looksLikeJwt(presented) && (await this.accessTokens.verify(presented, context.scimBaseUrl))) {
            return true;
        }
        return this.secretToken.verify(presented, context);
    }
}
