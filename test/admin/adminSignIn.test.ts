/**
 * Who gets into `/admin` (docs/operate.md, "Status page"): outside the local host's trusted loopback mode,
 * only an allowed admin with a valid Entra ID token for the app registration — by the browser sign-in
 * (OpenID Connect form_post, then a session cookie) or as a bearer token (`npm run activity`). Tokens are signed
 * here with keys of a local "tenant"; the app verifies them with jose against that key set.
 */
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminSignIn } from '../../shared/auth/adminSignIn';
import { isLoopbackAddress } from '../../shared/http/localCaller';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { addTenant } from '../support/tenants';

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const ADMIN = '99999999-0000-0000-0000-000000000001';
const ADMINS_GROUP = '99999999-0000-0000-0000-0000000000aa';
const SOMEONE_ELSE = '99999999-0000-0000-0000-000000000002';
const V2_ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;

let tenantKey: CryptoKey;
let strangerKey: CryptoKey;
let server: ScimTestServer;
let unconfigured: ScimTestServer;

beforeAll(async () => {
    const tenant = await generateKeyPair('RS256', { extractable: true });
    const stranger = await generateKeyPair('RS256');
    tenantKey = tenant.privateKey;
    strangerKey = stranger.privateKey;
    const jwk: JWK = { ...(await exportJWK(tenant.publicKey)), kid: 'tenant-key-1', alg: 'RS256', use: 'sig' };
    server = await startScimServer({
        settings: { SCIM_ADMIN_TENANT_ID: TENANT, SCIM_ADMIN_CLIENT_ID: CLIENT, SCIM_ADMIN_PRINCIPAL_IDS: `${ADMIN}, ${ADMINS_GROUP}` },
        appOptions: { adminSignIn: { keys: createLocalJWKSet({ keys: [jwk] }) } },
    });
    unconfigured = await startScimServer();
});
afterAll(async () => {
    await server.close();
    await unconfigured.close();
});

/** An Entra-shaped token: v2.0 ID token claims by default. */
async function token(claims: JWTPayload = {}, options: { key?: CryptoKey; kid?: string; expiresIn?: string; alg?: string } = {}): Promise<string> {
    return new SignJWT({ tid: TENANT, oid: ADMIN, ver: '2.0', ...claims })
        .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'tenant-key-1', typ: 'JWT' })
        .setIssuer(claims.iss ?? V2_ISSUER)
        .setAudience(claims.aud ?? CLIENT)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '1h')
        .sign(options.key ?? tenantKey);
}

function admin(path = '', init: RequestInit = {}): Promise<Response> {
    return fetch(`${server.origin}/admin${path}`, { redirect: 'manual', ...init });
}

function cookie(response: Response, name: string): string | undefined {
    const line = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
    return line?.slice(name.length + 1).split(';')[0];
}

/** Starts a sign-in, returns the nonce and state the app sent to Entra and the cookie that remembers them. */
async function startSignIn(): Promise<{ nonce: string; state: string; signInCookie: string }> {
    const response = await admin();
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    return { nonce: location.searchParams.get('nonce')!, state: location.searchParams.get('state')!, signInCookie: `scim_admin_signin=${cookie(response, 'scim_admin_signin')}` };
}

function postSignIn(form: Record<string, string>, signInCookie: string): Promise<Response> {
    return admin('/signin', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: signInCookie }, body: new URLSearchParams(form).toString() });
}

