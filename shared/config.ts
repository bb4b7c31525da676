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
    feed: FeedSettings;
    /** Public base URL of the SCIM root (`https://<app>/scim`), for `Location` and `meta.location`; else derived from the request. */
    publicBaseUrl?: string;
    /** Largest request body accepted, bytes (advertised as `bulk.maxPayloadSize`). */
    maxBodyBytes: number;
}

export const DEFAULT_TABLE_NAME = 'scim';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_FEED_RETENTION_DAYS = 30;

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
    const storage: StorageSettings = { tableName: env.SCIM_TABLE_NAME || DEFAULT_TABLE_NAME };
    if (env.TABLES_CONNECTION_STRING) storage.connectionString = env.TABLES_CONNECTION_STRING;
    else if (env.TABLES_ENDPOINT) storage.endpoint = env.TABLES_ENDPOINT;
    const settings: Settings = { storage, feed: readFeedSettings(env), maxBodyBytes: DEFAULT_MAX_BODY_BYTES };
    if (env.SCIM_PUBLIC_BASE_URL) settings.publicBaseUrl = env.SCIM_PUBLIC_BASE_URL.replace(/\/+$/, '');
    return settings;
}

function readFeedSettings(env: NodeJS.ProcessEnv): FeedSettings {
    const days = Number(env.SCIM_FEED_RETENTION_DAYS);
    const feed: FeedSettings = { retentionDays: env.SCIM_FEED_RETENTION_DAYS && Number.isFinite(days) && days > 0 ? days : DEFAULT_FEED_RETENTION_DAYS };
    if (env.SCIM_FEED_QUEUE) feed.queueName = env.SCIM_FEED_QUEUE;
    if (env.QUEUES_CONNECTION_STRING) feed.queueConnectionString = env.QUEUES_CONNECTION_STRING;
    else if (env.QUEUES_ENDPOINT) feed.queueEndpoint = env.QUEUES_ENDPOINT;
    return feed;
}
