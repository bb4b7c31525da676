/**
 * A Table service in front of the real one (Azurite) that a test can make misbehave the way Table Storage does
 * under load or in an outage: answer every request with an error status and `x-ms-error-code` (throttling:
 * 503 `ServerBusy`, 500 `OperationTimedOut`; an outage: 503 `ServiceUnavailable`), or refuse connections.
 * Otherwise it forwards requests unchanged. Listens on 127.0.0.1 only.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type StorageMisbehaviour =
    | { kind: 'error'; status: number; code: string }
    | { kind: 'refuse' };

export interface StorageProxy {
    /** The connection string of the proxied service (same account and key as the target). */
    connectionString: string;
    /** Requests answered with a misbehaviour so far. */
    readonly misbehaved: number;
    misbehave(how: StorageMisbehaviour | undefined): void;
    close(): Promise<void>;
}

export async function startStorageProxy(targetConnectionString: string): Promise<StorageProxy> {
    const endpoint = /TableEndpoint=([^;]+)/.exec(targetConnectionString)?.[1];
    if (endpoint === undefined) throw new Error('storage proxy: the connection string has no TableEndpoint');
    const target = new URL(endpoint);
    let how: StorageMisbehaviour | undefined;
    let misbehaved = 0;
    const sockets = new Set<Socket>();

    const server: Server = createServer((incoming, outgoing) => {
        if (how?.kind === 'refuse') {
            misbehaved++;
            incoming.socket.destroy();
            return;
        }
        if (how?.kind === 'error') {
            misbehaved++;
            const { status, code } = how;
            incoming.resume();
            incoming.on('end', () => {
                outgoing.writeHead(status, { 'content-type': 'application/json;odata=minimalmetadata', 'x-ms-error-code': code });
                outgoing.end(JSON.stringify({ 'odata.error': { code, message: { lang: 'en-US', value: `${code} (storage proxy)` } } }));
            });
            return;
        }
        const forwarded = httpRequest({
            host: target.hostname,
            port: target.port,
            method: incoming.method,
            path: incoming.url,
            headers: { ...incoming.headers, host: target.host },
        }, (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
        });
        forwarded.on('error', () => outgoing.destroy());
        incoming.pipe(forwarded);
    });
    server.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const proxied = new URL(endpoint);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(port);

    return {
        connectionString: targetConnectionString.replace(endpoint, proxied.toString().replace(/\/$/, '')),
        get misbehaved() {
            return misbehaved;
        },
        misbehave(next) {
            how = next;
            // Kept-alive connections would otherwise carry on as before a "refuse".
            if (next?.kind === 'refuse') for (const socket of sockets) socket.destroy();
        },
        async close() {
            for (const socket of sockets) socket.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
