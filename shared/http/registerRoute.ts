/**
 * Registers routes with the Azure Functions host. Anonymous auth level: the bearer token checked in
 * `scimEndpoint.ts` is our auth (function keys would be a second, unrelated secret).
 */
import { app } from '@azure/functions';
import { appOfThisProcess, closeAppOfThisProcess } from '../app';
import type { RouteDefinition } from './scimEndpoint';

let lifecycleHooksRegistered = false;

export function registerRoute(route: RouteDefinition): RouteDefinition {
    registerLifecycleHooks();
    app.http(route.name, { route: route.route, methods: route.methods, authLevel: 'anonymous', handler: route.handlerFor(appOfThisProcess) });
    return route;
}

/**
 * Builds the app when the host starts rather than on the first request, so a missing token
 * source ("every request will be refused") or storage setting is in the log at start-up, before Entra's
 * first Test Connection; and flushes the activity records on a graceful shutdown. Outside the host (tests,
 * local host) the hooks never fire (the package's test mode skips them with a warning the local host and the
 * test setup filter out).
 */
function registerLifecycleHooks(): void {
    if (lifecycleHooksRegistered) return;
    lifecycleHooksRegistered = true;
    app.hook.appStart(async () => {
        try {
            await appOfThisProcess();
        } catch (error) {
            console.error(`scim start-up: ${error instanceof Error ? error.message : 'configuration error'}`);
        }
    });
    // Graceful shutdown (scale-in, deployment, platform upgrade): flush the activity counted in memory
    // (docs/activity.md). Not called when the process is killed; that loss is bounded by the flush interval.
    app.hook.appTerminate(() => closeAppOfThisProcess());
}
