/**
 * Our SCIM endpoint in this process, wired as `npm start` wires it: Azurite's table service (embedded
 * here unless a connection string is given), the route table on the local host over node:http, a token
 * of its own and a fresh table per run.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { LogHandler, LogLevel } from '@azure/functions';
import { startEmbeddedAzurite } from '../../dev/embeddedAzurite';
import { loadRouteTableQuietly } from '../../dev/loadRouteTable';
import { startLocalHost } from '../../dev/localHost';
import { createApp } from '../../shared/app';
import { readSettings } from '../../shared/config';

export interface LocalScim {
    /** `http://127.0.0.1:PORT/scim` */
    base: string;
    token: string;
    connectionString: string;
    tableName: string;
    close(): Promise<void>;
}

export async function startLocalScim(options: { connectionString?: string; tableName?: string; port?: number; token?: string; logHandler?: LogHandler } = {}): Promise<LocalScim> {
    const azurite = options.connectionString === undefined ? await startEmbeddedAzurite() : undefined;
    const connectionString = options.connectionString ?? azurite!.connectionString;
    const tableName = options.tableName ?? `bench${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const token = options.token || randomBytes(24).toString('base64url');
    const app = createApp(readSettings({ TABLES_CONNECTION_STRING: connectionString, SCIM_TABLE_NAME: tableName, SCIM_TOKEN: token }));
    const host = await startLocalHost({ routes: loadRouteTableQuietly(), app: () => Promise.resolve(app), logHandler: options.logHandler ?? printWarningsOnly, ...(options.port !== undefined ? { port: options.port } : {}) });
    return {
        base: `${host.url}/scim`,
        token,
        connectionString,
        tableName,
        async close() {
            await host.close();
            await azurite?.stop();
        },
    };
}

/** One summary line per request would drown the benchmark's output (and cost time); warnings and errors still show. */
export function printWarningsOnly(level: LogLevel, ...args: unknown[]): void {
    if (level === 'warning' || level === 'error' || level === 'critical') console.error(`[${level}]`, ...args);
}
