/**
 * Every setting the app reads, in one place (the README's settings table mirrors this).
 * Values come from `process.env`: app settings in Azure, `local.settings.json` under `func start`,
 * and the environment under `npm start`.
 *
 * A setting the app cannot run with is a `SettingsError` whose message names the setting and the problem
 * (never a secret): it is logged as one line at start-up and start-up stops (shared/http/registerRoute.ts,
 * `npm start`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readSchemaExtensions, SchemaExtensionError } from './scim/schemaExtensions';
import type { SchemaExtension } from './scim/schemaRegistry';

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
    /** `SCIM_SCHEMA_EXTENSIONS`: the extension schemas the admin declared, checked (docs/schema-extensions.md). */
    schemaExtensions: SchemaExtension[];
}

export class SettingsError extends Error {
    override name = 'SettingsError';
}

export const DEFAULT_TABLE_NAME = 'scim';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
    const storage: StorageSettings = { tableName: env.SCIM_TABLE_NAME || DEFAULT_TABLE_NAME };
    if (env.TABLES_CONNECTION_STRING) storage.connectionString = env.TABLES_CONNECTION_STRING;
    else if (env.TABLES_ENDPOINT) storage.endpoint = env.TABLES_ENDPOINT;
    const settings: Settings = { storage, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, schemaExtensions: readSchemaExtensionsSetting(env.SCIM_SCHEMA_EXTENSIONS) };
    if (env.SCIM_PUBLIC_BASE_URL) settings.publicBaseUrl = env.SCIM_PUBLIC_BASE_URL.replace(/\/+$/, '');
    return settings;
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
