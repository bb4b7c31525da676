/**
 * The one type check (RFC 7643 §2.3): each attribute definition of the schema registry becomes a JSON
 * Schema, compiled with ajv, and every value a client sends — a POST/PUT resource (validation.ts), a
 * PATCH value (patchValues.ts, patchTargets.ts) — goes through that compiled validator. This is the only
 * module that imports ajv.
 *
 * Validators are compiled lazily, on an attribute's first use, and cached per registry object
 * (`currentSchemas()`, see schemaRegistry.ts): declaring other extensions starts a new cache.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ScimError } from './errors';
import type { AttributeDefinition } from './schemas';
import { currentSchemas, type SchemaRegistry } from './schemaRegistry';

/** A JSON Schema node, annotated with what the message says the value must be. */
export interface AttributeJsonSchema {
    type: 'string' | 'boolean' | 'integer' | 'number' | 'object' | 'array';
    /** The words after "must be" in the 400 message for a value this node refuses. */
    scimExpected: string;
    format?: typeof XSD_DATE_TIME_FORMAT;
    properties?: Record<string, AttributeJsonSchema>;
    items?: AttributeJsonSchema;
}

const XSD_DATE_TIME_FORMAT = 'xsd-dateTime';

/**
 * xsd:dateTime (RFC 7643 §2.3.5), e.g. `2008-01-23T04:56:22Z`: date, `T`, time with optional fraction and
 * optional zone. `Date.parse` alone would take `2008` or `Jan 23 2008`.
 */
const XSD_DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/;

function isDateTime(text: string): boolean {
    return XSD_DATE_TIME.test(text) && !Number.isNaN(Date.parse(text));
}

/**
 * The JSON Schema of an attribute (RFC 7643 §2.3 types; §2.4 multi-valued attributes are arrays of
 * them). Sub-attributes outside the definition are allowed (JSON Schema's default): they are tolerated
 * (docs/entra-protocol.md §5.2).
 */
export function attributeJsonSchema(definition: AttributeDefinition): AttributeJsonSchema {
    const single = singleValueSchema(definition);
    return definition.multiValued ? { type: 'array', scimExpected: 'an array', items: single } : single;
}

function singleValueSchema(definition: AttributeDefinition): AttributeJsonSchema {
    switch (definition.type) {
        case 'string':
        case 'reference':
        case 'binary':
            return { type: 'string', scimExpected: 'a string' };
        case 'dateTime':
            return { type: 'string', format: XSD_DATE_TIME_FORMAT, scimExpected: 'an xsd:dateTime string' };
        case 'boolean':
            return { type: 'boolean', scimExpected: 'a boolean' };
        case 'integer':
            return { type: 'integer', scimExpected: 'an integer' };
        case 'decimal':
            return { type: 'number', scimExpected: 'a number' };
        case 'complex': {
            const properties: Record<string, AttributeJsonSchema> = {};
            for (const sub of definition.subAttributes ?? []) properties[sub.name] = attributeJsonSchema(sub);
            return { type: 'object', scimExpected: 'an object', properties };
        }
    }
}

interface CompiledAttributes {
    ajv: Ajv;
    validators: Map<AttributeDefinition, ValidateFunction>;
}

const compiledByRegistry = new WeakMap<SchemaRegistry, CompiledAttributes>();

function newAjv(): Ajv {
    // strictNumbers: NaN and Infinity are not numbers (JSON has neither). verbose: the error carries the
    // schema node it failed, whose `scimExpected` words the message.
    // allErrors: with several offences, the one named is the first in the value's own order (below).
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictNumbers: true, strictTypes: true });
    ajv.addKeyword({ keyword: 'scimExpected', schemaType: 'string' });
    ajv.addFormat(XSD_DATE_TIME_FORMAT, { type: 'string', validate: isDateTime });
    return ajv;
}

/** The compiled validator of a definition, for the current registry (compiled on first use). */
export function attributeValidator(definition: AttributeDefinition): ValidateFunction {
    const registry = currentSchemas();
    let compiled = compiledByRegistry.get(registry);
    if (compiled === undefined) {
        compiled = { ajv: newAjv(), validators: new Map() };
        compiledByRegistry.set(registry, compiled);
    }
    let validator = compiled.validators.get(definition);
    if (validator === undefined) {
        validator = compiled.ajv.compile(attributeJsonSchema(definition));
        compiled.validators.set(definition, validator);
    }
    return validator;
}

/**
 * Throws 400 `invalidValue` unless a canonical value (see `canonicalizeAttributeValue`) has the type its
 * definition says (RFC 7643 §2.3). `path` names the attribute in the message; the value never appears
 * there, as it may be personal data.
 */
export function checkAttributeValue(definition: AttributeDefinition, value: unknown, path: string): void {
    const validate = attributeValidator(definition);
    if (validate(value)) return;
    const error = firstInValueOrder(validate.errors!, value);
    throw ScimError.badRequest('invalidValue', `The value of '${path}${pathSuffix(error)}' must be ${expectedOf(error)}`);
}

/**
 * The offence met first when walking the value as sent (elements by index, sub-attributes in the order
 * the client wrote them), so the message does not depend on the order of the schema definitions.
 */
function firstInValueOrder(errors: readonly ErrorObject[], value: unknown): ErrorObject {
    let first = errors[0]!;
    for (const error of errors.slice(1)) {
        if (comesBefore(error.instancePath, first.instancePath, value)) first = error;
    }
    return first;
}

function comesBefore(path: string, other: string, value: unknown): boolean {
    const a = path.split('/').slice(1);
    const b = other.split('/').slice(1);
    let node = value;
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
        if (a[i] !== b[i]) {
            const keys = Array.isArray(node) ? null : Object.keys(node as object);
            const rank = (segment: string) => (keys === null ? Number(segment) : keys.indexOf(segment));
            return rank(a[i]!) < rank(b[i]!);
        }
        node = (node as Record<string, unknown>)[a[i]!];
    }
    // One path contains the other: the container was checked first.
    return a.length < b.length;
}

/** `/1/value` → `[1].value`: array elements by index, sub-attributes by name (which hold no `/` or `~`). */
function pathSuffix(error: ErrorObject): string {
    return error.instancePath
        .split('/')
        .slice(1)
        .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
        .join('');
}

function expectedOf(error: ErrorObject): string {
    const node = error.parentSchema as AttributeJsonSchema | undefined;
    return node?.scimExpected ?? 'of its schema type';
}
