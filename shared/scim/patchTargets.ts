/**
 * PATCH paths resolved against our schemas (RFC 7644 §3.5.2, §3.10): which attribute, sub-attribute and
 * value filter an operation's `path` (or a path-less value's key) names. Resolved once per path text and
 * cached: Entra sends the same few dozen paths over and over.
 */
import { canonicalizeAttributeValue, checkAttributeValue } from './attributeValues';
import { ScimError } from './errors';
import { parsePatchPath } from './filterParser';
import type { FilterNode, PatchPath } from './filterSyntax';
import { findByName, type AttributeDefinition, type AttributeReference, type ResolvedAttribute, type ResourceTypeName } from './schemas';
import { currentSchemas, parseAttributeReference, resolveAttribute, schemasOf, type SchemaRegistry } from './schemaRegistry';

export interface Target {
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

/** Undefined for an attribute outside our schemas (ignored, see patch.ts). */
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
type TargetCache = Record<ResourceTypeName, Record<'path' | 'key', Map<string, Target | null>>>;
/** Per schema registry: what a path resolves to depends on the extensions declared. */
const resolvedTargets = new WeakMap<SchemaRegistry, TargetCache>();

const MAX_CACHED_TARGETS = 512;

/** `kind`: an operation's `path`, or a key of a path-less value (an attribute path, no filter expected). */
export function cachedTarget(resourceType: ResourceTypeName, text: string, kind: 'path' | 'key'): Target | undefined {
    const registry = currentSchemas();
    let caches = resolvedTargets.get(registry);
    if (caches === undefined) {
        caches = { User: { path: new Map(), key: new Map() }, Group: { path: new Map(), key: new Map() } };
        resolvedTargets.set(registry, caches);
    }
    const cache = caches[resourceType][kind];
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

/**
 * The element a `type eq "work"` filter describes, for creating it (docs/entra-protocol.md §5.4). Only a filter of
 * `eq` comparisons joined by `and` that names the element's `type`, or selects the primary element
 * (`roles[primary eq "True"]`, Entra's SingleAppRoleAssignment, docs/entra-protocol.md §14.3), describes an
 * element; anything else (`value co "x"`, `type ne "work"`) does not, and finding nothing through it is `noTarget`.
 */
function elementFromFilter(definition: AttributeDefinition, filter: FilterNode): Record<string, unknown> | undefined {
    const element: Record<string, unknown> = {};
    if (!collectEqualities(definition, filter, element)) return undefined;
    return Object.hasOwn(element, 'type') || element.primary === true ? element : undefined;
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
