/**
 * The core schema definitions (RFC 7643 §2, §4, §7, §8.7.1): the single source of truth for attribute
 * types, case sensitivity, mutability and what is returned. `/Schemas` serves these objects as they are;
 * with the extensions an admin declares they make up the schema registry (schemaRegistry.ts), through
 * which the validator, projection, the filter and the PATCH engine read them.
 *
 * They describe every attribute of Entra's default user and group mappings for ALVAO
 * (docs/entra-protocol.md §5.2): Entra's schema discovery flattens `/Schemas` and fails on a missing one (§4).
 */

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';
export type Uniqueness = 'none' | 'server' | 'global';

/** An attribute definition exactly as RFC 7643 §7 describes it on the wire. */
export interface AttributeDefinition {
    name: string;
    type: AttributeType;
    multiValued: boolean;
    description: string;
    required: boolean;
    caseExact: boolean;
    mutability: Mutability;
    returned: Returned;
    uniqueness: Uniqueness;
    canonicalValues?: string[];
    referenceTypes?: string[];
    subAttributes?: AttributeDefinition[];
}

export interface SchemaDefinition {
    id: string;
    name: string;
    description: string;
    attributes: AttributeDefinition[];
}

export type ResourceTypeName = 'User' | 'Group';

export interface ResourceTypeDefinition {
    id: ResourceTypeName;
    name: ResourceTypeName;
    endpoint: '/Users' | '/Groups';
    description: string;
    schema: string;
    schemaExtensions: { schema: string; required: boolean }[];
}

// ---- builders: defaults are RFC 7643 §2.2's ("required false, caseExact false, mutability readWrite,
// returned default, uniqueness none, type string") so each definition below states only what differs.

type AttributeOptions = Partial<Omit<AttributeDefinition, 'name' | 'description'>>;

function attribute(name: string, description: string, options: AttributeOptions = {}): AttributeDefinition {
    return {
        name,
        type: 'string',
        multiValued: false,
        description,
        required: false,
        caseExact: false,
        mutability: 'readWrite',
        returned: 'default',
        uniqueness: 'none',
        ...options,
    };
}

function complex(name: string, description: string, subAttributes: AttributeDefinition[], options: AttributeOptions = {}) {
    return attribute(name, description, { ...options, type: 'complex', subAttributes });
}

/** The usual shape of a multi-valued complex attribute: value, display, type, primary (RFC 7643 §2.4). */
function multiValued(name: string, description: string, types: string[], valueOptions: AttributeOptions = {}) {
    return complex(
        name,
        description,
        [
            attribute('value', `The ${name} value.`, valueOptions),
            attribute('display', 'A human-readable name, primarily used for display purposes.'),
            attribute('type', `A label indicating the ${name}'s function.`, { canonicalValues: types }),
            attribute('primary', 'Indicates the preferred value for this attribute.', { type: 'boolean' }),
        ],
        { multiValued: true },
    );
}

// ---- common attributes (RFC 7643 §3.1): part of every resource, defined once here.

export const ID_ATTRIBUTE = attribute('id', 'Unique identifier for the resource, assigned by the service provider.', {
    caseExact: true,
    mutability: 'readOnly',
    returned: 'always',
    uniqueness: 'server',
});

export const EXTERNAL_ID_ATTRIBUTE = attribute('externalId', 'Identifier of the resource as defined by the provisioning client.', {
    caseExact: true,
});

export const META_ATTRIBUTE = complex(
    'meta',
    'Resource metadata.',
    [
        attribute('resourceType', 'The name of the resource type of the resource.', { caseExact: true, mutability: 'readOnly' }),
        attribute('created', 'The date and time the resource was added.', { type: 'dateTime', mutability: 'readOnly' }),
        attribute('lastModified', 'The most recent date and time the resource was modified.', { type: 'dateTime', mutability: 'readOnly' }),
        attribute('location', 'The URI of the resource being returned.', { type: 'reference', referenceTypes: ['uri'], caseExact: true, mutability: 'readOnly' }),
        attribute('version', 'The version (ETag) of the resource being returned.', { caseExact: true, mutability: 'readOnly' }),
    ],
    // Always returned, like id (issue: `id`, `schemas`, `meta` survive any `attributes` projection).
    { mutability: 'readOnly', returned: 'always' },
);

