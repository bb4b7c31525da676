/**
 * `/Users` and `/Groups`: one mechanism for both resource types (RFC 7644 §3.2–3.6). Each method reads
 * like the protocol; storage is behind `ResourceStore`, so this file has no Azure imports.
 *
 * Groups differ only in membership, which lives in edges: members are read only when the response
 * carries them (Entra always sends `excludedAttributes=members`), and PATCH hands the store a member
 * delta rather than a member list, so a change costs the same for a group of 10 or of 50,000. The store
 * checks, in batches, that added members exist (400 `invalidValue` otherwise).
 */
import { randomUUID } from 'node:crypto';
import type { GroupMember, MemberDelta, ResourceChange, ResourceStore, ScimResource, StoredResource } from './store';
import { indexForPath, unindexedFilterDetail } from './attributeIndexes';
import { canonicalizeResource } from './attributeValues';
import { isPlainObject } from './isPlainObject';
import { ScimError } from './errors';
import { matchesFilter, MAX_SCAN_RESOURCES, parseFilter, planQuery, type FilterNode } from './filter';
import { cursorListResponse, encodeCursor, listResponse, readPaging } from './listResponse';
import { memberIdsOf } from './memberIds';
import { readSearchRequest } from './searchRequest';
import { applyPatch } from './patch';
import { project, readProjection, wantsAttribute, type Projection } from './projection';
import { isActive, totalsOfCreate, totalsOfDelete, totalsOfUpdate, type Operation } from './operations';
import type { RequestLog, ScimHandler, ScimRequest, ScimResponse } from './request';
import { ENTERPRISE_USER_SCHEMA, findByName, PATCH_OP_SCHEMA, type AttributeDefinition, type ResourceTypeName } from './schemas';
import { resolveAttribute, resourceTypeDefinition, schemasOf } from './schemaRegistry';
import { isStoreError } from './storeErrors';
import { validateResource } from './validation';

export const RESOURCE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** `POST /Users/.search` (RFC 7644 §3.4.3); no resource id starts with a dot (ids are UUIDs). */
const SEARCH_SEGMENT = '.search';

/** Read-modify-write attempts before giving up on a resource that keeps changing under us. */
const MAX_WRITE_ATTEMPTS = 8;

/**
 * Most member ids one request may add or remove (POST, PUT, or PATCH): a change of k members costs about
 * 3⌈k/100⌉ storage transactions, so this keeps a request to a few seconds (docs/limits.md). Entra sends member
 * changes in PATCHes of far fewer (docs/entra-protocol.md §6).
 */
export const MAX_MEMBER_IDS_PER_REQUEST = 1000;

export function resourceEndpoint(resourceType: ResourceTypeName): ScimHandler {
    return async (request, store) => {
        const resources = new Resources(resourceType, store, request.baseUrl);
        const id = request.params.id;
        if (id !== undefined) request.log.resourceId = id;
        switch (request.method) {
            case 'GET':
                return id === undefined ? resources.list(request.query) : resources.get(id, readProjection(request.query));
            case 'POST': {
                // RFC 7644 §3.4.3: a query in a body, answered like the GET with the same parameters.
                if (id === SEARCH_SEGMENT) return resources.list(readSearchRequest(request.body));
                if (id !== undefined) throw methodNotAllowed('POST', 'a resource; POST to the collection');
                const created = await resources.create(request.body, readProjection(request.query), ignoredPaths(request), request.log);
                request.log.resourceId = (created.body as { id: string }).id;
                return created;
            }
            case 'PUT':
                return resources.replace(requireId(id, 'PUT'), request, readProjection(request.query), ignoredPaths(request));
            case 'PATCH':
                return resources.patch(requireId(id, 'PATCH'), request, readProjection(request.query));
            case 'DELETE':
                return resources.delete(requireId(id, 'DELETE'), request.header('if-match'), request.log);
            default:
                throw methodNotAllowed(request.method, 'this endpoint');
        }
    };
}

export class Resources {
    private readonly endpoint: string;

