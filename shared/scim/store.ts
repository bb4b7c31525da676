/**
 * The storage port of the protocol: the resource types the SCIM handlers work with and the store interface
 * they call. It lives on the protocol side so that `shared/scim` depends on no storage code; the one
 * implementation, `TableResourceStore` (shared/store, Azure Table Storage), depends on this file instead.
 * The key design is documented in docs/storage.md.
 *
 * Users and Groups go through the same methods; membership edges are the only group-specific part.
 * Errors: what a client can act on is thrown as a `StoreError` (storeErrors.ts) — `uniqueness`, `notFound`,
 * `versionConflict`, `tooLarge`, `invalidChange` (a member that does not exist), `throttled` (storage shedding
 * load) or `unavailable` (storage down, timing out), both with a retry-after; anything else is unexpected.
 */
import type { IndexLookup } from './queryPlan';
import type { ResourceTypeName } from './schemas';

/** A SCIM resource as JSON: core attributes at the top level, extension attributes under their URN key. */
export type ScimResource = Record<string, unknown>;

export interface StoredResource {
    resourceType: ResourceTypeName;
    id: string;
    /**
     * The resource's attributes as stored: everything the client sent (after validation), without `id`,
     * `meta`, group `members` or user `groups` (those two are edges).
     */
    attributes: ScimResource;
    /** ISO 8601 timestamps for meta.created / meta.lastModified. */
    created: string;
    lastModified: string;
    /**
     * Opaque version, different after every write to the resource, membership changes included. The
     * handlers expose it as `meta.version` and the `ETag` header, and pass it back as `expectedVersion`.
     */
    version: string;
}

/**
 * An equality index as the store keeps it: defined by the protocol (shared/scim/attributeIndexes.ts, which
 * also plans with it) and handed to the store when the app is built, so the store computes keys with the
 * protocol's own reading of a resource and its own case fold.
 */
export interface EqualityIndex {
    resourceType: ResourceTypeName;
    /** The canonical attribute path: the index's name in settings, state rows, row keys and lookups. */
    path: string;
    /** userName (User) and displayName (Group): a second resource with the same key is a 409 uniqueness. */
    unique: boolean;
    /**
     * The built-in layouts every table has had from the start (`un:`/`dn:` for the unique name, `ext:` for
     * externalId; always complete), or generic `ix:` rows, readable once their state row says complete.
     */
    storage: 'uniqueName' | 'externalId' | 'rows';
    /** The keys a resource has in this index, without duplicates. 400 invalidValue for text that is not Unicode. */
    keysOf(attributes: ScimResource): string[];
    /** The key of one value a filter asks for; undefined if the index keeps none for it (empty, not simple). */
    keyOf(value: unknown): string | undefined;
}

/** The indexes of each resource type (the default set plus the admin's; shared/config.ts reads them). */
export type EqualityIndexes = Readonly<Record<ResourceTypeName, readonly EqualityIndex[]>>;

/** Index paths lookups may use now, and those configured but still being built (docs/operate.md, "Indexes"). */
export interface IndexCatalog {
    usable: string[];
    building: string[];
}

/** Member changes of one group PATCH/PUT, as the PATCH engine's delta (applied as edge writes). */
export interface MemberDelta {
    /** Remove every member first (PATCH remove `members` without a value, or PUT). */
    clear: boolean;
    add: string[];
    remove: string[];
}

export interface GroupMember {
    value: string;
    type: ResourceTypeName;
}

export interface ResourceChange {
    /** The request that makes the change (the change feed's event type: `prov:put` or `prov:patch`). Default `patch`. */
    kind?: 'put' | 'patch';
    /** New attributes (whole, not a diff); absent when only members change. */
    attributes?: ScimResource;
    /** Group only. */
    members?: MemberDelta;
}

export interface ResourceStore {
    /**
     * Inserts a resource and its index rows atomically. userName (User) and displayName (Group) are unique
     * case-insensitively: a clash throws `uniqueness`. `members` (Group) are written as edges.
     */
    create(resourceType: ResourceTypeName, id: string, attributes: ScimResource, now: string, members?: string[]): Promise<StoredResource>;

    get(resourceType: ResourceTypeName, id: string): Promise<StoredResource | undefined>;

    /**
     * Answers index lookups with point reads and key-range reads (never a scan): the resources any of them
     * names, in id order. Only lookups on ids and on indexes `indexes` lists as usable. More than
     * `MAX_LOOKUP_RESOURCES` (TableResourceStore.ts) resources → 400 tooMany.
     */
    lookup(resourceType: ResourceTypeName, lookups: readonly IndexLookup[]): Promise<StoredResource[]>;

    /**
     * The equality indexes of a resource type (attributeIndexes.ts): those lookups may use now, and those
     * configured but still being built (a lookup would miss resources written before; docs/operate.md).
     */
    indexes(resourceType: ResourceTypeName): Promise<IndexCatalog>;

    /**
     * Every resource of a type in a stable order (by id), read page by page from storage. Stops after
     * `limit` resources; with `after`, starts after the resource with that id (a cursor; it need not exist).
     * Used for list pages and filters no index answers.
     */
    list(resourceType: ResourceTypeName, limit: number, after?: string): AsyncIterable<StoredResource>;

    /** The ids `list` would yield, read with a key-only projection (to count a list without reading its resources). */
    listIds(resourceType: ResourceTypeName, limit: number): AsyncIterable<string>;

    /**
     * Writes a change conditionally: only if the resource is still at `expectedVersion`, else `versionConflict`.
     * With `expectedVersion` undefined, a members-only change is applied unconditionally (member adds
     * are idempotent edge writes, so concurrent PATCHes of one group never conflict).
     * Throws `notFound` if the resource is gone, `uniqueness` on a rename clash.
     */
    update(resourceType: ResourceTypeName, id: string, change: ResourceChange, now: string, expectedVersion?: string): Promise<StoredResource>;

    /**
     * Deletes the resource, its index rows and every membership edge to or from it. Returns the resource as it
     * was (the activity records count an active user's delete), undefined if it did not exist.
     * A group is gone for every reader once this returns it, but a DELETE spends only a bounded time on its
     * edges (a 50,000-member group has 100,000): what is left the store's sweep (timer SweepDeletedGroups) finishes. A DELETE of a group
     * whose cleanup is still pending continues it and returns it only if that finishes the group, else undefined (404).
     * With `expectedVersion` (If-Match) the storage request that starts the delete carries that version, so a
     * resource changed since is not deleted: `versionConflict`.
     */
    delete(resourceType: ResourceTypeName, id: string, expectedVersion?: string): Promise<StoredResource | undefined>;

    /**
     * Group members, read from the edges page by page (memory bounded by the page size). Member groups being
     * deleted are left out. Callers reach this only for a group `get` returned, so never for one being deleted.
     */
    members(groupId: string): AsyncIterable<GroupMember>;

    /** One point read: is `memberId` a member of `groupId`? */
    hasMember(groupId: string, memberId: string): Promise<boolean>;

    /**
     * The groups a user or group is a direct member of (the user's readOnly `groups`, RFC 7643 §4.1.2);
     * groups being deleted are left out even while their edges remain.
     */
    groupsOf(memberId: string): Promise<string[]>;
}