describe('the browser sign-in', () => {
    it('sends an unsigned-in browser to Entra with a nonce and a state, remembered in a short-lived cookie', async () => {
        const response = await admin();
        expect(response.status).toBe(302);
        const location = new URL(response.headers.get('location')!);
        expect(`${location.origin}${location.pathname}`).toBe(`https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/authorize`);
        expect(Object.fromEntries(location.searchParams)).toMatchObject({
            client_id: CLIENT,
            response_type: 'id_token',
            response_mode: 'form_post',
            scope: 'openid',
            redirect_uri: `${server.origin}/admin/signin`,
        });
        expect(location.searchParams.get('nonce')).toMatch(/^[\w-]{32}$/);
        const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('scim_admin_signin='))!;
        expect(setCookie).toMatch(/HttpOnly/);
        expect(setCookie).toMatch(/Secure/);
        expect(setCookie).toMatch(/SameSite=None/); // Entra's form post is a cross-site POST
        expect(setCookie).toMatch(/Max-Age=600/);
        expect(response.headers.get('cache-control')).toBe('no-store');
    });

    it('takes Entra\'s form post, sets a session cookie, and shows the page to the signed-in admin', async () => {
        const { nonce, state, signInCookie } = await startSignIn();
        const idToken = await token({ nonce });
        const signedIn = await postSignIn({ id_token: idToken, state }, signInCookie);
        expect(signedIn.status).toBe(303);
        expect(signedIn.headers.get('location')).toBe(`${server.origin}/admin`);
        const setSession = signedIn.headers.getSetCookie().find((c) => c.startsWith('scim_admin='))!;
        expect(setSession).toMatch(/HttpOnly/);
        expect(setSession).toMatch(/SameSite=Lax/);
        expect(Number(/Max-Age=(\d+)/.exec(setSession)![1])).toBeGreaterThan(3000);
        const page = await admin('', { headers: { Cookie: `scim_admin=${cookie(signedIn, 'scim_admin')}` } });
        expect(page.status).toBe(200);
        const html = await page.text();
        expect(html).toContain('Provisioning status');
        expect(html).toContain('/admin/signout');
        expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
        expect(html).not.toContain(server.token);
    });

    it('refuses a sign-in it did not start, or with another nonce', async () => {
        const { nonce, state, signInCookie } = await startSignIn();
        expect((await postSignIn({ id_token: await token({ nonce }), state: 'forged' }, signInCookie)).status).toBe(400);
        expect((await postSignIn({ id_token: await token({ nonce }), state }, 'scim_admin_signin=')).status).toBe(400);
        const other = await postSignIn({ id_token: await token({ nonce: 'another-nonce' }), state }, signInCookie);
        expect(other.status).toBe(401);
        expect(cookie(other, 'scim_admin')).toBe('');
        const denied = await postSignIn({ error: 'access_denied', error_description: 'alice@contoso.com cancelled', state }, signInCookie);
        expect(denied.status).toBe(403);
        const text = await denied.text();
        expect(text).toContain('access_denied');
        expect(text).not.toContain('alice@contoso.com');
    });

    it('tells an account that is not an allowed admin so, and lets an allowed group in', async () => {
        const { nonce, state, signInCookie } = await startSignIn();
        const stranger = await postSignIn({ id_token: await token({ nonce, oid: SOMEONE_ELSE }), state }, signInCookie);
        expect(stranger.status).toBe(403);
        expect(await stranger.text()).toContain('SCIM_ADMIN_PRINCIPAL_IDS');
        const viaGroup = await admin('', { headers: { Cookie: `scim_admin=${await token({ oid: SOMEONE_ELSE, groups: ['other', ADMINS_GROUP] })}` } });
        expect(viaGroup.status).toBe(200);
    });

    it('sends an expired or broken session to sign in again', async () => {
        for (const session of [await token({}, { expiresIn: '-5m' }), 'not-a-jwt']) {
            const response = await admin('', { headers: { Cookie: `scim_admin=${session}` } });
            expect(response.status).toBe(302);
            expect(response.headers.get('location')).toMatch(/^https:\/\/login\.microsoftonline\.com\//);
        }
    });

    it('signs out by forgetting the session', async () => {
        const response = await admin('/signout');
        expect(response.status).toBe(200);
        expect(response.headers.getSetCookie().find((c) => c.startsWith('scim_admin='))).toMatch(/Max-Age=0/);
    });
});

