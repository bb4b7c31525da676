/**
 * The app settings that say where the SCIM bearer token comes from, read in one place so the function app
 * (`createTokenVerifier`) and the admin command (`tokenCommand`) agree on names and defaults.
 *
 *   KEY_VAULT_URL                  vault holding the token, e.g. https://myvault.vault.azure.net (Azure)
 *   SCIM_TOKEN_SECRET_NAME         secret name in that vault (default `scim-token`)
 *   AZURE_CLIENT_ID                client id of a user-assigned managed identity (system-assigned when absent)
 *   SCIM_TOKEN_GRACE_MINUTES       how long the previous version stays valid after a rotation (default 60)
 *   SCIM_TOKEN_CACHE_SECONDS       how long a fetched token is used before a background refresh (default 300)
 *   SCIM_TOKEN                     a literal token, for local development only (ignored when KEY_VAULT_URL is set)
 *
 * The change feed (`/changes`, docs/feed.md) has a credential of its own, read by the same rules from
 *   SCIM_FEED_TOKEN_SECRET_NAME    (default `scim-feed-token`) and SCIM_FEED_TOKEN (local development only).
 */

export const DEFAULT_SECRET_NAME = 'scim-token';
export const DEFAULT_FEED_SECRET_NAME = 'scim-feed-token';

/** Which bearer token: Entra's for `/scim`, or the application's for the change feed. Neither opens the other's routes. */
export type TokenKind = 'scim' | 'feed';

/** The setting names of each kind of token. */
export const TOKEN_SETTING_NAMES: Record<TokenKind, { secretName: string; defaultSecretName: string; staticToken: string; label: string }> = {
    scim: { secretName: 'SCIM_TOKEN_SECRET_NAME', defaultSecretName: DEFAULT_SECRET_NAME, staticToken: 'SCIM_TOKEN', label: 'SCIM token' },
    feed: { secretName: 'SCIM_FEED_TOKEN_SECRET_NAME', defaultSecretName: DEFAULT_FEED_SECRET_NAME, staticToken: 'SCIM_FEED_TOKEN', label: 'Feed token' },
};
export const DEFAULT_GRACE_MINUTES = 60;
export const DEFAULT_CACHE_SECONDS = 300;

export interface TokenSettings {
    keyVaultUrl: string | undefined;
    secretName: string;
    managedIdentityClientId: string | undefined;
    graceWindowMs: number;
    cacheTtlMs: number;
    staticToken: string | undefined;
}

/**
 * Reads the settings; `log` hears about values that were unusable and replaced by their defaults (a typo
 * in a number must not silently turn the grace window into zero or NaN).
 */
export function readTokenSettings(env: NodeJS.ProcessEnv, log: (line: string) => void = () => undefined, kind: TokenKind = 'scim'): TokenSettings {
    const names = TOKEN_SETTING_NAMES[kind];
    const staticToken = env[names.staticToken];
    return {
        keyVaultUrl: nonEmpty(env.KEY_VAULT_URL),
        secretName: nonEmpty(env[names.secretName]) ?? names.defaultSecretName,
        managedIdentityClientId: nonEmpty(env.AZURE_CLIENT_ID),
        graceWindowMs: readNonNegativeNumber(env, 'SCIM_TOKEN_GRACE_MINUTES', DEFAULT_GRACE_MINUTES, log) * 60_000,
        cacheTtlMs: readNonNegativeNumber(env, 'SCIM_TOKEN_CACHE_SECONDS', DEFAULT_CACHE_SECONDS, log) * 1000,
        // Not trimmed on purpose: the token is compared exactly as configured.
        staticToken: staticToken === '' ? undefined : staticToken,
    };
}

function nonEmpty(value: string | undefined): string | undefined {
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function readNonNegativeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, log: (line: string) => void): number {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) {
        log(`Setting ${name}="${raw}" is not a non-negative number; using the default ${fallback}.`);
        return fallback;
    }
    return value;
}