/** The common attributes (RFC 7643 §3.1) every resource has beside its core schema's. */
export const COMMON_ATTRIBUTES: readonly AttributeDefinition[] = [ID_ATTRIBUTE, EXTERNAL_ID_ATTRIBUTE, META_ATTRIBUTE];

/**
 * A user's roles (RFC 7643 §4.1.2). Entra provisions app roles into it in three shapes (roles.ts,
 * docs/entra-protocol.md §14.3); filters such as `roles[value eq "Admin"]` read it like any attribute.
 */
export const ROLES_ATTRIBUTE = multiValued('roles', 'A list of roles for the User.', []);

// ---- core User (RFC 7643 §4.1, §8.7.1)

const userSchema: SchemaDefinition = {
    id: USER_SCHEMA,
    name: 'User',
    description: 'User Account',
    attributes: [
        attribute('userName', 'Unique identifier for the User, used by the user to authenticate.', { required: true, uniqueness: 'server' }),
        complex('name', "The components of the user's real name.", [
            attribute('formatted', 'The full name, formatted for display.'),
            attribute('familyName', 'The family name of the User.'),
            attribute('givenName', 'The given name of the User.'),
            attribute('middleName', 'The middle name(s) of the User.'),
            attribute('honorificPrefix', 'The honorific prefix(es) of the User.'),
            attribute('honorificSuffix', 'The honorific suffix(es) of the User.'),
        ]),
        attribute('displayName', 'The name of the User, suitable for display to end-users.'),
        attribute('nickName', 'The casual way to address the user.'),
        attribute('profileUrl', "A fully qualified URL pointing to a page representing the User's online profile.", { type: 'reference', referenceTypes: ['external'] }),
        attribute('title', "The user's title, such as 'Vice President'."),
        attribute('userType', 'Used to identify the relationship between the organization and the user.'),
        attribute('preferredLanguage', "The User's preferred written or spoken language."),
        attribute('locale', "The User's default location for localizing items."),
        attribute('timezone', "The User's time zone in the 'Olson' time zone database format."),
        attribute('active', "A Boolean value indicating the User's administrative status.", { type: 'boolean' }),
        attribute('password', "The User's cleartext password.", { mutability: 'writeOnly', returned: 'never' }),
        multiValued('emails', 'Email addresses for the user.', ['work', 'home', 'other']),
        multiValued('phoneNumbers', 'Phone numbers for the User.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
        multiValued('ims', 'Instant messaging addresses for the User.', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
        multiValued('photos', 'URLs of photos of the User.', ['photo', 'thumbnail'], { type: 'reference', referenceTypes: ['external'] }),
        complex(
            'addresses',
            'A physical mailing address for this User.',
            [
                attribute('formatted', 'The full mailing address, formatted for display.'),
                attribute('streetAddress', 'The full street address component.'),
                attribute('locality', 'The city or locality component.'),
                attribute('region', 'The state or region component.'),
                attribute('postalCode', 'The zip code or postal code component.'),
                attribute('country', 'The country name component.'),
                attribute('type', "A label indicating the address's function.", { canonicalValues: ['work', 'home', 'other'] }),
                attribute('primary', 'Indicates the preferred address.', { type: 'boolean' }),
            ],
            { multiValued: true },
        ),
        complex(
            'groups',
            'A list of groups to which the user belongs (derived from group membership).',
            [
                attribute('value', 'The identifier of the User\'s group.', { mutability: 'readOnly' }),
                attribute('$ref', 'The URI of the corresponding Group resource.', { type: 'reference', referenceTypes: ['Group'], mutability: 'readOnly' }),
                attribute('display', "A human-readable name, primarily used for display purposes.", { mutability: 'readOnly' }),
                attribute('type', 'A label indicating the membership: direct or indirect.', { canonicalValues: ['direct', 'indirect'], mutability: 'readOnly' }),
            ],
            // Returned only on request: it is derived from membership edges, and reading them on every user
            // GET would double the cost of Entra's hottest call for an attribute Entra never reads.
            { multiValued: true, mutability: 'readOnly', returned: 'request' },
        ),
        multiValued('entitlements', 'A list of entitlements for the User.', []),
        ROLES_ATTRIBUTE,
        multiValued('x509Certificates', 'A list of certificates issued to the User.', [], { type: 'binary' }),
    ],
};

// ---- enterprise User extension (RFC 7643 §4.3)

const enterpriseUserSchema: SchemaDefinition = {
    id: ENTERPRISE_USER_SCHEMA,
    name: 'EnterpriseUser',
    description: 'Enterprise User',
    attributes: [
        attribute('employeeNumber', 'Numeric or alphanumeric identifier assigned to a person.'),
        attribute('costCenter', 'Identifies the name of a cost center.'),
        attribute('organization', 'Identifies the name of an organization.'),
        attribute('division', 'Identifies the name of a division.'),
        attribute('department', 'Identifies the name of a department.'),
        complex('manager', "The User's manager.", [
            attribute('value', 'The id of the SCIM resource representing the User\'s manager.', { caseExact: true }),
            attribute('$ref', 'The URI of the SCIM resource representing the User\'s manager.', { type: 'reference', referenceTypes: ['User'] }),
            attribute('displayName', "The displayName of the User's manager.", { mutability: 'readOnly' }),
        ]),
    ],
};

// ---- core Group (RFC 7643 §4.2)

const groupSchema: SchemaDefinition = {
    id: GROUP_SCHEMA,
    name: 'Group',
    description: 'Group',
    attributes: [
        // Entra matches groups by displayName, so it is unique here (docs/entra-protocol.md §6), case-insensitively.
        attribute('displayName', 'A human-readable name for the Group.', { required: true, uniqueness: 'server' }),
        complex(
            'members',
            'A list of members of the Group.',
            [
                attribute('value', 'Identifier of the member of this Group.', { caseExact: true, mutability: 'immutable' }),
                attribute('$ref', 'The URI of the corresponding member resource.', { type: 'reference', referenceTypes: ['User', 'Group'], mutability: 'immutable' }),
                attribute('display', 'A human-readable name for the member.', { mutability: 'readOnly' }),
                attribute('type', 'The type of the member.', { canonicalValues: ['User', 'Group'], mutability: 'immutable' }),
            ],
            { multiValued: true },
        ),
    ],
};

/** The core schemas (RFC 7643 §4), in the order `/Schemas` lists them; declared extensions follow (schemaRegistry.ts). */
export const CORE_SCHEMAS: readonly SchemaDefinition[] = [userSchema, enterpriseUserSchema, groupSchema];

/** The resource types (RFC 7643 §6) with their built-in extensions; declared extensions are added by schemaRegistry.ts. */
export const CORE_RESOURCE_TYPES: readonly ResourceTypeDefinition[] = [
    {
        id: 'User',
        name: 'User',
        endpoint: '/Users',
        description: 'User Account',
        schema: USER_SCHEMA,
        schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
    },
    {
        id: 'Group',
        name: 'Group',
        endpoint: '/Groups',
        description: 'Group',
        schema: GROUP_SCHEMA,
        schemaExtensions: [],
    },
];

/**
 * An attribute reference as it appears in filters, PATCH paths and `attributes=` lists, split into its parts.
 * `urn:…:enterprise:2.0:User:manager.value` → `{ schema: 'urn:…:enterprise:2.0:User', attribute: 'manager', subAttribute: 'value' }`.
 */
export interface AttributeReference {
    /** The schema URN when the path was URN-qualified; undefined for unqualified paths. */
    schema?: string;
    attribute: string;
    subAttribute?: string;
}

/** Where an attribute lives: `extension` is the URN key of the extension object, or undefined for the core schema. */
export interface ResolvedAttribute {
    definition: AttributeDefinition;
    /** Undefined for core and common attributes; the extension URN for extension attributes. */
    extension?: string;
    /** The sub-attribute's definition when the reference named one. */
    subDefinition?: AttributeDefinition;
}

/**
 * The attribute named `name` in any letter case (RFC 7643 §2.1). Long lists (a declared extension may
 * hold hundreds of attributes) are indexed once; definitions are never modified after they are built.
 */
export function findByName(attributes: readonly AttributeDefinition[], name: string): AttributeDefinition | undefined {
    const wanted = name.toLowerCase();
    if (attributes.length <= INDEXED_LIST_LENGTH) return attributes.find((a) => a.name.toLowerCase() === wanted);
    let index = nameIndexes.get(attributes);
    if (index === undefined) {
        index = new Map(attributes.map((a) => [a.name.toLowerCase(), a]));
        nameIndexes.set(attributes, index);
    }
    return index.get(wanted);
}

const INDEXED_LIST_LENGTH = 16;
const nameIndexes = new WeakMap<readonly AttributeDefinition[], Map<string, AttributeDefinition>>();
