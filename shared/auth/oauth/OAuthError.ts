/**
 * The token endpoint's one error type: an RFC 6749 §5.2 error response (JSON `error`, `error_description`)
 * with its HTTP status. The token endpoint is OAuth, not SCIM, so its errors are OAuth errors, not SCIM ones.
 */

/** RFC 6749 §5.2 error codes (the token endpoint uses the ones that apply to the client credentials grant). */
export type OAuthErrorCode =
    | 'invalid_request'
    | 'invalid_client'
    | 'invalid_scope'
    | 'unsupported_grant_type'
    | 'temporarily_unavailable'
    | 'server_error';

export class OAuthError extends Error {
    constructor(
        readonly status: number,
        readonly error: OAuthErrorCode,
        description: string,
        readonly headers: Readonly<Record<string, string>> = {},
    ) {
        super(description);
        this.name = 'OAuthError';
    }

    get description(): string {
        return this.message;
    }

    static invalidRequest(description: string): OAuthError {
        return new OAuthError(400, 'invalid_request', description);
    }

    /**
     * 401 with `WWW-Authenticate: Basic`: RFC 6749 §5.2 requires the header when the client tried the
     * Authorization header, and it tells every other client which scheme it could have used.
     */
    static invalidClient(description = 'Client authentication failed'): OAuthError {
        return new OAuthError(401, 'invalid_client', description, { 'WWW-Authenticate': 'Basic realm="oauth", charset="UTF-8"' });
    }

    /** Too many failed authentications for one client id: refused before any credential is looked at. */
    static throttled(retryAfterSeconds: number): OAuthError {
        return new OAuthError(429, 'invalid_client', 'Too many failed authentication attempts for this client; retry later', {
            'Retry-After': String(retryAfterSeconds),
        });
    }

    /** A dependency (Key Vault, the issuer's keys) is down: 503 + Retry-After, as on the SCIM routes. */
    static unavailable(retryAfterSeconds: number): OAuthError {
        return new OAuthError(503, 'temporarily_unavailable', 'A dependency is temporarily unavailable; retry later', {
            'Retry-After': String(retryAfterSeconds),
        });
    }
}
