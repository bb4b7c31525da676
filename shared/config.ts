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

/** Who may open the `/admin` status page in Azure (shared/auth/adminSignIn.ts, docs/operate.md). */
export interface AdminSettings {
    /** The Entra tenant the admins sign in to. */
    tenantId?: string;
    /** Client id of the app registration the status page signs in with. */
    clientId?: string;
    /** Object ids of the users, or groups, allowed in. */
    principalIds: string[];
}

export interface Settings {
    storage: StorageSettings;
    admin: AdminSettings;
    /** No request from Entra for longer than this is a warning on the status page. */
    quietPeriodMs: number;
    /** Public base URL of the SCIM root (`https://<app>/scim`), for `Location` and `meta.location`; else derived from the request. */
    publicBaseUrl?: string;
    /** Largest request body accepted, bytes (advertised as `bulk.maxPayloadSize`). */
    maxBodyBytes: number;
}

export const DEFAULT_TABLE_NAME = 'scim';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Entra sends nothing when nothing changed: a day of silence is worth a look, a few hours are not. */
export const DEFAULT_QUIET_PERIOD_MINUTES = 24 * 60;

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
    const storage: StorageSettings = { tableName: env.SCIM_TABLE_NAME || DEFAULT_TABLE_NAME };
    if (env.TABLES_CONNECTION_STRING) storage.connectionString = env.TABLES_CONNECTION_STRING;
    else if (env.TABLES_ENDPOINT) storage.endpoint = env.TABLES_ENDPOINT;
    const admin: AdminSettings = {
        principalIds: (env.SCIM_ADMIN_PRINCIPAL_IDS ?? '').split(/[,\s]+/).filter((id) => id !== ''),
    };
    if (env.SCIM_ADMIN_TENANT_ID?.trim()) admin.tenantId = env.SCIM_ADMIN_TENANT_ID.trim();
    if (env.SCIM_ADMIN_CLIENT_ID?.trim()) admin.clientId = env.SCIM_ADMIN_CLIENT_ID.trim();
    const quietMinutes = Number(env.SCIM_QUIET_PERIOD_MINUTES || DEFAULT_QUIET_PERIOD_MINUTES);
    const settings: Settings = {
        storage,
        admin,
        quietPeriodMs: (Number.isFinite(quietMinutes) && quietMinutes > 0 ? quietMinutes : DEFAULT_QUIET_PERIOD_MINUTES) * 60_000,
        maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    };
    if (env.SCIM_PUBLIC_BASE_URL) settings.publicBaseUrl = env.SCIM_PUBLIC_BASE_URL.replace(/\/+$/, '');
    return settings;
}
