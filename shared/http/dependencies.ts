/**
 * The process-wide dependencies of the SCIM routes, built once from the settings on first use: the token
 * verifier, the store, the activity recorder and what the status page reads. Under `func`, in Azure, under
 * the local host and in tests this is the same code; only the environment differs.
 */
import { randomUUID } from 'node:crypto';
import { ActivityRecorder } from '../activity/ActivityRecorder';
import { createAdminSignIn, type AdminSignIn, type AdminSignInDependencies } from '../auth/adminSignIn';
import { createTokenVerifier, type TokenVerifierDependencies } from '../auth/createTokenVerifier';
import type { TokenVerifier } from '../auth/TokenVerifier';
import { createTokenStatusReader, type TokenStatusReport } from '../auth/tokenStatusReader';
import { readSettings, type Settings } from '../config';
import type { ActivityStore } from '../store/ActivityStore';
import type { ResourceStore } from '../store/ResourceStore';
import { createActivityStoreFromSettings, createStoreFromSettings } from '../store/createStore';

export interface Dependencies {
    settings: Settings;
    verifier: TokenVerifier;
    store: ResourceStore;
    /** Counts every answered SCIM request; flushed to `activityStore` in the background (docs/activity.md). */
    activity: ActivityRecorder;
    activityStore: ActivityStore;
    tokenStatus: () => Promise<TokenStatusReport>;
    /** Undefined until the admin sign-in settings are complete: then `/admin` is closed in Azure. */
    adminSignIn: AdminSignIn | undefined;
}

/** Activity rows older than this are pruned: the page shows a week, the CLI the same. */
export const ACTIVITY_RETENTION_MS = 8 * 24 * 3_600_000;

let dependencies: Promise<Dependencies> | undefined;
/** What the token verifier is built with besides the environment; empty outside tests. */
let tokenVerifierDependencies: TokenVerifierDependencies = {};
/** What admin sign-in is built with besides the environment (tests: a local key set); empty outside tests. */
let adminSignInDependencies: AdminSignInDependencies = {};

export function getDependencies(): Promise<Dependencies> {
    dependencies ??= build().catch((error: unknown) => {
        dependencies = undefined; // a failed start (e.g. bad settings) is retried on the next request
        throw error;
    });
    return dependencies;
}

/**
 * Forget the built dependencies, so the next request reads the environment again (tests, local host).
 * Tests can hand the token verifier a fake Key Vault credential, stub client options and a clock, so the
 * real HTTP app verifies against the Key Vault stub.
 */
export function resetDependencies(options: { tokenVerifier?: TokenVerifierDependencies; adminSignIn?: AdminSignInDependencies } = {}): void {
    const previous = dependencies;
    dependencies = undefined;
    tokenVerifierDependencies = options.tokenVerifier ?? {};
    adminSignInDependencies = options.adminSignIn ?? {};
    // The old recorder's counts still go to the table they belong to.
    void previous?.then((built) => built.activity.close(), () => undefined);
}

/**
 * Clean shutdown (the host's terminate hook, the local host's Ctrl-C, a test server's close): the activity
 * counted so far is flushed before the process goes (docs/activity.md, "What can be lost").
 */
export async function closeDependencies(): Promise<void> {
    const built = await dependencies?.catch(() => undefined);
    dependencies = undefined;
    await built?.activity.close();
}

/**
 * Points this process's app at a table and a dev token, the way the local host, the tests and the
 * benchmarks run it: the settings go into the environment (the one configuration path) and the
 * dependencies are rebuilt from it on the next request. Never Key Vault here: see serveLocally.ts.
 */
export function useLocalSettings(settings: { connectionString: string; tableName: string; token: string }): void {
    process.env.TABLES_CONNECTION_STRING = settings.connectionString;
    process.env.SCIM_TABLE_NAME = settings.tableName;
    process.env.SCIM_TOKEN = settings.token;
    delete process.env.KEY_VAULT_URL;
    delete process.env.SCIM_PUBLIC_BASE_URL;
    resetDependencies();
}

async function build(): Promise<Dependencies> {
    const settings = readSettings();
    const verifier = createTokenVerifier(process.env, tokenVerifierDependencies);
    const store = createStoreFromSettings(settings.storage);
    const activityStore = createActivityStoreFromSettings(settings.storage);
    const activity = new ActivityRecorder(activityStore, { instanceId: randomUUID(), retentionMs: ACTIVITY_RETENTION_MS });
    const tokenStatus = createTokenStatusReader(process.env, tokenVerifierDependencies);
    const adminSignIn = createAdminSignIn(settings.admin, adminSignInDependencies);
    return { settings, verifier, store, activity, activityStore, tokenStatus, adminSignIn };
}