    constructor(
        private readonly resourceType: ResourceTypeName,
        private readonly store: ResourceStore,
        private readonly baseUrl: string,
    ) {
        this.endpoint = resourceTypeDefinition(resourceType).endpoint;
    }

    /** GET /{type}/{id} (RFC 7644 §3.4.1) */
    async get(id: string, projection: Projection): Promise<ScimResponse> {
        const stored = await this.store.get(this.resourceType, id);
        if (!stored) throw ScimError.notFound(`${this.resourceType} not found`);
        return this.respond(200, stored, projection);
    }

    /**
     * GET /{type}?filter=…&startIndex=…&count=… (RFC 7644 §3.4.2), or with `cursor` (RFC 9865), and POST
     * /{type}/.search with the same parameters in a body (§3.4.3). An empty result is a 200, never a 404
     * (docs/entra-protocol.md §3). Bounded whatever the table holds: an index page counts at most
     * `MAX_COUNTED_RESOURCES` ids (key-only) and reads only its own resources in full; a cursor page reads at most
     * `CURSOR_SCAN_WINDOW` resources; members and groups in one list at most `MAX_LISTED_REFERENCES`.
     */
    async list(query: URLSearchParams): Promise<ScimResponse> {
        const paging = readPaging(query);
        const filterText = query.get('filter');
        const filter = filterText === null || filterText.trim() === '' ? undefined : parseFilter(filterText);
        const projection = readProjection(query);
        if (paging.method === 'cursor') {
            const { page, nextAfter } = await this.cursorPage(filter, paging.after, paging.count);
            const resources = await this.representations(page, projection);
            return { status: 200, body: cursorListResponse(resources, nextAfter === undefined ? undefined : encodeCursor(nextAfter)) };
        }
        const { total, resources } = await this.page(filter, projection, paging);
        return { status: 200, body: listResponse(resources, total, paging.startIndex) };
    }

    /** An index page of the matches of `filter` (all resources without one): how many, and the representations on the page. */
    async page(filter: FilterNode | undefined, projection: Projection, paging: { startIndex: number; count: number }): Promise<{ total: number; resources: ScimResource[] }> {
        const { page, total } = filter === undefined ? await this.indexPage(paging.startIndex, paging.count) : await this.filteredIndexPage(filter, paging.startIndex, paging.count);
        return { total, resources: await this.representations(page, projection) };
    }

    /**
     * An unfiltered index page: the ids are counted with a key-only read (totalResults), and only the page's own
     * resources are read in full, starting after the id just before `startIndex`.
     */
    private async indexPage(startIndex: number, count: number): Promise<{ page: StoredResource[]; total: number }> {
        let total = 0;
        let before: string | undefined;
        for await (const id of this.store.listIds(this.resourceType, MAX_COUNTED_RESOURCES + 1)) {
            if (++total > MAX_COUNTED_RESOURCES) {
                throw ScimError.badRequest('tooMany', `There are more than ${MAX_COUNTED_RESOURCES} ${this.endpoint.slice(1)}: page through them with cursor paging (cursor=, RFC 9865) or filter`);
            }
            if (total === startIndex - 1) before = id;
        }
        if (count === 0 || startIndex > total) return { page: [], total };
        const page: StoredResource[] = [];
        for await (const stored of this.store.list(this.resourceType, count, before)) page.push(stored);
        return { page, total };
    }

    private async filteredIndexPage(filter: FilterNode, startIndex: number, count: number): Promise<{ page: StoredResource[]; total: number }> {
        const page: StoredResource[] = [];
        let total = 0;
        for await (const stored of this.filtered(filter, { limit: MAX_SCAN_RESOURCES, refuseBeyondLimit: true, complete: true })) {
            total++;
            if (total >= startIndex && page.length < count) page.push(stored);
        }
        return { page, total };
    }

