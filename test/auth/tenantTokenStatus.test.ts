/**
 * The token part of a named tenant's status page (shared/auth/tokenStatusReader.ts, docs/activity.md "Tenants"):
 * a local tenant's digest is reported as such and never shown; a Key Vault tenant's own secret is listed (versions
 * and dates, the same grace rule as the verifier), at most once a minute, and its value never appears.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantTokenStatusReader } from '../../shared/auth/tokenStatusReader';
import { readSettings } from '../../shared/config';
import { fakeCredential, startKeyVaultStub, stubSecretClientOptions, type KeyVaultStub } from '../support/keyVaultStub';

let vault: KeyVaultStub;
let now = Date.parse('2026-03-01T12:00:00Z');

beforeAll(async () => {
    vault = await startKeyVaultStub({ now: () => now });
});
afterAll(async () => {
    await vault.stop();
});

describe('a named tenant\'s token status', () => {
    it('says a local tenant\'s token is a digest in its row, and shows nothing of it', async () => {
        const read = createTenantTokenStatusReader(readSettings({ TABLES_CONNECTION_STRING: 'UseDevelopmentStorage=true' }));
        const report = await read({ name: 'local-co', state: 'active', created: '2026-03-01T00:00:00Z', tokenDigest: 'ab'.repeat(32) });
        expect(report).toEqual({ source: 'registry' });
    });

    it('lists a Key Vault tenant\'s own secret: current and previous version within the grace window, once a minute, no value', async () => {
        const settings = readSettings({ TABLES_CONNECTION_STRING: 'UseDevelopmentStorage=true', KEY_VAULT_URL: vault.vaultUrl, SCIM_TOKEN_GRACE_MINUTES: '60' });
        const read = createTenantTokenStatusReader(settings, { credential: fakeCredential, secretClientOptions: stubSecretClientOptions, now: () => now });
        const first = vault.addSecretVersion('scim-tenant-vault-co', 'first-tenant-token', { createdOn: now - 86_400_000 });
        const second = vault.addSecretVersion('scim-tenant-vault-co', 'second-tenant-token', { createdOn: now - 600_000 });
        vault.addSecretVersion('scim-token', 'the-default-token', { createdOn: now });
        const tenant = { name: 'vault-co', state: 'active' as const, created: '2026-02-01T00:00:00Z', secretName: 'scim-tenant-vault-co' };

        const report = await read(tenant);
        expect(report).toMatchObject({ source: 'keyVault', secretName: 'scim-tenant-vault-co', graceMinutes: 60 });
        expect(report.versions?.current?.version).toBe(second);
        expect(report.versions?.previous?.version).toBe(first);
        expect(new Date(report.versions!.previous!.acceptedUntil).getTime()).toBe(now - 600_000 + 3_600_000);
        expect(JSON.stringify(report)).not.toMatch(/tenant-token|default-token/);

        const listings = vault.requests.listVersions;
        await read(tenant);
        expect(vault.requests.listVersions).toBe(listings); // cached
        now += 61_000;
        await read(tenant);
        expect(vault.requests.listVersions).toBeGreaterThan(listings);
    });
});
