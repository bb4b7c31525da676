/**
 * The composition root: what every function of the app shares (settings, token verifier, store), built once
 * per process and handed to the endpoint wrapper (`RouteDefinition.handlerFor`) and the timer. Under the
 * Functions host that is `appOfThisProcess`, built from the environment on first use; the local host, the
 * tests and the benchmarks build their own with `createApp` from settings they pass in.
 */
import { createTokenVerifier, type TokenVerifierDependencies } from './auth/createTokenVerifier';
import type { TokenVerifier } from './auth/TokenVerifier';
import { readSettings, type Settings } from './config';
import { createStoreFromSettings } from './store/createStore';
import type { TableResourceStore } from './store/TableResourceStore';

export interface App {
    settings: Settings;
    verifier: TokenVerifier;
    /** Handlers see it as the `ResourceStore` port; the SweepDeletedGroups timer uses its sweep. */
    store: TableResourceStore;
}

/** How a route or timer reaches the app: a promise, because the process's app is built on first use. */
export type AppProvider = () => Promise<App>;

export interface AppOptions {
    /** Tests hand the token verifier a fake Key Vault credential, stub client options and a clock. */
    tokenVerifier?: TokenVerifierDependencies;
}

/** Builds an app from settings; throws if they cannot work (no table storage configured). */
export function createApp(settings: Settings, options: AppOptions = {}): App {
    return {
        settings,
        verifier: createTokenVerifier(settings, options.tokenVerifier),
        store: createStoreFromSettings(settings.storage, settings.indexes, settings.managedIdentityClientId),
    };
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

/**
 * What a host runs when it starts: builds the app and prepares its store (the table, the index state rows;
 * shared/store/IndexStates.ts), so that a setting the app cannot run with — an attribute path
 * SCIM_INDEXED_ATTRIBUTES cannot index, no table storage — is one log line before Entra's first request, and
 * `npm run index` finds the indexes this app maintains. False if it could not.
 */
export async function startApp(provide: AppProvider, log: (line: string) => void): Promise<boolean> {
    try {
        const { store } = await provide();
        await store.indexes('User');
        return true;
    } catch (error) {
        log(`scim start-up: ${error instanceof Error ? error.message : 'configuration error'}`);
        return false;
    }
}
