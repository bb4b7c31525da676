/**
 * The composition root: what every function of the app shares (settings, token verifiers, store, OAuth, the change
 * feed's queue, the activity recorder and what the status page reads), built once per process and handed to the
 * endpoint wrapper (`RouteDefinition.handlerFor`) and the timers. Under the Functions host that is
 * `appOfThisProcess`, built from the environment on first use; the local host, the tests and the benchmarks build
 * their own with `createApp` from settings they pass in.
 */
import { randomUUID } from 'node:crypto';
import { ActivityRecorder } from './activity/ActivityRecorder';
import type { ActivityStore } from './activity/ActivityStore';
import { createAdminSignIn, type AdminSignIn, type AdminSignInDependencies } from './auth/adminSignIn';
import { createTenantTokenVerifier, createTokenVerifier, type TokenVerifierDependencies } from './auth/createTokenVerifier';
import { createOAuth, withAccessTokens, type OAuth, type OAuthDependencies } from './auth/oauth/createOAuth';
import type { TenantTokenVerifier } from './auth/TenantTokenVerifier';
import type { TokenVerifier, VerificationContext } from './auth/TokenVerifier';
import { createTenantTokenStatusReader, createTokenStatusReader, type TokenStatusReport } from './auth/tokenStatusReader';
import { readSettings, type Settings, type TokenKind } from './config';
import type { EventQueue } from './feed/forwardChanges';
import { useSchemaExtensions } from './scim/schemaRegistry';
import { createActivityStoreFromSettings, createStoreFromSettings } from './store/createStore';
import { createEventQueue } from './store/StorageQueue';
import { isTenantName, partitionsOf } from './store/keys';
import type { TableResourceStore } from './store/TableResourceStore';
import type { TenantRecord } from './store/TenantRegistry';

export interface App {
    settings: Settings;
    /** Entra's token, for `/scim`. */
    verifier: TokenVerifier;
    /** The application's token, for the change feed (`/changes`, docs/feed.md); it opens no SCIM route. */
    feedVerifier: TokenVerifier;
    /**
     * Handlers see it as the `ResourceStore` port; the SweepDeletedGroups timer uses its sweep, the `/changes`
     * route and the MaintainChangeFeed timer its change feed (`store.changes`).
     */
    store: TableResourceStore;
    /** The token endpoint and the access-token check; undefined when OAuth is not configured. */
    oauth: OAuth | undefined;
    /** Counts every answered SCIM request in memory; flushed to `activityStore` in the background (docs/activity.md). */
    activity: ActivityRecorder;
    activityStore: ActivityStore;
    /** The Secret Token's versions and dates, for the status page (never a value). */
    tokenStatus: () => Promise<TokenStatusReport>;
    /** Undefined until the admin sign-in settings are complete: then `/admin` is closed outside the local host. */
    adminSignIn: AdminSignIn | undefined;
    /** Where the change feed is pushed; undefined when push is off (no SCIM_FEED_QUEUE). */
    eventQueue: EventQueue | undefined;
    /** Named tenants (`/tenants/<tenant>/scim`): the same handlers, each tenant's own token and partitions. */
    tenants: Tenants;
}

/**
 * The per-tenant half of the composition root. Everything a tenant has of its own hangs off its name: its
 * token check (registry row, cached) and its store (the shared table through its partitions, keys.ts
 * `partitionsOf`), so whatever the store learns to do, every tenant does in its own partitions.
 */
export interface Tenants {
    /**
     * True if `token` is the Secret Token (or, `kind` 'feed', the change feed token) of the active tenant `name`, or,
     * for its SCIM routes with OAuth on, an access token of its own client for its SCIM root (`context`);
     * false for a name no tenant can have.
     */
    verify(name: string, token: string, kind?: TokenKind, context?: VerificationContext): Promise<boolean>;
    /** The tenant's store, built on first use and kept (called only after `verify`, so only real tenants get one). */
    store(name: string): TableResourceStore;
    /** The token check itself (`forget` drops a tenant's cached row on this instance). */
    verifier: TenantTokenVerifier;
    /** After `verify`: whether `name` is a tenant that exists (active or disabled), from the row it read; no storage request. */
    exists(name: string): boolean;
    /** A tenant's Secret Token versions and dates for its status page (never a value): from its registry row, Key Vault listings cached a minute. */
    tokenStatus(record: TenantRecord): Promise<TokenStatusReport>;
}

