/** Reading the bearer token Entra sends (`Authorization: Bearer <Secret Token>`, docs/entra-protocol.md §3). */

/**
 * `Bearer <token>` (RFC 6750 §2.1): the scheme in any letter case (RFC 9110 §11.1), then ASCII spaces or tabs, then one
 * `b64token` — letters, digits, `- . _ ~ + /`, then `=` padding only. Only ASCII space and tab may surround the
 * credentials (RFC 9110 §5.6.3 OWS). `String.prototype.trim` and `\s` would also strip or match Unicode spaces
 * (U+00A0, U+2028, …), which made "token + no-break space" a valid credential.
 */
const BEARER_CREDENTIALS = /^[ \t]*bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

/**
 * The token of a `Bearer` Authorization header, or undefined when the header is missing, uses another
 * scheme, or is malformed (no token, or a character outside `b64token` in it).
 */
export function bearerToken(authorizationHeader: string | null): string | undefined {
    if (authorizationHeader === null) return undefined;
    return BEARER_CREDENTIALS.exec(authorizationHeader)?.[1];
}

/** True if `token` can travel in a Bearer header at all (a configured token that cannot is never matched). */
export function isB64Token(token: string): boolean {
    return bearerToken(`Bearer ${token}`) === token;
}
