/**
 * The change feed's events (docs/feed.md): what the application the directory provisions for learns about
 * each change. Pure: the store builds a draft per transaction with these functions and writes it in that
 * same transaction; the feed reader adds `id` and `time` (the commit time) when it reads the row back.
 *
 * Types are RFC 9967 event names (SCIM Profile for Security Event Tokens, §2.4) without the
 * `urn:ietf:params:scim:event:` prefix. An event carries the changed attributes' names *and* new values,
 * so a consumer never needs to read the resource back (the feed credential cannot call /scim).
 */
import type { ResourceTypeName } from '../scim/schemas';

export type EventType = 'prov:create' | 'prov:put' | 'prov:patch' | 'prov:delete' | 'prov:activate' | 'prov:deactivate';

/** The RFC 9967 URI of an event type (§2.4: create/put/patch carry `:notice` when only attribute names are listed). */
export const EVENT_URI_PREFIX = 'urn:ietf:params:scim:event:';

/** What a transaction records about one resource; stored as JSON in the event row. */
export interface EventDraft {
    type: EventType;
    resourceType: ResourceTypeName;
    resourceId: string;
    /** The resource's externalId after the change (before it, for a delete), when it has one. */
    externalId?: string;
    /** The resource's version (`meta.version`) after the change; absent for deletes and cascades. */
    version?: string;
    /**
     * Attributes that changed, by attribute path (`name`, `urn:…:enterprise:2.0:User:department`), with their
     * new values; `null` means removed. Never `password` (not stored, and never put in an event).
     */
    attributes?: Record<string, unknown>;
    /** Names of changed attributes whose values were too large to carry (the event would exceed a table entity). */
    attributesOmitted?: string[];
    /** Group members this transaction added or removed (ids). */
    members?: { added?: string[]; removed?: string[] };
    /** Set on a membership change the store made because a member was deleted (a cascade). */
    cause?: { type: 'prov:delete'; resourceType: ResourceTypeName; resourceId: string };
}

/** An event as the feed returns it. */
export interface ChangeEvent extends EventDraft {
    /** Unique and stable: the de-duplication key for consumers (the queue message carries it too). */
    id: string;
    /** Commit time of the transaction that wrote the event (ISO 8601, from storage). */
    time: string;
}

/** Attribute names that never appear in an event, whatever a resource holds. */
const NEVER_IN_EVENTS = new Set(['password', 'id', 'meta', 'schemas']);

/**
 * The attributes that differ between two versions of a resource, by path, with the new value (`null` when
 * removed). Extension objects (keys starting with `urn:`) are compared attribute by attribute, so a change
 * of `department` is `urn:…:User:department`, not the whole extension.
 */
export function changedAttributes(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
    const changed: Record<string, unknown> = {};
    for (const key of unionOfKeys(before, after)) {
        if (NEVER_IN_EVENTS.has(key.toLowerCase())) continue;
        const old = before[key];
        const value = after[key];
        if (key.startsWith('urn:') && (isObject(old) || isObject(value))) {
            const inner = changedAttributes(isObject(old) ? old : {}, isObject(value) ? value : {});
            for (const [name, innerValue] of Object.entries(inner)) changed[`${key}:${name}`] = innerValue;
            continue;
        }
        if (!sameJson(old, value)) changed[key] = value === undefined ? null : value;
    }
    return changed;
}

/**
 * The event type of a create, PUT or PATCH. A change that flips `active` is `prov:activate` /
 * `prov:deactivate` (what a consumer acts on); its `attributes` still list everything that changed.
 * A resource without `active` counts as active.
 */
export function eventTypeOf(request: 'create' | 'put' | 'patch', before: Record<string, unknown> | undefined, after: Record<string, unknown>): EventType {
    if (request === 'create' || before === undefined) return 'prov:create';
    const wasActive = before.active !== false;
    const isActive = after.active !== false;
    if (wasActive && !isActive) return 'prov:deactivate';
    if (!wasActive && isActive) return 'prov:activate';
    return request === 'put' ? 'prov:put' : 'prov:patch';
}

/** The externalId an event names, if the attributes have one. */
export function externalIdOf(attributes: Record<string, unknown> | undefined): string | undefined {
    const value = attributes?.externalId;
    return typeof value === 'string' && value !== '' ? value : undefined;
}

function unionOfKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep equality of JSON values; object key order does not matter. */
function sameJson(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (Array.isArray(a) || Array.isArray(b)) {
        return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => sameJson(item, b[index]));
    }
    if (!isObject(a) || !isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]));
}

/** The event of a DELETE: the resource and its externalId, nothing else (RFC 9967 §2.4.4: no payload). */
export function deletionEvent(resourceType: ResourceTypeName, resourceId: string, attributes: Record<string, unknown>): EventDraft {
    const externalId = externalIdOf(attributes);
    return { type: 'prov:delete', resourceType, resourceId, ...(externalId === undefined ? {} : { externalId }) };
}
