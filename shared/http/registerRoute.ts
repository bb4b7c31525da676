/**
 * Registers routes with the Azure Functions host. Anonymous auth level: the bearer token checked in
 * `scimEndpoint.ts` is our auth (function keys would be a second, unrelated secret).
 */
import { app } from '@azure/functions';
import { appOfThisProcess } from '../app';
import type { RouteDefinition } from './scimEndpoint';

let startupHookRegistered = false;

export function registerRoute(route: RouteDefinition): RouteDefinition {
    registerStartupCheck();
    app.http(route.name, { route: route.route, methods: route.methods, authLevel: 'anonymous', handler: route.handlerFor(appOfThisProcess) });
    return route;
}

/**
 * Builds the app when the host starts rather than on the first request, so a missing token
 * source ("every request will be refused") or storage setting is in the log at start-up, before Entra's
 * first Test Connection. Outside the host (tests, local host) the hook never fires (the package's test
 * mode skips it with a warning the local host and the test setup filter out).
 */
function registerStartupCheck(): void {
    if (startupHookRegistered) return;
    startupHookRegistered = true;
    app.hook.appStart(async () => {
        try {
            await appOfThisProcess();
        } catch (error) {
            console.error(`scim start-up: ${error instanceof Error ? error.message : 'configuration error'}`);
        }
    });
}
