/**
 * The requests Microsoft Entra ID sends, as the benchmarks send them (docs/entra-protocol.md §3, §5, §6): the same
 * bodies and the same query encoding (.NET form encoding: spaces as `+`, quotes as `%22`).
 */
import { randomUUID } from 'node:crypto';

export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE_USER = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
/** The non-standard schema URI Entra puts on group creates (docs/entra-protocol.md §6). */
const ENTRA_GROUP_SCHEMA = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

export interface ScimRequestSpec {
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
    /** Relative to the SCIM root, e.g. `/Users?filter=…`. */
    path: string;
    body?: unknown;
}

/** `filter=userName eq "x"` encoded the way Entra encodes it. */
function query(parameters: Record<string, string>): string {
    return new URLSearchParams(parameters).toString();
}

export function userNameOf(n: number, runId: string): string {
    return `user${n}.${runId}@contoso.example`;
}

export function externalIdOf(n: number, runId: string): string {
    return `ext-${runId}-${n}`;
}

export function groupNameOf(n: number, runId: string): string {
    return `Group ${n} ${runId}`;
}

/** Test Connection: a lookup by a random GUID that must answer an empty ListResponse (docs/entra-protocol.md §3). */
export function testConnection(): ScimRequestSpec {
    return { method: 'GET', path: `/Users?${query({ filter: `userName eq "${randomUUID()}"` })}` };
}

export function lookupUserName(userName: string): ScimRequestSpec {
    return { method: 'GET', path: `/Users?${query({ filter: `userName eq "${userName}"` })}` };
}

export function lookupExternalId(externalId: string): ScimRequestSpec {
    return { method: 'GET', path: `/Users?${query({ filter: `externalId eq "${externalId}"` })}` };
}

/**
 * A lookup on another matching attribute an admin may pick (docs/entra-protocol.md §14.1): the same shape as
 * the userName lookup, on the work email, the enterprise employeeNumber or displayName.
 */
export function lookupUsersBy(attribute: 'workEmail' | 'employeeNumber' | 'displayName', value: string): ScimRequestSpec {
    const path = { workEmail: 'emails[type eq "work"].value', employeeNumber: `${ENTERPRISE_USER}:employeeNumber`, displayName: 'displayName' }[attribute];
    return { method: 'GET', path: `/Users?${query({ filter: `${path} eq "${value}"` })}` };
}

/** The values `createUser(n)` gives the attributes `lookupUsersBy` can ask for. */
export function matchingValuesOf(n: number, runId: string): Record<'workEmail' | 'employeeNumber' | 'displayName', string> {
    return { workEmail: userNameOf(n, runId), employeeNumber: String(100000 + n), displayName: `User ${n}` };
}

export function getUser(id: string): ScimRequestSpec {
    return { method: 'GET', path: `/Users/${id}` };
}

/** The create body of docs/entra-protocol.md §5.2, ALVAO attribute set. */
export function createUser(n: number, runId: string): ScimRequestSpec {
    return {
        method: 'POST',
        path: '/Users',
        body: {
            schemas: [USER_SCHEMA, ENTERPRISE_USER],
            externalId: externalIdOf(n, runId),
            userName: userNameOf(n, runId),
            active: true,
            displayName: `User ${n}`,
            title: 'Engineer',
            emails: [{ primary: true, type: 'work', value: userNameOf(n, runId) }],
            meta: { resourceType: 'User' },
            name: { formatted: `Given${n} Family${n}`, familyName: `Family${n}`, givenName: `Given${n}` },
            [ENTERPRISE_USER]: { employeeNumber: String(100000 + n), department: 'Sales' },
            roles: [],
        },
    };
}

/** Default dialect (no flag): one capitalised operation per attribute, path always present (docs/entra-protocol.md §5.4a). */
export function patchUserDefaultDialect(id: string, version: number): ScimRequestSpec {
    return {
        method: 'PATCH',
        path: `/Users/${id}`,
        body: {
            schemas: [PATCH_OP],
            Operations: [
                { op: 'Replace', path: 'displayName', value: `Renamed ${version}` },
                { op: 'Replace', path: 'emails[type eq "work"].value', value: `renamed${version}.${id}@contoso.example` },
                { op: 'Replace', path: 'name.givenName', value: `Given${version}` },
                { op: 'Replace', path: 'name.familyName', value: `Family${version}` },
                { op: 'Replace', path: 'title', value: `Title ${version}` },
                { op: 'Replace', path: `${ENTERPRISE_USER}:department`, value: `Department ${version}` },
            ],
        },
    };
}

