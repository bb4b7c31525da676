/**
 * Turns a SCIM handler into an Azure Functions HTTP handler. Everything every route needs happens here,
 * once, in protocol order: authenticate → check the method → read the body → handle → write the response
 * → log one summary line → count the request in the activity records (in memory: no storage request on the
 * request path, docs/activity.md). The app (verifier, store, settings, recorder) is passed in, never read from a global.
 */
import { randomUUID } from 'node:crypto';
import type { HttpHandler, HttpMethod, HttpRequest, InvocationContext } from '@azure/functions';
import { operationOf, type RequestActivity } from '../activity/requestActivity';
import type { App, AppProvider } from '../app';
import { bearerToken } from '../auth/bearerToken';
import { describeError } from '../describeError';
import type { ChangeFeed } from '../feed/ChangeFeed';
import { requireWellFormedJson } from '../scim/caseFold';
import { ScimError } from '../scim/errors';
import { MAX_REQUEST_BODY_BYTES, type RequestLog, type ScimHandler, type ScimRequest, type ScimResponse } from '../scim/request';
import { scimErrorOf, StoreError } from '../scim/storeErrors';
import { countStorageRequests, type StorageRequestCounts } from '../store/requestCounter';
import type { TableResourceStore } from '../store/TableResourceStore';
import { errorResponse, toHttpResponse } from './responses';
import { summaryLine } from './summaryLine';

/**
 * One HTTP route, as registered with `app.http` (registerRoute.ts) and served by the local host (dev/):
 * `handlerFor` binds it to the app it serves.
 */
export interface RouteDefinition {
    name: string;
    route: string;
    methods: HttpMethod[];
    handlerFor(app: AppProvider): HttpHandler;
}

/**
 * Every route accepts every method so that an unsupported one gets a SCIM error from us (405) rather
 * than the host's default 404 page.
 */
const ALL_METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/** Who a request is for once authenticated: the resources (SCIM routes) or the change feed (feed route). */
type Audience = 'scim' | 'feed';

export function scimRoute(options: { name: string; route: string; methods: string[]; resourceType?: string; handle: ScimHandler }): RouteDefinition {
    return endpoint(options, 'scim', async (request, store) => options.handle(request, store));
}

/**
 * A route of the change feed (docs/feed.md): the same wrapper, but authenticated with the feed token, which
 * opens no SCIM route (and neither Entra's Secret Token nor an OAuth access token opens a feed route). Its
 * tenant twin (`tenants/{tenant}/changes`, `tenantRouteOf`) reads that tenant's streams with that tenant's own
 * feed token (docs/feed.md, "Tenants").
 */
export function feedRoute(options: { name: string; route: string; methods: string[]; handle: (request: ScimRequest, feed: ChangeFeed) => Promise<ScimResponse> }): RouteDefinition {
    return endpoint(options, 'feed', (request, store) => options.handle(request, store.changes));
}

function endpoint(
    options: { name: string; route: string; methods: string[]; resourceType?: string },
    audience: Audience,
    handle: (request: ScimRequest, store: TableResourceStore, app: App) => Promise<ScimResponse>,
): RouteDefinition {
    const allowed = new Set(options.methods);
    const handlerFor = (app: AppProvider): HttpHandler => async (request, context) => {
        const started = Date.now();
        const log: RequestLog = options.resourceType ? { resourceType: options.resourceType } : {};
        const used: { app?: App } = {};
        const { result: response, requests } = await countStorageRequests(() =>
            respond(app, request, context, log, audience, used, async (scimRequest, store, built) => {
                if (!allowed.has(scimRequest.method)) {
                    throw new ScimError(405, undefined, `Method ${scimRequest.method} is not supported here`, { Allow: [...allowed].join(', ') });
                }
                return handle(scimRequest, store, built);
            }),
        );
        logSummary(context, request.method, log, response, requests, Date.now() - started);
        // Entra's requests (the change feed's reader is not Entra). A named tenant's go to its own records, and only
        // once its token check has read its row and found a tenant that exists: a made-up name is counted nowhere
        // (docs/activity.md, "Tenants").
        const tenant = request.params.tenant;
        if (audience === 'scim' && used.app && (tenant === undefined || used.app.tenants.exists(tenant))) {
            used.app.activity.record(activityOf(request, context, log, response), tenant);
        }
        return toHttpResponse(response);
    };
    return { name: options.name, route: options.route, methods: ALL_METHODS, handlerFor };
}

