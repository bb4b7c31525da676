/**
 * The process-wide dependencies of the SCIM routes, built once from the settings on first use: the token
 * verifier and the store. Under `func`, in Azure, under the local host and in tests this is the same code;
 * only the environment differs.
 */
import { createTokenVerifier, type TokenVerifierDependencies } from '../auth/createTokenVerifier';
import type { TokenVerifier } from '../auth/TokenVerifier';
import { readSettings, type Settings } from '../config';
import type { EventQueue } from '../feed/forwardChanges';
import { createStoreFromSettings } from '../store/createStore';
import { createEventQueue } from '../store/StorageQueue';
import type { TableResourceStore } from '../store/TableResourceStore';

export interface Dependencies {
    settings: Settings;
    /** Entra's token, for `/scim`. */
    verifier: TokenVerifier;
    /** The application's token, for the change feed (`/changes`, docs/feed.md). */
    feedVerifier: TokenVerifier;
    /** Handlers see it as the `ResourceStore` port; the feed route and the timers use its change feed and sweep. */
    store: TableResourceStore;
    /** Where the change feed is pushed; undefined when push is off (no SCIM_FEED_QUEUE). */
    eventQueue: EventQueue | undefined;
}

let dependencies: Promise<Dependencies> | undefined;
/** What the token verifier is built with besides the environment; empty outside tests. */
let tokenVerifierDependencies: TokenVerifierDependencies = {};

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
export function resetDependencies(options: { tokenVerifier?: TokenVerifierDependencies } = {}): void {
    dependencies = undefined;
    tokenVerifierDependencies = options.tokenVerifier ?? {};
}

/**
 * Points this process's app at a table and a dev token, the way the local host, the tests and the
 * benchmarks run it: the settings go into the environment (the one configuration path) and the
 * dependencies are rebuilt from it on the next request. Never Key Vault here: see serveLocally.ts.
 */
export function useLocalSettings(settings: { connectionString: string; tableName: string; token: string; feedToken?: string }): void {
    process.env.TABLES_CONNECTION_STRING = settings.connectionString;
    process.env.SCIM_TABLE_NAME = settings.tableName;
    process.env.SCIM_TOKEN = settings.token;
    if (settings.feedToken === undefined) delete process.env.SCIM_FEED_TOKEN;
    else process.env.SCIM_FEED_TOKEN = settings.feedToken;
    delete process.env.KEY_VAULT_URL;
    delete process.env.SCIM_PUBLIC_BASE_URL;
    resetDependencies();
}

async function build(): Promise<Dependencies> {
    const settings = readSettings();
    const verifier = createTokenVerifier(process.env, tokenVerifierDependencies);
    const feedVerifier = createTokenVerifier(process.env, tokenVerifierDependencies, 'feed');
    const store = createStoreFromSettings(settings.storage);
    const eventQueue = createEventQueue(settings.feed, process.env.AZURE_CLIENT_ID);
    return { settings, verifier, feedVerifier, store, eventQueue };
}
