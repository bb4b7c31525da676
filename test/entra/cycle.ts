/**
 * Replays Entra's provisioning traffic against a SCIM endpoint: the golden fixtures in
 * `test/entra/fixtures/NN-name.json`, run in file order as one provisioning cycle.
 *
 * Used by two callers with the very same fixtures: `entra.test.ts` (vitest, one test per step, against the
 * local host) and `smoke.ts` (the deployment pipeline's smoke test, against any endpoint). So this file
 * imports nothing but Node: no vitest, no app code.
 *
 * A fixture file is data: `{ description, steps: [...] }`. A step is either a request with the response it
 * expects, or a page walk (the one loop, Microsoft's SCIM_User_Pagination_Test, docs/entra-protocol.md §7):
 *
 *     { "name": "…", "source": "docs/entra-protocol.md §5.2",
 *       "request": { "method": "POST", "path": "/Users", "headers": {…}, "body": {…}, "auth": "token" },
 *       "expect": { "status": 201, "headers": { "location": "$endsWith:/Users/{{aliceId}}" }, "body": {…} },
 *       "capture": { "aliceId": "id" } }
 *
 * Placeholders `{{name}}` are filled from earlier captures and from the built-ins `run` (a short id unique to
 * this run, so names never collide on a shared endpoint), `RUN` (the same, upper case), `runGuid` (a GUID no
 * resource has, for Test Connection) and `base` (the SCIM root URL). In `path` the value is percent-encoded.
 * A step with `"repeat": N` stands for N steps with `{{i}}` = 01 … N.
 *
 * Expected values are matched by `matchValue`: objects partially (only the listed keys), arrays whole and in
 * order, and these markers:
 *     "$present"        any value but null
 *     "$absent"         the key is not there
 *     "$ignoreCase:x"   a string equal to x in any letter case
 *     "$endsWith:x"     a string ending in x
 *     {"$unordered": [...]}   an array with exactly these elements, in any order
 *     {"$contains": [...]}    an array with (at least) these elements
 *
 * Besides what a step lists, every response is checked for what Entra needs from all of them (see
 * `checkEveryResponse`). The cycle remembers what it created and `cleanUp()` deletes whatever is left.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

// ---- fixtures

export interface FixtureFile {
    /** The file name without `.json`, e.g. `02-create-user`. */
    name: string;
    description: string;
    /** With `repeat` expanded. */
    steps: Step[];
}

export interface Step {
    name: string;
    /** The section of docs/entra-protocol.md (or the Microsoft test) the request comes from. */
    source?: string;
    repeat?: number;
    request?: StepRequest;
    expect?: Expectation;
    /** Variable name → dotted path into the response body (`id`, `Resources.0.id`). */
    capture?: Record<string, string>;
    pageWalk?: PageWalk;
    /** Why this step is expected to fail for now: vitest runs it with `it.fails`, the smoke test reports it apart. */
    knownFailure?: string;
}

export interface StepRequest {
    method: string;
    /** Relative to the SCIM root, query encoded exactly as Entra encodes it (`+` for spaces, `%22` quotes). */
    path: string;
    /** Sent as they are; nothing is added but `Authorization` (so GETs carry no `Accept`, like Entra's). */
    headers?: Record<string, string>;
    body?: unknown;
    /** `token` (default): the endpoint's token; `invalid`: a wrong one; `none`: no Authorization header. */
    auth?: 'token' | 'invalid' | 'none';
}

export interface Expectation {
    /** One status, or the statuses Entra accepts (a user PATCH may answer 200 or 204, docs/entra-protocol.md §5.4). */
    status: number | number[];
    /** Header name (any case) → expected value or marker. */
    headers?: Record<string, unknown>;
    body?: unknown;
}

/**
 * `GET path` with `{{startIndex}}` = 1, then startIndex + len(Resources) while ≤ totalResults (docs/entra-protocol.md §7).
 * Asserts the paging invariants on every page rather than exact totals, so it also holds on an endpoint
 * with other users; `totalResults` pins the total when the path filters down to this run's users.
 */
export interface PageWalk {
    path: string;
    count: number;
    /** Ids (placeholders) each of which must be seen exactly once over the walk. */
    seenOnce: string[];
    minPages: number;
    totalResults?: number;
    /** A guard against an endpoint that never reaches the end. Default 2,000 pages. */
    maxPages?: number;
}

