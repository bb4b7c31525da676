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

export interface TokenStatusReport {
    source: 'keyVault' | 'setting' | 'none';
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
