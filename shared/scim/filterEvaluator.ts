/**
 * Evaluates a filter AST against SCIM resources (RFC 7644 §3.4.2.2), reading attribute types and
 * `caseExact` from the schema definitions (RFC 7643 §2.2, §7): `userName` and `displayName` compare
 * case-insensitively, `id` and `externalId` case-exactly (docs/entra-protocol.md §5.1).
 *
 * A filter is compiled once per AST node and resource type into a closure tree (cached in a WeakMap),
 * so schema lookups and value preparation (case folding, dateTime parsing) happen once, not per
 * resource. Evaluation never throws: a missing attribute or an unexpected value shape simply does
 * not match.
 */
import { findByName, type AttributeDefinition, type AttributeReference, type ResourceTypeName } from './schemas';
import { currentSchemas, resolveAttribute, schemasOf, type SchemaRegistry } from './schemaRegistry';
import { isPlainObject } from './isPlainObject';
import { caseFolded } from './caseFold';
import { valueNamed } from './caseInsensitiveKeys';
import type { CompareOperator, FilterNode, FilterValue } from './filterSyntax';

/** A compiled filter: true if the target (a resource, or one element of a multi-valued attribute) matches. */
export type FilterPredicate = (target: unknown) => boolean;

/** Whether a resource (core attributes at the top level, extensions under their URN key) matches. */
export function matchesFilter(ast: FilterNode, resource: Record<string, unknown>, resourceType: ResourceTypeName): boolean {
    return compileFilter(ast, resourceType)(resource);
}

/**
 * Evaluates a value-path filter (`type eq "work"`) against one element of the multi-valued attribute
 * `parent` (used by the PATCH engine for `emails[type eq "work"].value`). Paths in `filter` name
 * sub-attributes of the element. A primitive element is its own `value` (RFC 7644 §3.4.2.2).
 */
export function matchesElement(filter: FilterNode, element: unknown, resourceType: ResourceTypeName, parent: AttributeReference): boolean {
    return compile(filter, { resourceType, parent })(element);
}

/** Compiles a filter into a predicate over resources of one type; reuse it across many resources. */
export function compileFilter(ast: FilterNode, resourceType: ResourceTypeName): FilterPredicate {
    return compile(ast, { resourceType });
}

/**
 * The simple values an `eq` on `path` compares for this resource — the values an equality index on `path`
 * holds (attributeIndexes.ts). With `elementFilter` (`emails[type eq "work"].value`), only the elements that
 * filter matches count, and `path.subAttribute` (default `value`) is read from each of them. Read exactly as
 * the evaluator reads them, so an index row exists for every value a filter can match.
 */
export function comparedValues(resource: unknown, resourceType: ResourceTypeName, path: AttributeReference, elementFilter?: FilterNode): unknown[] {
    if (elementFilter === undefined) return locateInResource(path, resourceType).valuesOf(resource);
    const attribute = locateInResource(withoutSubAttribute(path), resourceType);
    const matches = compile(elementFilter, { resourceType, parent: attribute.reference });
    const sub = locateInElement({ attribute: path.subAttribute ?? 'value' }, resourceType, attribute.reference);
    return attribute.nodesOf(resource).filter(matches).flatMap((element) => sub.valuesOf(element));
}

// ---- compilation

interface Scope {
    resourceType: ResourceTypeName;
    /** Set when compiling the filter of a value path: paths are sub-attributes of this attribute's elements. */
    parent?: AttributeReference;
}

/** Per schema registry (declared extensions change what a path means), per AST node, per scope. */
const compiledFilters = new WeakMap<SchemaRegistry, WeakMap<FilterNode, Map<string, FilterPredicate>>>();

function compile(node: FilterNode, scope: Scope): FilterPredicate {
    const key = scope.parent === undefined
        ? scope.resourceType
        : `${scope.resourceType}|${scope.parent.schema ?? ''}|${scope.parent.attribute}`.toLowerCase();
    const registry = currentSchemas();
    let byNode = compiledFilters.get(registry);
    if (byNode === undefined) {
        byNode = new WeakMap();
        compiledFilters.set(registry, byNode);
    }
    let byScope = byNode.get(node);
    if (byScope === undefined) {
        byScope = new Map();
        byNode.set(node, byScope);
    }
    let predicate = byScope.get(key);
    if (predicate === undefined) {
        predicate = compileNode(node, scope);
        byScope.set(key, predicate);
    }
    return predicate;
}

