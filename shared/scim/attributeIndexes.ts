/**
 * Equality indexes: which attributes the store keeps index rows for, and the two questions the store and
 * the query planner ask of one (docs/storage.md, "Equality indexes"):
 * - `indexKeysOf`: which keys does a resource have in this index (written in the resource's own transaction)?
 * - `indexedEquality`: does this filter node ask for an equality the index answers, and for which value?
 *
 * An index is named by an attribute path, as in a filter or a PATCH path: `displayName`,
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`, `name.familyName`, or a value
 * path that picks elements of a multi-valued attribute, `emails[type eq "work"].value`. Any attribute the
 * schema lookup knows (extension attributes included) can be indexed if each of its values is a simple
 * value compared for equality; a multi-valued one needs a value filter. The path is kept in one canonical
 * spelling (schema case, extension URN, filter values folded like the attribute compares them), which is
 * the index's name everywhere: configuration, state rows, row keys, the `index` command.
 *
 * Keys are the compared text folded exactly as the filter evaluator compares it (`caseFolded` unless the
 * attribute is caseExact), and the values come from the evaluator's own reading of the resource
 * (`comparedValues`), so a filter never misses a resource the index should have returned. The index may
 * return more (a hashed key, a union): the planner always re-checks the whole filter in memory.
 *
 * Pure: no storage here.
 */
import { caseFolded, hasLoneSurrogate } from './caseFold';
import { comparedValues } from './filterEvaluator';
import { parsePatchPath } from './filterParser';
import { printFilter, printPath, type FilterNode } from './filterSyntax';
import type { EqualityIndex, IndexCatalog } from './store';
import { StoreError } from './storeErrors';
import { currentSchemas, type SchemaRegistry } from './schemaRegistry';
import {
    findByName,
    type AttributeDefinition,
    type AttributeReference,
    type ResourceTypeName,
} from './schemas';

/** An index as the store sees it (store.ts) plus what the planner matches filters with. */
export interface AttributeIndex extends EqualityIndex {
    /** Where the compared values are: the attribute (its extension's URN in `schema`) and sub-attribute. */
    target: AttributeReference;
    /** Only elements this matches count (multi-valued attributes); paths are relative to one element. */
    elementFilter?: FilterNode;
    /** The conjuncts of `elementFilter`, printed canonically, for matching filters against the index. */
    elementConjuncts: string[];
    /** RFC 7643 §2.2: false → keys are `caseFolded`. */
    caseExact: boolean;
}

export type IndexConfiguration = Readonly<Record<ResourceTypeName, readonly AttributeIndex[]>>;

/**
 * Indexed whatever the setting says: the attributes the default mappings mark filterable and Entra matches
 * by (userName, externalId, group displayName; docs/entra-protocol.md §5.1, §5.2), plus the matching
 * attributes admins pick instead (docs/entra-protocol.md §14.1): the work email the tutorial suggests, user
 * displayName and the enterprise employeeNumber.
 */
export const DEFAULT_INDEXED_ATTRIBUTES: Readonly<Record<ResourceTypeName, readonly string[]>> = {
    User: [
        'userName',
        'externalId',
        'displayName',
        'emails[type eq "work"].value',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber',
    ],
    Group: ['displayName', 'externalId'],
};

/** The setting that adds indexes (read in shared/config.ts); named in refusals so an admin knows what to change. */
export const INDEXED_ATTRIBUTES_SETTING = 'SCIM_INDEXED_ATTRIBUTES';

/** Configured indexes per resource type; with one value each they stay far below the store's row limit per resource. */
export const MAX_INDEXES_PER_RESOURCE_TYPE = 20;

export type IndexParse = { index: AttributeIndex } | { problem: string };

/**
 * Reads one attribute path as an index of `resourceType`. A problem says, in words an admin can act on,
 * why the path cannot be indexed (it names the path, never a value).
 */
