/**
 * Every setting the app reads, in one place (the README's settings table mirrors this).
 * Values come from `process.env`: app settings in Azure, `local.settings.json` under `func start`,
 * and the environment under `npm start`.
 */
export interface StorageSettings {
    tableName: string;
    /** Local and tests: an Azurite or storage-account connection string. */
    connectionString?: string;
    /** Azure: the table service endpoint, reached with the app's managed identity. */
    endpoint?: string;
}

export interface Settings {
    storage: StorageSettings;
    /**
     * Public base URL of the SCIM root (`https://<app>/scim`), for `Location` and `meta.location`. Undefined only
     * outside Azure (local host, tests), where it is derived from the request.
     */
    publicBaseUrl?: string;
    /** Largest request body accepted, bytes (advertised as `bulk.maxPayloadSize`). */
    maxBodyBytes: number;
}

export const DEFAULT_TABLE_NAME = 'scim';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
    const storage: StorageSettings = { tableName: env.SCIM_TABLE_NAME || DEFAULT_TABLE_NAME };
    if (env.TABLES_CONNECTION_STRING) storage.connectionString = env.TABLES_CONNECTION_STRING;
    else if (env.TABLES_ENDPOINT) storage.endpoint = env.TABLES_ENDPOINT;
    const settings: Settings = { storage, maxBodyBytes: DEFAULT_MAX_BODY_BYTES };
    const publicBaseUrl = publicBaseUrlOf(env);
    if (publicBaseUrl !== undefined) settings.publicBaseUrl = publicBaseUrl;
    return settings;
}

/**
 * SCIM_PUBLIC_BASE_URL (a gateway or custom domain in front of the app); else, in Azure, the app's own default
 * host name, which App Service sets in WEBSITE_HOSTNAME (https://learn.microsoft.com/azure/app-service/reference-app-settings),
 * over https (the app is https-only). Never the request's Host header: a client could point `Location` anywhere.
 */
function publicBaseUrlOf(env: NodeJS.ProcessEnv): string | undefined {
    if (env.SCIM_PUBLIC_BASE_URL) return env.SCIM_PUBLIC_BASE_URL.replace(/\/+$/, '');
    const hostName = env.WEBSITE_HOSTNAME?.trim();
    return hostName ? `https://${hostName}/scim` : undefined;
}
