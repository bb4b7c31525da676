/**
 * The schemas this deployment serves: the core schemas (schemas.ts) plus the extensions an admin declares
 * in `SCIM_SCHEMA_EXTENSIONS` (schemaExtensions.ts). Everything that interprets attributes looks them up
 * here — `/Schemas` and `/ResourceTypes`, the validator, projection, the filter (and its planner) and the
 * PATCH engine — so a declared attribute is validated, returned, filterable and patchable exactly like a
 * built-in one, with no special case anywhere.
 *
 * The registry is fixed at start-up: the composition root declares the extensions once
 * (`useSchemaExtensions`) before the first request is handled; until then, and in tests that declare
 * nothing, the core schemas alone are served. A registry never changes after it is built, so anything
 * derived from it (compiled validators, resolved PATCH targets) is cached per registry object
 * (`currentSchemas()`), and declaring other extensions simply starts new caches.
 */
import {
    COMMON_ATTRIBUTES,
    CORE_RESOURCE_TYPES,
    CORE_SCHEMAS,
    findByName,
    type AttributeDefinition,
    type AttributeReference,
    type ResolvedAttribute,
    type ResourceTypeDefinition,
    type ResourceTypeName,
    type SchemaDefinition,
} from './schemas';

/** A declared extension schema (RFC 7643 §3.3) and the resource type it extends. */
export interface SchemaExtension {
    resourceType: ResourceTypeName;
    schema: SchemaDefinition;
}

interface ResourceTypeSchemas {
    definition: ResourceTypeDefinition;
    core: SchemaDefinition;
    extensions: SchemaDefinition[];
    /** Common attributes (id, externalId, meta) then the core schema's: one stable array per registry. */
    coreAttributes: AttributeDefinition[];
}

export class SchemaRegistry {
    /** Every schema served, in the order `/Schemas` lists them: the core ones, then the declared ones. */
    readonly schemas: readonly SchemaDefinition[];
    readonly resourceTypes: readonly ResourceTypeDefinition[];
    /** The ids of `schemas`, in their own case. */
    readonly schemaIds: readonly string[];
    private readonly byType: ReadonlyMap<ResourceTypeName, ResourceTypeSchemas>;
    private readonly byId: ReadonlyMap<string, SchemaDefinition>;

    /** `extensions` must have passed `readSchemaExtensions` (ids unique, no collision with a core schema). */
    constructor(readonly extensions: readonly SchemaExtension[] = []) {
        this.schemas = [...CORE_SCHEMAS, ...extensions.map((e) => e.schema)];
        this.schemaIds = this.schemas.map((schema) => schema.id);
        this.byId = new Map(this.schemas.map((schema) => [schema.id.toLowerCase(), schema]));
        this.resourceTypes = CORE_RESOURCE_TYPES.map((resourceType) => ({
            ...resourceType,
            schemaExtensions: [
                ...resourceType.schemaExtensions,
                // RFC 7643 §6: a required extension is one the resource must include, with its required attributes.
                ...extensions
                    .filter((e) => e.resourceType === resourceType.id)
                    .map((e) => ({ schema: e.schema.id, required: e.schema.attributes.some((a) => a.required) })),
            ],
        }));
        this.byType = new Map(
            this.resourceTypes.map((definition) => {
                const core = this.byId.get(definition.schema.toLowerCase())!;
                const extensionSchemas = definition.schemaExtensions.map((e) => this.byId.get(e.schema.toLowerCase())!);
                return [definition.id, { definition, core, extensions: extensionSchemas, coreAttributes: [...COMMON_ATTRIBUTES, ...core.attributes] }];
            }),
        );
    }

    findSchema(id: string): SchemaDefinition | undefined {
        return this.byId.get(id.toLowerCase());
    }

    of(resourceType: ResourceTypeName): ResourceTypeSchemas {
        const found = this.byType.get(resourceType);
        if (found === undefined) throw new Error(`unknown resource type ${String(resourceType)}`);
        return found;
    }

