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
 */
import { caseFolded } from './caseFold';
import { ScimError } from './errors';
import {
    canonicalizeAttributeValue,
    checkAttributeValue,
    isPlainObject,
} from './attributeValues';
import { matchesElement, parsePatchPath, type FilterNode, type PatchPath } from './filter';
import {
    ENTERPRISE_USER_SCHEMA,
    findByName,
    parseAttributeReference,
    resolveAttribute,
    schemasOf,
    type AttributeDefinition,
    type AttributeReference,
    type ResolvedAttribute,
    type ResourceTypeName,
} from './schemas';
import type { MemberDelta, ScimResource } from '../store/ResourceStore';

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

type OperationName = 'add' | 'replace' | 'remove';

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
    const opText = memberOf(raw, 'op');
    const op = typeof opText === 'string' ? opText.toLowerCase() : undefined;
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
        throw ScimError.badRequest('invalidSyntax', `${where}: op must be add, replace or remove`);
    }
    const pathValue = memberOf(raw, 'path');
    if (pathValue !== undefined && pathValue !== null && typeof pathValue !== 'string') {
        throw ScimError.badRequest('invalidPath', `${where}: path must be a string`);
    }
    const path = typeof pathValue === 'string' && pathValue.trim() !== '' ? pathValue : undefined;
    const value = memberOf(raw, 'value');
    // RFC 7644 §3.5.2.1: add "MUST contain a value"; a replace with `null` is Entra's "clear" (§11).
    if ((op === 'add' && (value === undefined || value === null)) || (op === 'replace' && value === undefined)) {
        throw ScimError.badRequest('invalidSyntax', `${where}: ${op} needs a value`);
    }
    return { op, path, value };
}

function memberOf(object: Record<string, unknown>, name: string): unknown {
    if (Object.hasOwn(object, name)) return object[name];
    for (const key of Object.keys(object)) {
        if (key.toLowerCase() === name) return object[key];
    }
    return undefined;
}

// ---- the draft: the new resource being built, and what else the request produced

interface Draft {
    resourceType: ResourceTypeName;
    /** A shallow copy of the input. Attribute values in it are replaced, never modified. */
    resource: ScimResource;
    members: MemberDeltaBuilder | undefined;
    ignored: Set<string>;
    /** Top-level keys written or deleted: only they can differ from the input. */
    touched: Set<string>;
}