function compileNode(node: FilterNode, scope: Scope): FilterPredicate {
    switch (node.kind) {
        case 'and': {
            const left = compile(node.left, scope);
            const right = compile(node.right, scope);
            return (target) => left(target) && right(target);
        }
        case 'or': {
            const left = compile(node.left, scope);
            const right = compile(node.right, scope);
            return (target) => left(target) || right(target);
        }
        case 'not': {
            const operand = compile(node.operand, scope);
            return (target) => !operand(target);
        }
        case 'present': {
            const attribute = locate(node.path, scope);
            return (target) => attribute.nodesOf(target).some(isNonEmpty);
        }
        case 'compare':
            return compileComparison(node.path, node.op, node.value, scope);
        case 'valuePath': {
            // Brackets do not nest (RFC 7644 §3.4.2.2); the parser refuses it, a hand-built AST just never matches.
            if (scope.parent !== undefined) return () => false;
            const attribute = locate(node.path, scope);
            const elementFilter = compile(node.filter, { resourceType: scope.resourceType, parent: attribute.reference });
            return (target) => attribute.nodesOf(target).some(elementFilter);
        }
    }
}

function compileComparison(path: AttributeReference, op: CompareOperator, value: FilterValue, scope: Scope): FilterPredicate {
    const attribute = locate(path, scope);
    // `eq null` / `ne null`: null is "unassigned" (RFC 7643 §2.5), so these test absence / presence.
    if (value === null) {
        if (op === 'eq') return (target) => !attribute.valuesOf(target).some(isNonEmpty);
        if (op === 'ne') return (target) => attribute.valuesOf(target).some(isNonEmpty);
        return () => false;
    }
    const test = valueTest(op, value, attribute.definition);
    if (op === 'ne') {
        // An unassigned attribute is not equal to any value; for a multi-valued one, any differing value matches.
        return (target) => {
            const values = attribute.valuesOf(target);
            return values.length === 0 || values.some(test);
        };
    }
    return (target) => attribute.valuesOf(target).some(test);
}

// ---- locating an attribute in a resource or an element

interface LocatedAttribute {
    /** The path, with the schema set when it was found in an extension; used as the parent of a value path. */
    reference: AttributeReference;
    /** The definition whose type and caseExact govern comparisons (the `value` sub-attribute for complex ones). */
    definition: AttributeDefinition | undefined;
    /** The attribute's nodes as stored: each element of a multi-valued attribute, or the single value. */
    nodesOf(target: unknown): unknown[];
    /** The simple values a comparison looks at, flattened across elements. */
    valuesOf(target: unknown): unknown[];
}

function locate(path: AttributeReference, scope: Scope): LocatedAttribute {
    return scope.parent === undefined ? locateInResource(path, scope.resourceType) : locateInElement(path, scope.resourceType, scope.parent);
}

/**
 * Core and common attributes live at the top level of a resource, extension attributes under their URN
 * key (RFC 7643 §3.3). An unqualified name that is not a core attribute is looked up in the extensions:
 * Entra's legacy probe `id eq "…" and manager eq "…"` names the enterprise `manager` unqualified
 * (docs/entra-protocol.md §5.1).
 */
function locateInResource(path: AttributeReference, resourceType: ResourceTypeName): LocatedAttribute {
    const { core, extensions } = schemasOf(resourceType);
    let resolved = resolveAttribute(resourceType, path);
    if (resolved === undefined && path.schema === undefined) {
        for (const extension of extensions) {
            resolved = resolveAttribute(resourceType, { ...path, schema: extension.id });
            if (resolved !== undefined) break;
        }
    }
    // The key of the object that holds the attribute: undefined for the resource itself.
    let containerKey: string | undefined;
    if (resolved !== undefined) containerKey = resolved.extension;
    else if (path.schema !== undefined && path.schema.toLowerCase() !== core.id.toLowerCase()) containerKey = path.schema;

    const attributeName = resolved?.definition.name ?? path.attribute;
    const subAttributeName = path.subAttribute === undefined ? undefined : (resolved?.subDefinition?.name ?? path.subAttribute);
    const definition = comparedDefinition(resolved?.definition, resolved?.subDefinition, path.subAttribute !== undefined);

    const attributeOf = (target: unknown): unknown => {
        const container = containerKey === undefined ? target : propertyOf(target, containerKey);
        return propertyOf(container, attributeName);
    };
    const reference: AttributeReference = containerKey === undefined
        ? withoutSubAttribute(path)
        : { schema: resolved?.extension ?? containerKey, attribute: attributeName };
    return {
        reference,
        definition,
        nodesOf: (target) => nodes(subAttributeName === undefined ? attributeOf(target) : subValues(attributeOf(target), subAttributeName)),
        valuesOf: (target) => simpleValues(attributeOf(target), subAttributeName),
    };
}

