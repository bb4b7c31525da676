/**
 * Reads the extension schemas an admin declares (`SCIM_SCHEMA_EXTENSIONS`, docs/schema-extensions.md): a
 * JSON array of schema definitions in the shape RFC 7643 §7 gives and `/Schemas` serves, each with the
 * resource type it extends:
 *
 *     [{ "id": "urn:ietf:params:scim:schemas:extension:alvao_tPersonCust:2.0:User", "name": "AlvaoPerson",
 *        "resourceType": "User", "attributes": [{ "name": "costCenterCode", "type": "string" }] }]
 *
 * Entra sends a custom attribute mapped as `urn:…:extension:<Name>:2.0:User:<attribute>` and never lists
 * the extension in `schemas` (docs/entra-protocol.md §14.2); once declared, such attributes are stored,
 * returned, filterable and patchable like built-in ones. Undeclared ones stay ignored (and logged by name).
 *
 * Everything is checked before the app serves a request: a definition that would be misread later (an
 * unknown type, a duplicate attribute, a URN that collides with another schema, a typo in a member name
 * that would silently fall back to a default) is a `SchemaExtensionError` naming the schema and the
 * attribute, never a surprise in production. Omitted characteristics take RFC 7643 §2.2's defaults.
 */
import { isPlainObject } from './isPlainObject';
import {
    CORE_SCHEMAS,
    type AttributeDefinition,
    type AttributeType,
    type Mutability,
    type ResourceTypeName,
    type Returned,
    type SchemaDefinition,
} from './schemas';
import type { SchemaExtension } from './schemaRegistry';

/** A declaration that cannot be served; the message names the schema and attribute, never a value. */
export class SchemaExtensionError extends Error {
    override name = 'SchemaExtensionError';
}

/** Limits that keep start-up and every attribute lookup cheap; far above any mapping seen in practice. */
export const MAX_DECLARED_SCHEMAS = 50;
export const MAX_ATTRIBUTES_PER_SCHEMA = 1000;

const TYPES: readonly AttributeType[] = ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'complex', 'binary'];
// writeOnly is left out: this service stores nothing it may not return (the core `password` is not stored at all).
const MUTABILITIES: readonly Mutability[] = ['readOnly', 'readWrite', 'immutable'];
const RETURNED: readonly Returned[] = ['always', 'never', 'default', 'request'];
const RESOURCE_TYPES: readonly ResourceTypeName[] = ['User', 'Group'];

/**
 * A URN (RFC 8141: `urn:<NID>:<NSS>`) whose specific part uses only the characters an attribute path in
 * a filter or PATCH path can carry (RFC 7644 §3.4.2.2, §3.10), so every declared attribute can be named.
 */
const URN = /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}(?::[A-Za-z0-9._-]+)+$/i;
const MAX_URN_LENGTH = 256;
/** ATTRNAME = ALPHA *(nameChar), nameChar = "-" / "_" / DIGIT / ALPHA (RFC 7643 §2.1). */
const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
/** Namespaces the RFCs keep for themselves: core schemas and protocol messages (RFC 7643 §3, RFC 7644 §3.1). */
const RESERVED_PREFIXES = ['urn:ietf:params:scim:schemas:core:', 'urn:ietf:params:scim:api:'];

const SCHEMA_MEMBERS = new Set(['id', 'name', 'description', 'resourceType', 'attributes', 'schemas', 'meta']);
const ATTRIBUTE_MEMBERS = new Set([
    'name', 'type', 'multiValued', 'description', 'required', 'caseExact', 'mutability', 'returned',
    'uniqueness', 'canonicalValues', 'referenceTypes', 'subAttributes',
]);

/** Parses and checks the setting's JSON text. An empty array declares nothing. */
export function readSchemaExtensions(text: string): SchemaExtension[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (error) {
        throw new SchemaExtensionError(`not valid JSON (${error instanceof SyntaxError ? error.message : 'parse error'})`);
    }
    if (!Array.isArray(parsed)) throw new SchemaExtensionError('expected a JSON array of schema definitions');
    if (parsed.length > MAX_DECLARED_SCHEMAS) throw new SchemaExtensionError(`at most ${MAX_DECLARED_SCHEMAS} schemas can be declared`);
    const extensions = parsed.map((definition, index) => readExtension(definition, `schema ${index + 1}`));
    checkUrnsDistinct(extensions.map((e) => e.schema.id));
    return extensions;
}

