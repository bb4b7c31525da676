/**
 * Registers a route with the Azure Functions host. Anonymous auth level: the bearer token checked in
 * `scimEndpoint.ts` is our auth (function keys would be a second, unrelated secret).
 */
import { app } from '@azure/functions';
import type { RouteDefinition } from './scimEndpoint';

export function registerRoute(route: RouteDefinition): RouteDefinition {
    app.http(route.name, { route: route.route, methods: route.methods, authLevel: 'anonymous', handler: route.handler });
    return route;
}
