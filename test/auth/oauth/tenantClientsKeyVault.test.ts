/**
 * A named tenant's OAuth client the way it runs in Azure, through the real SDK clients against the local Key Vault
 * stub: its secret is the Key Vault secret `scim-oauth-tenant-<name>` (tagged with the client id), rotated with the
 * deployment's client secret rules (the previous version valid for SCIM_OAUTH_SECRET_GRACE_MINUTES), and its access
 * tokens are signed by the deployment's one Key Vault key. SCIM requests with such a token make no Key Vault call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTenantCommand } from '../../../dev/tenantCommand';
import { clientSecretNameOf } from '../../../dev/tenantClientCommand';
import { USER_SCHEMA } from '../../../shared/scim/schemas';
import { checkConsistency } from '../../support/consistencyChecker';
import { fakeCredential, startKeyVaultStub, stubKeyClientOptions, stubSecretClient, stubSecretClientOptions, type KeyVaultStub } from '../../support/keyVaultStub';
import { basicCredentials, decodeJwt, requestToken, type TokenReply } from '../../support/oauth';
import { startScimServer, type ScimTestServer } from '../../support/scimServer';

const SECRET_TOKEN = 'secret-token-U2VjcmV0VG9rZW5TdGF5c0FzSXRJcw';
const DEFAULT_CLIENT_ID = '9d3f2a71-0c4e-4b8a-a6d2-5e1f7c3b9a04';
const KEY_NAME = 'scim-oauth-signing-key';
/** The client secret's grace window; the Secret Token's is the default 60 min, so the two cannot be confused. */
const GRACE_MINUTES = 180;
const MINUTE = 60_000;

let server: ScimTestServer;
let vault: KeyVaultStub;
let now = Date.parse('2031-07-01T08:00:00Z');
let keyVersion: string;

function vaultEnv(): Record<string, string> {
    return { KEY_VAULT_URL: vault.vaultUrl, SCIM_OAUTH_CLIENT_ID: DEFAULT_CLIENT_ID, SCIM_OAUTH_SECRET_GRACE_MINUTES: String(GRACE_MINUTES) };
}

/** A fresh app instance (nothing cached), as after a restart or on a second instance. */
function startInstance(): void {
    const log = () => undefined;
    server.reconfigure(vaultEnv(), {
        tokenVerifier: { credential: fakeCredential, secretClientOptions: stubSecretClientOptions, now: () => now, log },
        oauth: { credential: fakeCredential, secretClientOptions: stubSecretClientOptions, keyClientOptions: stubKeyClientOptions, now: () => now, log },
    });
}

async function tenant(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runTenantCommand([...argv, '--app-url', server.base], {
        env: { TABLES_CONNECTION_STRING: server.connectionString, SCIM_TABLE_NAME: server.tableName, ...vaultEnv() },
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        createSecretClient: () => stubSecretClient(vault),
        now: () => new Date(now),
    });
    return { code, out, err };
}

function tokenFor(name: string, clientId: string, clientSecret: string): Promise<TokenReply> {
    return requestToken(`${server.origin}/tenants/${name}`, { grant_type: 'client_credentials' }, { authorization: basicCredentials(clientId, clientSecret) });
}

