/**
 * Attribute values as the schema definitions describe them: the one place that turns what a client sent
 * into what we store, shared by the POST/PUT validator and the PATCH engine.
 *
 * - Booleans: Entra sends `"True"` / `"False"` strings for boolean attributes (`active`, `primary`) in POST
 *   and in its default PATCH dialect (docs/entra-protocol.md §5.2, §5.5). They become booleans, but only where the
 *   schema says boolean: `displayName: "True"` stays a string (docs/entra-protocol.md §5.4).
 * - Everything else is stored exactly as sent (docs/entra-protocol.md §5.2: "Values sent should be stored in the same
 *   format they were sent").
 * - Attribute names are case-insensitive (RFC 7643 §2.1); we store them in schema case.
 * - `null` means unassigned (RFC 7643 §2.5), so a null value is dropped rather than stored.
 */
import { ScimError } from './errors';
import {
    type AttributeDefinition,
    type ResourceTypeName,
    coreAttributes,
    findByName,
    schemasOf,
} from './schemas';
import type { ScimResource } from './store';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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
 * client wrote it. Without a callback such sub-attributes are kept as sent.
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
    if (definition.type === 'complex' && isPlainObject(value)) {
        const canonical: Record<string, unknown> = {};
        for (const [key, subValue] of Object.entries(value)) {
            const subDefinition = findByName(definition.subAttributes ?? [], key);
            if (!subDefinition) {
                if (onUnknownSubAttribute) onUnknownSubAttribute(key);
                else setOwnProperty(canonical, key, subValue);
                continue;
            }
            const subCanonical = canonicalizeAttributeValue(subDefinition, subValue, onUnknownSubAttribute);
            if (subCanonical !== undefined) canonical[subDefinition.name] = subCanonical;
        }
        return canonical;
    }
    return coerceSingleValue(definition, value);
}

/**
 * A resource in canonical form: known attribute names (core, common and extension attributes, and the
 * extension URN keys) in schema case, values coerced, `null`s dropped. Attributes outside our schemas are
 * kept as sent: deciding about them is the caller's business (the validator, or PATCH's `ignored`).
 */
export function canonicalizeResource(resource: ScimResource, resourceType: ResourceTypeName): ScimResource {
    const { extensions } = schemasOf(resourceType);
    const core = coreAttributes(resourceType);
    const canonical: ScimResource = {};
    for (const [key, value] of Object.entries(resource)) {
        if (value === null) continue;
        const extension = extensions.find((e) => e.id.toLowerCase() === key.toLowerCase());
        if (extension && isPlainObject(value)) {
            const existing = canonical[extension.id];
            const attributes: Record<string, unknown> = isPlainObject(existing) ? { ...existing } : {};
            for (const [name, attributeValue] of Object.entries(value)) {
                const definition = findByName(extension.attributes, name);
                if (!definition) {
                    if (attributeValue !== null) setOwnProperty(attributes, name, attributeValue);
                    continue;
                }
                const canonicalValue = canonicalizeAttributeValue(definition, attributeValue);
                if (canonicalValue !== undefined) attributes[definition.name] = canonicalValue;
            }
            canonical[extension.id] = attributes;
            continue;
        }
        const definition = findByName(core, key);
        if (!definition) {
            setOwnProperty(canonical, key, value);
            continue;
        }
        const canonicalValue = canonicalizeAttributeValue(definition, value);
        if (canonicalValue !== undefined) canonical[definition.name] = canonicalValue;
    }
    return canonical;
}

/**
 * `object[key] = value` for a key the client chose: a JSON key `__proto__` must become a property, not
 * replace the object's prototype.
 */
function setOwnProperty(object: Record<string, unknown>, key: string, value: unknown): void {
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Throws 400 `invalidValue` unless a canonical value (see `canonicalizeAttributeValue`) has the type its
 * definition says (RFC 7643 §2.3). `path` names the attribute in the message; the value never appears
 * there, as it may be personal data.
 */
export function checkAttributeValue(definition: AttributeDefinition, value: unknown, path: string): void {
    if (definition.multiValued) {
        if (!Array.isArray(value)) throw invalidValue(path, 'an array');
        for (const element of value) checkSingleValue(definition, element, path);
        return;
    }
    checkSingleValue(definition, value, path);
}

function checkSingleValue(definition: AttributeDefinition, value: unknown, path: string): void {
    switch (definition.type) {
        case 'string':
        case 'reference':
        case 'binary':
            if (typeof value !== 'string') throw invalidValue(path, 'a string');
            return;
        case 'dateTime':
            if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw invalidValue(path, 'an xsd:dateTime string');
            return;
        case 'boolean':
            if (typeof value !== 'boolean') throw invalidValue(path, 'a boolean');
            return;
        case 'integer':
            if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidValue(path, 'an integer');
            return;
        case 'decimal':
            if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidValue(path, 'a number');
            return;
        case 'complex':
            if (!isPlainObject(value)) throw invalidValue(path, 'an object');
            for (const [key, subValue] of Object.entries(value)) {
                const subDefinition = findByName(definition.subAttributes ?? [], key);
                if (subDefinition) checkAttributeValue(subDefinition, subValue, `${path}.${subDefinition.name}`);
            }
            return;
    }
}

function invalidValue(path: string, expected: string): ScimError {
    return ScimError.badRequest('invalidValue', `The value of '${path}' must be ${expected}`);
}
