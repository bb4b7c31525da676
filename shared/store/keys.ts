/**
 * The key design of the SCIM table (docs/storage.md): partition names, RowKey builders and the mapping
 * between storage ETags and SCIM versions. Pure functions; the only place that knows how a RowKey is spelled.
 *
 * RowKeys hold client-supplied text (userName, externalId, ids from URLs), but Table Storage forbids
 * `/ \ # ?` and control characters in keys and limits a key to 1 KiB (docs/azure-notes.md §6), so every such part
 * goes through `encodeKeyPart`.
 */
import { createHash } from 'node:crypto';
import { caseFolded, hasLoneSurrogate } from '../scim/caseFold';
import { StoreError } from '../scim/storeErrors';
import type { ResourceTypeName } from '../scim/schemas';

/**
 * The partitions of one tenant (docs/storage.md, "Tenants"). All users and their index rows share one
 * partition, so a create or rename is one transaction; groups, their index rows and every membership edge
 * (both directions) share the other, so one transaction can cover a group row, an edge and its reverse edge.
 * Tenants never share a partition, so one tenant's traffic never counts against another's partition target.
 */
export interface Partitions {
    users: string;
    groups: string;
    /** The tenant's activity records (docs/activity.md, "Tenants"): counts of what the endpoint answered, apart from its resources. */
    activity: string;
}

/** The default tenant (plain `/scim`): the partitions every deployment had before tenants, kept as they were. */
export const USERS_PARTITION = 'users';
export const GROUPS_PARTITION = 'groups';
/** The default tenant's activity records; a named tenant's are in `<tenant>~activity`. */
export const ACTIVITY_PARTITION = 'activity';
export const DEFAULT_PARTITIONS: Partitions = { users: USERS_PARTITION, groups: GROUPS_PARTITION, activity: ACTIVITY_PARTITION };

/**
 * A named tenant's partitions: `<tenant>~users`, `<tenant>~groups`, `<tenant>~activity`. `~` never occurs in a tenant name
 * (`isTenantName`) nor in the default partitions, so no two tenants' partitions can coincide.
 */
export function partitionsOf(tenant: string | undefined): Partitions {
    if (tenant === undefined) return DEFAULT_PARTITIONS;
    if (!isTenantName(tenant)) throw new Error('not a tenant name');
    return { users: `${tenant}~${USERS_PARTITION}`, groups: `${tenant}~${GROUPS_PARTITION}`, activity: `${tenant}~${ACTIVITY_PARTITION}` };
}

export function partitionOf(resourceType: ResourceTypeName, partitions: Partitions): string {
    return resourceType === 'User' ? partitions.users : partitions.groups;
}

/** Tenant names: lower-case letters, digits and hyphens, 3–40 characters (they appear in URLs and partition names). */
export function isTenantName(name: string): boolean {
    return /^[a-z0-9-]{3,40}$/.test(name);
}

/** The tenant registry: one row per tenant (`TenantRegistry.ts`), in a partition no tenant's data uses. */
export const TENANTS_PARTITION = 'tenants';

export function tenantRowKey(tenant: string): string {
    return 't:' + tenant;
}

/**
 * Where the change feed timer's walk over the tenants stopped (shared/feed/maintainChangeFeed.ts): one row in the
 * registry's partition, outside the `t:` range the registry lists.
 */
export const FEED_MAINTENANCE_ROW_KEY = 'feed:maintained';

/** The attribute each resource type keeps unique case-insensitively (userName: RFC 7643 §4.1.1; displayName: Entra matches groups by it). */
export function uniqueAttributeOf(resourceType: ResourceTypeName): 'userName' | 'displayName' {
    return resourceType === 'User' ? 'userName' : 'displayName';
}

/**
 * An encoded part is at most this long; longer values become a SHA-256 hash. Two parts plus a prefix
 * (`mo:<member>:<group>`) stay under 512 UTF-16 characters = the 1 KiB RowKey limit; an index row has an
 * index name of at most `MAX_INDEX_NAME_LENGTH` more (`ix:<index>:<value>:<id>`: 3 + 100 + 1 + 200 + 1 + 200).
 */
const MAX_ENCODED_PART_LENGTH = 200;
const MAX_INDEX_NAME_LENGTH = 100;

/**
 * Makes any string safe inside a RowKey. `encodeURIComponent` escapes `/ \ # ?`, `:` (our separator),
 * `%`, control characters and non-ASCII; it leaves `'` alone, which the `odata` template escapes in
 * filters. Too-long values are replaced by `$` + SHA-256 hex: `$` never survives `encodeURIComponent`,
 * so a hash cannot collide with an encoded value. Readers compare the stored attribute anyway.
 * Text with a lone surrogate is refused (`invalidChange`, 400 invalidValue; caseFold.ts): it has no faithful
 * encoding (the request body and filter checks refuse it first).
 */
export function encodeKeyPart(value: string): string {
    return encodeWithin(value, MAX_ENCODED_PART_LENGTH);
}