export const FIXTURE_DIRECTORY = findFixtureDirectory();

/** The fixtures sit beside this file; compiled to `dist/test/entra/`, look in the source tree instead. */
function findFixtureDirectory(): string {
    const candidates = [path.join(__dirname, 'fixtures'), path.resolve(__dirname, '..', '..', '..', 'test', 'entra', 'fixtures')];
    return candidates.find((candidate) => existsSync(candidate)) ?? candidates[0]!;
}

/** Every `NN-name.json` in `directory`, in file order, with repeated steps expanded and each step checked. */
export function loadFixtureFiles(directory = FIXTURE_DIRECTORY): FixtureFile[] {
    return readdirSync(directory)
        .filter((file) => /^\d+-.+\.json$/.test(file))
        .sort()
        .map((file) => {
            const name = file.replace(/\.json$/, '');
            const parsed = JSON.parse(readFileSync(path.join(directory, file), 'utf8')) as { description?: string; steps?: Step[] };
            if (typeof parsed.description !== 'string' || !Array.isArray(parsed.steps)) {
                throw new Error(`fixture ${file}: needs "description" and "steps"`);
            }
            const steps = parsed.steps.flatMap(expandRepeat);
            steps.forEach((step, index) => checkStepShape(step, `${file} step ${index + 1}`));
            return { name, description: parsed.description, steps };
        });
}

function expandRepeat(step: Step): Step[] {
    if (step.repeat === undefined) return [step];
    const { repeat, ...template } = step;
    const text = JSON.stringify(template);
    return Array.from({ length: repeat }, (_, index) => JSON.parse(text.replaceAll('{{i}}', String(index + 1).padStart(2, '0'))) as Step);
}

function checkStepShape(step: Step, where: string): void {
    if (typeof step.name !== 'string' || step.name === '') throw new Error(`${where}: needs a "name"`);
    if ((step.request === undefined) === (step.pageWalk === undefined)) throw new Error(`${where}: needs either "request" or "pageWalk"`);
    if (step.request && !step.expect) throw new Error(`${where}: a request needs "expect"`);
    if (step.request && !/^(GET|POST|PUT|PATCH|DELETE)$/.test(step.request.method)) throw new Error(`${where}: unknown method ${step.request.method}`);
    if (step.request && !step.request.path.startsWith('/')) throw new Error(`${where}: the path must start with /`);
}

// ---- the cycle

export interface Endpoint {
    /** The SCIM root, e.g. `https://app.azurewebsites.net/scim`. */
    base: string;
    token: string;
}

export interface StepOutcome {
    passed: boolean;
    /** Why it failed, one line each; never the token, never values of resources this run did not create. */
    failures: string[];
    /** The endpoint did not answer (connection refused, timeout): the smoke test stops after a few of these. */
    noResponse: boolean;
}

/** A request that got no HTTP response at all. */
class NoResponseError extends Error {}

export interface CleanupOutcome {
    deleted: number;
    failures: string[];
}

export interface Reply {
    status: number;
    /** Lower-case names. */
    headers: Record<string, string>;
    text: string;
    body: unknown;
}

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const REQUEST_TIMEOUT_MS = 30_000;

export class ProvisioningCycle {
    readonly runId: string;
    private readonly base: URL;
    private readonly variables = new Map<string, unknown>();
    /** Resources this run created and has not deleted yet, oldest first: what `cleanUp` deletes. */
    private readonly created: { collection: string; id: string }[] = [];

    constructor(
        private readonly endpoint: Endpoint,
        options: { runId?: string } = {},
    ) {
        this.base = new URL(endpoint.base.replace(/\/+$/, ''));
        this.runId = options.runId ?? randomBytes(4).toString('hex');
        this.variables.set('run', this.runId);
        this.variables.set('RUN', this.runId.toUpperCase());
        this.variables.set('runGuid', randomUUID());
        this.variables.set('base', this.base.toString().replace(/\/+$/, ''));
    }