function tenantsOf(settings: Settings, store: TableResourceStore, options: AppOptions, oauth: OAuth | undefined): Tenants {
    const verifier = createTenantTokenVerifier(settings, store.tenantRegistry(), options.tokenVerifier, oauth?.accessTokens);
    const stores = new Map<string, TableResourceStore>();
    return {
        verifier,
        verify: async (name, token, kind, context) => isTenantName(name) && verifier.verify(name, token, kind, context),
        exists: (name) => isTenantName(name) && verifier.exists(name),
        tokenStatus: createTenantTokenStatusReader(settings, options.tokenVerifier),
        store(name) {
            let tenantStore = stores.get(name);
            if (!tenantStore) stores.set(name, (tenantStore = store.withPartitions(partitionsOf(name))));
            return tenantStore;
        },
    };
}

/** How a route or timer reaches the app: a promise, because the process's app is built on first use. */
export type AppProvider = () => Promise<App>;

export interface AppOptions {
    /** Tests hand the token verifier a fake Key Vault credential, stub client options and a clock. */
    tokenVerifier?: TokenVerifierDependencies;
    /** The same for the OAuth side (Key Vault secret and key clients, a clock, the log). */
    oauth?: OAuthDependencies;
    /** Tests hand admin sign-in a local key set and a clock. */
    adminSignIn?: AdminSignInDependencies;
    /** Tests: how often the activity recorder flushes (default a minute). */
    activityFlushIntervalMs?: number;
}

/** Activity rows older than this are pruned: the page and `npm run activity` show a week. */
export const ACTIVITY_RETENTION_MS = 8 * 24 * 3_600_000;

/**
 * Builds an app from settings; throws if they cannot work (no table storage configured). The schemas it
 * serves — the core ones plus the declared extensions — become the process's schema registry, which every
 * protocol function reads (shared/scim/schemaRegistry.ts): one process serves one schema.
 */
export function createApp(settings: Settings, options: AppOptions = {}): App {
    useSchemaExtensions(settings.schemaExtensions);
    if (settings.schemaExtensions.length > 0) console.log(describeSchemaExtensions(settings));
    const activityStore = createActivityStoreFromSettings(settings.storage, settings.managedIdentityClientId);
    // A named tenant's token endpoint checks its client with the tenants' verifier, which needs the access-token
    // check of `oauth` in turn: built just below, before any request.
    const built: { tenants?: Tenants } = {};
    const oauth = createOAuth(settings, options.oauth, {
        verifyClient: async (name, clientId, clientSecret) => isTenantName(name) && built.tenants!.verifier.verifyClient(name, clientId, clientSecret),
    });
    const store = createStoreFromSettings(settings.storage, settings.indexes, settings.managedIdentityClientId);
    const tenants = (built.tenants = tenantsOf(settings, store, options, oauth));
    return {
        settings,
        // The Secret Token, or, with OAuth configured, either it or an access token (SecretOrAccessTokenVerifier).
        verifier: withAccessTokens(createTokenVerifier(settings, options.tokenVerifier), oauth),
        // The change feed's own token: never an OAuth access token, never Entra's Secret Token.
        feedVerifier: createTokenVerifier(settings, options.tokenVerifier, 'feed'),
        store,
        oauth,
        activity: new ActivityRecorder(activityStore, {
            instanceId: randomUUID(),
            retentionMs: ACTIVITY_RETENTION_MS,
            // A tenant removed since its requests were counted gets no rows back (docs/activity.md, "Tenants").
            tenantExists: (name) => store.tenantRegistry().acceptsActivity(name),
            ...(options.activityFlushIntervalMs !== undefined ? { flushIntervalMs: options.activityFlushIntervalMs } : {}),
        }),
        activityStore,
        tokenStatus: createTokenStatusReader(settings, options.tokenVerifier),
        adminSignIn: createAdminSignIn(settings.admin, options.adminSignIn),
        eventQueue: createEventQueue(settings.feed, settings.managedIdentityClientId),
        tenants,
    };
}

/**
 * A clean shutdown of an app: the activity counted so far is stored before the process goes (docs/activity.md,
 * "What can be lost").
 */
export function closeApp(app: App): Promise<void> {
    return app.activity.close();
}

let processApp: Promise<App> | undefined;

/** The app of this Functions host process, from the environment. A failed start is retried on the next call. */
export function appOfThisProcess(): Promise<App> {
    processApp ??= Promise.resolve()
        .then(() => createApp(readSettings()))
        .catch((error: unknown) => {
            processApp = undefined; // a failed start (e.g. bad settings) is retried on the next request
            throw error;
        });
    return processApp;
}

/** The host's terminate hook (registerRoute.ts): flush this process's app, if it was ever built. */
export async function closeAppOfThisProcess(): Promise<void> {
    const app = await processApp?.catch(() => undefined);
    if (app) await closeApp(app);
}

/** One start-up line saying which extensions are served (names and counts only). */
function describeSchemaExtensions(settings: Settings): string {
    const schemas = settings.schemaExtensions.map((e) => `${e.schema.id} (${e.resourceType}, ${e.schema.attributes.length} attributes)`);
    return `SCIM schema extensions: ${schemas.join(', ')}`;
}