export function parseIndexedAttribute(resourceType: ResourceTypeName, text: string, registry: SchemaRegistry = currentSchemas()): IndexParse {
    const shown = `'${text}'`;
    let parsed;
    try {
        parsed = parsePatchPath(text.trim());
    } catch {
        return { problem: `${shown} is not an attribute path` };
    }
    const located = locateAttribute(registry, resourceType, parsed.attribute);
    if (located === undefined) return { problem: `${shown} is not an attribute of ${registry.of(resourceType).definition.endpoint.slice(1)}` };
    const { schema, definition } = located;
    if (definition.mutability === 'writeOnly' || (definition.mutability === 'readOnly' && definition.name !== 'id') || definition.name === 'members') {
        return { problem: `${shown} is not stored with the resource, so it cannot be indexed` };
    }
    if (definition.name === 'id' && schema === undefined) return { problem: `${shown}: id is the resource's key and needs no index` };
    if (definition.multiValued && parsed.valueFilter === undefined) {
        return { problem: `${shown} is multi-valued: pick one element with a value filter, like emails[type eq "work"].value` };
    }
    if (!definition.multiValued && parsed.valueFilter !== undefined) return { problem: `${shown}: a value filter needs a multi-valued attribute` };

    const subName = parsed.subAttribute ?? parsed.attribute.subAttribute;
    let compared: AttributeDefinition | undefined = definition;
    if (subName !== undefined) compared = findByName(definition.subAttributes ?? [], subName);
    else if (definition.type === 'complex') compared = findByName(definition.subAttributes ?? [], 'value');
    if (compared === undefined) return { problem: `${shown}: ${subName === undefined ? 'a complex attribute needs a sub-attribute' : `no sub-attribute '${subName}'`}` };
    if (compared.type === 'complex') return { problem: `${shown}: a complex attribute needs a sub-attribute` };
    if (compared.type === 'dateTime') return { problem: `${shown}: dateTime values compare as instants, not as text, so they are not indexed` };
    if (compared.multiValued && compared !== definition) return { problem: `${shown}: the sub-attribute is multi-valued` };

    const attribute: AttributeReference = schema === undefined ? { attribute: definition.name } : { schema, attribute: definition.name };
    const usesSub = definition.type === 'complex' || parsed.valueFilter !== undefined;
    const target: AttributeReference = usesSub ? { ...attribute, subAttribute: compared === definition ? 'value' : compared.name } : attribute;
    let elementFilter: FilterNode | undefined;
    if (parsed.valueFilter !== undefined) {
        elementFilter = normalisedElementFilter(parsed.valueFilter, definition);
        if (elementFilter === undefined) return { problem: `${shown}: the value filter names a sub-attribute ${definition.name} does not have` };
    }

    const builtIn = builtInStorage(resourceType, target);
    const index: AttributeIndex = {
        resourceType,
        path: canonicalPath(attribute, elementFilter, target.subAttribute),
        unique: builtIn === 'uniqueName',
        storage: builtIn ?? 'rows',
        target,
        elementConjuncts: elementFilter === undefined ? [] : conjunctsOf(elementFilter).map(printFilter),
        caseExact: compared.caseExact,
        keysOf: (attributes) => indexKeysOf(index, attributes),
        keyOf: (value) => indexKeyOf(index, value),
    };
    if (elementFilter !== undefined) index.elementFilter = elementFilter;
    return { index };
}

/**
 * The default indexes plus the comma-separated paths of the setting. An entry applies to each resource type
 * whose schemas know it; `User:` or `Group:` in front limits it to one. Throws an Error naming the first
 * entry that cannot be indexed (the app refuses to start with it; docs/operate.md, "Indexes").
 */
export function readIndexConfiguration(setting: string | undefined, registry: SchemaRegistry = currentSchemas()): IndexConfiguration {
    const configuration: Record<ResourceTypeName, AttributeIndex[]> = { User: [], Group: [] };
    const add = (index: AttributeIndex) => {
        const list = configuration[index.resourceType];
        if (!list.some((known) => known.path === index.path)) list.push(index);
    };
    for (const type of registry.resourceTypes) {
        for (const path of DEFAULT_INDEXED_ATTRIBUTES[type.id]) add(requireIndex(type.id, path, registry));
    }
    for (const entry of splitSetting(setting ?? '')) {
        const qualified = /^(User|Group):/i.exec(entry);
        const types: ResourceTypeName[] = qualified ? [qualified[1]!.toLowerCase() === 'user' ? 'User' : 'Group'] : registry.resourceTypes.map((type) => type.id);
        const path = qualified ? entry.slice(qualified[0].length) : entry;
        const parses = types.map((type) => parseIndexedAttribute(type, path, registry));
        const indexes = parses.flatMap((parse) => ('index' in parse ? [parse.index] : []));
        if (indexes.length === 0) {
            const problems = [...new Set(parses.map((parse) => ('problem' in parse ? parse.problem : '')))];
            throw new Error(`${INDEXED_ATTRIBUTES_SETTING}: ${problems.join('; ')}`);
        }
        indexes.forEach(add);
    }
    for (const type of registry.resourceTypes) {
        if (configuration[type.id].length > MAX_INDEXES_PER_RESOURCE_TYPE) {
            throw new Error(`${INDEXED_ATTRIBUTES_SETTING}: more than ${MAX_INDEXES_PER_RESOURCE_TYPE} indexes for ${type.endpoint.slice(1)}`);
        }
    }
    return configuration;
}

