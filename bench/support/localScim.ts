/**
 * Our SCIM endpoint in this process, wired as `npm start` wires it: Azurite's table service (embedded
 * here unless a connection string is given), the route table on the local host over node:http, a token
 * of its own and a fresh table per run.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { LogHandler, LogLevel } from '@azure/functions';
import { resetDependencies, useLocalSettings } from '../../shared/http/dependencies';
import { loadRouteTableQuietly } from '../../shared/http/loadRouteTable';
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

export async function startLocalScim(options: { connectionString?: string; tableName?: string; port?: number; token?: string; logHandler?: LogHandler } = {}): Promise<LocalScim> {
    const azurite = options.connectionString === undefined ? await startEmbeddedAzurite() : undefined;
    const connectionString = options.connectionString ?? azurite!.connectionString;
    const tableName = options.tableName ?? `bench${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const token = options.token || randomBytes(24).toString('base64url');
    useLocalSettings({ connectionString, tableName, token });
    const host = await startLocalHost({ routes: loadRouteTableQuietly(), logHandler: options.logHandler ?? printWarningsOnly, ...(options.port !== undefined ? { port: options.port } : {}) });
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
export function printWarningsOnly(level: LogLevel, ...args: unknown[]): void {
    if (level === 'warning' || level === 'error' || level === 'critical') console.error(`[${level}]`, ...args);
}
