/**
 * OAuth the way it runs in Azure: the client secret is a Key Vault secret with versions, access tokens are
 * signed by a Key Vault key, through the real SDK clients against the local Key Vault stub (secrets and keys).
 *
 * - client secret rotation (`npm run token -- client rotate`) keeps both secrets valid through the grace window;
 * - an expired secret version is refused;
 * - every token costs one Key Vault `sign`; /scim requests with an access token make no Key Vault call at all,
 *   and keep working while Key Vault is down;
 * - a key rotation: new tokens carry the new version, tokens of the previous one stay valid; an instance that
 *   meets an unknown kid reloads the keys at most once a minute;
 * - Key Vault down with nothing cached: 503 with Retry-After, not a 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTokenCommand } from '../../../dev/tokenCommand';
import { fakeCredential, startKeyVaultStub, stubKeyClientOptions, stubSecretClient, stubSecretClientOptions, type KeyVaultStub } from '../../support/keyVaultStub';
import { basicCredentials, decodeJwt, requestToken } from '../../support/oauth';
import { startScimServer, type ScimTestServer } from '../../support/scimServer';

const CLIENT_ID = '9d3f2a71-0c4e-4b8a-a6d2-5e1f7c3b9a04';
const PREVIOUS_SECRET = 'previous-client-secret-cHJldmlvdXNDbGllbnRTZWNyZXQ';
const CURRENT_SECRET = 'current-client-secret-Y3VycmVudENsaWVudFNlY3JldA';
const SECRET_TOKEN = 'secret-token-U2VjcmV0VG9rZW5TdGF5c0FzSXRJcw';
const SECRET_NAME = 'scim-oauth-client-secret';
const KEY_NAME = 'scim-oauth-signing-key';
const GRACE_MINUTES = 60;
const MINUTE = 60_000;
const YEAR = 365 * 24 * 60 * MINUTE;

let server: ScimTestServer;
let vault: KeyVaultStub;
let origin: string;
/** The one clock of the vault stub and the app. */
let now = Date.parse('2031-07-01T08:00:00Z');
let firstKeyVersion: string;

/** A fresh app instance (nothing cached), as after a restart or on a second instance. */
function startInstance(): void {
    const log = (line: string) => server.logs.push(line);
    server.reconfigure({
        KEY_VAULT_URL: vault.vaultUrl,
        SCIM_OAUTH_CLIENT_ID: CLIENT_ID,
        SCIM_OAUTH_SECRET_GRACE_MINUTES: String(GRACE_MINUTES),
    }, {
        tokenVerifier: { credential: fakeCredential, secretClientOptions: stubSecretClientOptions, now: () => now, log },
        oauth: { credential: fakeCredential, secretClientOptions: stubSecretClientOptions, keyClientOptions: stubKeyClientOptions, now: () => now, log },
    });
}

beforeAll(async () => {
    vault = await startKeyVaultStub({ now: () => now });
    vault.addSecretVersion('scim-token', SECRET_TOKEN, { createdOn: now - 10 * 24 * 60 * MINUTE });
    vault.addSecretVersion(SECRET_NAME, PREVIOUS_SECRET, { createdOn: now - 2 * 24 * 60 * MINUTE, expiresOn: now + YEAR });
    vault.addSecretVersion(SECRET_NAME, CURRENT_SECRET, { createdOn: now, expiresOn: now + YEAR });
    firstKeyVersion = vault.keys.addKeyVersion(KEY_NAME, { createdOn: now - 30 * 24 * 60 * MINUTE });
    server = await startScimServer({ token: SECRET_TOKEN });
    origin = new URL(server.base).origin;
    startInstance();
});

afterAll(async () => {
    await server?.close();
    await vault?.stop();
});

const tokenWith = (secret: string) => requestToken(origin, { grant_type: 'client_credentials' }, { authorization: basicCredentials(CLIENT_ID, secret) });

