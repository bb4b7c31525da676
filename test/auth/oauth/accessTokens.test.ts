/**
 * Access tokens on /scim: the real HTTP app with the in-memory signing key. A token from the token endpoint
 * opens every route; an expired, tampered, wrong-audience, wrong-issuer, `alg: none`, foreign-key or
 * otherwise malformed one is a 401 that touches no storage; the Secret Token keeps working as before,
 * including one that happens to look like a JWT.
 */
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { exportSPKI } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigningKeys } from '../../../shared/auth/oauth/signingKeys';
import { summaryLines } from '../../reliability/support/summaryLines';
import { decodeJwt, requestToken } from '../../support/oauth';
import { startScimServer, type ScimTestServer } from '../../support/scimServer';

const CLIENT_ID = 'access-token-test-client';
const CLIENT_SECRET = 'access-token-test-secret-0123456789abcdef';
// A Secret Token shaped like a compact JWT: it must keep working exactly as a Secret Token.
const JWT_SHAPED_SECRET_TOKEN = 'eyJzZWNyZXQiOiJ0b2tlbiJ9.c2VjcmV0LXRva2Vu.bG9va3MtbGlrZS1hLWp3dA';
const MINUTE = 60_000;

let server: ScimTestServer;
let origin: string;
let now = Date.parse('2031-06-01T12:00:00Z');
let token: string;
let signingKeys: SigningKeys;

