/** Reading the bearer token Entra sends (`Authorization: Bearer <Secret Token>`, docs/entra-protocol.md §3). */

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
