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
 *   SCIM_SCHEMA_EXTENSIONS         declared extension schemas, JSON or a file path (docs/schema-extensions.md)
 *   SCIM_INDEXED_ATTRIBUTES        attribute paths indexed for eq filters beyond the defaults (docs/operate.md, "Indexes")
 *
 * A setting the app cannot run with is a `SettingsError` whose message names the setting and the problem
 * (never a secret): logged as one line at start-up, and start-up stops (shared/http/registerRoute.ts, `npm start`).
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
    /** Public base URL of the SCIM root (`https://<app>/scim`), for `Location` and `meta.location`; else derived from the request. */
    publicBaseUrl?: string;
    /**
     * The equality indexes: the default set plus `SCIM_INDEXED_ATTRIBUTES` (comma-separated attribute paths),
     * checked against the schemas these settings serve, declared extensions included.
     */
    indexes: IndexConfiguration;
    /** `SCIM_SCHEMA_EXTENSIONS`: the extension schemas the admin declared, checked (docs/schema-extensions.md). */
    schemaExtensions: SchemaExtension[];
}

export class SettingsError extends Error {
    override name = 'SettingsError';
}

export type Environment = Readonly<Record<string, string | undefined>>;

export const DEFAULT_TABLE_NAME = 'scim';
export const DEFAULT_SECRET_NAME = 'scim-token';
export const DEFAULT_GRACE_MINUTES = 60;
export const DEFAULT_CACHE_SECONDS = 300;

/**
 * Reads every setting; throws `SettingsError` for one the app cannot run with. `log` hears about values that were unusable and replaced by their defaults (a typo
 * in a number must not silently turn the grace window into zero or NaN).
 */
export function readSettings(env: Environment = process.env, log: (line: string) => void = (line) => console.warn(line)): Settings {
    const schemaExtensions = readSchemaExtensionsSetting(env.SCIM_SCHEMA_EXTENSIONS);
    const settings: Settings = {
        storage: readStorageSettings(env),
        token: readTokenSettings(env, log),
        managedIdentityClientId: nonEmpty(env.AZURE_CLIENT_ID),
        schemaExtensions,
        indexes: readIndexesSetting(env[INDEXED_ATTRIBUTES_SETTING], new SchemaRegistry(schemaExtensions)),
    };
    if (env.SCIM_PUBLIC_BASE_URL) settings.publicBaseUrl = env.SCIM_PUBLIC_BASE_URL.replace(/\/+$/, '');
    return settings;
}

/** Where the table is: also what the `index` command reads (it needs nothing else of the app's settings). */
export function readStorageSettings(env: Environment = process.env): StorageSettings {
    const storage: StorageSettings = { tableName: env.SCIM_TABLE_NAME || DEFAULT_TABLE_NAME };
    if (env.TABLES_CONNECTION_STRING) storage.connectionString = env.TABLES_CONNECTION_STRING;
    else if (env.TABLES_ENDPOINT) storage.endpoint = env.TABLES_ENDPOINT;
    return storage;
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