    async runStep(step: Step): Promise<StepOutcome> {
        const failures: string[] = [];
        let noResponse = false;
        try {
            if (step.pageWalk) await this.walkPages(step.pageWalk, failures);
            else await this.exchange(step, failures);
        } catch (error) {
            noResponse = error instanceof NoResponseError;
            failures.push(error instanceof Error ? error.message : String(error));
        }
        return { passed: failures.length === 0, failures, noResponse };
    }

    /** Deletes, newest first, whatever this run created and did not delete itself (also after a failure). */
    async cleanUp(): Promise<CleanupOutcome> {
        const failures: string[] = [];
        let deleted = 0;
        for (const resource of [...this.created].reverse()) {
            const target = `${resource.collection}/${encodeURIComponent(resource.id)}`;
            try {
                const reply = await this.send('DELETE', target, {}, undefined, 'token');
                if (reply.status === 204) deleted++;
                else if (reply.status !== 404) failures.push(`DELETE ${target}: got ${reply.status}`);
                this.forget(resource.collection, resource.id);
            } catch (error) {
                failures.push(`DELETE ${target}: ${error instanceof Error ? error.message : String(error)}`);
            }
        }
        return { deleted, failures };
    }

    /** How many resources the cleanup would delete now. */
    get leftovers(): number {
        return this.created.length;
    }

    /** A request step: send it as the fixture spells it, capture what later steps need, then match the reply. */
    private async exchange(step: Step, failures: string[]): Promise<void> {
        const request = step.request!;
        const expectation = step.expect!;
        const method = request.method;
        const target = this.fill(request.path, { encode: true });
        const headers = this.fill<Record<string, string>>(request.headers ?? {});
        const body = request.body === undefined ? undefined : JSON.stringify(this.fill(request.body));

        const reply = await this.send(method, target, headers, body, request.auth ?? 'token');
        this.remember(method, target, reply);
        checkEveryResponse(reply, failures);

        const statuses = Array.isArray(expectation.status) ? expectation.status : [expectation.status];
        if (!statuses.includes(reply.status)) {
            failures.unshift(`expected status ${statuses.join(' or ')}, got ${reply.status}${errorSummary(reply.body)}`);
            return; // the rest would only repeat that the response is not the one expected
        }
        for (const [variable, bodyPath] of Object.entries(step.capture ?? {})) {
            const value = valueAt(reply.body, bodyPath);
            if (value === undefined || value === null) failures.push(`nothing to capture as {{${variable}}} at ${bodyPath}`);
            else this.variables.set(variable, value);
        }
        for (const [name, expected] of Object.entries(expectation.headers ?? {})) {
            matchValue(this.fill(expected), reply.headers[name.toLowerCase()], `header ${name}`, failures, this.redactor());
        }
        if (expectation.body !== undefined) matchValue(this.fill(expectation.body), reply.body, 'body', failures, this.redactor());
    }