/** Per schema registry (one per process once the app is built): parsed indexes by path, and the defaults. */
const parsedIndexes = new WeakMap<SchemaRegistry, { byPath: Map<string, AttributeIndex | undefined>; defaults?: IndexConfiguration }>();

function parsedIn(registry: SchemaRegistry): { byPath: Map<string, AttributeIndex | undefined>; defaults?: IndexConfiguration } {
    let parsed = parsedIndexes.get(registry);
    if (parsed === undefined) {
        parsed = { byPath: new Map() };
        parsedIndexes.set(registry, parsed);
    }
    return parsed;
}

/** The index a path names (a catalog entry), parsed once per registry; undefined if it cannot be one. */
export function indexForPath(resourceType: ResourceTypeName, path: string): AttributeIndex | undefined {
    const registry = currentSchemas();
    const { byPath } = parsedIn(registry);
    const key = `${resourceType}\n${path}`;
    if (!byPath.has(key)) {
        const parse = parseIndexedAttribute(resourceType, path, registry);
        byPath.set(key, 'index' in parse ? parse.index : undefined);
    }
    return byPath.get(key);
}

/** The default configuration (no setting), against the schemas served now. */
export function defaultIndexConfiguration(): IndexConfiguration {
    const parsed = parsedIn(currentSchemas());
    parsed.defaults ??= readIndexConfiguration(undefined);
    return parsed.defaults;
}

/**
 * The index keys of a resource: its compared values, folded as the evaluator compares them, without
 * duplicates. Throws 400 invalidValue for text with a lone surrogate (caseFold.ts).
 */
export function indexKeysOf(index: AttributeIndex, attributes: Record<string, unknown>): string[] {
    const keys = new Set<string>();
    for (const value of comparedValues(attributes, index.resourceType, index.target, index.elementFilter)) {
        const key = indexKeyOf(index, value);
        if (key !== undefined) keys.add(key);
    }
    return [...keys];
}

/**
 * The key of one compared value: its text, folded unless the attribute is caseExact. Numbers and booleans
 * count as their text, as the evaluator compares mixed types (`"True"` stored for a boolean). Empty values
 * are not indexed (an `eq ""` never reaches an index: the planner asks only for non-empty text).
 */
export function indexKeyOf(index: AttributeIndex, value: unknown): string | undefined {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return undefined;
    const text = String(value);
    if (text === '') return undefined;
    // Thrown inside the store (keysOf), so a store error: 400 invalidValue, naming the index, not the value.
    if (hasLoneSurrogate(text)) throw new StoreError('invalidChange', `A value of ${index.path} holds text with a lone surrogate, which is not Unicode text`);
    return index.caseExact ? text : caseFolded(text);
}

/**
 * The value a filter node asks `index` for, if the node is an equality the index answers: `path eq value`
 * for an index on that path, or `attr[…]` whose conjuncts include every condition of the index's value
 * filter and `sub eq value` (the parser reads Entra's `emails[type eq "work"].value eq "x"` as
 * `emails[type eq "work" and value eq "x"]`). Anything else (other operators, `not`, a different element
 * filter, a null value) is not answered.
 */
export function indexedEquality(index: AttributeIndex, node: FilterNode): string | undefined {
    if (index.elementFilter === undefined) {
        if (node.kind !== 'compare' || node.op !== 'eq' || node.value === null) return undefined;
        return sameTarget(index, node.path) ? nonEmptyText(node.value) : undefined;
    }
    if (node.kind !== 'valuePath' || node.path.subAttribute !== undefined) return undefined;
    const located = locateAttribute(currentSchemas(), index.resourceType, node.path);
    if (located === undefined || located.definition.name !== index.target.attribute || located.schema !== index.target.schema) return undefined;
    const conjuncts = conjunctsOf(node.filter);
    const normalised = conjuncts.map((conjunct) => normalisedElementFilter(conjunct, located.definition));
    const printed = normalised.map((conjunct) => (conjunct === undefined ? undefined : printFilter(conjunct)));
    for (let position = 0; position < conjuncts.length; position++) {
        const candidate = normalised[position];
        if (candidate?.kind !== 'compare' || candidate.op !== 'eq' || candidate.value === null) continue;
        if (candidate.path.attribute !== index.target.subAttribute) continue;
        const others = printed.filter((_, other) => other !== position);
        if (!index.elementConjuncts.every((wanted) => others.includes(wanted))) continue;
        const original = conjuncts[position]!;
        if (original.kind === 'compare' && original.value !== null) return nonEmptyText(original.value);
    }
    return undefined;
}

