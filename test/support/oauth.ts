/**
 * Test helpers for the OAuth token endpoint: requests shaped the way Entra and Microsoft's validation suite
 * send them, and a JWT's parts decoded.
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

/** The three parts of a compact JWS, header and payload decoded. */
export function decodeJwt(token: string): { header: any; payload: any; signature: string } {
    const [header, payload, signature] = token.split('.');
    return {
        header: JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')),
        payload: JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')),
        signature: signature!,
    };
}