describe('a token is checked', () => {
    const bearer = async (value: string) => admin('?format=json', { headers: { Authorization: `Bearer ${value}`, Accept: 'application/json' } });

    it('as an access token for `npm run activity`: v1 (sts.windows.net, api://client) and v2 forms', async () => {
        const v1 = await bearer(await token({ iss: `https://sts.windows.net/${TENANT}/`, aud: `api://${CLIENT}`, ver: '1.0', scp: 'Status.Read' }));
        expect(v1.status).toBe(200);
        expect(v1.headers.get('content-type')).toMatch(/^application\/json/);
        expect((await v1.json()).hours).toHaveLength(168);
        expect((await bearer(await token({ scp: 'Status.Read' }))).status).toBe(200);
    });

    it('and refused when anything is off: signature, algorithm, issuer, audience, tenant, expiry, claims', async () => {
        const refused: [string, string][] = [
            ['signed by a key the tenant does not publish', await token({}, { key: strangerKey })],
            ['an unknown key id', await token({}, { kid: 'rotated-away' })],
            ['another issuer', await token({ iss: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0' })],
            ['another audience', await token({ aud: 'api://some-other-app' })],
            ['another tenant in tid', await token({ tid: '00000000-0000-0000-0000-000000000000' })],
            ['expired', await token({}, { expiresIn: '-5m' })],
            ['no oid', await new SignJWT({ tid: TENANT }).setProtectedHeader({ alg: 'RS256', kid: 'tenant-key-1' }).setIssuer(V2_ISSUER).setAudience(CLIENT).setIssuedAt().setExpirationTime('1h').sign(tenantKey)],
            ['alg none', unsigned({ tid: TENANT, oid: ADMIN, iss: V2_ISSUER, aud: CLIENT, exp: Math.floor(Date.now() / 1000) + 3600, iat: Math.floor(Date.now() / 1000) })],
            ['HS256 with a guessable secret', await token({}, { alg: 'HS256', key: new TextEncoder().encode('tenant-key-1') as unknown as CryptoKey })],
        ];
        for (const [why, value] of refused) {
            const response = await bearer(value);
            expect(response.status, why).toBe(401);
            expect(response.headers.get('www-authenticate'), why).toBe(`Bearer scope="api://${CLIENT}/.default", error="invalid_token"`);
        }
        expect((await bearer(await token({ oid: SOMEONE_ELSE }))).status).toBe(403);
    });

    it('asks a JSON client without a token for one, naming the scope to request', async () => {
        const response = await admin('?format=json');
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toBe(`Bearer scope="api://${CLIENT}/.default"`);
    });

    it('answers 503, not 401, when the tenant\'s keys cannot be fetched', async () => {
        const offline = new AdminSignIn({ tenantId: TENANT, clientId: CLIENT, principalIds: [ADMIN] }, { keys: () => Promise.reject(new TypeError('fetch failed')) });
        await expect(offline.verify(await token())).rejects.toMatchObject({ reason: 'keysUnavailable' });
    });
});

describe('a named tenant\'s page', () => {
    it('takes the same sign-in and allowed-admins check, and says nothing about which tenants exist to anyone else', async () => {
        await addTenant(server, 'signin-co');
        const asJson = (query: string, headers: Record<string, string> = {}) => admin(`?format=json&tenant=${query}`, { headers: { Accept: 'application/json', ...headers } });
        // Not signed in, or not an allowed admin: the same answer for a tenant that exists and one that does not.
        const outsiders: Record<string, string>[] = [{}, { Authorization: `Bearer ${await token({ oid: SOMEONE_ELSE })}` }];
        for (const headers of outsiders) {
            const [known, unknown] = [await asJson('signin-co', headers), await asJson('no-such-co', headers)];
            expect(known.status).toBe(unknown.status);
            expect([401, 403]).toContain(known.status);
            expect(await known.text()).toBe(await unknown.text());
        }
        const allowed = { Authorization: `Bearer ${await token()}` };
        const page = await asJson('signin-co', allowed);
        expect(page.status).toBe(200);
        expect((await page.json()).tenant).toEqual({ name: 'signin-co', state: 'active' });
        expect((await asJson('no-such-co', allowed)).status).toBe(404);
    });

    it('brings the admin back to that tenant\'s page after the browser sign-in', async () => {
        const started = await admin('?tenant=signin-co');
        expect(started.status).toBe(302);
        const location = new URL(started.headers.get('location')!);
        const signInCookie = `scim_admin_signin=${cookie(started, 'scim_admin_signin')}`;
        const signedIn = await postSignIn({ id_token: await token({ nonce: location.searchParams.get('nonce')! }), state: location.searchParams.get('state')! }, signInCookie);
        expect(signedIn.status).toBe(303);
        expect(signedIn.headers.get('location')).toBe(`${server.origin}/admin?tenant=signin-co`);
        // A name that is not a tenant name never makes it into the cookie, so never into a redirect.
        const odd = await admin(`?tenant=${encodeURIComponent('https://evil.example')}`);
        expect(cookie(odd, 'scim_admin_signin')!.split('.')).toHaveLength(2);
    });
});

describe('without sign-in settings', () => {
    it('keeps /admin closed outside the local host\'s trusted mode, and says which settings open it', async () => {
        const response = await fetch(`${unconfigured.origin}/admin`, { redirect: 'manual' });
        expect(response.status).toBe(403);
        expect(await response.text()).toContain('SCIM_ADMIN_CLIENT_ID');
        expect((await fetch(`${unconfigured.origin}/admin?format=json`)).status).toBe(403);
    });

    it('trusts only loopback callers in that mode', () => {
        expect(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'].every(isLoopbackAddress)).toBe(true);
        expect(['10.0.0.1', '::ffff:10.0.0.1', '192.168.1.127', '1.127.0.0', undefined].some(isLoopbackAddress)).toBe(false);
    });
});

function unsigned(payload: JWTPayload): string {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}
