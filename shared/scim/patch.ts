/**
 * The SCIM PATCH engine (RFC 7644 §3.5.2): applies a PatchOp's `Operations` to a resource and returns the
 * new resource. Pure: no storage, no Azure; the resource it is given is never modified, on success or error.
 *
 * Besides the RFC it accepts what Microsoft Entra ID sends in both of its dialects (docs/entra-protocol.md §5.4–5.6,
 * §6, §13):
 * - `op` in any letter case (`"Replace"`);
 * - `"True"` / `"False"` for boolean attributes — only those (`displayName: "True"` stays a string);
 * - path-less add/replace whose value keys are attribute paths (`"name.givenName"`,
 *   `"urn:…:enterprise:2.0:User:department"`) or a nested extension object;
 * - add/replace through a `type eq` value filter on a missing element (`emails[type eq "work"].value`)
 *   creates the element `{type: "work", value: …}`; replacing a sub-attribute keeps the element's others;
 * - manager as an id string, `{value}` or `[{value, $ref}]`, with or without the extension URN, always
 *   stored as `{ value: "<id>" }` under the enterprise extension;
 * - `""` and `null` clear an attribute (the Microsoft suite's null test, docs/entra-protocol.md §11); objects and
 *   arrays left empty are removed too (RFC 7643 §2.5: empty is unassigned);
 * - remove of `members` with a value array removes only those members — it never wipes the group.
 *
 * Choices the handlers need to know:
 * - Attributes outside our schemas (custom mappings such as `urn:…:alvao_tPersonCust:2.0:User:*`, or
 *   sub-attributes a value carries beyond its definition) are not stored and are never an error: their
 *   paths come back in `ignored`, for the handler to log (the path, never the value). Entra treats a 400
 *   on an attribute the app does not support as a failed object, retried for weeks (docs/entra-protocol.md §8, §10).
 *   A path naming a sub-attribute that a known attribute does not have is a client error (`invalidPath`).
 * - Group members are edges (possibly 50,000): the engine never sees them. Member operations become a
 *   `MemberDelta` (clear first, then remove, then add); its cost does not depend on the group's size.
 *   A member filter can only be `members[value eq "id"]` (or several, `or`-ed), in a remove: any other
 *   would need the member list (400 `invalidFilter`).
 * - At most `MAX_PATCH_OPERATIONS` operations per request; more is 400 `invalidValue`. (`tooMany` is
 *   defined for filters that match too much and RFC 7644 §3.12 lists it for GET and search only;
 *   `invalidValue` is the scimType listed for PATCH.)
 * - `changed` is false when nothing changed (the store can skip the write); `attributesChanged` tells a
 *   members-only change (the store then writes edges only) from one that must write the resource.
 * - `id`, `meta` and other readOnly attributes (a user's `groups`) are 400 `mutability`; changes to
 *   `schemas` are ignored (it is not an attribute, RFC 7643 §3). Required attributes (`userName`, a group's
 *   `displayName`) cannot be removed: 400 `invalidValue`. The engine does not maintain `schemas` when an
 *   extension object appears or disappears; whoever renders the resource derives it.
 *
 * The engine in files by idea: patchTargets.ts (paths → attributes), patchValues.ts (an attribute's new
 * value), patchManager.ts (the enterprise manager), patchMembers.ts (the member delta), patchDraft.ts (the
 * resource being built).
 */
import { isPlainObject } from './isPlainObject';
import { replaceKey, valueNamed } from './caseInsensitiveKeys';
import { ScimError } from './errors';
import { jsonEqual } from './jsonEqual';
import { readAttribute, writeAttribute, type Draft, type OperationName } from './patchDraft';
import { isManager, nextManager } from './patchManager';
import { applyMemberOperation } from './patchMembers';
import { cachedTarget, type Target } from './patchTargets';
import { nextAttributeValue } from './patchValues';
import type { ResourceTypeName } from './schemas';
import { schemasOf } from './schemaRegistry';
import type { MemberDelta, ScimResource } from './store';

