/**
 * A SCIM client on an undici connection pool, for loopback targets only: every benchmark request goes
 * through `send`, which returns the status, the parsed body and the latency measured around the request.
 */
import { Pool } from 'undici';
import type { ScimRequestSpec } from './entraRequests';

export interface ScimReply {
    status: number;
    /** Parsed JSON, or undefined for an empty body. */
    body: any;
    ms: number;
}

/** A generous bound per request: a request slower than this is an error, not a sample. */
const REQUEST_TIMEOUT_MS = 30_000;

export class ScimClient {
    private readonly pool: Pool;
    private readonly rootPath: string;

    /** `base` is the SCIM root (`http://127.0.0.1:PORT/scim`); `connections` bounds the requests in flight. */
    constructor(base: string, private readonly token: string, connections = 16) {
        const url = new URL(base);
        if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') throw new Error(`Benchmarks only target loopback, not ${url.hostname}`);
        this.pool = new Pool(url.origin, { connections, pipelining: 1, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
        this.rootPath = url.pathname.replace(/\/+$/, '');
    }

    async send(request: ScimRequestSpec): Promise<ScimReply> {
        const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
        let body: string | undefined;
        if (request.body !== undefined) {
            body = JSON.stringify(request.body);
            headers['content-type'] = 'application/scim+json; charset=utf-8';
        }
        const started = performance.now();
        const response = await this.pool.request({ method: request.method, path: this.rootPath + request.path, headers, body });
        const text = await response.body.text();
        const ms = performance.now() - started;
        let parsed: unknown;
        try {
            parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
            parsed = undefined;
        }
        return { status: response.statusCode, body: parsed, ms };
    }

    /** `send`, failing loudly when the status is not the one expected (a benchmark on errors measures nothing). */
    async expect(request: ScimRequestSpec, ...statuses: number[]): Promise<ScimReply> {
        const reply = await this.send(request);
        if (!statuses.includes(reply.status)) {
            throw new Error(`${request.method} ${request.path.slice(0, 120)} → ${reply.status} (expected ${statuses.join('/')}): ${JSON.stringify(reply.body)?.slice(0, 300)}`);
        }
        return reply;
    }

    close(): Promise<void> {
        return this.pool.close();
    }
}