    /** A page walk step (see `PageWalk`): one GET per page, the paging invariants checked on each. */
    private async walkPages(walk: PageWalk, failures: string[]): Promise<void> {
        const ownIds = walk.seenOnce.map((id) => String(this.fill(id)));
        const seen = new Map<string, number>();
        const maxPages = walk.maxPages ?? 2000;
        let startIndex = 1;
        let pages = 0;
        let lastTotal: number | undefined;
        for (;;) {
            if (pages >= maxPages) {
                failures.push(`still not at the end after ${maxPages} pages`);
                return;
            }
            this.variables.set('startIndex', startIndex);
            const target = this.fill(walk.path, { encode: true });
            const reply = await this.send('GET', target, {}, undefined, 'token');
            pages++;
            const where = `page ${pages} (startIndex=${startIndex})`;
            const pageFailures: string[] = [];
            checkEveryResponse(reply, pageFailures);
            const page = reply.body as { schemas?: unknown; totalResults?: unknown; startIndex?: unknown; itemsPerPage?: unknown; Resources?: unknown } | undefined;
            if (reply.status !== 200 || typeof page !== 'object' || page === null) {
                failures.push(`${where}: expected status 200 with a ListResponse, got ${reply.status}${errorSummary(reply.body)}`, ...pageFailures);
                return;
            }
            const resources = Array.isArray(page.Resources) ? (page.Resources as { id?: unknown }[]) : undefined;
            const total = page.totalResults;
            if (!Array.isArray(page.schemas) || !page.schemas.includes(LIST_RESPONSE_SCHEMA)) pageFailures.push('schemas does not name the ListResponse');
            if (typeof total !== 'number') pageFailures.push(`totalResults is ${typeof total}, not a number`);
            // Microsoft's test compares the startIndex it sent with the one in the response, on every page.
            if (page.startIndex !== startIndex) pageFailures.push(`response startIndex is ${JSON.stringify(page.startIndex)}`);
            if (!resources) pageFailures.push('Resources is not an array');
            if (resources && typeof total === 'number') {
                const expectedLength = Math.min(walk.count, Math.max(0, total - startIndex + 1));
                if (resources.length !== expectedLength) pageFailures.push(`${resources.length} resources on the page, expected ${expectedLength} of totalResults ${total}`);
                if (page.itemsPerPage !== resources.length) pageFailures.push(`itemsPerPage ${JSON.stringify(page.itemsPerPage)} is not the page length ${resources.length}`);
            }
            if (pageFailures.length > 0) {
                failures.push(...pageFailures.map((failure) => `${where}: ${failure}`));
                return;
            }
            for (const resource of resources!) {
                if (typeof resource.id === 'string') seen.set(resource.id, (seen.get(resource.id) ?? 0) + 1);
            }
            lastTotal = total as number;
            const next = startIndex + resources!.length;
            if (resources!.length === 0 || next > lastTotal) break;
            startIndex = next;
        }
        if (pages < walk.minPages) failures.push(`${pages} page(s), expected at least ${walk.minPages}`);
        if (walk.totalResults !== undefined && lastTotal !== walk.totalResults) failures.push(`totalResults ${lastTotal}, expected ${walk.totalResults}`);
        const missing = ownIds.filter((id) => !seen.has(id));
        const repeated = ownIds.filter((id) => (seen.get(id) ?? 0) > 1);
        if (missing.length > 0) failures.push(`${missing.length} of this run's ${ownIds.length} users never seen over ${pages} pages`);
        if (repeated.length > 0) failures.push(`${repeated.length} of this run's users seen on more than one page`);
    }

    /** One HTTP exchange over node:http(s), so that nothing is sent that the fixture does not list. */
    private send(method: string, target: string, headers: Record<string, string>, body: string | undefined, auth: 'token' | 'invalid' | 'none'): Promise<Reply> {
        const url = new URL(this.base.toString());
        const outgoing: Record<string, string> = { ...headers };
        if (auth === 'token') outgoing.Authorization = `Bearer ${this.endpoint.token}`;
        if (auth === 'invalid') outgoing.Authorization = `Bearer not-the-token-${randomBytes(12).toString('hex')}`;
        if (body !== undefined) outgoing['Content-Length'] = String(Buffer.byteLength(body));
        const transport = url.protocol === 'https:' ? https : http;
        return new Promise<Reply>((resolve, reject) => {
            const request = transport.request(
                { protocol: url.protocol, hostname: url.hostname, port: url.port, method, path: url.pathname.replace(/\/+$/, '') + target, headers: outgoing },
                (response) => {
                    const chunks: Buffer[] = [];
                    response.on('data', (chunk: Buffer) => chunks.push(chunk));
                    response.on('error', reject);
                    response.on('end', () => {
                        const text = Buffer.concat(chunks).toString('utf8');
                        const replyHeaders: Record<string, string> = {};
                        for (const [name, value] of Object.entries(response.headers)) {
                            if (value !== undefined) replyHeaders[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
                        }
                        resolve({ status: response.statusCode ?? 0, headers: replyHeaders, text, body: parseJson(text) });
                    });
                },
            );
            request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new NoResponseError(`no response within ${REQUEST_TIMEOUT_MS / 1000} s`)));
            request.on('error', (error) => reject(error instanceof NoResponseError ? error : new NoResponseError(`no response: ${error.message}`)));
            request.end(body);
        });
    }

    /** Tracks what this run created (201 to a POST on a collection) and what it deleted since. */
    private remember(method: string, target: string, reply: Reply): void {
        const collection = /^\/(Users|Groups)(?:\?|$)/i.exec(target)?.[0]?.replace(/\?$/, '');
        const id = (reply.body as { id?: unknown } | undefined)?.id;
        if (method === 'POST' && collection && reply.status === 201 && typeof id === 'string') {
            this.created.push({ collection, id });
            return;
        }
        const deleted = /^\/(Users|Groups)\/([^/?]+)$/i.exec(target);
        if (method === 'DELETE' && deleted && (reply.status === 204 || reply.status === 404)) {
            this.forget(`/${deleted[1]}`, decodeURIComponent(deleted[2]!));
        }
    }

    private forget(collection: string, id: string): void {
        const index = this.created.findIndex((r) => r.collection.toLowerCase() === collection.toLowerCase() && r.id === id);
        if (index >= 0) this.created.splice(index, 1);
    }

    /**
     * Replaces `{{name}}` placeholders in every string of a fixture value. A string that is only a
     * placeholder becomes the captured value itself (of any JSON type); with `encode` (paths) the
     * values are percent-encoded.
     */
    private fill<T>(value: T, options: { encode?: boolean } = {}): T {
        if (typeof value === 'string') {
            const whole = /^\{\{(\w+)\}\}$/.exec(value);
            if (whole && !options.encode) return this.variable(whole[1]!) as T;
            return value.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
                const text = String(this.variable(name));
                return options.encode ? encodeURIComponent(text) : text;
            }) as T;
        }
        if (Array.isArray(value)) return value.map((item) => this.fill(item, options)) as T;
        if (typeof value === 'object' && value !== null) {
            return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.fill(item, options)])) as T;
        }
        return value;
    }

    private variable(name: string): unknown {
        if (!this.variables.has(name)) throw new Error(`needs {{${name}}}, which no earlier step captured (did an earlier step fail?)`);
        return this.variables.get(name);
    }

    /**
     * The smoke test runs against endpoints with real people in them: a value shown in a failure message
     * inside `Resources` is only shown if this run wrote it (it contains the run id or a captured value).
     */
    private redactor(): (value: unknown, where: string) => string {
        const own = new Set([...this.variables.values()].filter((v): v is string => typeof v === 'string'));
        return (value, where) => {
            const text = JSON.stringify(value) ?? 'nothing';
            if (!where.includes('Resources') || typeof value !== 'string') return truncate(text);
            return value.toLowerCase().includes(this.runId) || own.has(value) ? truncate(text) : `a ${value.length}-character string not written by this run`;
        };
    }
}