async function scim(bearer: string, method = 'GET', path = '/Users?count=1', body?: unknown): Promise<number> {
    const headers: Record<string, string> = { Authorization: `Bearer ${bearer}` };
    if (body !== undefined) headers['Content-Type'] = 'application/scim+json';
    const response = await fetch(server.base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    await response.arrayBuffer();
    return response.status;
}

describe('the client secret in Key Vault', () => {
    it('the current secret gets a token signed by the Key Vault key: one sign per token', async () => {
        const signsBefore = vault.keys.requests.sign;
        const reply = await tokenWith(CURRENT_SECRET);
        expect(reply.status, reply.text).toBe(200);
        expect(decodeJwt(reply.body.access_token).header).toEqual({ alg: 'RS256', kid: firstKeyVersion, typ: 'at+jwt' });
        expect(vault.keys.requests.sign - signsBefore).toBe(1);
        expect(await scim(reply.body.access_token)).toBe(200);
    });

    it('during the grace window after a rotation the previous secret works too; after it, only the current one', async () => {
        expect((await tokenWith(PREVIOUS_SECRET)).status).toBe(200);
        now += GRACE_MINUTES * MINUTE + MINUTE;
        await tokenWith('a-wrong-secret-makes-the-app-ask-key-vault-again');
        expect((await tokenWith(PREVIOUS_SECRET)).status).toBe(401);
        expect((await tokenWith(CURRENT_SECRET)).status).toBe(200);
    });

    it('`npm run token -- client rotate` writes a new secret; old and new both work through the grace window', async () => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await runTokenCommand(['client', 'rotate', '--vault-url', vault.vaultUrl, '--grace-minutes', String(GRACE_MINUTES)], {
            // The versions seeded above carry no clientId tag (as if written by hand): the setting names the client.
            env: { SCIM_OAUTH_CLIENT_ID: CLIENT_ID },
            out: (line) => out.push(line),
            err: (line) => err.push(line),
            createSecretClient: () => stubSecretClient(vault),
            now: () => new Date(now),
        });
        expect(code, err.join('\n')).toBe(0);
        const newSecret = out.find((line) => line.startsWith('client_secret='))!.slice('client_secret='.length);
        expect(newSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
        const written = vault.versionsOf(SECRET_NAME).at(-1)!;
        expect(written.tags).toEqual({ clientId: CLIENT_ID });
        expect(written.expiresOn! - now).toBeGreaterThanOrEqual(YEAR - 1000);

        now += MINUTE + 1000; // the app re-reads Key Vault for an unknown secret at most once a minute
        expect((await tokenWith(newSecret)).status).toBe(200);
        expect((await tokenWith(CURRENT_SECRET)).status).toBe(200);
        now += GRACE_MINUTES * MINUTE + MINUTE;
        await tokenWith('another-wrong-secret');
        expect((await tokenWith(CURRENT_SECRET)).status).toBe(401);
        expect((await tokenWith(newSecret)).status).toBe(200);
    });

    it('a secret version past its expiry date is refused', async () => {
        const out: string[] = [];
        await runTokenCommand(['client', 'rotate', '--vault-url', vault.vaultUrl, '--years', '1'], {
            env: {}, out: (line) => out.push(line), err: () => undefined, createSecretClient: () => stubSecretClient(vault), now: () => new Date(now),
        });
        const latest = out.find((line) => line.startsWith('client_secret='))!.slice('client_secret='.length);
        startInstance(); // a fresh instance reads Key Vault on the first request
        expect((await tokenWith(latest)).status).toBe(200);
        now += YEAR + MINUTE; // past the expiry of every version
        startInstance();
        const reply = await tokenWith(latest);
        expect(reply.status).toBe(401);
        expect(reply.body.error).toBe('invalid_client');
    });
});

describe('budgets: access tokens on /scim cost no Key Vault call', () => {
    it('30 SCIM requests of every kind with an access token: zero vault requests, zero credential calls', async () => {
        vault.addSecretVersion(SECRET_NAME, CURRENT_SECRET, { createdOn: now, expiresOn: now + YEAR });
        startInstance();
        const reply = await tokenWith(CURRENT_SECRET);
        expect(reply.status).toBe(200);
        const token = reply.body.access_token as string;

        const vaultBefore = vault.requests.total;
        const credentialBefore = fakeCredential.calls;
        const statuses: number[] = [];
        for (let round = 0; round < 5; round++) {
            statuses.push(await scim(token, 'GET', '/ServiceProviderConfig'));
            statuses.push(await scim(token, 'GET', `/Users?filter=userName+eq+%22budget${round}%40contoso.example%22`));
            const created = await fetch(`${server.base}/Users`, {
                method: 'POST',
                headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
                body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `budget${round}@contoso.example` }),
            });
            statuses.push(created.status);
            const id = ((await created.json()) as { id: string }).id;
            statuses.push(await scim(token, 'GET', `/Users/${id}`));
            statuses.push(await scim(token, 'PATCH', `/Users/${id}`, {
                schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: false }],
            }));
            statuses.push(await scim(token, 'DELETE', `/Users/${id}`));
        }
        expect(statuses).toHaveLength(30);
        expect(statuses.every((status) => status < 300)).toBe(true);
        expect(vault.requests.total - vaultBefore).toBe(0);
        expect(fakeCredential.calls - credentialBefore).toBe(0);
    });

    it('while Key Vault is down, issued access tokens keep working; the token endpoint answers 503', async () => {
        const token = (await tokenWith(CURRENT_SECRET)).body.access_token as string;
        await vault.goDown('connection-refused');
        try {
            expect(await scim(token)).toBe(200);
            const reply = await tokenWith(CURRENT_SECRET);
            expect(reply.status).toBe(503);
            expect(reply.body.error).toBe('temporarily_unavailable');
            expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        } finally {
            await vault.comeBack();
        }
    });
});

