/**
 * Loads the route table outside the Functions host (local host, benchmarks). Importing the function
 * modules there makes @azure/functions warn that it runs in "test mode" and skips registration:
 * expected, so those two warnings are not shown; any other warning is.
 */
import type { RouteDefinition } from '../shared/http/scimEndpoint';

export function loadRouteTableQuietly(): readonly RouteDefinition[] {
    return loadFunctionModuleQuietly<typeof import('../functions/routes')>('routes').ROUTES;
}

/** A module of functions/ (the route table, a timer), loaded without the "test mode" warnings. */
export function loadFunctionModuleQuietly<T>(name: string): T {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : '';
        if (!text.includes('test mode') && !text.includes('Skipping call to register function')) warn(...args);
    };
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(`../functions/${name}`) as T;
    } finally {
        console.warn = warn;
    }
}