/**
 * The same route under a named tenant's root, `tenants/{tenant}/scim/…` (docs/operate.md, "Tenants"), or the
 * change feed's `tenants/{tenant}/changes` (docs/feed.md, "Tenants"): the same handler; `respond` picks the
 * tenant's token check and store from the `tenant` parameter.
 */
export function tenantRouteOf(route: RouteDefinition): RouteDefinition {
    return { ...route, name: `Tenant${route.name}`, route: `tenants/{tenant}/${route.route}` };
}

async function respond(
    appOf: AppProvider,
    request: HttpRequest,
    context: InvocationContext,
    log: RequestLog,
    audience: Audience,
    used: { app?: App },
    handle: (request: ScimRequest, store: TableResourceStore, app: App) => Promise<ScimResponse>,
): Promise<ScimResponse> {
    try {
        const built = await appOf();
        used.app = built;
        const { verifier, feedVerifier, settings, store: defaultStore, tenants } = built;
        // A route under /tenants/{tenant}/ serves that tenant: its token of the route's kind, its partitions (shared/app.ts).
        const tenant = request.params.tenant;
        const baseUrl = tenant === undefined ? (settings.publicBaseUrl ?? scimBaseUrl(request.url)) : scimBaseUrl(settings.publicBaseUrl ?? request.url, tenant);
        await authenticate(
            request,
            tenant !== undefined
                ? (token) => tenants.verify(tenant, token, audience, { scimBaseUrl: baseUrl })
                : audience === 'feed'
                  ? (token) => feedVerifier.verify(token)
                  : (token) => verifier.verify(token, { scimBaseUrl: baseUrl }),
        );
        const store = tenant === undefined ? defaultStore : tenants.store(tenant);
        const method = request.method.toUpperCase();
        const body = METHODS_WITH_BODY.has(method) ? await readJsonBody(request, MAX_REQUEST_BODY_BYTES) : undefined;
        return await handle({
            method,
            params: request.params,
            query: request.query,
            header: (name) => request.headers.get(name) ?? undefined,
            body,
            baseUrl,
            log,
        }, store, built);
    } catch (error) {
        if (error instanceof ScimError) return errorResponse(error);
        if (error instanceof StoreError) return errorResponse(scimErrorOf(error));
        // Unexpected: log where it happened with the invocation id, answer without internals. Only the error's
        // name, status and stack frames: a message may quote request data (a value, a token in an SDK parse error).
        context.error(`scim unexpected error invocationId=${context.invocationId} ${describeError(error, { stackFrames: 10 })}`);
        return errorResponse(new ScimError(500, undefined, `Internal error (invocation ${context.invocationId})`));
    }
}

/**
 * The Secret Token or, with OAuth, an access token for this SCIM base URL (its audience). A named tenant's
 * routes accept that tenant's Secret Token or an access token from its own token endpoint (`/tenants/<tenant>/oauth/token`).
 */
async function authenticate(request: HttpRequest, verify: (token: string) => Promise<boolean>): Promise<void> {
    const token = bearerToken(request.headers.get('authorization'));
    if (token === undefined || !(await verify(token))) {
        throw new ScimError(401, undefined, 'Authorization failed: a valid bearer token is required', { 'WWW-Authenticate': 'Bearer' });
    }
}

/**
 * Reads and parses the body. Entra sends `application/scim+json; charset=utf-8`, older clients
 * `application/json`: any content type is parsed as JSON rather than refused with 415 (docs/entra-protocol.md §13.8).
 */
async function readJsonBody(request: HttpRequest, maxBytes: number): Promise<unknown> {
    const declaredLength = Number(request.headers.get('content-length') ?? '0');
    if (declaredLength > maxBytes) throw tooLarge(maxBytes);
    const bytes = await request.arrayBuffer();
    if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    if (text.trim() === '') throw ScimError.badRequest('invalidSyntax', 'Request body is empty; a JSON object is required');
    checkJsonShape(text);
    let body: unknown;
    try {
        body = JSON.parse(text);
    } catch {
        throw ScimError.badRequest('invalidSyntax', 'Request body is not valid JSON');
    }
    // `"\ud800"` is valid JSON but not Unicode text: refused everywhere rather than stored or keyed (caseFold.ts).
    requireWellFormedJson(body, 'request body');
    return body;
}

/**
 * SCIM documents are a few levels deep (resource → extension → manager → value; PatchOp → Operations →
 * value → members). JSON.parse accepts any depth, but everything after it that recurses (JSON.stringify
 * when storing an unknown attribute, the PATCH engine, validation) overflows the stack on, say, 100,000
 * nested arrays, which was a 500 (test/reliability/hostileInput.test.ts).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * A SCIM resource has a few dozen attributes, a PatchOp value object as many; 40,000 unknown keys in one POST cost
 * half a second of CPU to canonicalize and check before a single one was ignored (issue 17). Arrays have their own
 * limits (operations, values per attribute, member ids).
 */
