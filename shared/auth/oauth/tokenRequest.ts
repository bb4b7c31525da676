/**
 * Reading a token request (RFC 6749 §4.4.2) into who the client claims to be and how it proves it. Pure:
 * no secret is checked here, only the shape of the request.
 *
 *   - Form-encoded POST body (RFC 6749 §3.2); parameters sent without a value count as absent, a parameter
 *     sent twice is refused, unknown ones are ignored.
 *   - `grant_type=client_credentials` only.
 *   - Exactly one client authentication method (RFC 6749 §2.3): HTTP Basic (Entra's Test Connection sends
 *     this), `client_id` + `client_secret` in the body (Microsoft's validation suite sends this), or a JWT
 *     client assertion (RFC 7523 §2.2, workload identity federation: `client_id` is required beside it).
 *     docs/entra-protocol.md §15 has what Entra and the suite send.
 */
import { OAuthError } from './OAuthError';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const CLIENT_CREDENTIALS_GRANT = 'client_credentials';

/** Longest client id and client secret looked at: longer ones are not ours and must not fill memory. */
export const MAX_CLIENT_ID_LENGTH = 256;
export const MAX_CLIENT_SECRET_LENGTH = 512;

export type ClientAuthentication =
    | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; clientSecret: string }
    | { method: 'client_assertion'; clientId: string; assertion: string };

export interface TokenRequest {
    client: ClientAuthentication;
    /** The requested scopes (RFC 6749 §3.3), or undefined when `scope` was not sent. */
    scopes: string[] | undefined;
}

export interface TokenRequestInput {
    contentType: string | undefined;
    authorization: string | undefined;
    body: string;
}

/** The parsed request; throws `OAuthError` (invalid_request, invalid_client, unsupported_grant_type). */
export function parseTokenRequest(input: TokenRequestInput): TokenRequest {
    const mediaType = (input.contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (mediaType !== 'application/x-www-form-urlencoded') {
        throw OAuthError.invalidRequest('The token request must be application/x-www-form-urlencoded');
    }
    const form = readForm(input.body);

    const grantType = form.get('grant_type');
    if (grantType === undefined) throw OAuthError.invalidRequest('grant_type is required');
    if (grantType !== CLIENT_CREDENTIALS_GRANT) {
        throw new OAuthError(400, 'unsupported_grant_type', 'Only the client_credentials grant is supported');
    }

    return { client: readClientAuthentication(form, input.authorization), scopes: readScopes(form.get('scope')) };
}

/** The form's parameters; empty values dropped (RFC 6749 §3.2: "treated as if they were omitted"). */
function readForm(body: string): Map<string, string> {
    const form = new Map<string, string>();
    for (const [name, value] of new URLSearchParams(body)) {
        if (form.has(name)) {
            // Only the names we know are echoed: an unknown one could be anything the caller chose to send.
            throw OAuthError.invalidRequest(KNOWN_PARAMETERS.has(name) ? `${name} is repeated` : 'A parameter is repeated');
        }
        form.set(name, value);
    }
    for (const [name, value] of form) if (value === '') form.delete(name);
    return form;
}

const KNOWN_PARAMETERS = new Set(['grant_type', 'scope', 'client_id', 'client_secret', 'client_assertion', 'client_assertion_type']);

function readClientAuthentication(form: Map<string, string>, authorization: string | undefined): ClientAuthentication {
    const basic = readBasicCredentials(authorization);
    const postsSecret = form.has('client_secret');
    const assertsIdentity = form.has('client_assertion') || form.has('client_assertion_type');
    const methods = Number(basic !== undefined) + Number(postsSecret) + Number(assertsIdentity);
    if (methods > 1) throw OAuthError.invalidRequest('Use exactly one client authentication method');
    const clientId = form.get('client_id');
    if (clientId !== undefined && clientId.length > MAX_CLIENT_ID_LENGTH) throw OAuthError.invalidRequest('client_id is too long');

    if (basic !== undefined) {
        if (clientId !== undefined && clientId !== basic.clientId) {
            throw OAuthError.invalidRequest('client_id differs from the client authenticated with HTTP Basic');
        }
        return { method: 'client_secret_basic', ...basic };
    }
    if (postsSecret) {
        if (clientId === undefined) throw OAuthError.invalidRequest('client_id is required with client_secret');
        const clientSecret = form.get('client_secret')!;
        if (clientSecret.length > MAX_CLIENT_SECRET_LENGTH) throw OAuthError.invalidClient();
        return { method: 'client_secret_post', clientId, clientSecret };
    }
    if (assertsIdentity) {
        const assertionType = form.get('client_assertion_type');
        const assertion = form.get('client_assertion');
        if (assertionType === undefined) throw OAuthError.invalidRequest('client_assertion_type is required with client_assertion');
        if (assertionType !== JWT_BEARER_ASSERTION_TYPE) throw OAuthError.invalidClient('Unsupported client_assertion_type');
        if (assertion === undefined) throw OAuthError.invalidRequest('client_assertion is required with client_assertion_type');
        if (clientId === undefined) throw OAuthError.invalidRequest('client_id is required with client_assertion');
        return { method: 'client_assertion', clientId, assertion };
    }
    throw OAuthError.invalidClient('No client authentication was included');
}

/**
 * `Authorization: Basic base64(form-urlencoded id ":" form-urlencoded secret)` (RFC 6749 §2.3.1, RFC 7617).
 * Undefined when there is no Basic header; a Basic header that cannot be read is a failed authentication
 * (401), since the client did try to authenticate with it.
 */
function readBasicCredentials(authorization: string | undefined): { clientId: string; clientSecret: string } | undefined {
    const match = /^basic[ \t]+(\S*)[ \t]*$/i.exec(authorization?.trim() ?? '');
    if (!match) return undefined;
    const encoded = match[1]!;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length > 2 * (MAX_CLIENT_ID_LENGTH + MAX_CLIENT_SECRET_LENGTH)) {
        throw OAuthError.invalidClient('The Basic credentials cannot be read');
    }
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw OAuthError.invalidClient('The Basic credentials cannot be read');
    try {
        const clientId = formDecode(decoded.slice(0, colon));
        const clientSecret = formDecode(decoded.slice(colon + 1));
        if (clientId === '' || clientSecret === '' || clientId.length > MAX_CLIENT_ID_LENGTH || clientSecret.length > MAX_CLIENT_SECRET_LENGTH) {
            throw OAuthError.invalidClient('The Basic credentials cannot be read');
        }
        return { clientId, clientSecret };
    } catch (error) {
        if (error instanceof OAuthError) throw error;
        throw OAuthError.invalidClient('The Basic credentials cannot be read'); // a malformed %-escape
    }
}

/** application/x-www-form-urlencoded decoding of one value (RFC 6749 Appendix B). */
function formDecode(value: string): string {
    return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
function readScopes(scope: string | undefined): string[] | undefined {
    if (scope === undefined) return undefined;
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(scope)) {
        throw new OAuthError(400, 'invalid_scope', 'scope is malformed');
    }
    return scope.split(' ');
}
