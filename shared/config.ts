/**
 * Every setting the app reads, in one place (the README's settings table mirrors this; nothing else reads
 * `process.env` for the app). Values come from the environment: app settings in Azure, `local.settings.json`
 * under `func start`, the environment under `npm start`. Tests pass their own env-shaped record instead.
 *
 *   TABLES_CONNECTION_STRING / TABLES_ENDPOINT / SCIM_TABLE_NAME   where the store keeps resources
 *   SCIM_PUBLIC_BASE_URL                                           public URL of the SCIM root
 *   AZURE_CLIENT_ID                client id of a user-assigned managed identity (system-assigned when absent)
 *   KEY_VAULT_URL                  vault holding the token, e.g. https://myvault.vault.azure.net (Azure)
 *   SCIM_TOKEN_SECRET_NAME         secret name in that vault (default `scim-token`)
 *   SCIM_TOKEN_GRACE_MINUTES       how long the previous version stays valid after a rotation (default 60)
 *   SCIM_TOKEN_CACHE_SECONDS       how long a fetched token is used before a background refresh (default 300)
 *   SCIM_TOKEN                     a literal token, for local development only (ignored when KEY_VAULT_URL is set)
 *
 * The change feed (docs/feed.md):
 *   SCIM_FEED_TOKEN_SECRET_NAME    its token's secret in the same vault (default `scim-feed-token`; same grace and cache)
 *   SCIM_FEED_TOKEN                its literal token, for local development only
 *   SCIM_FEED_RETENTION_DAYS       how long events are kept (default 30)
 *   SCIM_FEED_QUEUE                storage queue new events are pushed to (push is off when unset)
 *   QUEUES_CONNECTION_STRING / QUEUES_ENDPOINT                       where that queue is (local / Azure)
 */
export interface StorageSettings {
    tableName: string;
    /** Local and tests: an Azurite or storage-account connection string. */
    connectionString?: string;
    /** Azure: the table service endpoint, reached with the app's managed identity. */
    endpoint?: string;
}

/**
 * Where a bearer token comes from; shared by the function app and the admin command (`npm run token`). There are
 * two: Entra's for `/scim`, and the application's for the change feed; neither opens the other's routes.
 */
export interface TokenSettings {
    keyVaultUrl: string | undefined;
    secretName: string;
    graceWindowMs: number;
    cacheTtlMs: number;
    staticToken: string | undefined;
}

/** The change feed's push and retention (docs/feed.md). */
export interface FeedSettings {
    /** Storage queue the timer forwards new events to; push is off when unset (SCIM_FEED_QUEUE). */
    queueName?: string;
    /** Local and tests: a connection string with a QueueEndpoint (QUEUES_CONNECTION_STRING; Azurite's queue service). */
    queueConnectionString?: string;
    /** Azure: the queue service endpoint, reached with the app's managed identity (QUEUES_ENDPOINT). */
    queueEndpoint?: string;
    /** Events older than this are removed by the timer (SCIM_FEED_RETENTION_DAYS, default 30). */
    retentionDays: number;
}

export interface Settings {
    storage: StorageSettings;
    /** Entra's token, for `/scim`. */
    token: TokenSettings;
    /** The change feed's token, for `/changes`. */
    feedToken: TokenSettings;
    feed: FeedSettings;
    /** Client id of the user-assigned managed identity for Key Vault and Table Storage; undefined: system-assigned. */
    managedIdentityClientId: string | undefined;
    /** Public base URL of the SCIM root (`https://<app>/scim`), for `Location` and `meta.location`; else derived from the request. */
    publicBaseUrl?: string;
}

export type Environment = Readonly<Record<string, string | undefined>>;

export const DEFAULT_TABLE_NAME = 'scim';
export const DEFAULT_SECRET_NAME = 'scim-token';
export const DEFAULT_FEED_SECRET_NAME = 'scim-feed-token';
export const DEFAULT_FEED_RETENTION_DAYS = 30;

/** Which bearer token: Entra's for `/scim`, or the application's for the change feed. */
export type TokenKind = 'scim' | 'feed';

/** The setting names of each kind of token, and what log lines call it. */
export const TOKEN_SETTING_NAMES: Record<TokenKind, { secretName: string; defaultSecretName: string; staticToken: string; label: string }> = {
    scim: { secretName: 'SCIM_TOKEN_SECRET_NAME', defaultSecretName: DEFAULT_SECRET_NAME, staticToken: 'SCIM_TOKEN', label: 'SCIM token' },
    feed: { secretName: 'SCIM_FEED_TOKEN_SECRET_NAME', defaultSecretName: DEFAULT_FEED_SECRET_NAME, staticToken: 'SCIM_FEED_TOKEN', label: 'Feed token' },
};
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
        feedToken: readTokenSettings(env, log, 'feed'),
        feed: readFeedSettings(env, log),
        managedIdentityClientId: nonEmpty(env.AZURE_CLIENT_ID),
    };
    if (env.SCIM_PUBLIC_BASE_URL) settings.publicBaseUrl = env.SCIM_PUBLIC_BASE_URL.replace(/\/+$/, '');
    return settings;
}

/** The settings of one token alone (the admin command needs no storage). */
export function readTokenSettings(env: Environment, log: (line: string) => void = () => undefined, kind: TokenKind = 'scim'): TokenSettings {
    const names = TOKEN_SETTING_NAMES[kind];
    const staticToken = env[names.staticToken];
    return {
        keyVaultUrl: nonEmpty(env.KEY_VAULT_URL),
        secretName: nonEmpty(env[names.secretName]) ?? names.defaultSecretName,
        graceWindowMs: readNonNegativeNumber(env, 'SCIM_TOKEN_GRACE_MINUTES', DEFAULT_GRACE_MINUTES, log) * 60_000,
        cacheTtlMs: readNonNegativeNumber(env, 'SCIM_TOKEN_CACHE_SECONDS', DEFAULT_CACHE_SECONDS, log) * 1000,
        // Not trimmed on purpose: the token is compared exactly as configured.
        staticToken: staticToken === '' ? undefined : staticToken,
    };
}

function readFeedSettings(env: Environment, log: (line: string) => void): FeedSettings {
    const feed: FeedSettings = { retentionDays: readNonNegativeNumber(env, 'SCIM_FEED_RETENTION_DAYS', DEFAULT_FEED_RETENTION_DAYS, log) || DEFAULT_FEED_RETENTION_DAYS };
    const queueName = nonEmpty(env.SCIM_FEED_QUEUE);
    if (queueName) feed.queueName = queueName;
    if (env.QUEUES_CONNECTION_STRING) feed.queueConnectionString = env.QUEUES_CONNECTION_STRING;
    else if (env.QUEUES_ENDPOINT) feed.queueEndpoint = env.QUEUES_ENDPOINT;
    return feed;
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