    /**
     * A cursor page (RFC 9865): the resources after `after` in id order. `nextAfter` is where the next page starts,
     * undefined on the last page. A filter no index answers examines at most `CURSOR_SCAN_WINDOW` resources per
     * page, so a page may hold fewer than `count` matches (even none) and still have a next one.
     */
    private async cursorPage(filter: FilterNode | undefined, after: string | undefined, count: number): Promise<{ page: StoredResource[]; nextAfter?: string }> {
        const page: StoredResource[] = [];
        if (filter === undefined) {
            for await (const stored of this.store.list(this.resourceType, count + 1, after)) page.push(stored);
            return page.length > count ? { page: page.slice(0, count), nextAfter: page[count - 1]!.id } : { page };
        }
        const scan: ScanWindow = { after, limit: CURSOR_SCAN_WINDOW, refuseBeyondLimit: false, complete: true };
        for await (const stored of this.filtered(filter, scan)) {
            if (page.length === count) return { page, nextAfter: page[count - 1]!.id }; // one more match exists
            page.push(stored);
        }
        return scan.complete || scan.lastSeen === undefined ? { page } : { page, nextAfter: scan.lastSeen };
    }

    /**
     * Candidates from the query plan (index reads where a usable index serves the filter), in id order after
     * `scan.after`, then the rest of the filter in memory. A filter no usable index answers reads at most
     * `scan.limit` resources: beyond that it is 400 `tooMany` naming the attribute to index (index paging) or the
     * scan stops, `complete` false, `lastSeen` the last resource read (cursor paging).
     */
    private async *filtered(filter: FilterNode, scan: ScanWindow): AsyncIterable<StoredResource> {
        const catalog = await this.store.indexes(this.resourceType);
        const usable = catalog.usable.flatMap((path) => indexForPath(this.resourceType, path) ?? []);
        const plan = planQuery(filter, this.resourceType, usable);
        const onlyLookup = plan.lookups?.length === 1 ? plan.lookups[0] : undefined;
        const byId = onlyLookup?.kind === 'id' ? onlyLookup.value : undefined;
        // The membership probe `id eq "g" and members[value eq "u"]`: a miss costs one point read.
        if (plan.requiredMember !== undefined && byId !== undefined && !(await this.store.hasMember(byId, plan.requiredMember))) return;
        // Lookups answer in id order.
        const candidates = plan.lookups
            ? (await this.store.lookup(this.resourceType, plan.lookups)).filter((stored) => scan.after === undefined || stored.id > scan.after)
            : this.store.list(this.resourceType, scan.limit + 1, scan.after);
        let scanned = 0;
        for await (const stored of candidates) {
            if (!plan.lookups && ++scanned > scan.limit) {
                if (scan.refuseBeyondLimit) {
                    throw ScimError.badRequest('tooMany', `${unindexedFilterDetail(filter, this.resourceType, catalog, MAX_SCAN_RESOURCES)}; or page with cursor (RFC 9865)`);
                }
                scan.complete = false;
                return;
            }
            scan.lastSeen = stored.id;
            if (plan.requiredMember !== undefined && byId === undefined && !(await this.store.hasMember(stored.id, plan.requiredMember))) continue;
            if (plan.residual && !matchesFilter(plan.residual, this.fullRepresentation(stored), this.resourceType)) continue;
            yield stored;
        }
    }

    /** POST /{type} (RFC 7644 §3.3) → 201 with Location and ETag. */
    async create(body: unknown, projection: Projection, ignored: string[], log: RequestLog): Promise<ScimResponse> {
        const { attributes, members } = this.readResourceBody(body, ignored);
        const stored = await this.store.create(this.resourceType, randomUUID(), attributes, new Date().toISOString(), members);
        log.totalsChange = totalsOfCreate(this.resourceType, stored.attributes);
        const response = await this.respond(201, stored, projection);
        response.headers!.Location = this.location(stored.id);
        return response;
    }

    /**
     * PUT /{type}/{id} (RFC 7644 §3.5.1): replaces the attributes; `id` and `meta.created` stay. A PUT of a
     * group without `members` leaves its membership alone rather than wiping a possibly huge group.
     */
    async replace(id: string, request: ScimRequest, projection: Projection, ignored: string[]): Promise<ScimResponse> {
        const { attributes, members } = this.readResourceBody(request.body, ignored);
        const stored = await this.writeWithRetry(id, request.header('if-match'), request.log, () => {
            const change: ResourceChange = { kind: 'put', attributes };
            if (members) change.members = { clear: true, add: members, remove: [] };
            return change;
        });
        return this.respond(200, stored, projection);
    }

