/**
 * Registers routes with the Azure Functions host. Anonymous auth level: the bearer token checked in
 * `scimEndpoint.ts` is our auth (function keys would be a second, unrelated secret).
 */
import { app } from '@azure/functions';
import { appOfThisProcess, startApp } from '../app';
import type { RouteDefinition } from './scimEndpoint';

let startupHookRegistered = false;

export function registerRoute(route: RouteDefinition): RouteDefinition {
    registerStartupCheck();
    app.http(route.name, { route: route.route, methods: route.methods, authLevel: 'anonymous', handler: route.handlerFor(appOfThisProcess) });
    return route;
}

/**
 * Runs `startApp` when the host starts rather than on the first request, so a missing token source ("every
 * request will be refused"), storage setting or an attribute that cannot be indexed is in the log at
 * start-up, before Entra's first Test Connection, and the store has declared its indexes. Outside the host
 * (tests, local host) the hook never fires (the package's test mode skips it with a warning the local host
 * and the test setup filter out); the local host calls `startApp` itself.
 */
function registerStartupCheck(): void {
    if (startupHookRegistered) return;
    startupHookRegistered = true;
    app.hook.appStart(async () => {
        await startApp(appOfThisProcess, (line) => console.error(line));
    });
}
