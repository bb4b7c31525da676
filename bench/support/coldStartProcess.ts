/**
 * The fresh process `bench:coldstart` starts, once per measurement: `node coldStartProcess.js <mode> <layout>`.
 *
 *   load   load the app as the Functions host would, print `{"moduleLoadMs": …}` on stdout, exit
 *   serve  load the app, serve its routes on the local host (127.0.0.1, a free port), send `{ port, moduleLoadMs }`
 *          to the parent over IPC, and stay until the parent goes away
 *
 * Layouts (bench/coldStart.ts):
 *   before  dist/functions/*.js from node_modules, with @azure/identity and @azure/keyvault-secrets loaded at
 *           start as the app did before they were imported on first use (createTokenVerifier.ts imported them)
 *   dist    dist/functions/*.js from node_modules, as the code is now
 *   bundle  the deployment bundle, package.json "main"
 *
 * The process imports as little as it can before the clock starts: only Node built-ins. Storage settings and
 * the token come from the environment (TABLES_CONNECTION_STRING, SCIM_TABLE_NAME, SCIM_TOKEN).
 */
import fs from 'node:fs';
import path from 'node:path';

export type Layout = 'before' | 'dist' | 'bundle';

interface Routes {
    routes: readonly import('../../shared/http/scimEndpoint').RouteDefinition[];
    moduleLoadMs: number;
}

/** The compiled functions, as the host loaded them before the bundle ("main": "dist/functions/*.js"). */
const FUNCTIONS_DIRECTORY = path.resolve(__dirname, '..', '..', 'functions');

function loadApp(layout: Layout): Routes {
    const warn = console.warn; // @azure/functions' "test mode" warnings
    console.warn = () => undefined;
    try {
        const started = process.hrtime.bigint();
        let routes: Routes['routes'];
        if (layout === 'bundle') {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { loadBundledRouteTable } = require('../../shared/http/loadRouteTable') as typeof import('../../shared/http/loadRouteTable');
            routes = loadBundledRouteTable();
        } else {
            /* eslint-disable @typescript-eslint/no-require-imports */
            if (layout === 'before') {
                require('@azure/identity');
                require('@azure/keyvault-secrets');
            }
            for (const file of fs.readdirSync(FUNCTIONS_DIRECTORY)) {
                // index.js is the bundle's entry point, not one of the files the host used to load.
                if (file.endsWith('.js') && file !== 'index.js') require(path.join(FUNCTIONS_DIRECTORY, file));
            }
            routes = (require(path.join(FUNCTIONS_DIRECTORY, 'routes.js')) as typeof import('../../functions/routes')).ROUTES;
            /* eslint-enable @typescript-eslint/no-require-imports */
        }
        return { routes, moduleLoadMs: Number(process.hrtime.bigint() - started) / 1e6 };
    } finally {
        console.warn = warn;
    }
}

async function main(): Promise<void> {
    const [mode, layout] = process.argv.slice(2) as ['load' | 'serve', Layout];
    if (!['load', 'serve'].includes(mode) || !['before', 'dist', 'bundle'].includes(layout)) {
        console.error('usage: coldStartProcess.js load|serve before|dist|bundle');
        process.exit(2);
    }
    const { routes, moduleLoadMs } = loadApp(layout);
    if (mode === 'load') {
        process.stdout.write(JSON.stringify({ moduleLoadMs }));
        return;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startLocalHost } = require('../../shared/http/localHost') as typeof import('../../shared/http/localHost');
    const host = await startLocalHost({ routes, logHandler: () => undefined });
    process.send!({ port: host.port, moduleLoadMs });
    process.on('disconnect', () => void host.close().then(() => process.exit(0)));
}

if (require.main === module) {
    main().catch((error: unknown) => {
        console.error(error);
        process.exit(1);
    });
}
