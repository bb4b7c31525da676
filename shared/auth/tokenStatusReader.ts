/**
 * The token part of the status page (docs/activity.md): where the Secret Token comes from and, in Key Vault,
 * which versions are accepted and until when. Properties only: a version listing never carries a secret
 * value, so nothing here can show the token. The same settings and rule as the verifier (shared/config.ts,
 * `tokenVersions.ts`), so the page says what the app does.
 */
import type { Settings } from '../config';
import { secretClientOnFirstUse, type TokenVerifierDependencies } from './createTokenVerifier';
import { managedIdentityCredential } from './managedIdentityCredential';
import { describeError } from '../describeError';
import { readTokenStatus, type TokenStatus } from './tokenVersions';
import type { TenantRecord } from '../store/TenantRegistry';

export interface TokenStatusReport {
    /** `registry`: a named tenant's token, checked against the SHA-256 digest in its registry row (local, no Key Vault). */
    source: 'keyVault' | 'setting' | 'none' | 'registry';
    secretName?: string;
    graceMinutes?: number;
    /** Key Vault: the accepted versions. */
    versions?: TokenStatus;
    /** Key Vault could not be read (error name and status only). */
    unavailable?: string;
}

/** A status page view is at most one version listing per this many ms. */
const CACHE_MS = 60_000;

export function createTokenStatusReader(
    { token: settings, managedIdentityClientId }: Pick<Settings, 'token' | 'managedIdentityClientId'>,
    deps: TokenVerifierDependencies = {},
): () => Promise<TokenStatusReport> {
    if (settings.keyVaultUrl === undefined) {
        const report: TokenStatusReport = { source: settings.staticToken !== undefined ? 'setting' : 'none' };
        return () => Promise.resolve(report);
    }
    // The Key Vault SDK is loaded on the first listing (a status page view), never at start-up.
    const client = secretClientOnFirstUse(settings.keyVaultUrl, deps.credential ?? managedIdentityCredential(managedIdentityClientId), deps.secretClientOptions);
    const now = deps.now ?? Date.now;
    const base = { source: 'keyVault' as const, secretName: settings.secretName, graceMinutes: settings.graceWindowMs / 60_000 };
    let cached: { report: TokenStatusReport; at: number } | undefined;
    return async () => {
        if (cached && now() - cached.at < CACHE_MS) return cached.report;
        let report: TokenStatusReport;
        try {
            report = { ...base, versions: await readTokenStatus(client, settings.secretName, settings.graceWindowMs, new Date(now())) };
        } catch (error) {
            report = { ...base, unavailable: describeError(error) };
        }
        cached = { report, at: now() };
        return report;
    };
}

/** Tenants' Key Vault listings remembered at once (a status page view of each); beyond it the oldest is forgotten. */
const MAX_CACHED_TENANT_LISTINGS = 100;

/**
 * The token part of a named tenant's status page: where its registry row says its token is checked and, for a
 * Key Vault secret of its own, that secret's versions (the same grace rule as the verifier's), listed at most
 * once a minute per secret. No secret value is read; a digest tenant's row holds only the digest, never shown.
 */
export function createTenantTokenStatusReader(
    { token: settings, managedIdentityClientId }: Pick<Settings, 'token' | 'managedIdentityClientId'>,
    deps: TokenVerifierDependencies = {},
): (tenant: TenantRecord) => Promise<TokenStatusReport> {
    const now = deps.now ?? Date.now;
    const cache = new Map<string, { report: TokenStatusReport; at: number }>();
    let client: ReturnType<typeof secretClientOnFirstUse> | undefined;
    return async (tenant) => {
        if (tenant.secretName === undefined) return { source: tenant.tokenDigest !== undefined ? 'registry' : 'none' };
        const base = { source: 'keyVault' as const, secretName: tenant.secretName, graceMinutes: settings.graceWindowMs / 60_000 };
        if (settings.keyVaultUrl === undefined) return { ...base, unavailable: 'KEY_VAULT_URL is not set' };
        const cached = cache.get(tenant.secretName);
        if (cached && now() - cached.at < CACHE_MS) return cached.report;
        client ??= secretClientOnFirstUse(settings.keyVaultUrl, deps.credential ?? managedIdentityCredential(managedIdentityClientId), deps.secretClientOptions);
        let report: TokenStatusReport;
        try {
            report = { ...base, versions: await readTokenStatus(client, tenant.secretName, settings.graceWindowMs, new Date(now())) };
        } catch (error) {
            report = { ...base, unavailable: describeError(error) };
        }
        cache.delete(tenant.secretName);
        cache.set(tenant.secretName, { report, at: now() });
        if (cache.size > MAX_CACHED_TENANT_LISTINGS) cache.delete(cache.keys().next().value!);
        return report;
    };
}