describe('signing key rotation', () => {
    it('new tokens carry the new version; tokens of the previous version stay valid for a token lifetime', async () => {
        const oldToken = (await tokenWith(CURRENT_SECRET)).body.access_token as string;
        expect(decodeJwt(oldToken).header.kid).toBe(firstKeyVersion);
        const secondKeyVersion = vault.keys.addKeyVersion(KEY_NAME, { createdOn: now });
        now += 5 * MINUTE + 1000; // past SCIM_TOKEN_CACHE_SECONDS: the token endpoint reloads the keys before signing

        const newToken = (await tokenWith(CURRENT_SECRET)).body.access_token as string;
        expect(decodeJwt(newToken).header.kid).toBe(secondKeyVersion);
        expect(await scim(newToken)).toBe(200);
        expect(await scim(oldToken)).toBe(200);
    });

    it('a fresh instance meeting a token it has not seen the key of reloads once, and at most once a minute', async () => {
        const token = (await tokenWith(CURRENT_SECRET)).body.access_token as string;
        startInstance();
        const listsBefore = vault.keys.requests.listKeyVersions;
        expect(await scim(token)).toBe(200); // unknown kid → one reload
        expect(vault.keys.requests.listKeyVersions - listsBefore).toBe(1);
        const [header, payload, signature] = token.split('.');
        const forgedKid = Buffer.from(JSON.stringify({ ...decodeJwt(token).header, kid: 'made-up' })).toString('base64url');
        for (let attempt = 0; attempt < 5; attempt++) expect(await scim(`${forgedKid}.${payload}.${signature}`)).toBe(401);
        expect(vault.keys.requests.listKeyVersions - listsBefore).toBe(1); // no more reloads within the minute
        expect(await scim(`${header}.${payload}.${signature}`)).toBe(200);
    });

    it('Key Vault down and nothing cached: the token endpoint answers 503 with Retry-After, not 401', async () => {
        startInstance();
        await vault.goDown('service-unavailable');
        try {
            const reply = await tokenWith(CURRENT_SECRET);
            expect(reply.status).toBe(503);
            expect(reply.body.error).toBe('temporarily_unavailable');
            expect(reply.headers.get('retry-after')).toMatch(/^\d+$/);
        } finally {
            await vault.comeBack();
        }
    });

    it('no log line holds a secret, a token or a key', () => {
        const everything = server.logs.join('\n');
        for (const secret of [PREVIOUS_SECRET, CURRENT_SECRET, SECRET_TOKEN]) expect(everything).not.toContain(secret);
        expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
    });
});