// ---- what every response must satisfy

/**
 * Checks every response of the cycle, whatever the step expects:
 * - a body is `application/scim+json` (docs/entra-protocol.md §2: the validator aborts on `application/json`);
 * - an error is a SCIM Error message whose `status` is the HTTP status as a string (docs/entra-protocol.md §8);
 * - no key anywhere is an attribute path (`"name.givenName"`, `"emails[type eq \"work\"].value"`,
 *   `"urn:…:User:department"`): the classic way of storing Entra's path-less PATCH keys literally
 *   (docs/entra-protocol.md §5.4, §13.3).
 */
export function checkEveryResponse(reply: Reply, failures: string[]): void {
    if (reply.text !== '') {
        const contentType = reply.headers['content-type'] ?? '';
        if (!/^application\/scim\+json\s*(;|$)/i.test(contentType)) failures.push(`Content-Type is '${contentType}', not application/scim+json`);
        if (reply.body === undefined) failures.push('the response body is not JSON');
    }
    if (reply.status >= 400) {
        const error = reply.body as { schemas?: unknown; status?: unknown } | undefined;
        if (!Array.isArray(error?.schemas) || !error.schemas.includes(ERROR_SCHEMA)) failures.push(`a ${reply.status} without a SCIM Error body (${ERROR_SCHEMA})`);
        else if (error.status !== String(reply.status)) failures.push(`the Error body's status is ${JSON.stringify(error.status)}, not the string "${reply.status}"`);
    } else if (reply.body !== undefined) {
        for (const key of pathLikeKeys(reply.body)) failures.push(`the response has an attribute path as a key: ${truncate(JSON.stringify(key))}`);
    }
}

