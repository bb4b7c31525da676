/**
 * The real function app for tests: the route table served by the local host over HTTP, on the shared
 * Azurite, in a table of its own, with a token of its own. Logs of every invocation are captured. The app
 * is built from settings passed in (never from `process.env`), and `reconfigure` swaps it for another.
 */
import { randomBytes } from 'node:crypto';
import { HttpRequest, HttpResponse, InvocationContext, type LogLevel } from '@azure/functions';
import { startLocalHost, type FunctionsObjects, type LocalHost } from '../../dev/localHost';
import type { BundledApp } from '../../dev/loadRouteTable';
import { ROUTES } from '../../functions/routes';
import { closeApp, createApp, type App, type AppOptions } from '../../shared/app';
import { readSettings, type Environment } from '../../shared/config';
import { testConnectionString, testTableName } from './tables';

/** What a test server serves: a route table, the function that builds the app behind it, and the request objects' classes. */
export type ServedCode = Pick<BundledApp, 'ROUTES' | 'createApp' | 'readSettings'> & FunctionsObjects;
const SOURCES: ServedCode = { ROUTES, createApp, readSettings, HttpRequest, HttpResponse, InvocationContext };

export interface ScimReply {
    status: number;
    headers: Headers;
    /** Parsed JSON, or undefined for an empty body. */
    body: any;  
    text: string;
}

export interface RequestOptions {
    timeoutMs?: number;
    /** Another SCIM root and its token: a named tenant's `Tenant URL` and `Secret Token` (test/http/tenants.test.ts). */
    as?: { base: string; token: string };
}

export interface ScimTestServer {
    /** `http://127.0.0.1:PORT/scim` */
    base: string;
    /** `http://127.0.0.1:PORT`: the change feed is `${origin}/changes`, the status page `${origin}/admin`. */
    origin: string;
    token: string;
    /** The change feed's own token (SCIM_FEED_TOKEN). */
    feedToken: string;
    tableName: string;
    connectionString: string;
    logs: string[];
    /**
     * `path` is relative to the SCIM root (`/Users?filter=…`). JSON bodies are serialised; strings sent as
     * they are. `timeoutMs` aborts a request that hangs (hostile-input tests).
     */
    request(method: string, path: string, body?: unknown, headers?: Record<string, string>, options?: RequestOptions): Promise<ScimReply>;
    /**
     * Serves a freshly built app from then on: the same table and token plus these settings (e.g. a
     * KEY_VAULT_URL), with these verifier dependencies. A new app also means empty caches (store, verifier).
     */
    reconfigure(settings: Environment, options?: AppOptions): void;
    /** The app being served (e.g. its OAuth signing keys to craft tokens with, its activity recorder). */
    currentApp(): App;
    /** Flushes the activity recorder and stops the host. */
    close(): Promise<void>;
}

/**
 * `connectionString`: another Table service than the shared Azurite (e.g. one a test stops and restarts);
 * `tableName`: a table of its own otherwise (a test that seeds it first, or restarts the app on it);
 * `settings`: more settings for the app (e.g. SCIM_SCHEMA_EXTENSIONS, SCIM_INDEXED_ATTRIBUTES, the admin sign-in ones);
 * `code`: the routes and app builder to serve, by default the sources'; the deployment bundle's in
 * test/infra/bundle.test.ts, so that every module behind the routes is the bundle's own;
 * `adminWithoutSignIn`: `/admin` open to this machine, as under `npm start` (default: sign-in required).
 */
export async function startScimServer(
    options: {
        token?: string;
        connectionString?: string;
        tableName?: string;
        settings?: Environment;
        code?: ServedCode;
        adminWithoutSignIn?: boolean;
        appOptions?: AppOptions;
    } = {},
): Promise<ScimTestServer> {
    const code = options.code ?? SOURCES;
    const { ROUTES: routes, createApp, readSettings } = code;
    const token = options.token ?? randomBytes(24).toString('base64url');
    const feedToken = randomBytes(24).toString('base64url');
    const tableName = options.tableName ?? testTableName();
    const connectionString = options.connectionString ?? testConnectionString();
    const baseSettings: Environment = { ...options.settings, TABLES_CONNECTION_STRING: connectionString, SCIM_TABLE_NAME: tableName, SCIM_TOKEN: token, SCIM_FEED_TOKEN: feedToken };
    let app: App = createApp(readSettings(baseSettings), options.appOptions);
    const logs: string[] = [];
    const host: LocalHost = await startLocalHost({
        routes,
        app: () => Promise.resolve(app),
        functions: code,
        adminWithoutSignIn: options.adminWithoutSignIn ?? false,
        logHandler: (_level: LogLevel, ...args: unknown[]) => logs.push(args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' ')),
    });
    const base = `${host.url}/scim`;
    return {
        base,
        origin: host.url,
        token,
        feedToken,
        tableName,
        connectionString,
        logs,
        async request(method, path, body, headers = {}, options = {}) {
            const init: RequestInit = { method, headers: { Authorization: `Bearer ${options.as?.token ?? token}`, ...headers } };
            if (options.timeoutMs !== undefined) init.signal = AbortSignal.timeout(options.timeoutMs);
            if (body !== undefined) {
                init.body = typeof body === 'string' ? body : JSON.stringify(body);
                (init.headers as Record<string, string>)['Content-Type'] ??= 'application/scim+json; charset=utf-8';
            }
            const response = await fetch((options.as?.base ?? base) + path, init);
            const text = await response.text();
            let parsed: unknown;
            try {
                parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
                parsed = undefined;
            }
            return { status: response.status, headers: response.headers, body: parsed, text };
        },
        reconfigure(settings, appOptions = {}) {
            void closeApp(app); // its counts still go to the table
            app = createApp(readSettings({ ...baseSettings, ...settings }), appOptions);
        },
        currentApp: () => app,
        async close() {
            await host.close();
            await closeApp(app);
        },
    };
}