export const MAX_OBJECT_MEMBERS = 1000;

/**
 * One pass over JSON text before it is parsed, without recursion (brackets and colons inside strings skipped):
 * 400 `invalidSyntax` when objects or arrays nest deeper than `MAX_JSON_DEPTH`, or an object has more than
 * `MAX_OBJECT_MEMBERS` members (each member of an object has exactly one colon at that object's level).
 */
function checkJsonShape(text: string): void {
    /** Per open container: members counted so far for an object, -1 for an array. */
    const open: number[] = [];
    let inString = false;
    for (let i = 0; i < text.length; i++) {
        const char = text.charCodeAt(i);
        if (inString) {
            if (char === 0x5c) i++; // backslash: skip the escaped character
            else if (char === 0x22) inString = false;
        } else if (char === 0x22) {
            inString = true;
        } else if (char === 0x7b || char === 0x5b) {
            open.push(char === 0x7b ? 0 : -1);
            if (open.length > MAX_JSON_DEPTH) throw ScimError.badRequest('invalidSyntax', `Request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
        } else if (char === 0x7d || char === 0x5d) {
            open.pop();
        } else if (char === 0x3a && open.length > 0 && open[open.length - 1]! >= 0) {
            if (++open[open.length - 1]! > MAX_OBJECT_MEMBERS) {
                throw ScimError.badRequest('invalidSyntax', `An object in the request body has more than ${MAX_OBJECT_MEMBERS} members`);
            }
        }
    }
}

function tooLarge(maxBytes: number): ScimError {
    return new ScimError(413, undefined, `Request body exceeds ${maxBytes} bytes`);
}

/**
 * The SCIM root a request was made under, from its URL or from SCIM_PUBLIC_BASE_URL (the default tenant's
 * root): `https://host/scim/Users/1?x` → `https://host/scim`; with a tenant, `https://host/tenants/acme/scim`.
 */
export function scimBaseUrl(url: string, tenant?: string): string {
    const { origin, pathname } = new URL(url);
    if (tenant !== undefined) {
        // Everything before `/tenants/` (a request URL) or before the trailing `/scim` (the public base URL).
        const prefix = /^(.*?)\/tenants\//i.exec(pathname)?.[1] ?? pathname.replace(/\/scim\/?$/i, '').replace(/\/+$/, '');
        return `${origin}${prefix}/tenants/${tenant}/scim`;
    }
    const match = /^(.*?\/scim)(?:\/|$)/i.exec(pathname);
    return origin + (match ? match[1] : '/scim');
}

/** The request as the activity records count it: ids, status and the handler's notes, nothing personal. */
function activityOf(request: HttpRequest, context: InvocationContext, log: RequestLog, response: ScimResponse): RequestActivity {
    const method = request.method.toUpperCase();
    const scimType = (response.body as { scimType?: string } | undefined)?.scimType;
    const activity: RequestActivity = {
        at: Date.now(),
        method,
        operation: operationOf({
            method,
            ...(log.resourceType ? { resourceType: log.resourceType } : {}),
            hasId: request.params.id !== undefined,
            hasFilter: request.query.has('filter'),
            ...(log.operation ? { noted: log.operation } : {}),
        }),
        status: response.status,
        invocationId: context.invocationId,
    };
    if (scimType) activity.scimType = scimType;
    if (log.resourceType) activity.resourceType = log.resourceType;
    if (request.params.id !== undefined) activity.resourceId = request.params.id;
    if (log.totalsChange && response.status < 300) activity.totalsChange = log.totalsChange;
    return activity;
}

/**
 * One structured line per SCIM request: the app-side provisioning log an admin reads in Application
 * Insights (docs/logs.md). Ids are server-generated; no userName, filter, token or body is logged, and
 * ignored attributes appear by name only, a bounded number of them (`summaryLine`).
 */
function logSummary(
    context: InvocationContext,
    method: string,
    log: RequestLog,
    response: ScimResponse,
    storage: StorageRequestCounts,
    durationMs: number,
): void {
    context.log(summaryLine({
        invocationId: context.invocationId ?? randomUUID(),
        method,
        resourceType: log.resourceType,
        resourceId: log.resourceId,
        status: response.status,
        scimType: (response.body as { scimType?: string } | undefined)?.scimType,
        storageRequests: storage.total,
        durationMs,
        ignoredPaths: log.ignoredPaths,
    }));
}
