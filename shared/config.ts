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
 *   SCIM_ADMIN_TENANT_ID / SCIM_ADMIN_CLIENT_ID / SCIM_ADMIN_PRINCIPAL_IDS   who may open /admin in Azure
 *   SCIM_QUIET_PERIOD_MINUTES      no request from Entra for longer than this is a warning on /admin (default 1440)
 *   PORT / SCIM_STORAGE            the local host's port, and `memory` for an embedded Azurite that keeps nothing
 *   SCIM_SCHEMA_EXTENSIONS         declared extension schemas, JSON or a file path (docs/schema-extensions.md)
 *   SCIM_INDEXED_ATTRIBUTES        attribute paths indexed for eq filters beyond the defaults (docs/operate.md, "Indexes")
 *
 * OAuth 2.0 client credentials (RFC 6749 §4.4) and workload identity federation (RFC 7523 §2.2), one object
 * (`OAuthSettings`) so that each tenant can get its own client and federation settings:
 *   SCIM_OAUTH_CLIENT_ID               the client id Entra presents; unset = no token endpoint (Secret Token only)
 *   SCIM_OAUTH_CLIENT_SECRET           the client secret, local development only (like SCIM_TOKEN)
 *   SCIM_OAUTH_CLIENT_SECRET_NAME      Key Vault secret holding the client secret (default `scim-oauth-client-secret`)
 *   SCIM_OAUTH_SECRET_GRACE_MINUTES    how long the previous client secret stays valid after a rotation (default 10080, 7 days)
 *   SCIM_OAUTH_SIGNING_KEY_NAME        Key Vault key that signs access tokens (default `scim-oauth-signing-key`)
 *   SCIM_OAUTH_TOKEN_LIFETIME_MINUTES  access token lifetime, 60–360 (default 120)
 *   SCIM_OAUTH_SCOPE                   space-separated scopes a client may ask for; unset = `scope` is ignored
 *   SCIM_WIF_ISSUER                    federation: the assertion's `iss` (https://login.microsoftonline.com/<tenant>/v2.0)
 *   SCIM_WIF_JWKS_URL                  federation: the issuer's keys (default <issuer root>/discovery/v2.0/keys)
 *   SCIM_WIF_SUBJECT                   federation: the assertion's `sub`
 *   SCIM_WIF_AUDIENCE                  federation: accepted `aud` values, comma-separated
 *
 * A setting the app cannot run with is a `SettingsError` whose message names the setting and the problem
 * (never a secret): logged as one line at start-up, and start-up stops (shared/http/registerRoute.ts, `npm start`).
 *
 * The change feed (docs/feed.md):
 *   SCIM_FEED_TOKEN_SECRET_NAME    its token's secret in the same vault (default `scim-feed-token`; same grace and cache)
 *   SCIM_FEED_TOKEN                its literal token, for local development only
 *   SCIM_FEED_RETENTION_DAYS       how long events are kept (default 30)
 *   SCIM_FEED_QUEUE                storage queue new events are pushed to (push is off when unset)
 *   QUEUES_CONNECTION_STRING / QUEUES_ENDPOINT                       where that queue is (local / Azure)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { INDEXED_ATTRIBUTES_SETTING, readIndexConfiguration, type IndexConfiguration } from './scim/attributeIndexes';
import { readSchemaExtensions, SchemaExtensionError } from './scim/schemaExtensions';
import { SchemaRegistry, type SchemaExtension } from './scim/schemaRegistry';

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

/** Who may open the `/admin` status page in Azure (shared/auth/adminSignIn.ts, docs/operate.md). */
export interface AdminSettings {
    /** The Entra tenant the admins sign in to. */
    tenantId?: string;
    /** Client id of the app registration the status page signs in with. */
    clientId?: string;
    /** Object ids of the users, or groups, allowed in. */
    principalIds: string[];
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
    admin: AdminSettings;
    /** No request from Entra for longer than this is a warning on the status page. */
    quietPeriodMs: number;
    /** The change feed's token, for `/changes`. */
    feedToken: TokenSettings;
    feed: FeedSettings;
    /** Client id of the user-assigned managed identity for Key Vault and Table Storage; undefined: system-assigned. */
    managedIdentityClientId: string | undefined;
    /**
     * Public base URL of the SCIM root (`https://<app>/scim`), for `Location` and `meta.location`. Undefined only
     * outside Azure (local host, tests), where it is derived from the request.
     */
    publicBaseUrl?: string;
    /**
     * The equality indexes: the default set plus `SCIM_INDEXED_ATTRIBUTES` (comma-separated attribute paths),
     * checked against the schemas these settings serve, declared extensions included.
     */
    indexes: IndexConfiguration;
    /** The OAuth token endpoint's client and federation; undefined when SCIM_OAUTH_CLIENT_ID is unset. */
    oauth: OAuthSettings | undefined;
    /** `SCIM_SCHEMA_EXTENSIONS`: the extension schemas the admin declared, checked (docs/schema-extensions.md). */
    schemaExtensions: SchemaExtension[];
}

