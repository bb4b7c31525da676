/**
 * Our SCIM endpoint in this process, wired as `npm start` wires it: Azurite's table service (embedded
 * here unless a connection string is given), the route table on the local host over node:http, a token
 * of its own and a fresh table per run.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { LogLevel } from '@azure/functions';
import { resetDependencies } from '../../shared/http/dependencies';
import { startLocalHost } from '../../shared/http/localHost';
import { startEmbeddedAzurite } from '../../shared/store/embeddedAzurite';

export interface LocalScim {
    /** `http://127.0.0.1:PORT/scim` */
    base: string;
    token: string;
    connectionString: string;
    tableName: string;
    close(): Promise<void>;
}

export async function startLocalScim(options: { connectionString?: string; tableName?: string; port?: number; token?: string } = {}): Promise<LocalScim> {
    const azurite = options.connectionString === undefined ? await startEmbeddedAzurite() : undefined;
    const connectionString = options.connectionString ?? azurite!.connectionString;
    const tableName = options.tableName ?? `bench${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const token = options.token || randomBytes(24).toString('base64url');
    process.env.TABLES_CONNECTION_STRING = connectionString;
    process.env.SCIM_TABLE_NAME = tableName;
    process.env.SCIM_TOKEN = token;
    delete process.env.KEY_VAULT_URL;
    delete process.env.SCIM_PUBLIC_BASE_URL;
    resetDependencies();
    const { ROUTES } = importRoutesQuietly();
    const host = await startLocalHost({ routes: ROUTES, logHandler: printWarningsOnly, ...(options.port !== undefined ? { port: options.port } : {}) });
    return {
        base: `${host.url}/scim`,
        token,
        connectionString,
        tableName,
        async close() {
            await host.close();
            resetDependencies();
            await azurite?.stop();
        },
    };
}

/** One summary line per request would drown the benchmark's output (and cost time); warnings and errors still show. */
function printWarningsOnly(level: LogLevel, ...args: unknown[]): void {
    if (level === 'warning' || level === 'error' || level === 'critical') console.error(`[${level}]`, ...args);
}

/**
 * Importing the function modules outside the Functions host makes @azure/functions warn that it runs in
 * "test mode" and skips registration: expected here, so those two warnings are not shown.
 */
function importRoutesQuietly(): typeof import('../../functions/routes') {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
        const text = String(args[0] ?? '');
        if (!text.includes('test mode') && !text.includes('Skipping call to register function')) warn(...args);
    };
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require('../../functions/routes') as typeof import('../../functions/routes');
    } finally {
        console.warn = warn;
    }
}