function encodeWithin(value: string, maxLength: number): string {
    if (hasLoneSurrogate(value)) throw new StoreError('invalidChange', 'A value holds text with a lone surrogate, which is not Unicode text');
    const encoded = encodeURIComponent(value);
    if (encoded.length <= maxLength) return encoded;
    return '$' + createHash('sha256').update(value, 'utf8').digest('hex');
}

// ---- RowKeys. Every prefix ends with ':'; a prefix range is [prefix, prefix with ':' → ';').

export function resourceRowKey(resourceType: ResourceTypeName, id: string): string {
    return resourceRowPrefix(resourceType) + encodeKeyPart(id);
}

export function resourceRowPrefix(resourceType: ResourceTypeName): string {
    return resourceType === 'User' ? 'u:' : 'g:';
}

/**
 * `un:<key>` (userName) or `dn:<key>` (displayName) → the resource id. Unique: insert fails on a clash.
 * The key is `caseFolded` (caseFold.ts), the fold the filter evaluator compares with.
 */
export function uniqueNameRowKey(resourceType: ResourceTypeName, value: string): string {
    return (resourceType === 'User' ? 'un:' : 'dn:') + encodeKeyPart(caseFolded(value));
}

/** externalId is case-exact and not unique (RFC 7643 §3.1), so the id is part of the key: `ext:<key>:<id>`. */
export function externalIdRowPrefix(externalId: string): string {
    return 'ext:' + encodeKeyPart(externalId) + ':';
}

export function externalIdRowKey(externalId: string, id: string): string {
    return externalIdRowPrefix(externalId) + encodeKeyPart(id);
}

/**
 * A generic equality-index row `ix:<index>:<key>:<id>` → the resource id (docs/storage.md, "Equality
 * indexes"): `index` is the index's canonical path, `key` the compared value as `indexKeyOf` folds it. Not
 * unique, so the id is part of the key; all rows of one value are one key range.
 */
export function indexRowKey(indexPath: string, key: string, id: string): string {
    return indexRowPrefix(indexPath, key) + encodeKeyPart(id);
}

export function indexRowPrefix(indexPath: string, key: string): string {
    return INDEX_ROW_PREFIX + encodeWithin(indexPath, MAX_INDEX_NAME_LENGTH) + ':' + encodeKeyPart(key) + ':';
}

export const INDEX_ROW_PREFIX = 'ix:';

/**
 * `ixstate:<index>`, one per generic index in its resource type's partition: whether the index is complete
 * (every resource row is covered) and how far a rebuild got. Outside the `ix:` range (`s` sorts after `;`).
 */
export function indexStateRowKey(indexPath: string): string {
    return INDEX_STATE_PREFIX + encodeWithin(indexPath, MAX_INDEX_NAME_LENGTH);
}

export const INDEX_STATE_PREFIX = 'ixstate:';

/** Forward edge `m:<group>:<member>` in the groups partition. */
export function memberEdgeRowKey(groupId: string, memberId: string): string {
    return memberEdgePrefix(groupId) + encodeKeyPart(memberId);
}

export function memberEdgePrefix(groupId: string): string {
    return 'm:' + encodeKeyPart(groupId) + ':';
}

/** Reverse edge `mo:<member>:<group>` in the groups partition ("member of"). */
export function memberOfEdgeRowKey(memberId: string, groupId: string): string {
    return memberOfEdgePrefix(memberId) + encodeKeyPart(groupId);
}

export function memberOfEdgePrefix(memberId: string): string {
    return 'mo:' + encodeKeyPart(memberId) + ':';
}

/**
 * `del:<group>`: a group whose DELETE answered before its edges were all gone. Written in the transaction that
 * marks the group `deleting` and deleted in the one that deletes the group row, so the sweep finds every
 * unfinished cleanup with one range read of `del:` instead of scanning the partition for `deleting` rows.
 */
export const DELETION_MARKER_PREFIX = 'del:';

export function deletionMarkerRowKey(groupId: string): string {
    return DELETION_MARKER_PREFIX + encodeKeyPart(groupId);
}

/**
 * A RowKey no row ever has (no prefix above starts with `~`). Existence probes end with a merge of it, an operation
 * that always fails, so the probe transaction always rolls back (EntityTable.probe).
 */
export const NEVER_PRESENT_ROW_KEY = '~never';

/** The other direction of an edge, from its RowKey alone (encoded parts never contain ':'). */
export function reverseOfEdgeRowKey(edgeRowKey: string): string {
    const [kind, first, second] = edgeRowKey.split(':');
    if (kind === 'm') return `mo:${second}:${first}`;
    if (kind === 'mo') return `m:${second}:${first}`;
    throw new Error('not an edge row key');
}

/** Bounds of a key-range read: every RowKey that starts with `prefix`. */
export function prefixRange(prefix: string): { from: string; to: string } {
    const last = prefix.charCodeAt(prefix.length - 1);
    return { from: prefix, to: prefix.slice(0, -1) + String.fromCharCode(last + 1) };
}

