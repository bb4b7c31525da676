/**
 * Test helpers for the OAuth token endpoint: requests shaped the way Entra and Microsoft's validation suite
 * send them, and the OAuth settings set and cleared around a test file.
 */

export interface TokenReply {
    status: number;
    headers: Headers;
    body: any;
    text: string;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded, joined with ':', then base64. */
export function basicCredentials(clientId: string, clientSecret: string): string {
    const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
    return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/**
 * POSTs a form to `<origin>/oauth/token`. `form` values are form-encoded (an array repeats the parameter);
 * `init` overrides method, headers or the raw body.
 */
export async function requestToken(
    origin: string,
    form: Record<string, string | string[]>,
    init: { authorization?: string; method?: string; contentType?: string; body?: string } = {},
): Promise<TokenReply> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) {
        for (const one of Array.isArray(value) ? value : [value]) params.append(name, one);
    }
    const headers: Record<string, string> = { 'Content-Type': init.contentType ?? 'application/x-www-form-urlencoded' };
    if (init.authorization !== undefined) headers.Authorization = init.authorization;
    const method = init.method ?? 'POST';
    const response = await fetch(`${origin}/oauth/token`, {
        method,
        headers,
        ...(method === 'GET' || method === 'HEAD' ? {} : { body: init.body ?? params.toString() }),
    });
    const text = await response.text();
    let body: unknown;
    try {
        body = text === '' ? undefined : JSON.parse(text);
    } catch {
        body = undefined;
    }
    return { status: response.status, headers: response.headers, body, text };
}

const OAUTH_SETTINGS = [
    'SCIM_OAUTH_CLIENT_ID',
    'SCIM_OAUTH_CLIENT_SECRET',
    'SCIM_OAUTH_CLIENT_SECRET_NAME',
    'SCIM_OAUTH_SECRET_GRACE_MINUTES',
    'SCIM_OAUTH_SIGNING_KEY_NAME',
    'SCIM_OAUTH_TOKEN_LIFETIME_MINUTES',
    'SCIM_OAUTH_SCOPE',
    'SCIM_WIF_ISSUER',
    'SCIM_WIF_JWKS_URL',
    'SCIM_WIF_SUBJECT',
    'SCIM_WIF_AUDIENCE',
];

/** Replaces every OAuth setting in the environment by `values` (the others unset). */
export function setOAuthEnvironment(values: Partial<Record<string, string>>): void {
    clearOAuthEnvironment();
    for (const [name, value] of Object.entries(values)) if (value !== undefined) process.env[name] = value;
}

export function clearOAuthEnvironment(): void {
    for (const name of OAUTH_SETTINGS) delete process.env[name];
}

/** The three parts of a compact JWS, header and payload decoded. */
export function decodeJwt(token: string): { header: any; payload: any; signature: string } {
    const [header, payload, signature] = token.split('.');
    return {
        header: JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')),
        payload: JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')),
        signature: signature!,
    };
}