function readExtension(raw: unknown, where: string): SchemaExtension {
    if (!isPlainObject(raw)) throw new SchemaExtensionError(`${where}: expected an object`);
    checkMembers(raw, SCHEMA_MEMBERS, where);
    const id = raw.id;
    if (typeof id !== 'string' || id.length > MAX_URN_LENGTH || !URN.test(id)) {
        throw new SchemaExtensionError(`${where}: "id" must be a URN of at most ${MAX_URN_LENGTH} characters (letters, digits, '.', '_', '-' and ':'), such as urn:ietf:params:scim:schemas:extension:<Name>:2.0:User`);
    }
    const here = `schema '${id}'`;
    const reserved = RESERVED_PREFIXES.find((prefix) => id.toLowerCase().startsWith(prefix));
    if (reserved !== undefined) throw new SchemaExtensionError(`${here}: URNs starting with ${reserved} are reserved for the SCIM core schemas and messages`);
    const resourceType = RESOURCE_TYPES.find((r) => typeof raw.resourceType === 'string' && r.toLowerCase() === raw.resourceType.toLowerCase());
    if (resourceType === undefined) throw new SchemaExtensionError(`${here}: "resourceType" must be "User" or "Group"`);
    const name = raw.name;
    if (typeof name !== 'string' || name.trim() === '') throw new SchemaExtensionError(`${here}: "name" must be a non-empty string`);
    const description = optionalString(raw, 'description', here) ?? '';
    if (!Array.isArray(raw.attributes) || raw.attributes.length === 0) throw new SchemaExtensionError(`${here}: "attributes" must be a non-empty array`);
    if (raw.attributes.length > MAX_ATTRIBUTES_PER_SCHEMA) throw new SchemaExtensionError(`${here}: at most ${MAX_ATTRIBUTES_PER_SCHEMA} attributes per schema`);
    const attributes = readAttributes(raw.attributes, here, false);
    const schema: SchemaDefinition = { id, name, description, attributes };
    return { resourceType, schema };
}

function readAttributes(raws: unknown[], where: string, areSubAttributes: boolean): AttributeDefinition[] {
    const seen = new Map<string, string>();
    return raws.map((raw, index) => {
        const attribute = readAttribute(raw, `${where}, ${areSubAttributes ? 'sub-attribute' : 'attribute'} ${index + 1}`, where, areSubAttributes);
        const key = attribute.name.toLowerCase();
        const earlier = seen.get(key);
        // Attribute names are case-insensitive (RFC 7643 §2.1): `Code` and `code` are the same attribute.
        if (earlier !== undefined) throw new SchemaExtensionError(`${where}: duplicate attribute '${attribute.name}' (also declared as '${earlier}')`);
        seen.set(key, attribute.name);
        return attribute;
    });
}

