/**
 * Attribute values as the schema definitions describe them: the one place that turns what a client sent
 * into what we store, shared by the POST/PUT validator and the PATCH engine. The one type check,
 * `checkAttributeValue`, lives in attributeTypeCheck.ts (ajv, compiled from these definitions) and is
 * re-exported here so that both take values and their check from one place.
 *
 * - Booleans: Entra sends `"True"` / `"False"` strings for boolean attributes (`active`, `primary`) in POST
 *   and in its default PATCH dialect (docs/entra-protocol.md §5.2, §5.5). They become booleans, but only where the
 *   schema says boolean: `displayName: "True"` stays a string (docs/entra-protocol.md §5.4).
 * - Everything else is stored exactly as sent (docs/entra-protocol.md §5.2: "Values sent should be stored in the same
 *   format they were sent").
 * - Attribute names are case-insensitive (RFC 7643 §2.1); we store them in schema case.
 * - `null` means unassigned (RFC 7643 §2.5), so a null value is dropped rather than stored.
 */
export { checkAttributeValue } from './attributeTypeCheck';
import { isPlainObject } from './isPlainObject';
import { isRolesAttribute, readRoleElement } from './roles';
import { findByName, type AttributeDefinition, type ResolvedAttribute, type ResourceTypeName, type SchemaDefinition } from './schemas';
import { coreAttributes, extensionOf, parseAttributeReference, resolveAttribute } from './schemaRegistry';
import type { ScimResource } from './store';

/** `"True"` / `"False"` in any letter case; anything else is not a boolean string. */
export function booleanFromString(text: string): boolean | undefined {
    const lower = text.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    return undefined;
}

/**
 * Coerces a value to its schema type where Entra is known to send another representation (booleans as
 * strings), recursing into complex and multi-valued attributes. Keys and everything else stay as sent.
 */
export function coerceAttributeValue(definition: AttributeDefinition, value: unknown): unknown {
    if (definition.multiValued && Array.isArray(value)) {
        return value.map((element) => coerceSingleValue(definition, element));
    }
    return coerceSingleValue(definition, value);
}

function coerceSingleValue(definition: AttributeDefinition, value: unknown): unknown {
    if (definition.type === 'boolean' && typeof value === 'string') {
        return booleanFromString(value) ?? value;
    }
    if (definition.type === 'complex' && isPlainObject(value)) {
        const coerced: Record<string, unknown> = {};
        for (const [key, subValue] of Object.entries(value)) {
            const subDefinition = findByName(definition.subAttributes ?? [], key);
            coerced[key] = subDefinition ? coerceAttributeValue(subDefinition, subValue) : subValue;
        }
        return coerced;
    }
    return value;
}

/**
 * Called for each sub-attribute a complex value carries beyond its definition, with its name as the
 * client wrote it. With a callback such sub-attributes are dropped, and so are readOnly ones (RFC 7643 §7:
 * the client's value "SHALL NOT" be taken; `manager.displayName`, a member's `display`), as the PATCH
 * engine drops them; without one, both are kept as sent.
 */
export type UnknownSubAttributeHandler = (name: string) => void;

/**
 * A value in canonical form: sub-attribute names in schema case, values coerced, `null`s (and null
 * elements of multi-valued attributes) dropped. An attribute whose value is `null` comes back undefined.
 */
export function canonicalizeAttributeValue(
    definition: AttributeDefinition,
    value: unknown,
    onUnknownSubAttribute?: UnknownSubAttributeHandler,
): unknown {
    if (value === null || value === undefined) return undefined;
    if (definition.multiValued && Array.isArray(value)) {
        const elements: unknown[] = [];
        for (const element of value) {
            const canonical = canonicalizeSingleValue(definition, element, onUnknownSubAttribute);
            if (canonical !== undefined) elements.push(canonical);
        }
        return elements;
    }
    return canonicalizeSingleValue(definition, value, onUnknownSubAttribute);
}

function canonicalizeSingleValue(
    definition: AttributeDefinition,
    value: unknown,
    onUnknownSubAttribute: UnknownSubAttributeHandler | undefined,
): unknown {
    if (value === null || value === undefined) return undefined;
    if (isRolesAttribute(definition)) value = readRoleElement(value);
    if (definition.type === 'complex' && isPlainObject(value)) {
        const canonical: Record<string, unknown> = {};
        for (const [key, subValue] of Object.entries(value)) {
            const subDefinition = findByName(definition.subAttributes ?? [], key);
            if (!subDefinition) {
                if (onUnknownSubAttribute) onUnknownSubAttribute(key);
                else setOwnProperty(canonical, key, subValue);
                continue;
            }
            if (onUnknownSubAttribute && subDefinition.mutability === 'readOnly') continue;
            const subCanonical = canonicalizeAttributeValue(subDefinition, subValue, onUnknownSubAttribute);
            if (subCanonical !== undefined) canonical[subDefinition.name] = subCanonical;
        }
        return canonical;
    }
    return coerceSingleValue(definition, value);
}

