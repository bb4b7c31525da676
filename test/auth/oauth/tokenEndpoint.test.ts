/**
 * POST /oauth/token through the real HTTP app (local settings: SCIM_OAUTH_CLIENT_ID/SECRET and an in-memory
 * signing key): both ways Entra presents client credentials, every RFC 6749 §5.2 error, the per-client rate
 * limit on failures, scopes, and that the token it issues opens /scim.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicCredentials, decodeJwt, requestToken, type TokenReply } from '../../support/oauth';
import { startScimServer, type ScimTestServer } from '../../support/scimServer';

const CLIENT_ID = '2f0c6b1e-5a7d-4c39-9d8e-3b1f6a2c7e10';
// Characters RFC 6749 Appendix B encodes, so the Basic decoding is exercised for real.
const CLIENT_SECRET = 'dev secret: p@ss+w/rd%41~é';
const MINUTE = 60_000;

let server: ScimTestServer;
let origin: string;
let now = Date.parse('2031-05-01T09:00:00Z');

/** Serves a fresh app with these OAuth settings (and the test's clock). */
function startApp(settings: Record<string, string>): void {
    server.reconfigure(settings, { oauth: { now: () => now, log: (line) => server.logs.push(line) } });
}

beforeAll(async () => {
    server = await startScimServer();
    origin = new URL(server.base).origin;
    startApp({ SCIM_OAUTH_CLIENT_ID: CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET });
});

afterAll(async () => {
    await server?.close();
});

const clientCredentials = { grant_type: 'client_credentials' };
const bodyCredentials = { ...clientCredentials, client_id: CLIENT_ID, client_secret: CLIENT_SECRET };