beforeAll(async () => {
    server = await startScimServer({ token: JWT_SHAPED_SECRET_TOKEN });
    origin = new URL(server.base).origin;
    startInstance();
    const reply = await requestToken(origin, { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    expect(reply.status).toBe(200);
    token = reply.body.access_token;
    signingKeys = server.currentApp().oauth!.signingKeys;
});

afterAll(async () => {
    await server?.close();
});

/** A fresh app with OAuth on: a new in-memory signing key, so tokens of the previous one are foreign to it. */
function startInstance(): void {
    server.reconfigure(
        { SCIM_OAUTH_CLIENT_ID: CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET },
        { oauth: { now: () => now, log: (line) => server.logs.push(line) } },
    );
}

async function scim(bearer: string, method = 'GET', path = '/Users?count=1', body?: unknown) {
    const headers: Record<string, string> = { Authorization: `Bearer ${bearer}` };
    if (body !== undefined) headers['Content-Type'] = 'application/scim+json';
    const response = await fetch(server.base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A token with these header and claims, signed by the app's own current key. */
async function signedByTheApp(header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
    const signer = await signingKeys.signer();
    const input = `${b64({ alg: signer.alg, kid: signer.kid, typ: 'at+jwt', ...header })}.${b64(claims)}`;
    return `${input}.${Buffer.from(await signer.sign(Buffer.from(input))).toString('base64url')}`;
}

function validClaims(): Record<string, unknown> {
    return { ...decodeJwt(token).payload, jti: `crafted-${Math.random()}` };
}

describe('a valid access token', () => {
    it('opens every kind of SCIM request, like the Secret Token', async () => {
        expect((await scim(token, 'GET', '/ServiceProviderConfig')).status).toBe(200);
        const created = await scim(token, 'POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'oauth.user@contoso.example' });
        expect(created.status).toBe(201);
        expect((await scim(token, 'PATCH', `/Users/${created.body.id}`, {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
        })).status).toBe(200);
        expect((await scim(token, 'DELETE', `/Users/${created.body.id}`)).status).toBe(204);
    });

    it('is still accepted within the 60 s leeway after exp', async () => {
        const { exp } = decodeJwt(token).payload;
        const saved = now;
        now = exp * 1000 + 59_000;
        expect((await scim(token)).status).toBe(200);
        now = saved;
    });
});

describe('tokens that answer 401 and touch no storage', () => {
    const expectRefused = async (bearer: string) => {
        const before = summaryLines(server.logs).length;
        const reply = await scim(bearer);
        expect(reply.status).toBe(401);
        expect(reply.headers.get('www-authenticate')).toBe('Bearer');
        expect(reply.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
        const lines = summaryLines(server.logs).slice(before);
        expect(lines.map((line) => line.storageRequests)).toEqual([0]);
    };

    it('expired: more than 60 s after exp', async () => {
        const { exp } = decodeJwt(token).payload;
        const saved = now;
        now = exp * 1000 + 61_000;
        await expectRefused(token);
        now = saved;
    });

    it('not yet valid: nbf more than 60 s ahead', async () => {
        const seconds = Math.floor(now / 1000);
        await expectRefused(await signedByTheApp({}, { ...validClaims(), nbf: seconds + 120, iat: seconds + 120 }));
    });

    it('tampered: one claim changed after signing', async () => {
        const [header, , signature] = token.split('.');
        const changed = b64({ ...decodeJwt(token).payload, client_id: 'someone-else' });
        await expectRefused(`${header}.${changed}.${signature}`);
    });

    it('tampered: a signature byte flipped', async () => {
        const [header, payload, signature] = token.split('.');
        const bytes = Buffer.from(signature!, 'base64url');
        bytes[10] = bytes[10]! ^ 0x01;
        await expectRefused(`${header}.${payload}.${bytes.toString('base64url')}`);
    });

    it('wrong audience: signed by our key for another SCIM base URL', async () => {
        await expectRefused(await signedByTheApp({}, { ...validClaims(), aud: 'https://other.example/scim' }));
    });

    it('wrong issuer: signed by our key with another iss', async () => {
        await expectRefused(await signedByTheApp({}, { ...validClaims(), iss: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0' }));
    });

    it('alg none, unsigned', async () => {
        const { header, payload } = decodeJwt(token);
        await expectRefused(`${b64({ ...header, alg: 'none' })}.${b64(payload)}.`);
    });

    it('HS256 with our public key as the HMAC secret (algorithm confusion)', async () => {
        const { header, payload } = decodeJwt(token);
        const publicKeyPem = await exportSPKI(signingKeys.verificationKey(header.kid)!.key);
        const input = `${b64({ ...header, alg: 'HS256' })}.${b64(payload)}`;
        await expectRefused(`${input}.${createHmac('sha256', publicKeyPem).update(input).digest('base64url')}`);
    });

    it('signed by another key that claims our kid', async () => {
        const { header, payload } = decodeJwt(token);
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const input = `${b64(header)}.${b64(payload)}`;
        await expectRefused(`${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`);
    });

    it('an unknown kid', async () => {
        await expectRefused(await signedByTheApp({ kid: 'no-such-key' }, validClaims()));
    });

    it('without typ at+jwt (e.g. an ID token shape)', async () => {
        await expectRefused(await signedByTheApp({ typ: 'JWT' }, validClaims()));
    });

    for (const claim of ['exp', 'jti', 'sub', 'client_id', 'iat', 'nbf']) {
        it(`without ${claim}`, async () => {
            const claims = validClaims();
            delete claims[claim];
            await expectRefused(await signedByTheApp({}, claims));
        });
    }

    it('Entra\'s own JWT for a blank Secret Token (its issuer and audience, not ours)', async () => {
        const seconds = Math.floor(now / 1000);
        await expectRefused(await signedByTheApp({ typ: 'JWT' }, {
            iss: 'https://sts.windows.net/00000000-0000-0000-0000-00000000cafe/', aud: '8adf8e6e-67b2-4cf2-a259-e3dc5476c621',
            sub: 'x', client_id: 'x', iat: seconds, nbf: seconds, exp: seconds + 3600, jti: 'x',
        }));
    });

    it('a token from another instance of the app (its own in-memory key)', async () => {
        startInstance();
        const foreign = (await requestToken(origin, { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET })).body.access_token as string;
        startInstance();
        signingKeys = server.currentApp().oauth!.signingKeys;
        token = (await requestToken(origin, { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET })).body.access_token;
        await expectRefused(foreign);
        expect((await scim(token)).status).toBe(200);
    });

    it('garbage in JWT shape, and a token far too long', async () => {
        await expectRefused('eyJhbGciOiJSUzI1NiJ9.e30.c2ln');
        await expectRefused(`${token}${'A'.repeat(5000)}`);
    });
});

describe('the Secret Token path is unchanged', () => {
    it('the Secret Token still opens /scim, also when it is shaped like a JWT', async () => {
        expect((await scim(JWT_SHAPED_SECRET_TOKEN)).status).toBe(200);
    });

    it('an access token is not a Secret Token after OAuth is switched off', async () => {
        server.reconfigure({});
        expect((await scim(token)).status).toBe(401);
        expect((await scim(JWT_SHAPED_SECRET_TOKEN)).status).toBe(200);
        startInstance();
        signingKeys = server.currentApp().oauth!.signingKeys;
        token = (await requestToken(origin, { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET })).body.access_token;
    });

    it('a day later the token has expired while the Secret Token goes on', async () => {
        now += 24 * 60 * MINUTE;
        expect((await scim(token)).status).toBe(401);
        expect((await scim(JWT_SHAPED_SECRET_TOKEN)).status).toBe(200);
    });
});