async function scim(url: string, bearer: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { Authorization: `Bearer ${bearer}` };
    if (body !== undefined) headers['Content-Type'] = 'application/scim+json';
    const response = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

const valueOf = (lines: string[], label: string) => lines.find((line) => line.startsWith(`${label}: `))!.slice(label.length + 2);

beforeAll(async () => {
    vault = await startKeyVaultStub({ now: () => now });
    vault.addSecretVersion('scim-token', SECRET_TOKEN, { createdOn: now - 10 * 24 * 60 * MINUTE });
    keyVersion = vault.keys.addKeyVersion(KEY_NAME, { createdOn: now - 30 * 24 * 60 * MINUTE });
    server = await startScimServer({ token: SECRET_TOKEN });
    startInstance();
});

afterAll(async () => {
    expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    await server?.close();
    await vault?.stop();
});

describe('a tenant\'s client secret in Key Vault', () => {
    let clientId: string;
    let firstSecret: string;
    let tenantUrl: string;

    it('create writes scim-oauth-tenant-<name> tagged with the client id; the row names the secret, holds no digest', async () => {
        const added = await tenant(['add', 'northwind']);
        expect(added.code, added.err.join('\n')).toBe(0);
        tenantUrl = valueOf(added.out, 'Tenant URL');
        const created = await tenant(['client', 'create', 'northwind']);
        expect(created.code, created.err.join('\n')).toBe(0);
        clientId = valueOf(created.out, 'Client Identifier');
        firstSecret = valueOf(created.out, 'Client Secret');
        expect(created.out.at(-1)).toBe(`Client Secret: ${firstSecret}`);
        expect(clientSecretNameOf('northwind')).toBe('scim-oauth-tenant-northwind');
        const versions = vault.versionsOf('scim-oauth-tenant-northwind');
        expect(versions).toHaveLength(1);
        expect(versions[0]!.value).toBe(firstSecret);
        expect(versions[0]!.tags).toEqual({ clientId });
        const record = (await server.currentApp().store.tenantRegistry().get('northwind'))!;
        expect(record).toMatchObject({ clientId, clientSecretName: 'scim-oauth-tenant-northwind' });
        expect(record.clientSecretDigest).toBeUndefined();
        expect(JSON.stringify(record)).not.toContain(firstSecret);
        expect(created.err.join('\n')).not.toContain(firstSecret);
    });

    it('its token is signed by the deployment\'s Key Vault key; SCIM requests with it make no Key Vault call after the first', async () => {
        const signsBefore = vault.keys.requests.sign;
        const reply = await tokenFor('northwind', clientId, firstSecret);
        expect(reply.status, reply.text).toBe(200);
        expect(vault.keys.requests.sign - signsBefore).toBe(1);
        const token = reply.body.access_token as string;
        expect(decodeJwt(token).header).toEqual({ alg: 'RS256', kid: keyVersion, typ: 'at+jwt' });
        expect(decodeJwt(token).payload).toMatchObject({ aud: tenantUrl, tenant: 'northwind', client_id: clientId });

        expect((await scim(`${tenantUrl}/Users?count=1`, token)).status).toBe(200); // the first
        const before = vault.requests.total + vault.keys.requests.getKey + vault.keys.requests.listKeyVersions + vault.keys.requests.sign;
        const credentialBefore = fakeCredential.calls;
        const statuses: number[] = [];
        for (let round = 0; round < 5; round++) {
            const created = await scim(`${tenantUrl}/Users`, token, 'POST', { schemas: [USER_SCHEMA], userName: `kv${round}@northwind.example` });
            statuses.push(created.status);
            statuses.push((await scim(`${tenantUrl}/Users?filter=userName+eq+%22kv${round}%40northwind.example%22`, token)).status);
            statuses.push((await scim(`${tenantUrl}/Users/${created.body.id}`, token, 'DELETE')).status);
        }
        expect(statuses).toEqual(Array.from({ length: 5 }, () => [201, 200, 204]).flat());
        expect(vault.requests.total + vault.keys.requests.getKey + vault.keys.requests.listKeyVersions + vault.keys.requests.sign - before).toBe(0);
        expect(fakeCredential.calls - credentialBefore).toBe(0);
        // Not the default's, not another audience.
        expect((await scim(`${server.base}/Users?count=1`, token)).status).toBe(401);
    });

    it('rotate keeps the previous secret valid for the grace window, then refuses it; status shows dates, never a secret', async () => {
        now += MINUTE;
        const rotated = await tenant(['client', 'rotate', 'northwind']);
        expect(rotated.code, rotated.err.join('\n')).toBe(0);
        const secondSecret = valueOf(rotated.out, 'Client Secret');
        expect(valueOf(rotated.out, 'Client Identifier')).toBe(clientId);
        expect(secondSecret).not.toBe(firstSecret);
        expect(rotated.err.join('\n')).toMatch(/The previous secret stays valid until \S+ \(grace window 180 min/);
        expect(vault.versionsOf('scim-oauth-tenant-northwind').map((v) => v.tags)).toEqual([{ clientId }, { clientId }]);

        const status = await tenant(['client', 'status', 'northwind']);
        expect(status.code).toBe(0);
        expect(status.out[0]).toBe(`Tenant 'northwind': OAuth client ${clientId} (active).`);
        expect(status.out[1]).toMatch(/^Current secret: version \S+ of Key Vault secret 'scim-oauth-tenant-northwind', created \S+, expires 2032-/);
        expect(status.out[2]).toMatch(/^Previous secret: version \S+, still accepted until \S+ \(grace window 180 min\)\.$/);
        const printed = [...status.out, ...status.err].join('\n');
        expect(printed).not.toContain(firstSecret);
        expect(printed).not.toContain(secondSecret);

        startInstance();
        expect((await tokenFor('northwind', clientId, secondSecret)).status).toBe(200);
        expect((await tokenFor('northwind', clientId, firstSecret)).status).toBe(200); // within the grace window
        now += 61 * MINUTE; // past the Secret Token's grace window, within the client secret's
        startInstance();
        expect((await tokenFor('northwind', clientId, firstSecret)).status).toBe(200);
        now += (GRACE_MINUTES - 60) * MINUTE;
        startInstance();
        expect((await tokenFor('northwind', clientId, secondSecret)).status).toBe(200);
        const late = await tokenFor('northwind', clientId, firstSecret);
        expect(late.status).toBe(401);
        expect(late.body.error).toBe('invalid_client');
    });

    it('create refuses a secret left in the vault by an earlier tenant of the same name', async () => {
        expect((await tenant(['add', 'leftover'])).code).toBe(0);
        vault.addSecretVersion(clientSecretNameOf('leftover'), 'old-secret-of-a-removed-tenant', { tags: { clientId: 'old-client' } });
        const created = await tenant(['client', 'create', 'leftover']);
        expect(created.code).toBe(1);
        expect(created.out).toEqual([]);
        expect(created.err.join('\n')).toContain('already exists');
        expect((await server.currentApp().store.tenantRegistry().get('leftover'))!.clientId).toBeUndefined();
    });
});