function pathLikeKeys(value: unknown, found: string[] = []): string[] {
    if (Array.isArray(value)) value.forEach((item) => pathLikeKeys(item, found));
    else if (typeof value === 'object' && value !== null) {
        for (const [key, child] of Object.entries(value)) {
            const dotted = /^[A-Za-z][\w-]*\.[A-Za-z]/.test(key);
            const urnAttribute = /^urn:.*:(User|Group):[A-Za-z]/i.test(key);
            if (dotted || urnAttribute || /[[\]"]/.test(key)) found.push(key);
            pathLikeKeys(child, found);
        }
    }
    return found;
}

// ---- the matcher

/** Matches an expected fixture value (with its markers) against the actual one; mismatches go to `failures`. */
export function matchValue(
    expected: unknown,
    actual: unknown,
    where: string,
    failures: string[],
    show: (value: unknown, where: string) => string = (value) => truncate(JSON.stringify(value) ?? 'nothing'),
): void {
    const mismatch = (what: string): void => {
        failures.push(`${where}: expected ${what}, got ${actual === undefined ? 'nothing' : show(actual, where)}`);
    };
    if (typeof expected === 'string' && expected.startsWith('$')) {
        if (expected === '$present') {
            if (actual === undefined || actual === null) mismatch('a value');
        } else if (expected === '$absent') {
            if (actual !== undefined) mismatch('no such key');
        } else if (expected.startsWith('$ignoreCase:')) {
            const text = expected.slice('$ignoreCase:'.length);
            if (typeof actual !== 'string' || actual.toLowerCase() !== text.toLowerCase()) mismatch(`${JSON.stringify(text)} in any letter case`);
        } else if (expected.startsWith('$endsWith:')) {
            const text = expected.slice('$endsWith:'.length);
            if (typeof actual !== 'string' || !actual.endsWith(text)) mismatch(`a string ending in ${JSON.stringify(text)}`);
        } else {
            throw new Error(`${where}: unknown marker ${expected}`);
        }
        return;
    }
    if (Array.isArray(expected)) {
        if (!Array.isArray(actual)) return mismatch(`an array of ${expected.length}`);
        if (actual.length !== expected.length) return mismatch(`an array of ${expected.length}`);
        expected.forEach((item, index) => matchValue(item, actual[index], `${where}[${index}]`, failures, show));
        return;
    }
    if (typeof expected === 'object' && expected !== null) {
        const marker = expected as { $unordered?: unknown[]; $contains?: unknown[] };
        if (Array.isArray(marker.$unordered) || Array.isArray(marker.$contains)) {
            const wanted = (marker.$unordered ?? marker.$contains)!;
            if (!Array.isArray(actual)) return mismatch(`an array`);
            if (marker.$unordered && actual.length !== wanted.length) return mismatch(`an array of ${wanted.length} (any order)`);
            const unused = [...actual];
            for (const item of wanted) {
                const index = unused.findIndex((candidate) => {
                    const trial: string[] = [];
                    matchValue(item, candidate, where, trial, show);
                    return trial.length === 0;
                });
                if (index < 0) failures.push(`${where}: no element matches ${truncate(JSON.stringify(item))}`);
                else unused.splice(index, 1);
            }
            return;
        }
        if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return mismatch('an object');
        for (const [key, item] of Object.entries(expected)) {
            matchValue(item, (actual as Record<string, unknown>)[key], `${where}.${key}`, failures, show);
        }
        return;
    }
    if (actual !== expected) mismatch(JSON.stringify(expected));
}

// ---- small helpers

/** `Resources.0.id` → body.Resources[0].id */
function valueAt(body: unknown, dottedPath: string): unknown {
    let current = body;
    for (const segment of dottedPath.split('.')) {
        if (typeof current !== 'object' || current === null) return undefined;
        current = (current as Record<string, unknown>)[segment];
    }
    return current;
}

function parseJson(text: string): unknown {
    if (text === '') return undefined;
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** ` (scimType uniqueness: detail)` for a SCIM error body, else nothing. */
function errorSummary(body: unknown): string {
    const error = body as { schemas?: unknown; scimType?: unknown; detail?: unknown } | undefined;
    if (!Array.isArray(error?.schemas) || !error.schemas.includes(ERROR_SCHEMA)) return '';
    const scimType = typeof error.scimType === 'string' ? `scimType ${error.scimType}: ` : '';
    return ` (${scimType}${truncate(typeof error.detail === 'string' ? error.detail : '')})`;
}

function truncate(text: string, length = 160): string {
    return text.length > length ? `${text.slice(0, length)}…` : text;
}