/**
 * The load mix's user PATCH: the default dialect without the URN-prefixed path, because SCIMMY (the peer)
 * rejects URN paths with 400 and the two servers must do the same work.
 */
export function patchUserPortable(id: string, version: number): ScimRequestSpec {
    const request = patchUserDefaultDialect(id, version);
    const body = request.body as { schemas: string[]; Operations: { path: string }[] };
    const portable = new Set(['displayName', 'emails[type eq "work"].value', 'name.givenName', 'title']);
    return { ...request, body: { ...body, Operations: body.Operations.filter((operation) => portable.has(operation.path)) } };
}

/** With `aadOptscim062020`: lower-case ops, single-valued attributes in one path-less operation (docs/entra-protocol.md §5.4b). */
export function patchUserPathlessDialect(id: string, version: number): ScimRequestSpec {
    return {
        method: 'PATCH',
        path: `/Users/${id}`,
        body: {
            schemas: [PATCH_OP],
            Operations: [
                { op: 'replace', path: 'emails[type eq "work"].value', value: `pathless${version}.${id}@contoso.example` },
                { op: 'replace', value: { displayName: `Pathless ${version}`, 'name.givenName': `G${version}`, 'name.familyName': `F${version}`, [`${ENTERPRISE_USER}:employeeNumber`]: String(version) } },
            ],
        },
    };
}

/**
 * Disable (docs/entra-protocol.md §5.5). Entra's default dialect sends the string `"False"`; the load mix sends the
 * boolean (the tutorial's and the flag dialect's form) because SCIMMY answers the string with 400.
 */
export function disableUser(id: string, value: 'False' | false = 'False'): ScimRequestSpec {
    return { method: 'PATCH', path: `/Users/${id}`, body: { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value }] } };
}

export function deleteUser(id: string): ScimRequestSpec {
    return { method: 'DELETE', path: `/Users/${id}` };
}

export function createGroup(n: number, runId: string): ScimRequestSpec {
    return {
        method: 'POST',
        path: '/Groups',
        body: { schemas: [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA], externalId: `gext-${runId}-${n}`, displayName: groupNameOf(n, runId), meta: { resourceType: 'Group' } },
    };
}

/** Several members in one PATCH, `$ref: null` as Entra sends it (docs/entra-protocol.md §6). */
export function addMembers(groupId: string, memberIds: readonly string[]): ScimRequestSpec {
    return {
        method: 'PATCH',
        path: `/Groups/${groupId}`,
        body: { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: memberIds.map((value) => ({ $ref: null, value })) }] },
    };
}

/** Default dialect remove: `Remove` on `members` with a value array (the shape that wipes groups on RFC-literal servers). */
export function removeMembers(groupId: string, memberIds: readonly string[]): ScimRequestSpec {
    return {
        method: 'PATCH',
        path: `/Groups/${groupId}`,
        body: { schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: 'members', value: memberIds.map((value) => ({ $ref: null, value })) }] },
    };
}

/** Group match: `excludedAttributes=members` first, as Entra orders it (docs/entra-protocol.md §2). */
export function lookupGroup(displayName: string): ScimRequestSpec {
    return { method: 'GET', path: `/Groups?${query({ excludedAttributes: 'members', filter: `displayName eq "${displayName}"` })}` };
}

export function getGroupExcludingMembers(id: string): ScimRequestSpec {
    return { method: 'GET', path: `/Groups/${id}?${query({ excludedAttributes: 'members' })}` };
}

/** The legacy membership probe (docs/entra-protocol.md §5.1): is this user a member of this group? */
export function membershipProbe(groupId: string, memberId: string): ScimRequestSpec {
    return { method: 'GET', path: `/Groups?${query({ filter: `id eq "${groupId}" and members[value eq "${memberId}"]`, attributes: 'id' })}` };
}

export function deleteGroup(id: string): ScimRequestSpec {
    return { method: 'DELETE', path: `/Groups/${id}` };
}

/** A short random id for one benchmark run, so names never clash with an earlier run's data. */
export function newRunId(): string {
    return randomUUID().slice(0, 8);
}