    /**
     * PATCH /{type}/{id} (RFC 7644 §3.5.2) through the PATCH engine. Users answer 200 with the resource;
     * groups 204 (what Entra prefers, docs/entra-protocol.md §6) unless the client asked for attributes.
     */
    async patch(id: string, request: ScimRequest, projection: Projection): Promise<ScimResponse> {
        const operations = readPatchOperations(request.body);
        const stored = await this.writeWithRetry(id, request.header('if-match'), request.log, (current) => {
            const result = applyPatch(this.patchInput(current), operations, this.resourceType);
            if (result.ignored.length > 0) request.log.ignoredPaths = result.ignored;
            if (!result.changed) return undefined;
            const attributes = this.storedAttributes(result.resource);
            validateResource(this.resourceType, attributes);
            const change: ResourceChange = {};
            if (result.attributesChanged) change.attributes = attributes;
            if (result.members) change.members = checkMemberCount(result.members);
            return change;
        });
        const asked = request.query.get('attributes') !== null || request.query.get('excludedAttributes') !== null;
        if (this.resourceType === 'Group' && !asked) return { status: 204, headers: { ETag: stored.version } };
        return this.respond(200, stored, projection);
    }

    /**
     * DELETE /{type}/{id} (RFC 7644 §3.6) → 204; a second DELETE → 404 (docs/entra-protocol.md §5.7). With
     * If-Match the store deletes only at the version that matched (a change in between is the client's 412).
     */
    async delete(id: string, ifMatch: string | undefined, log: RequestLog): Promise<ScimResponse> {
        let expectedVersion: string | undefined;
        if (ifMatch !== undefined) {
            const current = await this.store.get(this.resourceType, id);
            if (!current) throw ScimError.notFound(`${this.resourceType} not found`);
            checkIfMatch(ifMatch, current);
            if (!isWildcard(ifMatch)) expectedVersion = current.version;
        }
        const deleted = await this.store.delete(this.resourceType, id, expectedVersion);
        if (!deleted) throw ScimError.notFound(`${this.resourceType} not found`);
        log.totalsChange = totalsOfDelete(this.resourceType, deleted.attributes);
        return { status: 204 };
    }

    /**
     * Read → change → conditional write, retried when another writer got there first. With `If-Match`
     * the client owns the conflict: a mismatch is its 412 (RFC 7644 §3.14). `change` returning undefined
     * means "nothing to write".
     */
    private async writeWithRetry(
        id: string,
        ifMatch: string | undefined,
        log: RequestLog,
        change: (current: StoredResource) => ResourceChange | undefined | Promise<ResourceChange | undefined>,
    ): Promise<StoredResource> {
        for (let attempt = 1; ; attempt++) {
            const current = await this.store.get(this.resourceType, id);
            if (!current) throw ScimError.notFound(`${this.resourceType} not found`);
            if (ifMatch !== undefined) checkIfMatch(ifMatch, current);
            const next = await change(current);
            log.operation = operationOfChange(this.resourceType, current.attributes, next);
            if (!next) return current;
            // Members-only changes are idempotent edge writes and need no version check (see ResourceStore.update).
            const expectedVersion = next.attributes || ifMatch !== undefined ? current.version : undefined;
            try {
                const stored = await this.store.update(this.resourceType, id, next, new Date().toISOString(), expectedVersion);
                if (next.attributes) log.totalsChange = totalsOfUpdate(this.resourceType, current.attributes, next.attributes);
                return stored;
            } catch (error) {
                if (!isStoreError(error, 'versionConflict') || ifMatch !== undefined) throw error;
                if (attempt >= MAX_WRITE_ATTEMPTS) throw ScimError.unavailable('The resource is being changed concurrently; retry later', 1);
                await sleep(Math.random() * 10 * attempt);
            }
        }
    }

