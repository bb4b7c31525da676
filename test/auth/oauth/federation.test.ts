/**
 * Workload identity federation (RFC 7523 §2.2 client assertions) against a local issuer on loopback with its
 * own key pairs and JWKS: the settings Entra shows (issuer, subject, audience) are the app's settings, the
 * JWKS URL is derived from the issuer. Every claim that must match is tried wrong; the JWKS is fetched once,
 * again for an unknown kid at most once a minute, and not at all for SCIM requests made with the issued token.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalIssuer, type LocalIssuer } from '../../support/federationIssuer';
import { decodeJwt, requestToken, type TokenReply } from '../../support/oauth';
import { startScimServer, type ScimTestServer } from '../../support/scimServer';

const CLIENT_ID = 'b7c1e9a2-4d3f-4e8a-9c0b-2f6d1a5e8c37';
const APP_ID = 'b5ba7a93-4452-4522-aeb4-a2b5da870c16';
const SUBJECT = 'd2f8ee76-c549-45b8-a143-f5b640669704';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MINUTE = 60_000;

let server: ScimTestServer;
let issuer: LocalIssuer;
let origin: string;
let now = Date.parse('2031-08-01T10:00:00Z');

/** A fresh app (nothing cached) with these federation settings; by default the ones Entra would show. */
function startInstance(settings: Record<string, string> = federationSettings()): void {
    server.reconfigure(settings, { oauth: { now: () => now, log: (line) => server.logs.push(line) } });
}

function federationSettings(): Record<string, string> {
    return {
        SCIM_OAUTH_CLIENT_ID: CLIENT_ID,
        SCIM_WIF_ISSUER: issuer.issuer,
        SCIM_WIF_SUBJECT: SUBJECT,
        SCIM_WIF_AUDIENCE: `api://${APP_ID}, ${APP_ID}`,
    };
}

beforeAll(async () => {
    issuer = await startLocalIssuer();
    await issuer.addKey();
    server = await startScimServer();
    origin = new URL(server.base).origin;
    startInstance();
});

afterAll(async () => {
    await server?.close();
    await issuer?.stop();
});

/** The claims of an Entra-issued assertion (Microsoft's example payload), valid for an hour from `now`. */
function entraClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const seconds = Math.floor(now / 1000);
    const claims: Record<string, unknown> = {
        aud: `api://${APP_ID}`, iss: issuer.issuer, iat: seconds, nbf: seconds, exp: seconds + 3600,
        appid: APP_ID, oid: SUBJECT, sub: SUBJECT, tid: issuer.tenantId, ver: '2.0', ...overrides,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return claims;
}

const present = (assertion: string, form: Record<string, string> = {}): Promise<TokenReply> =>
    requestToken(origin, { grant_type: 'client_credentials', client_id: CLIENT_ID, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, scope: 'scim', ...form });

const scim = async (token: string) => (await fetch(`${server.base}/Users?count=1`, { headers: { Authorization: `Bearer ${token}` } })).status;

describe('a valid assertion', () => {
    it('gets a token (Microsoft\'s request shape), and the token opens /scim', async () => {
        const reply = await present(await issuer.sign(entraClaims()));
        expect(reply.status, reply.text).toBe(200);
        expect(reply.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 });
        expect(reply.headers.get('cache-control')).toBe('no-store');
        expect(decodeJwt(reply.body.access_token).payload).toMatchObject({ client_id: CLIENT_ID, sub: CLIENT_ID, aud: server.base });
        expect(await scim(reply.body.access_token)).toBe(200);
    });

    it('with the bare app id as audience, the other form Microsoft\'s examples use', async () => {
        expect((await present(await issuer.sign(entraClaims({ aud: APP_ID })))).status).toBe(200);
    });

    it('the token never outlives the assertion: 10 minutes left → expires_in 600 and the same exp', async () => {
        const exp = Math.floor(now / 1000) + 600;
        const reply = await present(await issuer.sign(entraClaims({ exp })));
        expect(reply.body.expires_in).toBe(600);
        expect(decodeJwt(reply.body.access_token).payload.exp).toBe(exp);
    });

    it('an assertion with 30 s left still gets a token, of 30 s', async () => {
        const reply = await present(await issuer.sign(entraClaims({ exp: Math.floor(now / 1000) + 30 })));
        expect(reply.status).toBe(200);
        expect(reply.body.expires_in).toBe(30);
    });
});