/** A request to /scim with this bearer token. */
async function scimWith(token: string, path = '/Users?startIndex=1&count=1') {
    const response = await fetch(server.base + path, { headers: { Authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.json() };
}

function expectOAuthError(reply: TokenReply, status: number, error: string): void {
    expect(reply.status, reply.text).toBe(status);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(reply.body.error).toBe(error);
    expect(typeof reply.body.error_description).toBe('string');
    expect(reply.text).not.toContain(CLIENT_SECRET);
    if (status === 401) expect(reply.headers.get('www-authenticate')).toMatch(/^Basic /);
}

describe('a token for valid client credentials (RFC 6749 §4.4, §5.1)', () => {
    it('with HTTP Basic, as Entra\'s Test Connection sends them', async () => {
        const reply = await requestToken(origin, clientCredentials, { authorization: basicCredentials(CLIENT_ID, CLIENT_SECRET) });
        expect(reply.status, reply.text).toBe(200);
        expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
        expect(reply.headers.get('cache-control')).toBe('no-store');
        expect(reply.headers.get('pragma')).toBe('no-cache');
        expect(reply.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 120 * 60 });
        expect((await scimWith(reply.body.access_token)).status).toBe(200);
    });

    it('in the body, as Microsoft\'s validation suite sends them, then GET /Users?startIndex=1&count=1 with the token', async () => {
        const reply = await requestToken(origin, { ...bodyCredentials, scope: 'anything' });
        expect(reply.status, reply.text).toBe(200);
        expect(reply.body.expires_in).toBeGreaterThanOrEqual(3600);
        expect(reply.body.expires_in).toBeLessThanOrEqual(21600);
        expect(reply.body.scope).toBeUndefined(); // no SCIM_OAUTH_SCOPE: the scope parameter is ignored
        const users = await scimWith(reply.body.access_token);
        expect(users.status).toBe(200);
        expect(users.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
    });

    it('a JWT with the claims the SCIM routes check', async () => {
        const reply = await requestToken(origin, bodyCredentials);
        const { header, payload } = decodeJwt(reply.body.access_token);
        expect(header).toEqual({ alg: 'RS256', kid: expect.any(String), typ: 'at+jwt' });
        const seconds = Math.floor(now / 1000);
        expect(payload).toEqual({
            iss: `${origin}/oauth`,
            aud: server.base,
            sub: CLIENT_ID,
            client_id: CLIENT_ID,
            iat: seconds,
            nbf: seconds,
            exp: seconds + 120 * 60,
            jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
        });
        const second = decodeJwt((await requestToken(origin, bodyCredentials)).body.access_token);
        expect(second.payload.jti).not.toBe(payload.jti);
    });
});

describe('errors (RFC 6749 §5.2), none of which issues a token', () => {
    const basic = basicCredentials(CLIENT_ID, CLIENT_SECRET);
    const cases: [string, () => Promise<TokenReply>, number, string][] = [
        ['GET instead of POST', () => requestToken(origin, {}, { method: 'GET' }), 405, 'invalid_request'],
        ['a JSON body', () => requestToken(origin, {}, { contentType: 'application/json', body: JSON.stringify(bodyCredentials) }), 400, 'invalid_request'],
        ['no grant_type', () => requestToken(origin, { client_id: CLIENT_ID, client_secret: CLIENT_SECRET }), 400, 'invalid_request'],
        ['an empty grant_type (counts as absent)', () => requestToken(origin, { ...bodyCredentials, grant_type: '' }), 400, 'invalid_request'],
        ['grant_type=password', () => requestToken(origin, { ...bodyCredentials, grant_type: 'password' }), 400, 'unsupported_grant_type'],
        ['grant_type=authorization_code', () => requestToken(origin, { ...bodyCredentials, grant_type: 'authorization_code' }), 400, 'unsupported_grant_type'],
        ['a repeated parameter', () => requestToken(origin, { ...bodyCredentials, client_secret: [CLIENT_SECRET, CLIENT_SECRET] }), 400, 'invalid_request'],
        ['Basic and a body secret together', () => requestToken(origin, bodyCredentials, { authorization: basic }), 400, 'invalid_request'],
        ['a body client_id other than the Basic one', () => requestToken(origin, { ...clientCredentials, client_id: 'someone-else' }, { authorization: basic }), 400, 'invalid_request'],
        ['client_secret without client_id', () => requestToken(origin, { ...clientCredentials, client_secret: CLIENT_SECRET }), 400, 'invalid_request'],
        ['client_assertion without client_assertion_type', () => requestToken(origin, { ...clientCredentials, client_id: CLIENT_ID, client_assertion: 'a.b.c' }), 400, 'invalid_request'],
        ['a malformed scope', () => requestToken(origin, { ...bodyCredentials, scope: 'a  b' }), 400, 'invalid_scope'],
        ['a body over 16 KiB', () => requestToken(origin, { ...bodyCredentials, padding: 'x'.repeat(17 * 1024) }), 413, 'invalid_request'],
        ['no client authentication at all', () => requestToken(origin, clientCredentials), 401, 'invalid_client'],
        ['only a client_id', () => requestToken(origin, { ...clientCredentials, client_id: CLIENT_ID }), 401, 'invalid_client'],
        ['a wrong secret in the body', () => requestToken(origin, { ...bodyCredentials, client_secret: 'wrong' }), 401, 'invalid_client'],
        ['a wrong secret with Basic', () => requestToken(origin, clientCredentials, { authorization: basicCredentials(CLIENT_ID, 'wrong') }), 401, 'invalid_client'],
        ['an unknown client id with the right secret', () => requestToken(origin, { ...bodyCredentials, client_id: 'unknown-client' }), 401, 'invalid_client'],
        ['Basic credentials that are not base64', () => requestToken(origin, clientCredentials, { authorization: 'Basic %%%' }), 401, 'invalid_client'],
        ['Basic credentials without a colon', () => requestToken(origin, clientCredentials, { authorization: `Basic ${Buffer.from(CLIENT_ID).toString('base64')}` }), 401, 'invalid_client'],
        ['Basic credentials with a broken %-escape', () => requestToken(origin, clientCredentials, { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:%zz`).toString('base64')}` }), 401, 'invalid_client'],
        ['an unsupported client_assertion_type', () => requestToken(origin, { ...clientCredentials, client_id: CLIENT_ID, client_assertion_type: 'urn:example:saml', client_assertion: 'x' }), 401, 'invalid_client'],
        ['a client assertion while federation is not configured', () => requestToken(origin, {
            ...clientCredentials, client_id: CLIENT_ID, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'a.b.c',
        }), 401, 'invalid_client'],
    ];

    for (const [name, send, status, error] of cases) {
        it(`${name} → ${status} ${error}`, async () => {
            const reply = await send();
            expectOAuthError(reply, status, error);
            expect(reply.body.access_token).toBeUndefined();
            if (status === 405) expect(reply.headers.get('allow')).toBe('POST');
        });
    }

    it('a bad request names known parameters only', async () => {
        const reply = await requestToken(origin, { ...bodyCredentials, 'evil<script>': ['1', '2'] });
        expectOAuthError(reply, 400, 'invalid_request');
        expect(reply.text).not.toContain('evil');
    });
});

describe('the rate limit on failed client authentication, per client id', () => {
    it('after 10 failures the client id is refused with 429, even with the right secret, until the bucket refills', async () => {
        const victim = 'rate-limited-client';
        startApp({ SCIM_OAUTH_CLIENT_ID: victim, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET });
        const good = { ...clientCredentials, client_id: victim, client_secret: CLIENT_SECRET };
        const bad = { ...good, client_secret: 'guess' };
        for (let attempt = 1; attempt <= 10; attempt++) expectOAuthError(await requestToken(origin, bad), 401, 'invalid_client');

        const throttled = await requestToken(origin, good);
        expect(throttled.status).toBe(429);
        expect(throttled.body.error).toBe('invalid_client');
        expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        // Another client id is not affected by this one's failures.
        expectOAuthError(await requestToken(origin, { ...bad, client_id: 'another-client' }), 401, 'invalid_client');

        now += MINUTE; // the bucket refills at one attempt per 6 s
        expect((await requestToken(origin, good)).status).toBe(200);
        startApp({ SCIM_OAUTH_CLIENT_ID: CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET });
    });
});

describe('scopes (SCIM_OAUTH_SCOPE)', () => {
    beforeAll(() => startApp({ SCIM_OAUTH_CLIENT_ID: CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET, SCIM_OAUTH_SCOPE: 'scim scim.readwrite' }));
    afterAll(() => startApp({ SCIM_OAUTH_CLIENT_ID: CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET }));

    it('grants a configured scope and echoes it, in the response and the token', async () => {
        const reply = await requestToken(origin, { ...bodyCredentials, scope: 'scim' });
        expect(reply.status).toBe(200);
        expect(reply.body.scope).toBe('scim');
        expect(decodeJwt(reply.body.access_token).payload.scope).toBe('scim');
    });

    it('grants every configured scope when none is asked for', async () => {
        const reply = await requestToken(origin, bodyCredentials);
        expect(reply.body.scope).toBe('scim scim.readwrite');
    });

    it('refuses a scope that is not configured with invalid_scope', async () => {
        expectOAuthError(await requestToken(origin, { ...bodyCredentials, scope: 'scim admin' }), 400, 'invalid_scope');
    });
});

describe('the lifetime (SCIM_OAUTH_TOKEN_LIFETIME_MINUTES, 60–360)', () => {
    afterAll(() => startApp({ SCIM_OAUTH_CLIENT_ID: CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET }));

    it('follows the setting within Microsoft\'s window and falls back to 120 outside it', async () => {
        startApp({ SCIM_OAUTH_CLIENT_ID: CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET, SCIM_OAUTH_TOKEN_LIFETIME_MINUTES: '360' });
        expect((await requestToken(origin, bodyCredentials)).body.expires_in).toBe(360 * 60);
        startApp({ SCIM_OAUTH_CLIENT_ID: CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET, SCIM_OAUTH_TOKEN_LIFETIME_MINUTES: '30' });
        expect((await requestToken(origin, bodyCredentials)).body.expires_in).toBe(120 * 60);
    });
});

describe('without SCIM_OAUTH_CLIENT_ID', () => {
    afterAll(() => startApp({ SCIM_OAUTH_CLIENT_ID: CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET }));

    it('the token endpoint refuses every client, and /scim takes the Secret Token only', async () => {
        const token = (await requestToken(origin, bodyCredentials)).body.access_token as string;
        startApp({});
        expectOAuthError(await requestToken(origin, bodyCredentials), 401, 'invalid_client');
        expect((await scimWith(token)).status).toBe(401);
        expect((await server.request('GET', '/Users?count=1')).status).toBe(200);
    });
});

describe('logs', () => {
    it('one line per token request naming the outcome, never a credential or a token', async () => {
        const before = server.logs.length;
        const reply = await requestToken(origin, clientCredentials, { authorization: basicCredentials(CLIENT_ID, CLIENT_SECRET) });
        await requestToken(origin, { ...bodyCredentials, client_secret: 'wrong-secret-value' });
        const lines = server.logs.slice(before).filter((line) => line.startsWith('oauth token '));
        expect(lines).toHaveLength(2);
        const [success, failure] = lines.map((line) => JSON.parse(line.slice('oauth token '.length)));
        expect(success).toMatchObject({ method: 'POST', status: 200, clientAuthentication: 'client_secret_basic' });
        expect(failure).toMatchObject({ method: 'POST', status: 401, error: 'invalid_client', clientAuthentication: 'client_secret_post' });
        const everything = server.logs.join('\n');
        for (const secret of [CLIENT_SECRET, 'wrong-secret-value', reply.body.access_token, CLIENT_ID]) expect(everything).not.toContain(secret);
    });
});