/** Inside brackets a path names a sub-attribute of one element (`type`, `value`). */
function locateInElement(path: AttributeReference, resourceType: ResourceTypeName, parent: AttributeReference): LocatedAttribute {
    const name = path.attribute;
    let resolved = resolveAttribute(resourceType, { ...parent, subAttribute: name });
    if (resolved === undefined && parent.schema === undefined) {
        for (const extension of schemasOf(resourceType).extensions) {
            resolved = resolveAttribute(resourceType, { schema: extension.id, attribute: parent.attribute, subAttribute: name });
            if (resolved !== undefined) break;
        }
    }
    const definition = resolved?.subDefinition ?? undefined;
    const canonicalName = definition?.name ?? name;
    const isValue = name.toLowerCase() === 'value';
    // Paths inside brackets carry no schema or sub-attribute (the parser enforces it); a hand-built one never matches.
    const malformed = path.schema !== undefined || path.subAttribute !== undefined;
    const valueOf = (element: unknown): unknown => {
        if (malformed) return undefined;
        if (isPlainObject(element)) return propertyOf(element, canonicalName);
        // A multi-valued attribute of simple values (or a manager stored as a bare string): the element is its value.
        return isValue ? element : undefined;
    };
    return {
        reference: path,
        definition,
        nodesOf: (element) => nodes(valueOf(element)),
        valuesOf: (element) => simpleValues(valueOf(element), undefined),
    };
}

/**
 * The definition that governs a comparison: the sub-attribute's when one is named; for a complex
 * attribute compared without one (`emails co "x"`, `manager eq "id"`), its `value` sub-attribute
 * (RFC 7644 §3.4.2.2: the filter applies to the `value` of each element).
 */
function comparedDefinition(
    definition: AttributeDefinition | undefined,
    subDefinition: AttributeDefinition | undefined,
    namedSubAttribute: boolean,
): AttributeDefinition | undefined {
    if (namedSubAttribute) return subDefinition;
    if (definition?.type === 'complex') return findByName(definition.subAttributes ?? [], 'value');
    return definition;
}

function withoutSubAttribute(path: AttributeReference): AttributeReference {
    return path.schema === undefined ? { attribute: path.attribute } : { schema: path.schema, attribute: path.attribute };
}

// ---- reading values out of JSON, shape-tolerant

/**
 * An own property of an object, in any letter case (caseInsensitiveKeys.ts). Never an inherited one:
 * `constructor eq "x"` must not reach Object.prototype.
 */
function propertyOf(target: unknown, name: string): unknown {
    return isPlainObject(target) ? valueNamed(target, name) : undefined;
}

function nodes(value: unknown): unknown[] {
    if (value === undefined || value === null) return [];
    return Array.isArray(value) ? value : [value];
}

/** The sub-attribute of each element (`emails.value` → every email's value). */
function subValues(value: unknown, subAttribute: string): unknown[] {
    const result: unknown[] = [];
    for (const element of nodes(value)) {
        const sub = propertyOf(element, subAttribute);
        if (Array.isArray(sub)) result.push(...(sub as unknown[]));
        else if (sub !== undefined && sub !== null) result.push(sub);
    }
    return result;
}

/**
 * The simple values a comparison sees. With a sub-attribute: that sub-attribute of every element.
 * Without one: the attribute itself, or each element of a multi-valued one; a complex node stands for
 * its `value` sub-attribute (RFC 7644 §3.4.2.2).
 */