describe('assertions refused with 401 invalid_client', () => {
    const refused: [string, () => Promise<TokenReply>][] = [
        ['a wrong subject', async () => present(await issuer.sign(entraClaims({ sub: '00000000-0000-0000-0000-000000000bad' })))],
        ['no subject', async () => present(await issuer.sign(entraClaims({ sub: undefined })))],
        ['a wrong issuer', async () => present(await issuer.sign(entraClaims({ iss: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0' })))],
        ['the v1 issuer form (sts.windows.net)', async () => present(await issuer.sign(entraClaims({ iss: `https://sts.windows.net/${issuer.tenantId}/` })))],
        ['a wrong audience', async () => present(await issuer.sign(entraClaims({ aud: 'api://someone-else' })))],
        ['the audience with /.default (a scope, not an audience)', async () => present(await issuer.sign(entraClaims({ aud: `api://${APP_ID}/.default` })))],
        ['a wrong tenant (tid)', async () => present(await issuer.sign(entraClaims({ tid: '00000000-0000-0000-0000-000000000000' })))],
        ['no tid', async () => present(await issuer.sign(entraClaims({ tid: undefined })))],
        ['expired more than 60 s ago', async () => present(await issuer.sign(entraClaims({ exp: Math.floor(now / 1000) - 120 })))],
        ['expired 30 s ago (within the clock leeway, but a token cut to it would be dead on arrival)', async () =>
            present(await issuer.sign(entraClaims({ exp: Math.floor(now / 1000) - 30 })))],
        ['no exp', async () => present(await issuer.sign(entraClaims({ exp: undefined })))],
        ['nbf more than 60 s ahead', async () => present(await issuer.sign(entraClaims({ nbf: Math.floor(now / 1000) + 300 })))],
        ['a client_id other than ours', async () => present(await issuer.sign(entraClaims()), { client_id: 'another-client' })],
        ['alg none', async () => {
            const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
            return present(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(entraClaims())}.`);
        }],
        ['HS256 with the app id as the secret', async () => {
            const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
            const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(entraClaims())}`;
            return present(`${input}.${createHmac('sha256', APP_ID).update(input).digest('base64url')}`);
        }],
        ['a signature of a key the issuer does not publish', async () => present(await issuer.sign(entraClaims(), { kid: await issuer.unpublishedKey() }))],
        ['a published kid over a payload signed by another key', async () => {
            const genuine = await issuer.sign(entraClaims());
            const forged = await issuer.sign(entraClaims({ sub: 'x' }), { kid: await issuer.unpublishedKey() });
            return present(`${genuine.split('.')[0]}.${forged.split('.')[1]}.${forged.split('.')[2]}`);
        }],
        ['not a JWT at all', async () => present('not-a-jwt')],
    ];

    for (const [name, send] of refused) {
        it(name, async () => {
            now += 2 * MINUTE; // a fresh minute for each case, so an unknown kid may refetch
            const reply = await send();
            expect(reply.status, reply.text).toBe(401);
            expect(reply.body.error).toBe('invalid_client');
            expect(reply.headers.get('www-authenticate')).toMatch(/^Basic /);
            expect(reply.body.access_token).toBeUndefined();
        });
    }

    it('an assertion together with a client secret is a bad request (one authentication method only)', async () => {
        const reply = await present(await issuer.sign(entraClaims()), { client_secret: 'x' });
        expect(reply.status).toBe(400);
        expect(reply.body.error).toBe('invalid_request');
    });
});

describe('the issuer\'s keys (JWKS)', () => {
    it('fetched once, then cached by kid; an unknown kid refetches at most once a minute; a new issuer key is picked up', async () => {
        startInstance();
        const fetches = () => issuer.jwksRequests();
        const start = fetches();
        for (let i = 0; i < 3; i++) expect((await present(await issuer.sign(entraClaims()))).status).toBe(200);
        expect(fetches() - start).toBe(1);

        const unknownKid = await issuer.unpublishedKey();
        now += 2 * MINUTE;
        expect((await present(await issuer.sign(entraClaims(), { kid: unknownKid }))).status).toBe(401);
        expect(fetches() - start).toBe(2); // one refetch for the unknown kid
        for (let i = 0; i < 5; i++) expect((await present(await issuer.sign(entraClaims(), { kid: unknownKid }))).status).toBe(401);
        expect(fetches() - start).toBe(2); // none within the minute

        const rotatedKid = await issuer.addKey(); // Entra rotates its keys without notice
        expect((await present(await issuer.sign(entraClaims(), { kid: rotatedKid }))).status).toBe(401); // still within the minute
        now += MINUTE + 1000;
        expect((await present(await issuer.sign(entraClaims(), { kid: rotatedKid }))).status).toBe(200);
        expect(fetches() - start).toBe(3);
    });

    it('SCIM requests with the issued token fetch nothing', async () => {
        const token = (await present(await issuer.sign(entraClaims()))).body.access_token as string;
        const before = issuer.jwksRequests();
        for (let i = 0; i < 10; i++) expect(await scim(token)).toBe(200);
        expect(issuer.jwksRequests()).toBe(before);
    });

    it('issuer down: cached keys keep working, even past the cache age; with nothing cached the answer is 503', async () => {
        expect((await present(await issuer.sign(entraClaims()))).status).toBe(200);
        issuer.setUp(false);
        try {
            now += 2 * 60 * MINUTE; // past the hour after which the keys are fetched again
            expect((await present(await issuer.sign(entraClaims()))).status).toBe(200);
            expect(server.logs.some((line) => line.includes("fetching the federation issuer's keys failed (status 503); keeping the cached keys"))).toBe(true);

            // A key the cache does not have, while the issuer is down: maybe a fresh rotation, so 503, not 401.
            now += 2 * MINUTE;
            const rotated = await present(await issuer.sign(entraClaims(), { kid: await issuer.addKey() }));
            expect(rotated.status).toBe(503);
            expect(rotated.body.error).toBe('temporarily_unavailable');

            startInstance();
            const reply = await present(await issuer.sign(entraClaims()));
            expect(reply.status).toBe(503);
            expect(reply.body.error).toBe('temporarily_unavailable');
            expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        } finally {
            issuer.setUp(true);
        }
        now += 2 * MINUTE;
        expect((await present(await issuer.sign(entraClaims()))).status).toBe(200);
    });

    it('with SCIM_WIF_JWKS_URL set, that URL is used instead of the derived one', async () => {
        startInstance({ ...federationSettings(), SCIM_WIF_JWKS_URL: `${new URL(issuer.jwksUrl).origin}/nowhere` });
        expect((await present(await issuer.sign(entraClaims({ aud: APP_ID })))).status).toBe(503);
        startInstance({ ...federationSettings(), SCIM_WIF_JWKS_URL: issuer.jwksUrl });
        expect((await present(await issuer.sign(entraClaims({ aud: APP_ID })))).status).toBe(200);
    });

    it('no client secret is accepted when only federation is configured', async () => {
        const reply = await requestToken(origin, { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: 'anything' });
        expect(reply.status).toBe(401);
    });
});