    /**
     * A POST/PUT body → the attributes we store (canonical, validated; see `storedAttributes`) and, for
     * groups, the member ids. Attributes and sub-attributes outside our schemas are ignored exactly as
     * the PATCH engine ignores them, their names added to `ignored` for the log (never their values).
     */
    private readResourceBody(body: unknown, ignored: string[]): { attributes: ScimResource; members?: string[] } {
        if (!isPlainObject(body)) {
            throw ScimError.badRequest('invalidSyntax', 'The request body must be a JSON object');
        }
        const canonical = canonicalizeResource(body, this.resourceType, (name) => ignored.push(name));
        const attributes = this.storedAttributes(canonical);
        validateResource(this.resourceType, attributes);
        if (this.resourceType !== 'Group' || canonical.members === undefined) return { attributes };
        return { attributes, members: checkMemberCount({ clear: true, add: memberIds(canonical.members), remove: [] }).add };
    }

    /**
     * What the store keeps of a canonical resource: the writable attributes of our schemas, core and
     * extension ones alike, in the resource row (no other row, no other request). Not kept: `schemas`,
     * `id` and `meta` (ours to set), readOnly attributes (RFC 7644 §3.3 says to ignore them on input),
     * group `members` and user `groups` (edges), `password` (writeOnly; this service authenticates nobody,
     * so it is not stored at all), and anything outside our schemas (already named by `canonicalizeResource`).
     */
    private storedAttributes(resource: ScimResource): ScimResource {
        const kept: ScimResource = {};
        const { extensions } = schemasOf(this.resourceType);
        for (const [key, value] of Object.entries(resource)) {
            if (key === 'schemas') continue;
            const extension = extensions.find((e) => e.id === key);
            if (extension && isPlainObject(value)) {
                const inner: Record<string, unknown> = {};
                for (const [name, innerValue] of Object.entries(value)) {
                    const definition = findByName(extension.attributes, name);
                    if (definition && isStored(definition)) inner[name] = innerValue;
                }
                if (Object.keys(inner).length > 0) kept[key] = inner;
                continue;
            }
            if (extension) {
                kept[key] = value; // not an object: the validator refuses it
                continue;
            }
            const definition = resolveAttribute(this.resourceType, { attribute: key })?.definition;
            if (!definition || !isStored(definition) || isEdgeAttribute(this.resourceType, definition)) continue;
            // An empty array or object is unassigned (RFC 7643 §2.5), as the PATCH engine leaves it: not stored.
            if (!isEmptyValue(value)) kept[key] = value;
        }
        return kept;
    }

    /** The resource the PATCH engine works on: the stored attributes with id and schemas, never members. */
    private patchInput(stored: StoredResource): ScimResource {
        return { schemas: this.schemaUris(stored.attributes), id: stored.id, ...stored.attributes };
    }

    private fullRepresentation(stored: StoredResource): ScimResource {
        return {
            schemas: this.schemaUris(stored.attributes),
            id: stored.id,
            ...this.withManagerReference(stored.attributes),
            meta: {
                resourceType: this.resourceType,
                created: stored.created,
                lastModified: stored.lastModified,
                location: this.location(stored.id),
                version: stored.version,
            },
        };
    }

    /**
     * The representation a response carries: derived attributes read only when the projection wants them. In a list,
     * `budget` bounds the members and groups read for the whole page.
     */
    private async representation(stored: StoredResource, projection: Projection, budget?: ReferenceBudget): Promise<ScimResource> {
        const resource = this.fullRepresentation(stored);
        if (this.resourceType === 'Group' && wantsAttribute(projection, 'Group', 'members')) {
            const members: Record<string, string>[] = [];
            for await (const member of this.store.members(stored.id)) {
                budget?.spend(1, 'members');
                members.push(this.memberReference(member));
            }
            // No members is an unassigned attribute, left out rather than `[]` (RFC 7643 §2.5).
            if (members.length > 0) resource.members = members;
        }
        if (this.resourceType === 'User' && wantsAttribute(projection, 'User', 'groups')) {
            const groups = await this.store.groupsOf(stored.id);
            budget?.spend(groups.length, 'groups');
            if (groups.length > 0) resource.groups = groups.map((groupId) => ({ value: groupId, $ref: `${this.baseUrl}/Groups/${groupId}`, type: 'direct' }));
        }
        return project(resource, this.resourceType, projection);
    }