function simpleValues(value: unknown, subAttribute: string | undefined): unknown[] {
    if (subAttribute !== undefined) return subValues(value, subAttribute);
    const result: unknown[] = [];
    for (const element of nodes(value)) {
        const simple = isPlainObject(element) ? propertyOf(element, 'value') : element;
        if (simple !== undefined && simple !== null && !isPlainObject(simple) && !Array.isArray(simple)) result.push(simple);
    }
    return result;
}

/** RFC 7644 §3.4.2.2 `pr`: a non-empty value, or a complex node with a non-empty sub-attribute. */
function isNonEmpty(value: unknown): boolean {
    if (value === undefined || value === null || value === '') return false;
    if (Array.isArray(value)) return value.some(isNonEmpty);
    if (isPlainObject(value)) return Object.values(value).some(isNonEmpty);
    return true;
}

// ---- comparing one simple value with the filter's value

const SUBSTRING_OPERATORS: ReadonlySet<CompareOperator> = new Set<CompareOperator>(['co', 'sw', 'ew']);

/**
 * The test applied to each simple value. Same-type values compare as their type (dateTime as instants,
 * strings folded unless caseExact). Mixed types — `"True"` stored for a boolean, a bare word that
 * looked like a number — compare as text for eq/ne/co/sw/ew and never match an ordering.
 */
function valueTest(op: CompareOperator, filterValue: string | number | boolean, definition: AttributeDefinition | undefined): (value: unknown) => boolean {
    const caseExact = definition?.caseExact ?? false; // RFC 7643 §2.2 default
    // The same fold as uniqueness and index keys (caseFold.ts): a filter finds what a create would clash with.
    const fold = (text: string): string => (caseExact ? text : caseFolded(text));
    const filterText = fold(String(filterValue));
    // dateTime attributes compare as instants (RFC 7644 §3.4.2.2), so `…:34Z` equals `…:34.000Z`.
    const comparesInstants = definition?.type === 'dateTime' && typeof filterValue === 'string' && !SUBSTRING_OPERATORS.has(op);
    const filterInstant = comparesInstants ? Date.parse(filterValue) : Number.NaN;
    const compareText = textComparison(op, filterText);

    return (value) => {
        if (typeof value === 'string') {
            if (!Number.isNaN(filterInstant)) {
                const instant = Date.parse(value);
                if (!Number.isNaN(instant)) return compareOrdered(op, instant, filterInstant);
            }
            return compareText(fold(value), typeof filterValue === 'string');
        }
        if (typeof value === 'number' && typeof filterValue === 'number') return compareOrdered(op, value, filterValue);
        if (typeof value === 'boolean' && typeof filterValue === 'boolean') {
            if (op === 'eq') return value === filterValue;
            if (op === 'ne') return value !== filterValue;
            return false;
        }
        if (typeof value === 'number' || typeof value === 'boolean') return compareText(fold(String(value)), false);
        return false;
    };
}

/** String comparison of a folded value against the folded filter text; orderings need both to be strings. */
function textComparison(op: CompareOperator, filterText: string): (value: string, sameType: boolean) => boolean {
    switch (op) {
        case 'eq': return (value) => value === filterText;
        case 'ne': return (value) => value !== filterText;
        case 'co': return (value) => value.includes(filterText);
        case 'sw': return (value) => value.startsWith(filterText);
        case 'ew': return (value) => value.endsWith(filterText);
        // Lexicographic by UTF-16 code unit (RFC 7644 §3.4.2.2 "lexicographical").
        case 'gt': return (value, sameType) => sameType && value > filterText;
        case 'ge': return (value, sameType) => sameType && value >= filterText;
        case 'lt': return (value, sameType) => sameType && value < filterText;
        case 'le': return (value, sameType) => sameType && value <= filterText;
    }
}

function compareOrdered(op: CompareOperator, value: number, filterValue: number): boolean {
    switch (op) {
        case 'eq': return value === filterValue;
        case 'ne': return value !== filterValue;
        case 'gt': return value > filterValue;
        case 'ge': return value >= filterValue;
        case 'lt': return value < filterValue;
        case 'le': return value <= filterValue;
        // Substring operators on numbers compare the text forms.
        case 'co': return String(value).includes(String(filterValue));
        case 'sw': return String(value).startsWith(String(filterValue));
        case 'ew': return String(value).endsWith(String(filterValue));
    }
}
