/**
 * Loads the route table outside the Functions host (local host, benchmarks): from the compiled sources, or
 * from the deployment bundle, the very file that ships (package.json "main", `npm run bundle`). Importing
 * the function modules there makes @azure/functions warn that it runs in "test mode" and skips
 * registration: expected, so those warnings are not shown; any other warning is.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RouteDefinition } from '../shared/http/scimEndpoint';

export function loadRouteTableQuietly(): readonly RouteDefinition[] {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return quietly(() => (require('../functions/routes') as typeof import('../functions/routes')).ROUTES);
}

/**
 * The deployment bundle (functions/index.ts): its routes and its own `createApp`/`readSettings`, so the
 * routes serve an app built by the bundle's copy of every module, as in Azure.
 */
export type BundledApp = typeof import('../functions/index');

export function loadBundle(file = bundlePath()): BundledApp {
    if (!fs.existsSync(file)) throw new Error(`${path.relative(process.cwd(), file)} does not exist: run npm run bundle`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return quietly(() => require(file) as BundledApp);
}

/** Where the Functions host finds the app: "main" of the nearest package.json (from the sources or from dist/). */
export function bundlePath(): string {
    let directory = __dirname;
    while (!fs.existsSync(path.join(directory, 'package.json'))) {
        const parent = path.dirname(directory);
        if (parent === directory) throw new Error(`no package.json above ${__dirname}`);
        directory = parent;
    }
    const { main } = JSON.parse(fs.readFileSync(path.join(directory, 'package.json'), 'utf8')) as { main: string };
    return path.join(directory, main);
}

/** A module of functions/ (a timer), loaded without the "test mode" warnings. */
export function loadFunctionModuleQuietly<T>(name: string): T {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return quietly(() => require(`../functions/${name}`) as T);
}

function quietly<T>(load: () => T): T {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : '';
        if (!text.includes('test mode') && !text.includes('Skipping call to register function')) warn(...args);
    };
    try {
        return load();
    } finally {
        console.warn = warn;
    }
}