/**
 * The detail of the 400 tooMany for a filter no usable index serves, over a resource type with more than
 * `scanLimit` resources: it names the attribute whose index would serve it and what to do — wait for the
 * rebuild, or add it to the setting and rebuild — so the admin reading Entra's error knows (names only,
 * never a value).
 */
export function unindexedFilterDetail(filter: FilterNode, resourceType: ResourceTypeName, catalog: IndexCatalog, scanLimit: number): string {
    const endpoint = currentSchemas().of(resourceType).definition.endpoint.slice(1);
    const lead = `This filter needs a scan of more than ${scanLimit.toLocaleString('en-US')} ${endpoint}`;
    const usable = new Set(catalog.usable);
    const wanted = indexPathsFor(filter, resourceType).find((path) => !usable.has(path));
    if (wanted !== undefined && catalog.building.includes(wanted)) {
        return `${lead}; the index on ${wanted} is not complete yet: an admin completes it with \`npm run index -- rebuild ${wanted}\` (progress: \`npm run index -- status\`)`;
    }
    if (wanted !== undefined) {
        return `${lead}; no index serves ${wanted}: add it to the ${INDEXED_ATTRIBUTES_SETTING} setting, then run \`npm run index -- rebuild ${wanted}\``;
    }
    return `${lead}; only eq on an indexed attribute avoids one (indexed: ${[...usable].join(', ')}; more with the ${INDEXED_ATTRIBUTES_SETTING} setting)`;
}

/**
 * The index paths the equalities of this filter would need, in filter order: `displayName eq …` →
 * `displayName`, `emails[type eq "work"].value eq …` → `emails[type eq "work"].value`.
 */
function indexPathsFor(node: FilterNode, resourceType: ResourceTypeName): string[] {
    switch (node.kind) {
        case 'and':
        case 'or':
            return [...indexPathsFor(node.left, resourceType), ...indexPathsFor(node.right, resourceType)];
        case 'compare': {
            if (node.op !== 'eq' || node.value === null) return [];
            const parse = parseIndexedAttribute(resourceType, printPath(node.path));
            return 'index' in parse ? [parse.index.path] : [];
        }
        case 'valuePath': {
            const conjuncts = conjunctsOf(node.filter);
            const equalities = conjuncts.filter((conjunct) => conjunct.kind === 'compare' && conjunct.op === 'eq' && conjunct.value !== null);
            const preferred = equalities.find((conjunct) => conjunct.kind === 'compare' && conjunct.path.attribute.toLowerCase() === 'value') ?? equalities[0];
            if (preferred?.kind !== 'compare') return [];
            const rest = conjuncts.filter((conjunct) => conjunct !== preferred);
            if (rest.length === 0) return [];
            const path = `${printPath(node.path)}[${rest.map(printFilter).join(' and ')}].${preferred.path.attribute}`;
            const parse = parseIndexedAttribute(resourceType, path);
            return 'index' in parse ? [parse.index.path] : [];
        }
        default:
            return [];
    }
}

// ---- helpers

function requireIndex(resourceType: ResourceTypeName, path: string, registry: SchemaRegistry): AttributeIndex {
    const parse = parseIndexedAttribute(resourceType, path, registry);
    if ('problem' in parse) throw new Error(`default index ${parse.problem}`);
    return parse.index;
}

function builtInStorage(resourceType: ResourceTypeName, target: AttributeReference): AttributeIndex['storage'] | undefined {
    if (target.schema !== undefined || target.subAttribute !== undefined) return undefined;
    if (target.attribute === 'externalId') return 'externalId';
    if (target.attribute === (resourceType === 'User' ? 'userName' : 'displayName')) return 'uniqueName';
    return undefined;
}

/**
 * The definition of an attribute path's attribute (ignoring any sub-attribute), core and common attributes
 * first, then (for an unqualified name) each extension — as the evaluator resolves it.
 */
