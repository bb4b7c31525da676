/**
 * The fresh process `bench:coldstart` starts, once per measurement: `node coldStartProcess.js <mode> <layout>`.
 *
 *   load   load the app as the Functions host would, print `{"moduleLoadMs": …}` on stdout, exit
 *   serve  load the app, serve its routes on the local host (127.0.0.1, a free port), send `{ port, moduleLoadMs }`
 *          to the parent over IPC, and stay until the parent goes away
 *   bare   (no layout) send `{}` to the parent at once and exit: what starting Node alone costs
 *   first-use  (no layout) time the first and the second call of the protocol work a cold instance does
 *          first (validate a User, which loads and builds Ajv and compiles the validators of its attributes;
 *          a Group; parse + plan Entra's userName filter; apply a user PATCH)
 *
 * Layouts (bench/coldStart.ts):
 *   before  dist/functions/*.js from node_modules, with @azure/identity, @azure/keyvault-secrets and
 *           @azure/keyvault-keys loaded at start, as the app did before they were imported on first use
 *           (createTokenVerifier.ts and the OAuth side imported them statically)
 *   dist    dist/functions/*.js from node_modules, as the code is now
 *   bundle  the deployment bundle, package.json "main"
 *
 * The process imports as little as it can before the clock starts: only Node built-ins. Storage settings and
 * the token come from the environment (TABLES_CONNECTION_STRING, SCIM_TABLE_NAME, SCIM_TOKEN).
 */
import fs from 'node:fs';
import path from 'node:path';

export type Layout = 'before' | 'dist' | 'bundle';

/** A layout's routes, its app builder and its `@azure/functions` classes (the bundle has its own copy). */
type Code = Pick<import('../../dev/loadRouteTable').BundledApp, 'ROUTES' | 'createApp' | 'readSettings'> & import('../../dev/localHost').FunctionsObjects;

/** What a layout gives the local host: its routes and the means to build the app they serve, from that layout's code. */
interface LoadedCode {
    code: Code;
    moduleLoadMs: number;
}

/** The compiled functions, as the host loaded them before the bundle ("main": "dist/functions/*.js"). */
const FUNCTIONS_DIRECTORY = path.resolve(__dirname, '..', '..', 'functions');

/** Loads a layout's code, timed: what the host does with package.json "main". */
function loadCode(layout: Layout): LoadedCode {
    const warn = console.warn; // @azure/functions' "test mode" warnings
    console.warn = () => undefined;
    try {
        const started = process.hrtime.bigint();
        let code: Code;
        /* eslint-disable @typescript-eslint/no-require-imports */
        if (layout === 'bundle') {
            code = (require('../../dev/loadRouteTable') as typeof import('../../dev/loadRouteTable')).loadBundle();
        } else {
            if (layout === 'before') {
                require('@azure/identity');
                require('@azure/keyvault-secrets');
                require('@azure/keyvault-keys');
            }
            for (const file of fs.readdirSync(FUNCTIONS_DIRECTORY)) {
                // index.js is the bundle's entry point, not one of the files the host used to load.
                if (file.endsWith('.js') && file !== 'index.js') require(path.join(FUNCTIONS_DIRECTORY, file));
            }
            const { HttpRequest, HttpResponse, InvocationContext } = require('@azure/functions') as typeof import('@azure/functions');
            code = {
                HttpRequest,
                HttpResponse,
                InvocationContext,
                ROUTES: (require(path.join(FUNCTIONS_DIRECTORY, 'routes.js')) as typeof import('../../functions/routes')).ROUTES,
                createApp: (require('../../shared/app') as typeof import('../../shared/app')).createApp,
                readSettings: (require('../../shared/config') as typeof import('../../shared/config')).readSettings,
            };
        }
        /* eslint-enable @typescript-eslint/no-require-imports */
        return { code, moduleLoadMs: Number(process.hrtime.bigint() - started) / 1e6 };
    } finally {
        console.warn = warn;
    }
}

/** Milliseconds of the first and the second call of each piece of protocol work (the first compiles what it needs and warms the JIT). */
function firstUse(): Record<string, [number, number]> {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { validateResource } = require('../../shared/scim/validation') as typeof import('../../shared/scim/validation');
    const { parseFilter, planQuery } = require('../../shared/scim/filter') as typeof import('../../shared/scim/filter');
    const { applyPatch } = require('../../shared/scim/patch') as typeof import('../../shared/scim/patch');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const user = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'a@contoso.example', active: true, emails: [{ value: 'a@contoso.example', type: 'work', primary: true }] };
    const operations = [{ op: 'Replace', path: 'displayName', value: 'A' }, { op: 'Replace', path: 'emails[type eq "work"].value', value: 'b@contoso.example' }];
    const work: Record<string, () => unknown> = {
        'validate a User (first: load Ajv, compile the validators of its attributes)': () => validateResource('User', user),
        'validate a Group (first: compile the validators of its attributes)': () => validateResource('Group', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'G' }),
        'parse and plan `userName eq "…"`': () => planQuery(parseFilter('userName eq "a@contoso.example"'), 'User'),
        'apply a user PATCH (2 operations)': () => applyPatch(user, operations, 'User'),
    };
    const times: Record<string, [number, number]> = {};
    for (const [name, run] of Object.entries(work)) {
        const once = () => {
            const started = process.hrtime.bigint();
            run();
            return Number(process.hrtime.bigint() - started) / 1e6;
        };
        times[name] = [once(), once()];
    }
    return times;
}

async function main(): Promise<void> {
    const [mode, layout] = process.argv.slice(2) as ['load' | 'serve' | 'bare' | 'first-use', Layout];
    if (mode === 'bare') {
        process.send!({}, () => process.exit(0));
        return;
    }
    if (mode === 'first-use') {
        process.stdout.write(JSON.stringify(firstUse()));
        return;
    }
    if (!['load', 'serve'].includes(mode) || !['before', 'dist', 'bundle'].includes(layout)) {
        console.error('usage: coldStartProcess.js load|serve before|dist|bundle, or coldStartProcess.js first-use');
        process.exit(2);
    }
    const { code, moduleLoadMs } = loadCode(layout);
    if (mode === 'load') {
        process.stdout.write(JSON.stringify({ moduleLoadMs }));
        return;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startLocalHost } = require('../../dev/localHost') as typeof import('../../dev/localHost');
    // Built from the environment on start, as the host's start-up check does (shared/http/registerRoute.ts).
    const app = code.createApp(code.readSettings(process.env));
    const host = await startLocalHost({ routes: code.ROUTES, app: () => Promise.resolve(app), functions: code, logHandler: () => undefined });
    process.send!({ port: host.port, moduleLoadMs });
    process.on('disconnect', () => void host.close().then(() => process.exit(0)));
}

if (require.main === module) {
    main().catch((error: unknown) => {
        console.error(error);
        process.exit(1);
    });
}
