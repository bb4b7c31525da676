/**
 * Validates a resource against the schema definitions of the registry (core schemas and declared
 * extensions) with the one type check there is, `checkAttributeValue` (attributeTypeCheck.ts, RFC 7643
 * §2.3): each attribute's value goes through the ajv validator compiled from its definition, the same the
 * PATCH engine applies to each value it sets. What ajv does not express as a type (presence, non-empty,
 * the extension object itself) is checked here, in definition order, so the first offence is named.
 *
 * What is checked: the writable attributes of the core schema and of each extension have their types,
 * multi-valued attributes are arrays of at most `MAX_ATTRIBUTE_ELEMENTS` values (multiValuedElements.ts),
 * required attributes are present and non-empty. What is tolerated,
 * because Entra sends it (docs/entra-protocol.md §5.2): unknown attributes and schema URIs, and `null`s
 * (dropped before validation by `canonicalizeResource`). ReadOnly attributes (id, meta, groups) are not the
 * client's to set and are ignored on input (RFC 7644 §3.3).
 */
import { checkAttributeValue } from './attributeTypeCheck';
import { checkElementCount } from './multiValuedElements';
import { isPlainObject } from './isPlainObject';
import { ScimError } from './errors';
import type { AttributeDefinition, ResourceTypeName } from './schemas';
import { coreAttributes, schemasOf } from './schemaRegistry';

/**
 * Throws 400 `invalidValue` naming the first offending attribute (never its value: it may be personal
 * data). `resource` is canonical (see `canonicalizeResource`): attribute names in schema case.
 */
export function validateResource(resourceType: ResourceTypeName, resource: Record<string, unknown>): void {
    checkAttributes(coreAttributes(resourceType), resource, (name) => name);
    for (const extension of schemasOf(resourceType).extensions) {
        const value = resource[extension.id];
        if (value === undefined) {
            // RFC 7643 §6: an extension with required attributes is a required extension.
            if (extension.attributes.some((a) => a.required && a.mutability !== 'readOnly')) {
                throw ScimError.badRequest('invalidValue', `Attribute '${extension.id}' is required`);
            }
            continue;
        }
        if (!isPlainObject(value)) throw ScimError.badRequest('invalidValue', `Attribute '${extension.id}' must be an object`);
        checkAttributes(extension.attributes, value, (name) => `${extension.id}:${name}`);
    }
}

function checkAttributes(definitions: readonly AttributeDefinition[], container: Record<string, unknown>, pathOf: (name: string) => string): void {
    for (const definition of definitions) {
        if (definition.mutability === 'readOnly') continue;
        const path = pathOf(definition.name);
        const value = container[definition.name];
        if (value === undefined) {
            if (definition.required) throw ScimError.badRequest('invalidValue', `Attribute '${path}' is required`);
            continue;
        }
        if (definition.multiValued && Array.isArray(value)) checkElementCount(value.length, path);
        checkAttributeValue(definition, value, path);
        // An empty userName or displayName cannot be matched or made unique.
        if (definition.required && value === '') throw ScimError.badRequest('invalidValue', `Attribute '${path}' must not be empty`);
    }
}