/** Called with the name of each attribute or sub-attribute outside the schemas (`name.evil`, `urn:…:User:x`). */
export type IgnoredAttributeHandler = (name: string) => void;

/**
 * A resource in canonical form: known attribute names (core, common and extension attributes, and the
 * extension URN keys) in schema case, values coerced, `null`s dropped. An extension attribute may also
 * come as a URN-qualified key (`"urn:…:alvao_tPersonCust:2.0:User:costCenterCode": "x"`); it goes under
 * its extension's key. Whether `schemas` lists the extension does not matter (Entra never lists a custom
 * one, docs/entra-protocol.md §14.2).
 *
 * With `onIgnored`, everything outside the schemas (attributes, and sub-attributes at any depth of a
 * value) is dropped and named, and readOnly sub-attributes are dropped, as the PATCH engine does; without
 * it, they are kept as sent (`schemas` is always kept: it is not an attribute, RFC 7643 §3).
 */
export function canonicalizeResource(resource: ScimResource, resourceType: ResourceTypeName, onIgnored?: IgnoredAttributeHandler): ScimResource {
    const canonical: ScimResource = {};
    for (const [key, value] of Object.entries(resource)) {
        if (value === null) continue;
        if (key === 'schemas') {
            canonical.schemas = value;
            continue;
        }
        const extension = extensionOf(resourceType, key);
        if (extension) {
            // Not an object: kept for the validator to refuse (400) rather than dropped.
            if (!isPlainObject(value)) canonical[extension.id] = value;
            else for (const [name, attributeValue] of Object.entries(value)) putExtensionAttribute(canonical, extension, name, attributeValue, onIgnored);
            continue;
        }
        const resolved = resolveKey(resourceType, key);
        if (resolved?.extension !== undefined) {
            putExtensionAttribute(canonical, extensionOf(resourceType, resolved.extension)!, resolved.definition.name, value, onIgnored);
            continue;
        }
        if (!resolved) {
            if (onIgnored) onIgnored(key);
            else setOwnProperty(canonical, key, value);
            continue;
        }
        const { definition } = resolved;
        const canonicalValue = canonicalizeAttributeValue(definition, value, onIgnored && ((sub) => onIgnored(`${definition.name}.${sub}`)));
        if (canonicalValue !== undefined) canonical[definition.name] = canonicalValue;
    }
    return canonical;
}

/** A top-level key: a core or common attribute name, or a URN-qualified attribute (`urn:…:User:x`), not a sub-attribute. */
function resolveKey(resourceType: ResourceTypeName, key: string): ResolvedAttribute | undefined {
    if (!key.toLowerCase().startsWith('urn:')) {
        const definition = findByName(coreAttributes(resourceType), key);
        return definition && { definition };
    }
    const reference = parseAttributeReference(key);
    if (reference.schema === undefined || reference.subAttribute !== undefined) return undefined;
    return resolveAttribute(resourceType, reference);
}

function putExtensionAttribute(canonical: ScimResource, extension: SchemaDefinition, name: string, value: unknown, onIgnored: IgnoredAttributeHandler | undefined): void {
    const existing = canonical[extension.id];
    const attributes: Record<string, unknown> = isPlainObject(existing) ? existing : {};
    canonical[extension.id] = attributes;
    const definition = findByName(extension.attributes, name);
    if (!definition) {
        if (onIgnored) onIgnored(`${extension.id}:${name}`);
        else if (value !== null) setOwnProperty(attributes, name, value);
        return;
    }
    const path = `${extension.id}:${definition.name}`;
    const canonicalValue = canonicalizeAttributeValue(definition, value, onIgnored && ((sub) => onIgnored(`${path}.${sub}`)));
    if (canonicalValue !== undefined) attributes[definition.name] = canonicalValue;
}

/**
 * `object[key] = value` for a key the client chose: a JSON key `__proto__` must become a property, not
 * replace the object's prototype.
 */
function setOwnProperty(object: Record<string, unknown>, key: string, value: unknown): void {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}