    /** A page's representations, one resource at a time, within one budget of members and groups (a spent budget stops the reads). */
    private async representations(page: StoredResource[], projection: Projection): Promise<ScimResource[]> {
        const budget = new ReferenceBudget();
        const resources: ScimResource[] = [];
        for (const stored of page) resources.push(await this.representation(stored, projection, budget));
        return resources;
    }

    private async respond(status: number, stored: StoredResource, projection: Projection): Promise<ScimResponse> {
        return { status, body: await this.representation(stored, projection), headers: { ETag: stored.version } };
    }

    /** `manager.$ref` (RFC 7643 §4.3), derived from `manager.value` like a member's `$ref`: only the id is stored. */
    private withManagerReference(attributes: ScimResource): ScimResource {
        const enterprise = attributes[ENTERPRISE_USER_SCHEMA];
        if (!isPlainObject(enterprise) || !isPlainObject(enterprise.manager) || typeof enterprise.manager.value !== 'string') return attributes;
        const manager = { ...enterprise.manager, $ref: `${this.baseUrl}/Users/${encodeURIComponent(enterprise.manager.value)}` };
        return { ...attributes, [ENTERPRISE_USER_SCHEMA]: { ...enterprise, manager } };
    }

    private memberReference(member: GroupMember): Record<string, string> {
        return { value: member.value, $ref: `${this.baseUrl}/${member.type === 'User' ? 'Users' : 'Groups'}/${member.value}`, type: member.type };
    }

    private location(id: string): string {
        return `${this.baseUrl}${this.endpoint}/${encodeURIComponent(id)}`;
    }

    /** The core schema, plus each extension the resource carries (RFC 7643 §3). */
    private schemaUris(attributes: ScimResource): string[] {
        const { core, extensions } = schemasOf(this.resourceType);
        return [core.id, ...extensions.filter((e) => attributes[e.id] !== undefined).map((e) => e.id)];
    }
}

/** Ids an unfiltered index page counts at most (a key-only read, 1,000 per request); beyond: 400 tooMany, page with a cursor. */
export const MAX_COUNTED_RESOURCES = 10_000;
/** Resources a cursor page with a filter no index answers examines at most: one storage page. */
export const CURSOR_SCAN_WINDOW = 1000;
/** Members (of groups) and groups (of users) one list response carries at most; beyond: 400 tooMany. */
export const MAX_LISTED_REFERENCES = 10_000;

/** Where a filtered read may go: see `Resources.filtered`. */
interface ScanWindow {
    after?: string | undefined;
    limit: number;
    refuseBeyondLimit: boolean;
    complete: boolean;
    lastSeen?: string;
}

/** Counts the members and groups a list response reads, refusing the list once `MAX_LISTED_REFERENCES` is passed. */
class ReferenceBudget {
    private spent = 0;

    spend(count: number, what: 'members' | 'groups'): void {
        this.spent += count;
        if (this.spent <= MAX_LISTED_REFERENCES) return;
        const exclude = what === 'members' ? 'excludedAttributes=members' : 'leaving groups out of attributes';
        throw ScimError.badRequest('tooMany', `This list would carry more than ${MAX_LISTED_REFERENCES} ${what}: ask with ${exclude}, or for a smaller count`);
    }
}

