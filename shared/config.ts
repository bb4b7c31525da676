/**
 * Every setting the app reads, in one place (the README's settings table mirrors this; nothing else reads
 * `process.env` for the app). Values come from the environment: app settings in Azure, `local.settings.json`
 * under `func start`, the environment under `npm start`. Tests pass their own env-shaped record instead.
 *
 *   TABLES_CONNECTION_STRING / TABLES_ENDPOINT / SCIM_TABLE_NAME   where the store keeps resources
 *   SCIM_PUBLIC_BASE_URL                                           public URL of the SCIM root
 *   WEBSITE_HOSTNAME               set by the platform in Azure: the default for the public URL
 *   AZURE_CLIENT_ID                client id of a user-assigned managed identity (system-assigned when absent)
 *   KEY_VAULT_URL                  vault holding the token, e.g. https://myvault.vault.azure.net (Azure)
 *   SCIM_TOKEN_SECRET_NAME         secret name in that vault (default `scim-token`)
 *   SCIM_TOKEN_GRACE_MINUTES       how long the previous version stays valid after a rotation (default 60)
 *   SCIM_TOKEN_CACHE_SECONDS       how long a fetched token is used before a background refresh (default 300)
 *   SCIM_TOKEN                     a literal token, for local development only (ignored when KEY_VAULT_URL is set)
 */
export interface StorageSettings {
    tableName: string;
    /** Local and tests: an Azurite or storage-account connection string. */
    connectionString?: string;
    /** Azure: the table service endpoint, reached with the app's managed identity. */
    endpoint?: string;
}

/** Where the SCIM bearer token comes from; shared by the function app and the admin command (`npm run token`). */
export interface TokenSettings {
    keyVaultUrl: string | undefined;
    secretName: string;
    graceWindowMs: number;
    cacheTtlMs: number;
    staticToken: string | undefined;
}

export interface Settings {
    storage: StorageSettings;
    token: TokenSettings;
    /** Client id of the user-assigned managed identity for Key Vault and Table Storage; undefined: system-assigned. */
    managedIdentityClientId: string | undefined;
    /**
     * Public base URL of the SCIM root (`https://<app>/scim`), for `Location` and `meta.location`. Undefined only
     * outside Azure (local host, tests), where it is derived from the request.
     */
    publicBaseUrl?: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

export const DEFAULT_TABLE_NAME = 'scim';
export const DEFAULT_SECRET_NAME = 'scim-token';
export const DEFAULT_GRACE_MINUTES = 60;
export const DEFAULT_CACHE_SECONDS = 300;

/**
 * Reads every setting; `log` hears about values that were unusable and replaced by their defaults (a typo
 * in a number must not silently turn the grace window into zero or NaN).
 */
export function readSettings(env: Environment = process.env, log: (line: string) => void = (line) => console.warn(line)): Settings {
    const storage: StorageSettings = { tableName: env.SCIM_TABLE_NAME || DEFAULT_TABLE_NAME };
    if (env.TABLES_CONNECTION_STRING) storage.connectionString = env.TABLES_CONNECTION_STRING;
    else if (env.TABLES_ENDPOINT) storage.endpoint = env.TABLES_ENDPOINT;
    const settings: Settings = {
        storage,
        token: readTokenSettings(env, log),
        managedIdentityClientId: nonEmpty(env.AZURE_CLIENT_ID),
    };
    const publicBaseUrl = publicBaseUrlOf(env);
    if (publicBaseUrl !== undefined) settings.publicBaseUrl = publicBaseUrl;
    return settings;
}

/**
 * SCIM_PUBLIC_BASE_URL (a gateway or custom domain in front of the app); else, in Azure, the app's own default
 * host name, which App Service sets in WEBSITE_HOSTNAME (https://learn.microsoft.com/azure/app-service/reference-app-settings),
 * over https (the app is https-only). Never the request's Host header: a client could point `Location` anywhere.
 */
function publicBaseUrlOf(env: Environment): string | undefined {
    if (env.SCIM_PUBLIC_BASE_URL) return env.SCIM_PUBLIC_BASE_URL.replace(/\/+$/, '');
    const hostName = env.WEBSITE_HOSTNAME?.trim();
    return hostName ? `https://${hostName}/scim` : undefined;
}

/** The token settings alone (the admin command needs no storage). */
export function readTokenSettings(env: Environment, log: (line: string) => void = () => undefined): TokenSettings {
    return {
        keyVaultUrl: nonEmpty(env.KEY_VAULT_URL),
        secretName: nonEmpty(env.SCIM_TOKEN_SECRET_NAME) ?? DEFAULT_SECRET_NAME,
        graceWindowMs: readNonNegativeNumber(env, 'SCIM_TOKEN_GRACE_MINUTES', DEFAULT_GRACE_MINUTES, log) * 60_000,
        cacheTtlMs: readNonNegativeNumber(env, 'SCIM_TOKEN_CACHE_SECONDS', DEFAULT_CACHE_SECONDS, log) * 1000,
        // Not trimmed on purpose: the token is compared exactly as configured.
        staticToken: env.SCIM_TOKEN === '' ? undefined : env.SCIM_TOKEN,
    };
}

function nonEmpty(value: string | undefined): string | undefined {
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function readNonNegativeNumber(env: Environment, name: string, fallback: number, log: (line: string) => void): number {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) {
        log(`Setting ${name}="${raw}" is not a non-negative number; using the default ${fallback}.`);
        return fallback;
    }
    return value;
}
