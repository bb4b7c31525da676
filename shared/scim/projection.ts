/**
 * `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) and the `returned` characteristic of
 * each attribute (RFC 7643 §2.2): which attributes a response carries.
 *
 * Entra puts `excludedAttributes=members` on every group read (docs/entra-protocol.md §6); the handlers ask
 * `wantsAttribute` first so that an excluded `members` costs no storage read at all.
 */
import { type AttributeDefinition, type AttributeReference, type ResourceTypeName } from './schemas';
import { parseAttributeReference, resolveAttribute, schemasOf } from './schemaRegistry';

export interface Projection {
    /** Only these (plus always-returned ones), when given. */
    attributes?: AttributeReference[];
    excluded: AttributeReference[];
}

export function readProjection(query: URLSearchParams): Projection {
    const projection: Projection = { excluded: readList(query.get('excludedAttributes')) };
    const attributes = query.get('attributes');
    if (attributes !== null && attributes.trim() !== '') projection.attributes = readList(attributes);
    return projection;
}

function readList(text: string | null): AttributeReference[] {
    if (!text) return [];
    return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '')
        .map(parseAttributeReference);
}

/** Whether a top-level attribute (`members`, `groups`) will appear in the response. */
export function wantsAttribute(projection: Projection, resourceType: ResourceTypeName, name: string): boolean {
    const resolved = resolveAttribute(resourceType, { attribute: name });
    if (!resolved) return false;
    return includeTopLevel(projection, resourceType, resolved.definition, undefined) !== 'none';
}

/** Applies the projection to a full representation (with schemas, id, meta). Returns a new object. */
export function project(resource: Record<string, unknown>, resourceType: ResourceTypeName, projection: Projection): Record<string, unknown> {
    const projected: Record<string, unknown> = {};
    const extensions = schemasOf(resourceType).extensions;
    for (const [key, value] of Object.entries(resource)) {
        if (key === 'schemas') {
            projected.schemas = value;
            continue;
        }
        const extension = extensions.find((e) => e.id === key);
        if (extension) {
            const inner = projectObject(value as Record<string, unknown>, (name) => {
                const resolved = resolveAttribute(resourceType, { schema: extension.id, attribute: name });
                return resolved ? includeTopLevel(projection, resourceType, resolved.definition, extension.id) : 'all';
            });
            if (Object.keys(inner).length > 0) projected[key] = inner;
            continue;
        }
        const resolved = resolveAttribute(resourceType, { attribute: key });
        // Attributes outside our schemas are not stored, so everything here resolves; keep unknowns as they are.
        const include = resolved ? includeTopLevel(projection, resourceType, resolved.definition, undefined) : 'all';
        if (include === 'all') projected[key] = value;
        else if (include !== 'none') {
            const inner = Array.isArray(value)
                ? value.map((element) => pickSubAttributes(element, include))
                : pickSubAttributes(value, include);
            projected[key] = inner;
        }
    }
    return projected;
}

type Inclusion = 'all' | 'none' | Set<string>;

function includeTopLevel(projection: Projection, resourceType: ResourceTypeName, definition: AttributeDefinition, extension: string | undefined): Inclusion {
    if (definition.returned === 'always') return 'all';
    if (definition.returned === 'never') return 'none';
    const named = (list: AttributeReference[]) => list.filter((ref) => refersTo(ref, resourceType, definition, extension));
    if (projection.attributes) {
        const requested = named(projection.attributes);
        if (requested.length === 0) return 'none';
        if (requested.some((ref) => ref.subAttribute === undefined)) return 'all';
        return new Set(requested.map((ref) => ref.subAttribute!.toLowerCase()));
    }
    if (definition.returned === 'request') return 'none';
    if (named(projection.excluded).some((ref) => ref.subAttribute === undefined)) return 'none';
    return 'all';
}

/** Does `ref` (from a query parameter) name this attribute? A bare extension URN names all of its attributes. */
function refersTo(ref: AttributeReference, resourceType: ResourceTypeName, definition: AttributeDefinition, extension: string | undefined): boolean {
    // A bare extension URN parses as schema `urn:…:2.0` + attribute `User`: compare the whole URN.
    const whole = ref.schema !== undefined ? `${ref.schema}:${ref.attribute}` : ref.attribute;
    if (extension !== undefined && whole.toLowerCase() === extension.toLowerCase()) return true;
    const resolved = resolveAttribute(resourceType, withoutSubAttribute(ref));
    return resolved !== undefined && resolved.definition === definition && resolved.extension === extension;
}

function projectObject(value: Record<string, unknown>, inclusionOf: (name: string) => Inclusion): Record<string, unknown> {
    const projected: Record<string, unknown> = {};
    for (const [name, inner] of Object.entries(value)) {
        const include = inclusionOf(name);
        if (include === 'all') projected[name] = inner;
        else if (include !== 'none') projected[name] = pickSubAttributes(inner, include);
    }
    return projected;
}

function pickSubAttributes(value: unknown, names: Set<string>): unknown {
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(Object.entries(value).filter(([key]) => names.has(key.toLowerCase())));
}

function withoutSubAttribute(ref: AttributeReference): AttributeReference {
    return ref.schema === undefined ? { attribute: ref.attribute } : { schema: ref.schema, attribute: ref.attribute };
}