interface MemberDeltaBuilder {
    clear: boolean;
    add: Set<string>;
    remove: Set<string>;
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

// ---- resolving a path to an attribute of our schemas

interface Target {
    /** The path as the client wrote it, for messages. */
    text: string;
    definition: AttributeDefinition;
    /** The URN key of the extension object holding the attribute; undefined for core and common attributes. */
    extension: string | undefined;
    valueFilter: FilterNode | undefined;
    /** What the value filter selects elements by (`{type: "work"}`), when it is that simple (see `elementFromFilter`). */
    selectedBy: Record<string, unknown> | undefined;
    subDefinition: AttributeDefinition | undefined;
}

/** Undefined for an attribute outside our schemas (ignored, see the module comment). */
function resolveTarget(resourceType: ResourceTypeName, path: PatchPath, text: string): Target | undefined {
    const { schema, attribute } = path.attribute;
    const resolved = locateAttribute(resourceType, schema === undefined ? { attribute } : { schema, attribute });
    if (resolved === undefined) return undefined;
    const { definition } = resolved;
    const subName = path.subAttribute ?? path.attribute.subAttribute;
    let subDefinition: AttributeDefinition | undefined;
    if (subName !== undefined) {
        subDefinition = findByName(definition.subAttributes ?? [], subName);
        if (subDefinition === undefined) throw ScimError.badRequest('invalidPath', `'${text}' names a sub-attribute that ${definition.name} does not have`);
    }
    if (path.valueFilter !== undefined && definition.type !== 'complex') {
        throw ScimError.badRequest('invalidPath', `'${text}': a value filter needs a complex attribute`);
    }
    const selectedBy = path.valueFilter === undefined ? undefined : elementFromFilter(definition, path.valueFilter);
    return { text, definition, extension: resolved.extension, valueFilter: path.valueFilter, selectedBy, subDefinition };
}

/**
 * `resolveAttribute`, plus: an unqualified name that is not a core attribute is looked up in the
 * extensions. Entra's tutorial sends `"path": "manager"` without the URN (docs/entra-protocol.md §5.6).
 */
function locateAttribute(resourceType: ResourceTypeName, reference: AttributeReference): ResolvedAttribute | undefined {
    const resolved = resolveAttribute(resourceType, reference);
    if (resolved !== undefined || reference.schema !== undefined) return resolved;
    for (const extension of schemasOf(resourceType).extensions) {
        const inExtension = resolveAttribute(resourceType, { schema: extension.id, attribute: reference.attribute });
        if (inExtension !== undefined) return inExtension;
    }
    return undefined;
}

/**
 * Resolved targets, by resource type and path text. Entra sends the same few dozen paths over and over;
 * resolving each once saves the parsing and the schema lookups, and keeps the filter evaluator's
 * per-AST compilation cache effective. Targets and filter ASTs are never modified (filterSyntax.ts).
 * `null` caches "outside our schemas"; paths that fail to resolve throw and are not cached.
 */
const resolvedTargets: Record<ResourceTypeName, Record<'path' | 'key', Map<string, Target | null>>> = {
    User: { path: new Map(), key: new Map() },
    Group: { path: new Map(), key: new Map() },
};
const MAX_CACHED_TARGETS = 512;

/** `kind`: an operation's `path`, or a key of a path-less value (an attribute path, no filter expected). */
function cachedTarget(resourceType: ResourceTypeName, text: string, kind: 'path' | 'key'): Target | undefined {
    const cache = resolvedTargets[resourceType][kind];
    let target = cache.get(text);
    if (target === undefined) {
        // Keys are attribute paths; only a key with brackets needs the full path grammar.
        const path = kind === 'path' || text.includes('[') ? parsePatchPath(text) : { attribute: parseAttributeReference(text) };
        target = resolveTarget(resourceType, path, text) ?? null;
        if (cache.size >= MAX_CACHED_TARGETS) cache.clear();
        cache.set(text, target);
    }
    return target ?? undefined;
}

// ---- applying an operation to an attribute

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

/** The attribute's new value (undefined: unassigned), computed from its current one without modifying it. */
function nextAttributeValue(op: OperationName, target: Target, current: unknown, value: unknown, draft: Draft): unknown {
    if (target.valueFilter !== undefined) return throughValueFilter(op, target, target.valueFilter, current, value, draft);
    if (target.subDefinition !== undefined) return onSubAttribute(op, target, target.subDefinition, current, value, draft);
    return onWholeAttribute(op, target, current, value, draft);
}

/** `""` and `null` clear (docs/entra-protocol.md §11: SCIM_Null_Update expects both to leave the attribute absent). */
function isClearValue(value: unknown): boolean {
    return value === null || value === '';
}

function onWholeAttribute(op: OperationName, target: Target, current: unknown, value: unknown, draft: Draft): unknown {
    const { definition } = target;
    if (op === 'remove') {
        // A remove with a value on a multi-valued attribute removes those values only (as for members).
        if (definition.multiValued && value !== undefined && value !== null) return withoutValues(target, current, value);
        return undefined;
    }
    if (isClearValue(value)) return undefined;
    if (definition.multiValued) {
        const elements = elementsFromValue(target, value, draft);
        if (op === 'replace') return nonEmptyArray(elements);
        // RFC 7644 §3.5.2.1: adding a value that is already there changes nothing.
        const existing = Array.isArray(current) ? current : [];
        const next = [...existing];
        for (const element of elements) {
            if (!next.some((e) => jsonEqual(e, element))) next.push(element);
        }
        return nonEmptyArray(withSinglePrimary(existing, next));
    }
    if (definition.type === 'complex') {
        // RFC 7644 §3.5.2.1/§3.5.2.3: sub-attributes in the value replace or add; the others stay.
        if (!isPlainObject(value)) throw invalidValue(target.text, 'an object');
        let next: Record<string, unknown> = isPlainObject(current) ? current : {};
        for (const [key, subValue] of Object.entries(value)) {
            const subDefinition = findByName(definition.subAttributes ?? [], key);
            if (subDefinition === undefined) {
                draft.ignored.add(`${target.text}.${key}`);
                continue;
            }
            next = withSubAttribute(next, subDefinition, subValue, `${target.text}.${subDefinition.name}`, draft);
        }
        return hasContent(next) ? next : undefined;
    }
    return simpleValue(definition, value, target.text);
}

function onSubAttribute(op: OperationName, target: Target, subDefinition: AttributeDefinition, current: unknown, value: unknown, draft: Draft): unknown {
    const subValue = op === 'remove' ? null : value;
    if (!target.definition.multiValued) {
        const next = withSubAttribute(isPlainObject(current) ? current : {}, subDefinition, subValue, target.text, draft);
        return hasContent(next) ? next : undefined;
    }
    // No filter: the sub-attribute of every element (RFC 7644 §3.5.2.3); none yet: add/replace creates one.
    const elements = Array.isArray(current) ? current : [];
    if (elements.length === 0) {
        if (isClearValue(subValue)) return current;
        return nonEmptyArray(keepElements([withSubAttribute({}, subDefinition, subValue, target.text, draft)]));
    }
    const next = elements.map((element) => withSubAttribute(asObject(element), subDefinition, subValue, target.text, draft));
    return nonEmptyArray(keepElements(next));
}

/**
 * `emails[type eq "work"].value` and the like (RFC 7644 §3.5.2). A single-valued complex attribute
 * (`manager[value eq "x"]`) is treated as a list of at most one element.
 */
function throughValueFilter(op: OperationName, target: Target, filter: FilterNode, current: unknown, value: unknown, draft: Draft): unknown {
    const { definition, subDefinition } = target;
    const elements = listOf(definition, current);
    const parent: AttributeReference = target.extension === undefined ? { attribute: definition.name } : { schema: target.extension, attribute: definition.name };
    const matched = elements.map((element) => matchesElement(filter, element, draft.resourceType, parent));
    const anyMatched = matched.includes(true);
    const { selectedBy } = target;
    let next: unknown[];
    if (op === 'remove' || isClearValue(value)) {
        // Nothing matched: what the remove or clear would take away is already absent, so it succeeds
        // without a change (Entra re-sends operations it already made when it retries a request).
        if (!anyMatched) return current;
        next = subDefinition === undefined
            ? elements.filter((_, index) => !matched[index])
            : keepElements(elements.map((element, index) => (matched[index] ? withSubAttribute(asObject(element), subDefinition, null, target.text, draft) : element)));
    } else if (anyMatched) {
        next = keepElements(elements.map((element, index) => (matched[index] ? updatedElement(op, target, asObject(element), value, selectedBy, draft) : element)));
    } else {
        // RFC 7644 §3.5.2.3 says noTarget, but Entra uses add/replace for an attribute's first value and
        // expects the typed element to be created (docs/entra-protocol.md §5.4, §13.5).
        if (selectedBy === undefined) throw ScimError.badRequest('noTarget', `'${target.text}' matches no value`);
        const created = updatedElement('add', target, { ...selectedBy }, value, selectedBy, draft);
        // `emails[type eq "work"]` with `{type: "fax"}` would create an element the path does not select.
        if (!matchesElement(filter, created, draft.resourceType, parent)) {
            throw ScimError.badRequest('invalidValue', `The value of '${target.text}' contradicts its value filter`);
        }
        next = keepElements([...elements, created]);
    }
    if (!definition.multiValued) return next[0];
    return nonEmptyArray(withSinglePrimary(elements, next));
}

/** `selectedBy`: what the filter selects elements by (`{type: "work"}`), when it is that simple. */
function updatedElement(
    op: OperationName,
    target: Target,
    element: Record<string, unknown>,
    value: unknown,
    selectedBy: Record<string, unknown> | undefined,
    draft: Draft,
): Record<string, unknown> {
    if (target.subDefinition !== undefined) return withSubAttribute(element, target.subDefinition, value, target.text, draft);
    const [replacement] = elementsFromValue(target, value, draft);
    if (replacement === undefined) return element;
    // RFC 7644 §3.5.2.3: replace replaces the matching values, which stay what the filter selected
    // (`addresses[type eq "work"]` remains a work address); add merges into them.
    return op === 'replace' ? { ...selectedBy, ...replacement } : { ...element, ...replacement };
}

/**
 * The element a `type eq "work"` filter describes, for creating it (docs/entra-protocol.md §5.4). Only a filter of
 * `eq` comparisons joined by `and` that names the element's `type` describes an element; anything else
 * (`value co "x"`, `type ne "work"`) does not, and finding nothing through it is `noTarget`.
 */
function elementFromFilter(definition: AttributeDefinition, filter: FilterNode): Record<string, unknown> | undefined {
    const element: Record<string, unknown> = {};
    if (!collectEqualities(definition, filter, element) || !Object.hasOwn(element, 'type')) return undefined;
    return element;
}

function collectEqualities(definition: AttributeDefinition, node: FilterNode, into: Record<string, unknown>): boolean {
    if (node.kind === 'and') return collectEqualities(definition, node.left, into) && collectEqualities(definition, node.right, into);
    if (node.kind !== 'compare' || node.op !== 'eq' || node.value === null) return false;
    if (node.path.schema !== undefined || node.path.subAttribute !== undefined) return false;
    const subDefinition = findByName(definition.subAttributes ?? [], node.path.attribute);
    if (subDefinition === undefined || subDefinition.multiValued) return false;
    const value = canonicalizeAttributeValue(subDefinition, node.value);
    try {
        checkAttributeValue(subDefinition, value, subDefinition.name);
    } catch {
        return false;
    }
    into[subDefinition.name] = value;
    return true;
}

// ---- values

function simpleValue(definition: AttributeDefinition, value: unknown, path: string): unknown {
    const canonical = canonicalizeAttributeValue(definition, value);
    checkAttributeValue(definition, canonical, path);
    return canonical;
}

/**
 * The elements of a value for a multi-valued attribute, canonical and checked. A single element is
 * accepted in place of an array (RFC 7644 §3.5.2.1 shows arrays; clients send either).
 */
function elementsFromValue(target: Target, value: unknown, draft: Draft): Record<string, unknown>[] {
    const { definition, text } = target;
    const items = Array.isArray(value) ? value : [value];
    const elements: Record<string, unknown>[] = [];
    for (const item of items) {
        if (item === null) continue;
        if (!isPlainObject(item)) throw invalidValue(text, 'an object or an array of objects');
        let element: Record<string, unknown> = {};
        for (const [key, subValue] of Object.entries(item)) {
            const subDefinition = findByName(definition.subAttributes ?? [], key);
            if (subDefinition === undefined) {
                draft.ignored.add(`${text}.${key}`);
                continue;
            }
            element = withSubAttribute(element, subDefinition, subValue, `${text}.${subDefinition.name}`, draft);
        }
        if (hasContent(element)) elements.push(element);
    }
    return elements;
}

/** A copy of `object` with a sub-attribute set, or removed for `""` / `null`; other spellings of its name go. */
function withSubAttribute(object: Record<string, unknown>, subDefinition: AttributeDefinition, value: unknown, path: string, draft: Draft): Record<string, unknown> {
    if (subDefinition.mutability === 'readOnly') {
        // Sent inside a value (a member's `display`): not the client's to set; RFC 7643 §7 "SHALL NOT be modified".
        return object;
    }
    if (isClearValue(value)) return withKey(object, subDefinition.name, undefined);
    const canonical = canonicalizeAttributeValue(subDefinition, value, (name) => draft.ignored.add(`${path}.${name}`));
    checkAttributeValue(subDefinition, canonical, path);
    return withKey(object, subDefinition.name, canonical);
}

/**
 * Elements worth keeping: one left with nothing but its `type` or `primary` (say, after its `value` was
 * cleared) carries no value and is dropped, so a clear leaves the attribute unassigned (docs/entra-protocol.md §11).
 */
function keepElements(elements: unknown[]): unknown[] {
    return elements.filter((element) => !isPlainObject(element) || hasContent(element));
}

function hasContent(object: Record<string, unknown>): boolean {
    return Object.keys(object).some((key) => key !== 'type' && key !== 'primary');
}

/**
 * RFC 7643 §2.4: `primary: true` appears at most once. An element this operation wrote (not in `before`)
 * with `primary: true` wins; the others become `primary: false` (RFC 7644 §3.5.2).
 */
function withSinglePrimary(before: unknown[], after: unknown[]): unknown[] {
    const winner = after.find((element) => isPlainObject(element) && element.primary === true && !before.includes(element));
    if (winner === undefined) return after;
    return after.map((element) => (element !== winner && isPlainObject(element) && element.primary === true ? { ...element, primary: false } : element));
}

/** Removes the elements equal to the given values (`[{value: "x"}]` or `"x"`); the others stay. */
function withoutValues(target: Target, current: unknown, value: unknown): unknown {
    if (!Array.isArray(current)) return current;
    const subAttributes = target.definition.subAttributes ?? [];
    const given = Array.isArray(value) ? value : [value];
    const remaining = current.filter((element) => !given.some((g) => elementMatchesGiven(subAttributes, element, g)));
    return nonEmptyArray(remaining);
}

function elementMatchesGiven(subAttributes: readonly AttributeDefinition[], element: unknown, given: unknown): boolean {
    const givenObject: Record<string, unknown> = isPlainObject(given) ? given : { value: given };
    const entries = Object.entries(givenObject).filter(([, v]) => v !== null && v !== undefined);
    if (entries.length === 0 || !isPlainObject(element)) return false;
    return entries.every(([key, givenValue]) => {
        const subDefinition = findByName(subAttributes, key);
        if (subDefinition === undefined) return false;
        const stored = element[subDefinition.name];
        if (typeof stored === 'string' && typeof givenValue === 'string' && !subDefinition.caseExact) {
            return caseFolded(stored) === caseFolded(givenValue);
        }
        return jsonEqual(stored, canonicalizeAttributeValue(subDefinition, givenValue));
    });
}

// ---- manager (docs/entra-protocol.md §5.6)

function isManager(target: Target): boolean {
    return target.extension === ENTERPRISE_USER_SCHEMA && target.definition.name === 'manager';
}

/**
 * The manager, always `{ value: "<id>" }`: Entra re-PATCHes it every cycle if it reads back another shape
 * (MicrosoftDocs/azure-docs#11784). Accepted: an id string, `{value}`, `[{value, $ref}]`; `""`,
 * `{value: ""}` and `null` remove it.
 */
function nextManager(op: OperationName, target: Target, current: unknown, value: unknown, draft: Draft): unknown {
    if (target.valueFilter !== undefined) {
        const matches = current !== undefined && matchesElement(target.valueFilter, current, draft.resourceType, { schema: ENTERPRISE_USER_SCHEMA, attribute: 'manager' });
        if (!matches) {
            if (op === 'remove' || isClearValue(value)) return current;
            throw ScimError.badRequest('noTarget', `'${target.text}' matches no value`);
        }
    }
    if (op === 'remove') return undefined;
    if (target.subDefinition !== undefined && target.subDefinition.name !== 'value') {
        // `manager.$ref`: we store the id only; a `$ref` can be derived from it when returned.
        draft.ignored.add(target.text);
        return current;
    }
    return managerFrom(value, target.text);
}

function managerFrom(value: unknown, path: string): { value: string } | undefined {
    if (isClearValue(value)) return undefined;
    if (typeof value === 'string') return { value };
    if (Array.isArray(value)) {
        if (value.length === 0) return undefined;
        if (value.length > 1) throw invalidValue(path, 'a single manager');
        return managerFrom(value[0], path);
    }
    if (isPlainObject(value)) {
        const id = memberOf(value, 'value');
        if (id === undefined) throw invalidValue(path, 'a user id, or an object with a value');
        return managerFrom(id, path);
    }
    throw invalidValue(path, 'a user id, or an object with a value');
}

// ---- group members (docs/entra-protocol.md §6): a delta, never the member list

function applyMemberOperation(draft: Draft, op: OperationName, target: Target, value: unknown): void {
    if (target.subDefinition !== undefined) {
        throw ScimError.badRequest('mutability', `'${target.text}': members are added and removed whole; their sub-attributes are immutable`);
    }
    const delta = (draft.members ??= { clear: false, add: new Set(), remove: new Set() });
    if (target.valueFilter !== undefined) {
        if (op !== 'remove') throw ScimError.badRequest('invalidPath', `'${target.text}': a filter on members is only supported in a remove`);
        for (const id of memberIdsInFilter(target.valueFilter, target.text)) removeMember(delta, id);
        return;
    }
    switch (op) {
        case 'add':
            if (isClearValue(value)) return;
            for (const id of memberIds(value, target.text)) addMember(delta, id);
            return;
        case 'replace':
            clearMembers(delta);
            if (isClearValue(value)) return;
            for (const id of memberIds(value, target.text)) addMember(delta, id);
            return;
        case 'remove':
            // Entra's default dialect sends the members to remove as a value array: remove only those
            // (MicrosoftDocs/azure-docs#30826). Without a value, the RFC's "remove the attribute": all members.
            if (value === undefined || value === null) {
                clearMembers(delta);
                return;
            }
            for (const id of memberIds(value, target.text)) removeMember(delta, id);
            return;
    }
}

function addMember(delta: MemberDeltaBuilder, id: string): void {
    delta.remove.delete(id);
    delta.add.add(id);
}

function removeMember(delta: MemberDeltaBuilder, id: string): void {
    delta.add.delete(id);
    // After a clear the member is gone anyway; the delta stays minimal.
    if (!delta.clear) delta.remove.add(id);
}

function clearMembers(delta: MemberDeltaBuilder): void {
    delta.clear = true;
    delta.add.clear();
    delta.remove.clear();
}

/**
 * Member ids from a value: `[{value, $ref?, display?}]`, a single such object, or bare id strings
 * (Microsoft's reference Postman collection sends `"value": "string id 1"`, docs/entra-protocol.md §12).
 */
function memberIds(value: unknown, path: string): string[] {
    const items = Array.isArray(value) ? value : [value];
    return items.map((item) => {
        const id = isPlainObject(item) ? memberOf(item, 'value') : item;
        if (typeof id !== 'string' || id === '') throw invalidValue(path, 'members given as objects with a non-empty string value');
        return id;
    });
}

/** `members[value eq "id"]`, also `or`-ed; other member filters would need the member list. */
function memberIdsInFilter(filter: FilterNode, path: string): string[] {
    if (filter.kind === 'or') return [...memberIdsInFilter(filter.left, path), ...memberIdsInFilter(filter.right, path)];
    if (filter.kind === 'compare' && filter.op === 'eq' && typeof filter.value === 'string'
        && filter.path.schema === undefined && filter.path.subAttribute === undefined && filter.path.attribute.toLowerCase() === 'value') {
        return [filter.value];
    }
    // RFC 7644 §3.12 invalidFilter: "the specified attribute and filter comparison combination is not supported".
    throw ScimError.badRequest('invalidFilter', `'${path}': member filters support only value eq "<id>", joined by or`);
}

// ---- reading and writing attributes of the draft

function readAttribute(resource: ScimResource, target: Target): unknown {
    const container = target.extension === undefined ? resource : valueOfKey(resource, target.extension);
    return isPlainObject(container) ? valueOfKey(container, target.definition.name) : undefined;
}

function writeAttribute(draft: Draft, target: Target, current: unknown, next: unknown): void {
    if (next === undefined && current !== undefined && target.definition.required && target.extension === undefined) {
        throw ScimError.badRequest('invalidValue', `'${target.definition.name}' is required and cannot be removed`);
    }
    if (next === current) return;
    const name = target.definition.name;
    if (target.extension === undefined) {
        replaceKey(draft.resource, name, next, draft.touched);
        return;
    }
    const existing = valueOfKey(draft.resource, target.extension);
    const extension = withKey(isPlainObject(existing) ? existing : {}, name, next);
    replaceKey(draft.resource, target.extension, Object.keys(extension).length === 0 ? undefined : extension, draft.touched);
}

/** Names are case-insensitive (RFC 7643 §2.1): the value under `name` in any spelling. */
function valueOfKey(object: Record<string, unknown>, name: string): unknown {
    const key = findKey(object, name);
    return key === undefined ? undefined : object[key];
}

function findKey(object: Record<string, unknown>, name: string): string | undefined {
    if (Object.hasOwn(object, name)) return name;
    const wanted = name.toLowerCase();
    return Object.keys(object).find((key) => key.length === wanted.length && key.toLowerCase() === wanted);
}

/**
 * Sets (or with undefined, deletes) `name` in an object the draft owns, dropping other spellings of it;
 * `touched` collects the keys affected.
 */
function replaceKey(object: Record<string, unknown>, name: string, value: unknown, touched?: Set<string>): void {
    const wanted = name.toLowerCase();
    for (const key of Object.keys(object)) {
        // Comparing lengths first spares lower-casing every key of the resource on every write.
        if (key.length === name.length && key !== name && key.toLowerCase() === wanted) {
            delete object[key];
            touched?.add(key);
        }
    }
    if (value === undefined) delete object[name];
    else object[name] = value;
    touched?.add(name);
}

/** A copy of `object` with `name` set (or deleted), in schema case. */
function withKey(object: Record<string, unknown>, name: string, value: unknown): Record<string, unknown> {
    const copy = { ...object };
    replaceKey(copy, name, value);
    return copy;
}

// ---- small helpers

function listOf(definition: AttributeDefinition, current: unknown): unknown[] {
    if (definition.multiValued) return Array.isArray(current) ? current : [];
    return current === undefined ? [] : [current];
}

function asObject(element: unknown): Record<string, unknown> {
    return isPlainObject(element) ? element : {};
}

function nonEmptyArray(elements: unknown[]): unknown[] | undefined {
    return elements.length === 0 ? undefined : elements;
}

function invalidValue(path: string, expected: string): ScimError {
    return ScimError.badRequest('invalidValue', `The value of '${path}' must be ${expected}`);
}

/** Structural equality of JSON values (key order ignored). */
function jsonEqual(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (Array.isArray(a)) {
        if (!Array.isArray(b) || a.length !== b.length) return false;
        return a.every((element, index) => jsonEqual(element, b[index]));
    }
    if (Array.isArray(b)) return false;
    const aRecord = a as Record<string, unknown>;
    const bRecord = b as Record<string, unknown>;
    const aKeys = Object.keys(aRecord);
    if (aKeys.length !== Object.keys(bRecord).length) return false;
    return aKeys.every((key) => Object.hasOwn(bRecord, key) && jsonEqual(aRecord[key], bRecord[key]));
}
