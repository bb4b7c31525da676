/**
 * Loads the route table outside the Functions host (local host, benchmarks). Importing the function
 * modules there makes @azure/functions warn that it runs in "test mode" and skips registration:
 * expected, so those two warnings are not shown; any other warning is.
 */
import type { RouteDefinition } from '../shared/http/scimEndpoint';

export function loadRouteTableQuietly(): readonly RouteDefinition[] {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : '';
        if (!text.includes('test mode') && !text.includes('Skipping call to register function')) warn(...args);
    };
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return (require('../functions/routes') as typeof import('../functions/routes')).ROUTES;
    } finally {
        console.warn = warn;
    }
}