// ---- Versions. The SCIM version is the resource row's ETag, encoded reversibly (base64url) so that it
// is opaque to clients, fits in a weak ETag header (RFC 7232 §2.3), and maps back to the raw ETag for
// If-Match without any state shared between Functions instances.

export function versionOfEtag(etag: string): string {
    return `W/"${Buffer.from(etag, 'utf8').toString('base64url')}"`;
}

/** The raw ETag of a version, or undefined if the text is not one of ours (the caller answers 412). */
export function etagOfVersion(version: string): string | undefined {
    const match = /^(?:W\/)?"([A-Za-z0-9_-]+)"$/.exec(version.trim());
    if (!match?.[1]) return undefined;
    const etag = Buffer.from(match[1], 'base64url').toString('utf8');
    return versionOfEtag(etag) === `W/"${match[1]}"` ? etag : undefined;
}

// ---- Activity records (docs/activity.md): a partition of their own per tenant (`Partitions.activity`), apart
// from users and groups, so flushing them never contends with a provisioning write.

/** `h:<UTC hour>` (`h:2026-03-01T14`): one row per hour, all instances' counts added up; RowKey order is time order. */
export const ACTIVITY_HOUR_PREFIX = 'h:';

export function activityHourRowKey(hour: string): string {
    return ACTIVITY_HOUR_PREFIX + hour;
}

/** The tenant's totals (users, active users, groups), and which flushed batches they include. */
export const ACTIVITY_TOTALS_ROW_KEY = 'totals';

/**
 * A named tenant's marker row in its own `<tenant>~activity` partition (docs/activity.md, "Tenants"): `add` creates
 * it before the registry row, `remove` deletes it before any other row, and every activity transaction of the
 * tenant merges it (`activityMarkerCheck`), so once it is gone no batch can write a row there. The default tenant's
 * partition has none.
 */
export const ACTIVITY_TENANT_MARKER_ROW_KEY = 'tenant';

/**
 * `f:<reversed time>:<instance>:<n>`: one row per recent failure. The time is reversed (a large constant minus
 * the milliseconds) so the newest failures come first and "the last 20" is the first page of one range read.
 */
export const ACTIVITY_FAILURE_PREFIX = 'f:';
const REVERSED_TIME_BASE = 10 ** 15;

export function activityFailureRowKey(atMs: number, instanceId: string, index: number): string {
    return `${ACTIVITY_FAILURE_PREFIX}${String(REVERSED_TIME_BASE - atMs).padStart(15, '0')}:${encodeKeyPart(instanceId)}:${index}`;
}

/** The failure RowKeys of failures at `atMs` or earlier start at or after this one. */
export function activityFailuresOlderThan(atMs: number): string {
    return `${ACTIVITY_FAILURE_PREFIX}${String(REVERSED_TIME_BASE - atMs).padStart(15, '0')}`;
}

// ---- Change feed (docs/storage.md, "Change feed"). Each partition is one stream of events: an event row
// lives in the partition of the row it describes, so it is written in that row's transaction.

/** The head of a partition's stream: the position of its last event, bumped with If-Match by every event-writing transaction. */
export const FEED_HEAD_ROW_KEY = 'feed:head';
/** `ev:<position>`, zero-padded so that RowKey order is position order. */
export const EVENT_ROW_PREFIX = 'ev:';
const POSITION_DIGITS = 15;

export function eventRowKey(position: number): string {
    return EVENT_ROW_PREFIX + String(position).padStart(POSITION_DIGITS, '0');
}

/** The position of an `ev:` RowKey, or undefined if it is not one. */
export function positionOfEventRowKey(rowKey: string): number | undefined {
    if (!rowKey.startsWith(EVENT_ROW_PREFIX)) return undefined;
    const digits = rowKey.slice(EVENT_ROW_PREFIX.length);
    return /^\d+$/.test(digits) ? Number(digits) : undefined;
}

/** Push to a queue (optional): where the forwarder got to, one row per stream in that stream's partition. */
export const FEED_PUSH_CHECKPOINT_ROW_KEY = 'feed:pushed';

/** The partition a feed stream lives in (streams are named in cursors; partitions, per tenant, are storage's business). */
export function partitionOfStream(stream: 'users' | 'groups', partitions: Partitions): string {
    return stream === 'users' ? partitions.users : partitions.groups;
}

/**
 * The version of a resource written by the transaction that recorded event `position` of its partition's
 * stream. Stored in the row (property `version`), so the event, written in the same transaction, can carry
 * it: an ETag exists only after the commit. Positions only grow, so a version is never reused.
 */
export function versionOfPosition(position: number): string {
    return `W/"${position.toString(36)}"`;
}

/** Whether text can be a version of ours (a position's, or a row's ETag before the feed); anything else is stale without a read. */
export function isVersion(text: string): boolean {
    return /^W\/"[0-9a-z]+"$/.test(text) || etagOfVersion(text) !== undefined;
}