    /**
     * Splits `urn:…:User:manager.value`, `name.givenName` or `userName` into an AttributeReference.
     * A URN prefix is recognised by the schemas served (attribute names never contain ':'); another URN
     * is split at its last colon.
     */
    parseAttributeReference(path: string): AttributeReference {
        let schema: string | undefined;
        let rest = path;
        if (path.toLowerCase().startsWith('urn:')) {
            const lower = path.toLowerCase();
            const known = this.schemas.find((s) => lower.startsWith(s.id.toLowerCase() + ':'));
            if (known) {
                schema = known.id;
                rest = path.slice(known.id.length + 1);
            } else {
                const lastColon = path.lastIndexOf(':');
                schema = path.slice(0, lastColon);
                rest = path.slice(lastColon + 1);
            }
        }
        const dot = rest.indexOf('.');
        if (dot < 0) return schema === undefined ? { attribute: rest } : { schema, attribute: rest };
        const reference: AttributeReference = { attribute: rest.slice(0, dot), subAttribute: rest.slice(dot + 1) };
        if (schema !== undefined) reference.schema = schema;
        return reference;
    }

    /**
     * Finds the definition of an attribute of a resource type, case-insensitively (RFC 7643 §2.1: attribute
     * names are case-insensitive): core and common attributes unqualified or qualified with the core URN,
     * extension attributes (built-in or declared) qualified with theirs. A bare extension URN
     * (`urn:…:enterprise:2.0:User`) is not an attribute; callers handle it. Undefined for attributes
     * outside the served schemas. Settings that name attributes (indexes) are checked with this too.
     */
    resolveAttribute(resourceType: ResourceTypeName, reference: AttributeReference): ResolvedAttribute | undefined {
        const schemas = this.of(resourceType);
        const wantedSchema = reference.schema?.toLowerCase();
        let candidates: readonly AttributeDefinition[];
        let extension: string | undefined;
        if (wantedSchema === undefined || wantedSchema === schemas.core.id.toLowerCase()) {
            candidates = schemas.coreAttributes;
        } else {
            const schema = schemas.extensions.find((e) => e.id.toLowerCase() === wantedSchema);
            if (!schema) return undefined;
            candidates = schema.attributes;
            extension = schema.id;
        }
        const definition = findByName(candidates, reference.attribute);
        if (!definition) return undefined;
        const resolved: ResolvedAttribute = { definition };
        if (extension !== undefined) resolved.extension = extension;
        if (reference.subAttribute !== undefined) {
            const subDefinition = findByName(definition.subAttributes ?? [], reference.subAttribute);
            if (!subDefinition) return undefined;
            resolved.subDefinition = subDefinition;
        }
        return resolved;
    }
}

let current = new SchemaRegistry();

/** The registry requests are served with. */
export function currentSchemas(): SchemaRegistry {
    return current;
}

/**
 * Serves the core schemas plus these extensions from now on (the composition root, once at start-up;
 * tests that declare extensions, and `[]` to go back to the core schemas).
 */
export function useSchemaExtensions(extensions: readonly SchemaExtension[]): SchemaRegistry {
    current = new SchemaRegistry(extensions);
    return current;
}

// ---- lookups, all against the current registry

export function findSchema(id: string): SchemaDefinition | undefined {
    return current.findSchema(id);
}

export function resourceTypeDefinition(resourceType: ResourceTypeName): ResourceTypeDefinition {
    return current.of(resourceType).definition;
}

/** The core schema and the extension schemas of a resource type, core first. */
export function schemasOf(resourceType: ResourceTypeName): { core: SchemaDefinition; extensions: readonly SchemaDefinition[] } {
    return current.of(resourceType);
}

/** The extension schema of a resource type with this id (any letter case), if there is one. */
export function extensionOf(resourceType: ResourceTypeName, id: string): SchemaDefinition | undefined {
    const wanted = id.toLowerCase();
    return current.of(resourceType).extensions.find((e) => e.id.toLowerCase() === wanted);
}

/** The attributes of a resource type's core schema plus the common attributes (id, externalId, meta). */
export function coreAttributes(resourceType: ResourceTypeName): readonly AttributeDefinition[] {
    return current.of(resourceType).coreAttributes;
}

/** The schema ids served, in their own case (the filter parser splits them off attribute paths). */
export function servedSchemaIds(): readonly string[] {
    return current.schemaIds;
}

/** See `SchemaRegistry.parseAttributeReference`; against the current registry. */
export function parseAttributeReference(path: string): AttributeReference {
    return current.parseAttributeReference(path);
}

/** See `SchemaRegistry.resolveAttribute`; against the current registry. */
export function resolveAttribute(resourceType: ResourceTypeName, reference: AttributeReference): ResolvedAttribute | undefined {
    return current.resolveAttribute(resourceType, reference);
}
