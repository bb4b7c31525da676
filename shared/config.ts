/**
 * Every setting the app reads, in one place (the README's settings table mirrors this).
 * Values come from `process.env`: app settings in Azure, `local.settings.json` under `func start`,
 * and the environment under `npm start`.
 */
import { INDEXED_ATTRIBUTES_SETTING, readIndexConfiguration, type IndexConfiguration } from './scim/attributeIndexes';

export interface StorageSettings {
    tableName: string;
    /** Local and tests: an Azurite or storage-account connection string. */
    connectionString?: string;
    /** Azure: the table service endpoint, reached with the app's managed identity. */
    endpoint?: string;
}

export interface Settings {
    storage: StorageSettings;
    /** Public base URL of the SCIM root (`https://<app>/scim`), for `Location` and `meta.location`; else derived from the request. */
    publicBaseUrl?: string;
    /** Largest request body accepted, bytes (advertised as `bulk.maxPayloadSize`). */
    maxBodyBytes: number;
    /**
     * The equality indexes: the default set plus `SCIM_INDEXED_ATTRIBUTES` (comma-separated attribute paths).
     * A path that cannot be indexed makes `readSettings` throw, naming it: the app does not start with it.
     */
    indexes: IndexConfiguration;
}

export const DEFAULT_TABLE_NAME = 'scim';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
    const storage = readStorageSettings(env);
    const indexes = readIndexConfiguration(env[INDEXED_ATTRIBUTES_SETTING]);
    const settings: Settings = { storage, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, indexes };
    if (env.SCIM_PUBLIC_BASE_URL) settings.publicBaseUrl = env.SCIM_PUBLIC_BASE_URL.replace(/\/+$/, '');
    return settings;
}

/** Where the table is: also what the `index` command reads (it needs nothing else of the app's settings). */
export function readStorageSettings(env: NodeJS.ProcessEnv = process.env): StorageSettings {
    const storage: StorageSettings = { tableName: env.SCIM_TABLE_NAME || DEFAULT_TABLE_NAME };
    if (env.TABLES_CONNECTION_STRING) storage.connectionString = env.TABLES_CONNECTION_STRING;
    else if (env.TABLES_ENDPOINT) storage.endpoint = env.TABLES_ENDPOINT;
    return storage;
}
