/**
 * A small local host for the route table: serves the very same `RouteDefinition`s the Functions host
 * registers, over `node:http`, so `npm start`, the end-to-end tests and `func start` all run one handler
 * code path. Azure Functions Core Tools cannot be installed everywhere (its install downloads a binary).
 *
 * Like the Functions host it matches route templates case-insensitively (Microsoft's own SCIM test
 * collection calls `/scim/users`), prefers literal routes over the catch-all, and builds
 * `@azure/functions` `HttpRequest` / `InvocationContext` objects for the handlers.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpHandler, LogHandler } from '@azure/functions';
import type { AppProvider } from '../shared/app';
import type { RouteDefinition } from '../shared/http/scimEndpoint';
import { MAX_REQUEST_BODY_BYTES } from '../shared/scim/request';
import { compileRouteTemplate, type CompiledRoute } from './routeTemplate';

export interface LocalHost {
    /** e.g. `http://127.0.0.1:7071` */
    url: string;
    port: number;
    close(): Promise<void>;
}

export interface LocalHostOptions {
    routes: readonly RouteDefinition[];
    /** The app the routes serve (the Functions host binds them to the process's app instead). */
    app: AppProvider;
    port?: number;
    /** Receives every `context.log/warn/error` line of every invocation (tests capture logs with it). */
    logHandler?: LogHandler;
    /**
     * The `@azure/functions` the routes were built with, whose classes make the request, response and context
     * objects: the deployment bundle brings its own copy (functions/index.ts), as it does in Azure. Default:
     * the package's, loaded only then.
     */
    functions?: FunctionsObjects;
}

export type FunctionsObjects = Pick<typeof import('@azure/functions'), 'HttpRequest' | 'HttpResponse' | 'InvocationContext'>;

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
    const compiled = options.routes
        .map((definition) => ({ definition, handler: definition.handlerFor(options.app), route: compileRouteTemplate(definition.route) }))
        .sort((a, b) => Number(a.route.isCatchAll) - Number(b.route.isCatchAll));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const functions = options.functions ?? (require('@azure/functions') as FunctionsObjects);
    const server = http.createServer((req, res) => {
        serve(compiled, functions, req, res, options.logHandler).catch((error: unknown) => {
            // Only reachable if writing the response itself failed; the handlers never throw.
            console.error('local host: failed to write a response', error instanceof Error ? error.message : error);
            if (!res.headersSent) res.writeHead(500);
            res.end();
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    return {
        url: `http://127.0.0.1:${port}`,
        port,
        close: () =>
            new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            }),
    };
}

async function serve(
    routes: { definition: RouteDefinition; handler: HttpHandler; route: CompiledRoute }[],
    { HttpRequest, HttpResponse, InvocationContext }: FunctionsObjects,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    logHandler: LogHandler | undefined,
): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req, MAX_REQUEST_BODY_BYTES);
    for (const { definition, handler, route } of routes) {
        const params = route.match(url.pathname);
        if (!params || !definition.methods.includes(method as never)) continue;
        const request = new HttpRequest({ method, url: url.toString(), headers: flattenHeaders(req.headers), params, body: { bytes: body } });
        const context = new InvocationContext({ functionName: definition.name, invocationId: randomUUID(), ...(logHandler ? { logHandler } : {}) });
        const response = new HttpResponse((await handler(request, context)) ?? { status: 204 });
        const headers: Record<string, string> = {};
        response.headers.forEach((value, name) => (headers[name] = value));
        const bytes = Buffer.from(await response.arrayBuffer());
        res.writeHead(response.status ?? 200, headers);
        res.end(method === 'HEAD' ? undefined : bytes);
        return;
    }
    // Outside /scim: what the Functions host does for an unknown path, but as a SCIM error body.
    const notFound = JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail: 'Not found' });
    res.writeHead(404, { 'Content-Type': 'application/scim+json; charset=utf-8' });
    res.end(notFound);
}

/**
 * Collects the body, keeping at most `limit + 1` bytes: enough for the endpoint to see that it is
 * too large (413) without holding an arbitrarily large upload in memory.
 */
async function readBody(req: http.IncomingMessage, limit: number): Promise<Uint8Array> {
    const chunks: Buffer[] = [];
    let kept = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
        if (kept > limit) continue;
        chunks.push(chunk);
        kept += chunk.length;
    }
    return Buffer.concat(chunks);
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
        if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return flat;
}