function locateAttribute(registry: SchemaRegistry, resourceType: ResourceTypeName, reference: AttributeReference): { schema?: string; definition: AttributeDefinition } | undefined {
    const attributeOnly: AttributeReference = reference.schema === undefined ? { attribute: reference.attribute } : { schema: reference.schema, attribute: reference.attribute };
    const candidates: AttributeReference[] = [attributeOnly];
    if (reference.schema === undefined) candidates.push(...registry.of(resourceType).extensions.map((extension) => ({ schema: extension.id, attribute: reference.attribute })));
    for (const candidate of candidates) {
        const resolved = registry.resolveAttribute(resourceType, candidate);
        if (resolved === undefined) continue;
        return resolved.extension === undefined ? { definition: resolved.definition } : { schema: resolved.extension, definition: resolved.definition };
    }
    return undefined;
}

/** Does `path` (a filter's attribute path) name the values `index` holds? */
function sameTarget(index: AttributeIndex, path: AttributeReference): boolean {
    const located = locateAttribute(currentSchemas(), index.resourceType, path);
    if (located === undefined || located.definition.name !== index.target.attribute || located.schema !== index.target.schema) return false;
    let sub: string | undefined;
    if (path.subAttribute !== undefined) sub = findByName(located.definition.subAttributes ?? [], path.subAttribute)?.name ?? `?${path.subAttribute}`;
    else if (located.definition.type === 'complex') sub = 'value';
    return sub === index.target.subAttribute;
}

function nonEmptyText(value: string | number | boolean): string | undefined {
    const text = String(value);
    return text === '' ? undefined : text;
}

/**
 * An element filter with sub-attribute names in schema case and string values folded where the
 * sub-attribute compares case-insensitively, so `[Type eq "Work"]` and `[type eq "work"]` print alike.
 * Undefined if it names a sub-attribute the attribute does not have.
 */
function normalisedElementFilter(node: FilterNode, parent: AttributeDefinition): FilterNode | undefined {
    switch (node.kind) {
        case 'and':
        case 'or': {
            const left = normalisedElementFilter(node.left, parent);
            const right = normalisedElementFilter(node.right, parent);
            return left && right ? { kind: node.kind, left, right } : undefined;
        }
        case 'not': {
            const operand = normalisedElementFilter(node.operand, parent);
            return operand && { kind: 'not', operand };
        }
        case 'present':
        case 'compare': {
            const sub = elementSubAttribute(parent, node.path.attribute);
            if (sub === undefined || node.path.schema !== undefined || node.path.subAttribute !== undefined) return undefined;
            if (node.kind === 'present') return { kind: 'present', path: { attribute: sub.name } };
            const value = typeof node.value === 'string' && !sub.caseExact ? caseFolded(node.value) : node.value;
            return { kind: 'compare', path: { attribute: sub.name }, op: node.op, value };
        }
        case 'valuePath':
            return undefined;
    }
}

/** A sub-attribute of one element; a multi-valued attribute of simple values has just `value` (the element). */
function elementSubAttribute(parent: AttributeDefinition, name: string): AttributeDefinition | undefined {
    if (parent.subAttributes !== undefined) return findByName(parent.subAttributes, name);
    return name.toLowerCase() === 'value' ? { ...parent, name: 'value', multiValued: false } : undefined;
}

function conjunctsOf(node: FilterNode): FilterNode[] {
    return node.kind === 'and' ? [...conjunctsOf(node.left), ...conjunctsOf(node.right)] : [node];
}

function canonicalPath(attribute: AttributeReference, elementFilter: FilterNode | undefined, subAttribute: string | undefined): string {
    const base = printPath(attribute);
    const filter = elementFilter === undefined ? '' : `[${printFilter(elementFilter)}]`;
    return base + filter + (subAttribute === undefined ? '' : `.${subAttribute}`);
}

/** Comma-separated entries; commas inside quotes or brackets belong to a value filter. */
function splitSetting(setting: string): string[] {
    const entries: string[] = [];
    let current = '';
    let depth = 0;
    let quoted = false;
    for (let i = 0; i < setting.length; i++) {
        const char = setting[i]!;
        if (quoted) {
            if (char === '\\') {
                current += char + (setting[i + 1] ?? '');
                i++;
                continue;
            }
            if (char === '"') quoted = false;
        } else if (char === '"') quoted = true;
        else if (char === '[') depth++;
        else if (char === ']') depth--;
        else if (char === ',' && depth === 0) {
            entries.push(current);
            current = '';
            continue;
        }
        current += char;
    }
    entries.push(current);
    return entries.map((entry) => entry.trim()).filter((entry) => entry !== '');
}
