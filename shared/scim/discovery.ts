/**
 * The discovery resources (RFC 7643 §5–7, RFC 7644 §4): ServiceProviderConfig, ResourceTypes, Schemas.
 * All three are views of the schema registry (schemaRegistry.ts: the core schemas and the declared
 * extensions), never copies of it.
 */
import { ScimError } from './errors';
import { DEFAULT_PAGE_SIZE, listResponse, MAX_PAGE_SIZE, type ListResponse } from './listResponse';
import { MAX_REQUEST_BODY_BYTES } from './request';
import { EXTERNAL_ID_ATTRIBUTE, type ResourceTypeDefinition, type SchemaDefinition } from './schemas';
import { currentSchemas } from './schemaRegistry';

const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export function serviceProviderConfig(baseUrl: string): Record<string, unknown> {
    return {
        schemas: [SERVICE_PROVIDER_CONFIG_SCHEMA],
        documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
        patch: { supported: true },
        // Entra never uses /Bulk (docs/entra-protocol.md §4).
        bulk: { supported: false, maxOperations: 0, maxPayloadSize: MAX_REQUEST_BODY_BYTES },
        filter: { supported: true, maxResults: MAX_PAGE_SIZE },
        // RFC 9865: cursor paging besides index paging, which stays the default (Entra pages by index,
        // docs/entra-protocol.md §7, §14.7). A cursor is a position in id order and never expires; a day is promised.
        pagination: {
            cursor: true,
            index: true,
            defaultPaginationMethod: 'index',
            defaultPageSize: DEFAULT_PAGE_SIZE,
            maxPageSize: MAX_PAGE_SIZE,
            cursorTimeout: 86_400,
        },
        changePassword: { supported: false },
        sort: { supported: false },
        etag: { supported: true },
        authenticationSchemes: [
            {
                type: 'oauthbearertoken',
                name: 'OAuth Bearer Token',
                description: 'The Secret Token configured in Microsoft Entra provisioning, sent as a bearer token.',
                specUri: 'https://www.rfc-editor.org/info/rfc6750',
                primary: true,
            },
        ],
        meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
    };
}

function resourceTypeResource(definition: ResourceTypeDefinition, baseUrl: string): Record<string, unknown> {
    return {
        schemas: [RESOURCE_TYPE_SCHEMA],
        ...definition,
        meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${definition.id}` },
    };
}

/**
 * RFC 7643 §3.1 allows a schema to list common attributes "for backward compatibility"; we list
 * `externalId` in the core schemas because Entra's schema discovery looks for every mapped attribute
 * there (externalId is a matching attribute of the ALVAO mapping, docs/entra-protocol.md §4, §5.2).
 */
function schemaResource(schema: SchemaDefinition, baseUrl: string): Record<string, unknown> {
    const isCore = currentSchemas().resourceTypes.some((r) => r.schema === schema.id);
    return {
        schemas: [SCHEMA_SCHEMA],
        id: schema.id,
        name: schema.name,
        description: schema.description,
        attributes: isCore ? [EXTERNAL_ID_ATTRIBUTE, ...schema.attributes] : schema.attributes,
        meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
    };
}

export function resourceTypes(baseUrl: string, id?: string): ListResponse<unknown> | Record<string, unknown> {
    const { resourceTypes } = currentSchemas();
    if (id === undefined) {
        const resources = resourceTypes.map((r) => resourceTypeResource(r, baseUrl));
        return listResponse(resources, resources.length);
    }
    const found = resourceTypes.find((r) => r.id.toLowerCase() === id.toLowerCase());
    if (!found) throw ScimError.notFound('Resource type not found');
    return resourceTypeResource(found, baseUrl);
}

export function schemas(baseUrl: string, id?: string): ListResponse<unknown> | Record<string, unknown> {
    const registry = currentSchemas();
    if (id === undefined) {
        const resources = registry.schemas.map((s) => schemaResource(s, baseUrl));
        return listResponse(resources, resources.length);
    }
    const found = registry.findSchema(id);
    if (!found) throw ScimError.notFound('Schema not found');
    return schemaResource(found, baseUrl);
}