/** Most operations accepted in one PATCH request. Entra sends a few dozen at most (docs/entra-protocol.md §11). */
export const MAX_PATCH_OPERATIONS = 1000;

export interface PatchResult {
    /** The new resource (without members for Groups); always a new object. */
    resource: ScimResource;
    /** Groups only, present when an operation touched members. */
    members?: MemberDelta;
    /** Paths of attributes outside our schemas, as the client wrote them, each once. */
    ignored: string[];
    /** False if the operations changed nothing: neither an attribute nor (for Groups) the members. */
    changed: boolean;
    /** True if `resource` differs from the input; false for a members-only change (the store may then skip the attributes). */
    attributesChanged: boolean;
}

/**
 * Applies `operations` (the PatchOp body's `Operations`; the caller has checked the body's `schemas`) in
 * order, all or nothing. Throws only `ScimError` (400) for bad input.
 */
export function applyPatch(resource: ScimResource, operations: unknown, resourceType: ResourceTypeName): PatchResult {
    const rawOperations = readOperationList(operations);
    const draft: Draft = { resourceType, resource: { ...resource }, members: undefined, ignored: new Set(), touched: new Set() };
    rawOperations.forEach((raw, index) => applyOperation(draft, readOperation(raw, index)));
    return finish(resource, draft);
}

// ---- reading the request

interface Operation {
    op: OperationName;
    /** Undefined when absent, null or empty: the target is the resource itself. */
    path: string | undefined;
    /** Undefined when absent. */
    value: unknown;
}

function readOperationList(operations: unknown): unknown[] {
    if (!Array.isArray(operations) || operations.length === 0) {
        throw ScimError.badRequest('invalidSyntax', 'Operations must be a non-empty array');
    }
    if (operations.length > MAX_PATCH_OPERATIONS) {
        throw ScimError.badRequest('invalidValue', `At most ${MAX_PATCH_OPERATIONS} operations are accepted in one request`);
    }
    return operations;
}

function readOperation(raw: unknown, index: number): Operation {
    const where = `Operation ${index + 1}`;
    if (!isPlainObject(raw)) throw ScimError.badRequest('invalidSyntax', `${where} must be an object`);
    // Member names of the operation object, like attribute names, are case-insensitive (RFC 7643 §2.1).
    const opText = valueNamed(raw, 'op');
    const op = typeof opText === 'string' ? opText.toLowerCase() : undefined;
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
        throw ScimError.badRequest('invalidSyntax', `${where}: op must be add, replace or remove`);
    }
    const pathValue = valueNamed(raw, 'path');
    if (pathValue !== undefined && pathValue !== null && typeof pathValue !== 'string') {
        throw ScimError.badRequest('invalidPath', `${where}: path must be a string`);
    }
    const path = typeof pathValue === 'string' && pathValue.trim() !== '' ? pathValue : undefined;
    const value = valueNamed(raw, 'value');
    // RFC 7644 §3.5.2.1: add "MUST contain a value"; a replace with `null` is Entra's "clear" (§11).
    if ((op === 'add' && (value === undefined || value === null)) || (op === 'replace' && value === undefined)) {
        throw ScimError.badRequest('invalidSyntax', `${where}: ${op} needs a value`);
    }
    return { op, path, value };
}

function finish(input: ScimResource, draft: Draft): PatchResult {
    const attributesChanged = [...draft.touched].some((key) => Object.hasOwn(input, key) !== Object.hasOwn(draft.resource, key) || !jsonEqual(input[key], draft.resource[key]));
    const result: PatchResult = { resource: draft.resource, ignored: [...draft.ignored], changed: attributesChanged, attributesChanged };
    if (draft.members !== undefined) {
        const members: MemberDelta = { clear: draft.members.clear, add: [...draft.members.add], remove: [...draft.members.remove] };
        result.members = members;
        if (members.clear || members.add.length > 0 || members.remove.length > 0) result.changed = true;
    }
    return result;
}

// ---- one operation

