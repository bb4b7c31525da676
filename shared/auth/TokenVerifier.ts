/**
 * The bearer-token check every SCIM route goes through (Entra sends `Authorization: Bearer <Secret Token>`,
 * docs/entra-protocol.md §3). Handlers only see this interface; where the token comes from (Key Vault in Azure,
 * the SCIM_TOKEN setting locally) is decided once at start-up.
 */
export interface TokenVerifier {
    /**
     * True if `presented` is an accepted token. Never logs the token. Throws `ScimError` 503 (with
     * Retry-After) when the token source is unavailable and nothing is cached: Entra quarantines a job
     * on credential failures, so an outage must not look like a wrong token.
     */
    verify(presented: string, context?: VerificationContext): Promise<boolean>;
}

/** What a verifier may need to know about the request: an OAuth access token is only good for its audience. */
export interface VerificationContext {
    /** The SCIM base URL the request was made to (`https://<host>/scim`). */
    scimBaseUrl: string;
}