export class SettingsError extends Error {
    override name = 'SettingsError';
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
/** Entra sends nothing when nothing changed: a day of silence is worth a look, a few hours are not. */
export const DEFAULT_QUIET_PERIOD_MINUTES = 24 * 60;

/**
 * Reads every setting; throws `SettingsError` for one the app cannot run with. `log` hears about values that were unusable and replaced by their defaults (a typo
 * in a number must not silently turn the grace window into zero or NaN).
 */
export function readSettings(env: Environment = process.env, log: (line: string) => void = (line) => console.warn(line)): Settings {
    const schemaExtensions = readSchemaExtensionsSetting(env.SCIM_SCHEMA_EXTENSIONS);
    const settings: Settings = {
        storage: readStorageSettings(env),
        token: readTokenSettings(env, log),
        admin: readAdminSettings(env),
        quietPeriodMs: (readNonNegativeNumber(env, 'SCIM_QUIET_PERIOD_MINUTES', DEFAULT_QUIET_PERIOD_MINUTES, log) || DEFAULT_QUIET_PERIOD_MINUTES) * 60_000,
        feedToken: readTokenSettings(env, log, 'feed'),
        feed: readFeedSettings(env, log),
        managedIdentityClientId: nonEmpty(env.AZURE_CLIENT_ID),
        oauth: readOAuthSettings(env, log),
        schemaExtensions,
        indexes: readIndexesSetting(env[INDEXED_ATTRIBUTES_SETTING], new SchemaRegistry(schemaExtensions)),
    };
    const publicBaseUrl = publicBaseUrlOf(env);
    if (publicBaseUrl !== undefined) settings.publicBaseUrl = publicBaseUrl;
    return settings;
}

/** Where the table is: also what the `index` command reads (it needs nothing else of the app's settings). */
export function readStorageSettings(env: Environment = process.env): StorageSettings {
    const storage: StorageSettings = { tableName: env.SCIM_TABLE_NAME || DEFAULT_TABLE_NAME };
    if (env.TABLES_CONNECTION_STRING) storage.connectionString = env.TABLES_CONNECTION_STRING;
    else if (env.TABLES_ENDPOINT) storage.endpoint = env.TABLES_ENDPOINT;
    return storage;
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

/** `npm start` (dev/serveLocally.ts): the local host's own settings. */
export interface LocalHostSettings {
    port: number;
    /** The embedded Azurite keeps nothing on disk. */
    storageInMemory: boolean;
}

export const DEFAULT_LOCAL_PORT = 7071;

export function readLocalHostSettings(env: Environment): LocalHostSettings {
    return { port: Number(env.PORT || DEFAULT_LOCAL_PORT), storageInMemory: env.SCIM_STORAGE === 'memory' };
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

function readAdminSettings(env: Environment): AdminSettings {
    const admin: AdminSettings = { principalIds: (env.SCIM_ADMIN_PRINCIPAL_IDS ?? '').split(/[\s,]+/).filter((id) => id !== '') };
    const tenantId = nonEmpty(env.SCIM_ADMIN_TENANT_ID);
    const clientId = nonEmpty(env.SCIM_ADMIN_CLIENT_ID);
    if (tenantId) admin.tenantId = tenantId;
    if (clientId) admin.clientId = clientId;
    return admin;
}

function readFeedSettings(env: Environment, log: (line: string) => void): FeedSettings {
    const feed: FeedSettings = { retentionDays: readNonNegativeNumber(env, 'SCIM_FEED_RETENTION_DAYS', DEFAULT_FEED_RETENTION_DAYS, log) || DEFAULT_FEED_RETENTION_DAYS };
    const queueName = nonEmpty(env.SCIM_FEED_QUEUE);
    if (queueName) feed.queueName = queueName;
    if (env.QUEUES_CONNECTION_STRING) feed.queueConnectionString = env.QUEUES_CONNECTION_STRING;
    else if (env.QUEUES_ENDPOINT) feed.queueEndpoint = env.QUEUES_ENDPOINT;
    return feed;
}

export const DEFAULT_CLIENT_SECRET_NAME = 'scim-oauth-client-secret';
export const DEFAULT_SIGNING_KEY_NAME = 'scim-oauth-signing-key';
export const DEFAULT_SECRET_GRACE_MINUTES = 7 * 24 * 60;
/** Microsoft's gallery guidance: access tokens live at least 60 minutes and at most 6 hours (docs/entra-protocol.md §15). */
export const MIN_TOKEN_LIFETIME_MINUTES = 60;
export const MAX_TOKEN_LIFETIME_MINUTES = 360;
export const DEFAULT_TOKEN_LIFETIME_MINUTES = 120;

export interface FederationSettings {
    /** The assertion's exact `iss`. */
    issuer: string;
    /** Where the issuer publishes its signing keys (a JWKS). */
    jwksUrl: string;
    /** The assertion's exact `sub` (the object id of Entra's workload identity). */
    subject: string;
    /** Accepted `aud` values: Microsoft's examples show both `api://<appId>` and the bare app id. */
    audiences: string[];
    /** The tenant the assertion must come from (`tid`), the GUID in the issuer's path. */
    tenantId: string;
}

export interface OAuthSettings {
    clientId: string;
    /** Where the client secret comes from; undefined: no client secret is accepted (federation only). */
    clientSecret: { keyVaultSecretName: string } | { value: string } | undefined;
    secretGraceWindowMs: number;
    /** Where the access-token signing key lives: a Key Vault key, or one generated in memory (local). */
    signingKey: { keyVaultKeyName: string } | { inMemory: true };
    accessTokenLifetimeSeconds: number;
    /** Scopes a token request may name; undefined: any `scope` parameter is ignored. */
    scopes: string[] | undefined;
    federation: FederationSettings | undefined;
}

/**
 * The OAuth settings, or undefined when SCIM_OAUTH_CLIENT_ID is unset (the token endpoint then refuses
 * every request and the SCIM routes accept only the Secret Token). `log` hears about every value that was
 * unusable and what was done instead; nothing here logs a secret.
 */
export function readOAuthSettings(env: Environment, log: (line: string) => void = () => undefined): OAuthSettings | undefined {
    const clientId = nonEmpty(env.SCIM_OAUTH_CLIENT_ID);
    if (clientId === undefined) return undefined;

    const keyVault = nonEmpty(env.KEY_VAULT_URL) !== undefined;
    const staticSecret = env.SCIM_OAUTH_CLIENT_SECRET === '' ? undefined : env.SCIM_OAUTH_CLIENT_SECRET;
    const secretVersions = readClientSecretVersionSettings(env, log);
    let clientSecret: OAuthSettings['clientSecret'];
    if (keyVault) {
        if (staticSecret !== undefined) log('OAuth: SCIM_OAUTH_CLIENT_SECRET is ignored because KEY_VAULT_URL is set.');
        clientSecret = { keyVaultSecretName: secretVersions.secretName };
    } else if (staticSecret !== undefined) {
        clientSecret = { value: staticSecret };
    }

    const lifetimeMinutes = readNumber(env, 'SCIM_OAUTH_TOKEN_LIFETIME_MINUTES', DEFAULT_TOKEN_LIFETIME_MINUTES, log,
        (value) => value >= MIN_TOKEN_LIFETIME_MINUTES && value <= MAX_TOKEN_LIFETIME_MINUTES,
        `between ${MIN_TOKEN_LIFETIME_MINUTES} and ${MAX_TOKEN_LIFETIME_MINUTES}`);
    const scope = nonEmpty(env.SCIM_OAUTH_SCOPE);

    return {
        clientId,
        clientSecret,
        secretGraceWindowMs: secretVersions.graceWindowMs,
        signingKey: keyVault
            ? { keyVaultKeyName: nonEmpty(env.SCIM_OAUTH_SIGNING_KEY_NAME) ?? DEFAULT_SIGNING_KEY_NAME }
            : { inMemory: true },
        accessTokenLifetimeSeconds: Math.round(lifetimeMinutes * 60),
        scopes: scope === undefined ? undefined : scope.split(/\s+/),
        federation: readFederationSettings(env, log),
    };
}

/**
 * Where the client secret's Key Vault versions are and how long the previous one stays valid: what the app
 * and the admin command (`npm run token -- client …`) must agree on.
 */
export function readClientSecretVersionSettings(env: Environment, log: (line: string) => void = () => undefined): { secretName: string; graceWindowMs: number } {
    return {
        secretName: nonEmpty(env.SCIM_OAUTH_CLIENT_SECRET_NAME) ?? DEFAULT_CLIENT_SECRET_NAME,
        graceWindowMs: readNonNegativeNumber(env, 'SCIM_OAUTH_SECRET_GRACE_MINUTES', DEFAULT_SECRET_GRACE_MINUTES, log) * 60_000,
    };
}

function readFederationSettings(env: Environment, log: (line: string) => void): FederationSettings | undefined {
    const issuer = nonEmpty(env.SCIM_WIF_ISSUER);
    const subject = nonEmpty(env.SCIM_WIF_SUBJECT);
    const audiences = (env.SCIM_WIF_AUDIENCE ?? '').split(',').map((value) => value.trim()).filter((value) => value !== '');
    if (issuer === undefined && subject === undefined && audiences.length === 0) return undefined;

    const missing = [
        ...(issuer === undefined ? ['SCIM_WIF_ISSUER'] : []),
        ...(subject === undefined ? ['SCIM_WIF_SUBJECT'] : []),
        ...(audiences.length === 0 ? ['SCIM_WIF_AUDIENCE'] : []),
    ];
    if (missing.length > 0) {
        log(`OAuth: workload identity federation is off: ${missing.join(', ')} not set.`);
        return undefined;
    }
    // Entra's v2.0 issuer is https://login.microsoftonline.com/<tenant id>/v2.0: the tenant is the segment before v2.0.
    const issuerPath = /^(https?:\/\/[^/]+(?:\/[^/]+)*)\/([^/]+)\/v2\.0$/.exec(issuer!);
    if (!issuerPath) {
        log('OAuth: workload identity federation is off: SCIM_WIF_ISSUER is not of the form https://<host>/<tenant id>/v2.0.');
        return undefined;
    }
    const [, , tenantId] = issuerPath;
    const jwksUrl = nonEmpty(env.SCIM_WIF_JWKS_URL) ?? `${issuer!.slice(0, -'/v2.0'.length)}/discovery/v2.0/keys`;
    if (!/^https?:\/\//.test(jwksUrl)) {
        log('OAuth: workload identity federation is off: SCIM_WIF_JWKS_URL is not an http(s) URL.');
        return undefined;
    }
    return { issuer: issuer!, jwksUrl, subject: subject!, audiences, tenantId: tenantId! };
}

function nonEmpty(value: string | undefined): string | undefined {
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function readNonNegativeNumber(env: Environment, name: string, fallback: number, log: (line: string) => void): number {
    return readNumber(env, name, fallback, log, (value) => value >= 0, 'a non-negative number');
}

function readNumber(
    env: Environment,
    name: string,
    fallback: number,
    log: (line: string) => void,
    isAcceptable: (value: number) => boolean,
    expectation: string,
): number {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || !isAcceptable(value)) {
        log(`Setting ${name}="${raw}" is not ${expectation}; using the default ${fallback}.`);
        return fallback;
    }
    return value;
}

/**
 * `SCIM_SCHEMA_EXTENSIONS` holds the JSON array itself (an app setting in Azure) or the path of a file
 * holding it (absolute, or relative to the working directory: the project root under `npm start`).
 */
function readSchemaExtensionsSetting(value: string | undefined): SchemaExtension[] {
    if (value === undefined || value.trim() === '') return [];
    let text = value;
    if (!value.trim().startsWith('[')) {
        const file = path.resolve(value.trim());
        try {
            text = readFileSync(file, 'utf8');
        } catch (error) {
            const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
            throw new SettingsError(`SCIM_SCHEMA_EXTENSIONS: cannot read the file ${file} (${code}); the setting holds a JSON array or the path of a file holding one`);
        }
    }
    try {
        return readSchemaExtensions(text);
    } catch (error) {
        if (error instanceof SchemaExtensionError) throw new SettingsError(`SCIM_SCHEMA_EXTENSIONS: ${error.message}`);
        throw error;
    }
}

/** `SCIM_INDEXED_ATTRIBUTES` against the schemas these settings serve: a path no index can serve stops the start. */
function readIndexesSetting(value: string | undefined, registry: SchemaRegistry): IndexConfiguration {
    try {
        return readIndexConfiguration(value, registry);
    } catch (error) {
        throw new SettingsError(error instanceof Error ? error.message : `${INDEXED_ATTRIBUTES_SETTING}: cannot be read`);
    }
}