function applyOperation(draft: Draft, operation: Operation): void {
    if (operation.path === undefined) {
        // RFC 7644 §3.5.2.2: a remove without a path has no target.
        if (operation.op === 'remove') throw ScimError.badRequest('noTarget', 'A remove operation needs a path');
        applyValueObject(draft, operation.op, operation.value, undefined);
        return;
    }
    const schema = schemaNamedBy(draft.resourceType, operation.path);
    if (schema !== undefined) {
        applyToSchemaObject(draft, operation.op, schema, operation.value, operation.path);
        return;
    }
    const target = cachedTarget(draft.resourceType, operation.path, 'path');
    if (target === undefined) {
        if (operation.path.toLowerCase() !== 'schemas') draft.ignored.add(operation.path);
        return;
    }
    applyToTarget(draft, operation.op, target, operation.value);
}

/**
 * A path-less add/replace (RFC 7644 §3.5.2.1, §3.5.2.3): the value's keys are attribute paths, each
 * applied as if it were the operation's path. Entra's aadOptscim062020 dialect sends dotted keys
 * (`name.givenName`) and URN-prefixed keys; others nest an extension object (docs/entra-protocol.md §5.4 (b)).
 * `schema` is set for the keys of a nested schema object.
 */
function applyValueObject(draft: Draft, op: 'add' | 'replace', value: unknown, schema: string | undefined): void {
    if (!isPlainObject(value)) {
        const what = schema === undefined ? `A ${op} without a path` : `'${schema}'`;
        throw ScimError.badRequest('invalidValue', `${what} needs an object of attributes as its value`);
    }
    for (const [key, keyValue] of Object.entries(value)) {
        const path = schema === undefined ? key : `${schema}:${key}`;
        if (schema === undefined) {
            if (key.toLowerCase() === 'schemas') continue;
            const namedSchema = schemaNamedBy(draft.resourceType, key);
            if (namedSchema !== undefined) {
                applyToSchemaObject(draft, op, namedSchema, keyValue, key);
                continue;
            }
        }
        const target = cachedTarget(draft.resourceType, path, 'key');
        if (target === undefined) {
            draft.ignored.add(path);
            continue;
        }
        applyToTarget(draft, op, target, keyValue);
    }
}

/** A path that is a schema URN of this resource type (`urn:…:enterprise:2.0:User`): the whole schema object. */
function schemaNamedBy(resourceType: ResourceTypeName, path: string): { id: string; isExtension: boolean } | undefined {
    const wanted = path.toLowerCase();
    if (!wanted.startsWith('urn:')) return undefined;
    const { core, extensions } = schemasOf(resourceType);
    if (core.id.toLowerCase() === wanted) return { id: core.id, isExtension: false };
    const extension = extensions.find((e) => e.id.toLowerCase() === wanted);
    return extension === undefined ? undefined : { id: extension.id, isExtension: true };
}

function applyToSchemaObject(draft: Draft, op: OperationName, schema: { id: string; isExtension: boolean }, value: unknown, path: string): void {
    const clears = op === 'remove' || value === null || value === '';
    if (clears) {
        if (!schema.isExtension) throw ScimError.badRequest('mutability', `'${path}' cannot be removed`);
        replaceKey(draft.resource, schema.id, undefined, draft.touched);
        return;
    }
    applyValueObject(draft, op, value, schema.id);
}

function applyToTarget(draft: Draft, op: OperationName, target: Target, value: unknown): void {
    // RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability readOnly".
    if (target.definition.mutability === 'readOnly' || target.subDefinition?.mutability === 'readOnly') {
        throw ScimError.badRequest('mutability', `'${target.text}' is readOnly`);
    }
    if (draft.resourceType === 'Group' && target.definition.name === 'members') {
        applyMemberOperation(draft, op, target, value);
        return;
    }
    const current = readAttribute(draft.resource, target);
    const next = isManager(target) ? nextManager(op, target, current, value, draft) : nextAttributeValue(op, target, current, value, draft);
    writeAttribute(draft, target, current, next);
}
