/**
 * Validates resources against the schema definitions with ajv: the JSON Schemas below are compiled from
 * `schemas.ts`, not written by hand, so a definition change is a validation change.
 *
 * What is checked: attribute types (RFC 7643 §2.3), multi-valued attributes are arrays, required
 * attributes are present and non-empty. What is tolerated, because Entra sends it (docs/entra-protocol.md §5.2):
 * unknown attributes and schema URIs, and `null`s (dropped before validation by `canonicalizeResource`).
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ScimError } from './errors';
import type { AttributeDefinition, ResourceTypeName } from './schemas';
import { coreAttributes, currentSchemas, schemasOf, type SchemaRegistry } from './schemaRegistry';

type JsonSchema = Record<string, unknown>;

function jsonSchemaOf(definition: AttributeDefinition): JsonSchema {
    const single = singleValueSchema(definition);
    return definition.multiValued ? { type: 'array', items: single } : single;
}

function singleValueSchema(definition: AttributeDefinition): JsonSchema {
    switch (definition.type) {
        case 'boolean':
            return { type: 'boolean' };
        case 'integer':
            return { type: 'integer' };
        case 'decimal':
            return { type: 'number' };
        case 'dateTime':
            return { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T' };
        case 'complex':
            return {
                type: 'object',
                properties: Object.fromEntries((definition.subAttributes ?? []).map((sub) => [sub.name, jsonSchemaOf(sub)])),
            };
        default:
            return { type: 'string' };
    }
}

/** Writable attributes only: readOnly ones (id, meta, groups) are dropped before validation, per RFC 7644 §3.3. */
function resourceSchema(resourceType: ResourceTypeName): JsonSchema {
    const attributes = coreAttributes(resourceType).filter((a) => a.mutability !== 'readOnly');
    const properties: Record<string, JsonSchema> = objectProperties(attributes);
    const required = requiredNames(attributes);
    for (const extension of schemasOf(resourceType).extensions) {
        const writable = extension.attributes.filter((a) => a.mutability !== 'readOnly');
        const extensionRequired = requiredNames(writable);
        properties[extension.id] = { type: 'object', properties: objectProperties(writable), required: extensionRequired };
        // RFC 7643 §6: an extension with required attributes is a required extension.
        if (extensionRequired.length > 0) required.push(extension.id);
    }
    return { type: 'object', properties, required };
}

/** Required strings must also be non-empty: an empty userName cannot be matched or made unique. */
function objectProperties(attributes: readonly AttributeDefinition[]): Record<string, JsonSchema> {
    return Object.fromEntries(attributes.map((a) => [a.name, a.required && a.type === 'string' && !a.multiValued ? { ...jsonSchemaOf(a), minLength: 1 } : jsonSchemaOf(a)]));
}

function requiredNames(attributes: readonly AttributeDefinition[]): string[] {
    return attributes.filter((a) => a.required).map((a) => a.name);
}

const ajv = new Ajv({ allErrors: false, strict: false });
/** Compiled once per resource type of each schema registry (declared extensions are part of the schema). */
const validators = new WeakMap<SchemaRegistry, Map<ResourceTypeName, ValidateFunction>>();

function validatorFor(resourceType: ResourceTypeName): ValidateFunction {
    const registry = currentSchemas();
    let byType = validators.get(registry);
    if (!byType) {
        byType = new Map();
        validators.set(registry, byType);
    }
    let validate = byType.get(resourceType);
    if (!validate) {
        validate = ajv.compile(resourceSchema(resourceType));
        byType.set(resourceType, validate);
    }
    return validate;
}

/**
 * Throws 400 `invalidValue` naming the first offending attribute (never its value: it may be personal
 * data). `resource` is canonical (see `canonicalizeResource`).
 */
export function validateResource(resourceType: ResourceTypeName, resource: Record<string, unknown>): void {
    const validate = validatorFor(resourceType);
    if (validate(resource)) return;
    throw ScimError.badRequest('invalidValue', describe(validate.errors?.[0]));
}

function describe(error: ErrorObject | undefined): string {
    if (!error) return 'The resource is not valid';
    if (error.keyword === 'required') return `Attribute '${String(error.params.missingProperty)}' is required`;
    const path = error.instancePath
        .split('/')
        .filter((p) => p !== '')
        .map((p, index) => {
            if (/^\d+$/.test(p)) return `[${p}]`;
            // An extension attribute is named the way paths name it: `urn:…:User:attribute` (RFC 7644 §3.10).
            const separator = index === 1 && /^\/urn:/i.test(error.instancePath) ? ':' : '.';
            return `${separator}${p.replace(/~1/g, '/').replace(/~0/g, '~')}`;
        })
        .join('')
        .replace(/^\./, '');
    if (error.keyword === 'minLength') return `Attribute '${path}' must not be empty`;
    return `Attribute '${path || 'resource'}' ${error.message ?? 'is not valid'}`;
}