/** The PatchOp message (RFC 7644 §3.5.2): `schemas` must name PatchOp; `Operations` goes to the engine. */
function readPatchOperations(body: unknown): unknown {
    if (!isPlainObject(body)) {
        throw ScimError.badRequest('invalidSyntax', 'The request body must be a PatchOp JSON object');
    }
    const message = body as { schemas?: unknown; Operations?: unknown };
    const schemas = Array.isArray(message.schemas) ? message.schemas : [];
    if (!schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_OP_SCHEMA.toLowerCase())) {
        throw ScimError.badRequest('invalidSyntax', `A PATCH body must list the schema ${PATCH_OP_SCHEMA}`);
    }
    const operations = message.Operations ?? body.operations;
    if (operations === undefined) throw ScimError.badRequest('invalidSyntax', 'A PATCH body must carry Operations');
    return operations;
}

/** `members` of a POST/PUT body: an array (it is multi-valued) of `[{value}]` objects or bare id strings → ids, deduplicated. */
function memberIds(members: unknown): string[] {
    if (!Array.isArray(members)) throw ScimError.badRequest('invalidValue', "Attribute 'members' must be an array");
    return [...new Set(memberIdsOf(members, 'members'))];
}

/** The member delta, if it names at most `MAX_MEMBER_IDS_PER_REQUEST` ids; 400 before any storage work otherwise. */
function checkMemberCount(delta: MemberDelta): MemberDelta {
    const count = delta.add.length + delta.remove.length;
    if (count > MAX_MEMBER_IDS_PER_REQUEST) {
        throw ScimError.badRequest('invalidValue', `At most ${MAX_MEMBER_IDS_PER_REQUEST} members can be added or removed in one request (this one names ${count}); send them in several requests`);
    }
    return delta;
}

/** `If-Match` (RFC 7644 §3.14): `*` matches any version; otherwise one of the listed versions must match. */
function checkIfMatch(ifMatch: string, current: StoredResource): void {
    if (isWildcard(ifMatch) || ifMatchVersions(ifMatch).includes(current.version)) return;
    throw new ScimError(412, undefined, 'The resource has changed (If-Match does not match its version)');
}

function isWildcard(ifMatch: string): boolean {
    return ifMatchVersions(ifMatch).includes('*');
}

function ifMatchVersions(ifMatch: string): string[] {
    return ifMatch.split(',').map((version) => version.trim());
}

/** The list a request's ignored attribute names are collected in, for its summary log line. */
function ignoredPaths(request: ScimRequest): string[] {
    request.log.ignoredPaths ??= [];
    return request.log.ignoredPaths;
}

/** `password` is writeOnly and deliberately not stored; readOnly attributes are ours to set. */
function isStored(definition: AttributeDefinition): boolean {
    return definition.mutability !== 'readOnly' && definition.mutability !== 'writeOnly';
}

function isEmptyValue(value: unknown): boolean {
    return (Array.isArray(value) && value.length === 0) || (isPlainObject(value) && Object.keys(value).length === 0);
}

/** A group's `members` live in membership edges, not in the resource row (a user's `groups` is readOnly). */
function isEdgeAttribute(resourceType: ResourceTypeName, definition: AttributeDefinition): boolean {
    return resourceType === 'Group' && definition.name === 'members';
}

function requireId(id: string | undefined, method: string): string {
    if (id === undefined) throw methodNotAllowed(method, 'the collection; address one resource');
    return id;
}

function methodNotAllowed(method: string, what: string): ScimError {
    return new ScimError(405, undefined, `${method} is not supported on ${what}`);
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * What an admin calls a PUT or PATCH (the activity records, docs/activity.md): a user's `active` flipping is a
 * disable or an enable; a change of members only is a member add or remove; anything else an update.
 */
function operationOfChange(resourceType: ResourceTypeName, before: ScimResource, change: ResourceChange | undefined): Operation {
    if (change?.attributes) {
        if (resourceType === 'User' && isActive(before) !== isActive(change.attributes)) return isActive(change.attributes) ? 'enable' : 'disable';
        return 'update';
    }
    const members = change?.members;
    if (!members) return 'update';
    const removes = members.clear || members.remove.length > 0;
    if (members.add.length > 0 && !removes) return 'memberAdd';
    if (removes && members.add.length === 0) return 'memberRemove';
    return 'update';
}