function readAttribute(raw: unknown, position: string, schemaWhere: string, isSubAttribute: boolean): AttributeDefinition {
    if (!isPlainObject(raw)) throw new SchemaExtensionError(`${position}: expected an object`);
    const name = raw.name;
    if (typeof name !== 'string' || !ATTRIBUTE_NAME.test(name)) {
        throw new SchemaExtensionError(`${position}: "name" must start with a letter and hold only letters, digits, '_' and '-' (RFC 7643 §2.1)`);
    }
    const where = `${schemaWhere}, ${isSubAttribute ? 'sub-attribute' : 'attribute'} '${name}'`;
    checkMembers(raw, ATTRIBUTE_MEMBERS, where);
    const type = raw.type ?? 'string';
    if (typeof type !== 'string' || !TYPES.includes(type as AttributeType)) {
        throw new SchemaExtensionError(`${where}: unknown type '${typeof type === 'string' ? type : JSON.stringify(type)}' (one of ${TYPES.join(', ')})`);
    }
    const mutability = oneOf(raw, 'mutability', MUTABILITIES, 'readWrite', where);
    const definition: AttributeDefinition = {
        name,
        type: type as AttributeType,
        multiValued: optionalBoolean(raw, 'multiValued', where) ?? false,
        description: optionalString(raw, 'description', where) ?? '',
        required: optionalBoolean(raw, 'required', where) ?? false,
        caseExact: optionalBoolean(raw, 'caseExact', where) ?? false,
        mutability,
        returned: oneOf(raw, 'returned', RETURNED, 'default', where),
        // Uniqueness is enforced for userName and a group's displayName only (their index rows); declaring
        // it for another attribute would promise what no request checks.
        uniqueness: oneOf(raw, 'uniqueness', ['none'] as const, 'none', where),
    };
    const canonicalValues = optionalStrings(raw, 'canonicalValues', where);
    if (canonicalValues !== undefined) definition.canonicalValues = canonicalValues;
    const referenceTypes = optionalStrings(raw, 'referenceTypes', where);
    if (referenceTypes !== undefined) {
        if (definition.type !== 'reference') throw new SchemaExtensionError(`${where}: "referenceTypes" applies to type reference only`);
        definition.referenceTypes = referenceTypes;
    }
    if (definition.type === 'complex') {
        // RFC 7643 §2.3.8: a complex attribute's sub-attributes are not complex themselves.
        if (isSubAttribute) throw new SchemaExtensionError(`${where}: a sub-attribute cannot be complex (RFC 7643 §2.3.8)`);
        if (!Array.isArray(raw.subAttributes) || raw.subAttributes.length === 0) {
            throw new SchemaExtensionError(`${where}: a complex attribute needs a non-empty "subAttributes" array`);
        }
        if (raw.subAttributes.length > MAX_ATTRIBUTES_PER_SCHEMA) throw new SchemaExtensionError(`${where}: too many sub-attributes`);
        definition.subAttributes = readAttributes(raw.subAttributes, where, true);
    } else if (raw.subAttributes !== undefined) {
        throw new SchemaExtensionError(`${where}: "subAttributes" applies to type complex only`);
    }
    return definition;
}

/**
 * Two schemas are told apart by their URN in attribute paths (`<urn>:<attribute>`), in any letter case:
 * equal URNs, or one URN followed by `:` starting another, would make a path ambiguous.
 */
function checkUrnsDistinct(declared: string[]): void {
    const all = [...CORE_SCHEMAS.map((s) => ({ id: s.id, core: true })), ...declared.map((id) => ({ id, core: false }))];
    for (const [index, a] of all.entries()) {
        for (const b of all.slice(index + 1)) {
            const lowerA = a.id.toLowerCase();
            const lowerB = b.id.toLowerCase();
            if (lowerA === lowerB || lowerB.startsWith(lowerA + ':') || lowerA.startsWith(lowerB + ':')) {
                const what = a.core ? `the core schema ${a.id}` : `schema '${a.id}'`;
                throw new SchemaExtensionError(`schema '${b.id}': its URN collides with ${what}`);
            }
        }
    }
}

function checkMembers(raw: Record<string, unknown>, known: ReadonlySet<string>, where: string): void {
    for (const key of Object.keys(raw)) {
        if (known.has(key)) continue;
        const meant = [...known].find((k) => k.toLowerCase() === key.toLowerCase());
        throw new SchemaExtensionError(`${where}: unknown member "${key}"${meant === undefined ? '' : ` (did you mean "${meant}"?)`}`);
    }
}

function oneOf<T extends string>(raw: Record<string, unknown>, member: string, allowed: readonly T[], fallback: T, where: string): T {
    const value = raw[member];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !allowed.includes(value as T)) {
        throw new SchemaExtensionError(`${where}: "${member}" must be one of ${allowed.join(', ')}`);
    }
    return value as T;
}

function optionalBoolean(raw: Record<string, unknown>, member: string, where: string): boolean | undefined {
    const value = raw[member];
    if (value === undefined || typeof value === 'boolean') return value;
    throw new SchemaExtensionError(`${where}: "${member}" must be true or false`);
}

function optionalString(raw: Record<string, unknown>, member: string, where: string): string | undefined {
    const value = raw[member];
    if (value === undefined || typeof value === 'string') return value;
    throw new SchemaExtensionError(`${where}: "${member}" must be a string`);
}

function optionalStrings(raw: Record<string, unknown>, member: string, where: string): string[] | undefined {
    const value = raw[member];
    if (value === undefined) return undefined;
    if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) return value;
    throw new SchemaExtensionError(`${where}: "${member}" must be an array of strings`);
}
