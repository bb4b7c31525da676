/**
 * Registers routes with the Azure Functions host. Anonymous auth level: the bearer token checked in
 * `scimEndpoint.ts` is our auth (function keys would be a second, unrelated secret).
 */
import { app } from '@azure/functions';
import { appOfThisProcess, type AppProvider } from '../app';
import { SettingsError } from '../config';
import { tenantRouteOf, type RouteDefinition } from './scimEndpoint';

let startupHookRegistered = false;

/**
 * Registers a route; a SCIM route (`scim/…`) also as its twin under the tenant root (`tenants/{tenant}/scim/…`,
 * `tenantRouteOf`). Other routes (the OAuth token endpoint) serve the default tenant only.
 */
export function registerRoute(route: RouteDefinition): RouteDefinition {
    registerStartupCheck();
    for (const each of route.route.startsWith('scim/') ? [route, tenantRouteOf(route)] : [route]) {
        app.http(each.name, { route: each.route, methods: each.methods, authLevel: 'anonymous', handler: each.handlerFor(appOfThisProcess) });
    }
    return route;
}

/**
 * Builds the app when the host starts rather than on the first request, so a missing token
 * source ("every request will be refused") or storage setting is in the log at start-up, before Entra's
 * first Test Connection, and prepares its store: the index state rows `npm run index` reads are written
 * before the first request (shared/store/IndexStates.ts). A setting the app cannot run with (a bad
 * `SCIM_SCHEMA_EXTENSIONS`, an attribute in `SCIM_INDEXED_ATTRIBUTES` no index can serve) also stops the
 * start: the hook rethrows, the worker reports the failed start-up, and no request is served with a wrong
 * schema. Outside the host (tests, local host) the hook never fires (the package's test mode skips it with a
 * warning the local host and the test setup filter out); the local host calls `checkStartup` itself.
 */
function registerStartupCheck(): void {
    if (startupHookRegistered) return;
    startupHookRegistered = true;
    app.hook.appStart(() => checkStartup());
}

/** The start-up check: one log line for whatever is wrong; a setting the app cannot run with stops the start. */
export async function checkStartup(build: AppProvider = appOfThisProcess, log: (line: string) => void = (line) => console.error(line)): Promise<void> {
    try {
        const { store } = await build();
        await store.indexes('User');
    } catch (error) {
        log(`scim start-up: ${error instanceof Error ? error.message : 'configuration error'}`);
        if (error instanceof SettingsError) throw error;
    }
}
