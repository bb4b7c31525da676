/**
 * What an admin calls a request (a lookup, a disable, a member add) and what it changed in the tenant's totals
 * (users, active users, groups): the protocol's notes for the activity records (docs/activity.md). Handlers put
 * them in the request's `RequestLog`; the endpoint wrapper hands them on. Pure.
 */

/** The operations an admin recognises in a provisioning cycle (docs/entra-protocol.md §1). */
export const OPERATIONS = [
    'lookup',
    'read',
    'list',
    'create',
    'update',
    'disable',
    'enable',
    'delete',
    'memberAdd',
    'memberRemove',
    'discovery',
    'other',
] as const;
export type Operation = (typeof OPERATIONS)[number];

/** A change of the tenant's totals that a request committed. */
export interface TotalsDelta {
    users: number;
    activeUsers: number;
    groups: number;
}

export const NO_CHANGE: TotalsDelta = Object.freeze({ users: 0, activeUsers: 0, groups: 0 });

/** A user without `active` counts as active (RFC 7643 §4.1.1 leaves the default to the service provider). */
export function isActive(attributes: Record<string, unknown> | undefined): boolean {
    return attributes?.active !== false;
}

/** What creating a resource adds to the totals. */
export function totalsOfCreate(resourceType: 'User' | 'Group', attributes: Record<string, unknown>): TotalsDelta {
    if (resourceType === 'Group') return { users: 0, activeUsers: 0, groups: 1 };
    return { users: 1, activeUsers: isActive(attributes) ? 1 : 0, groups: 0 };
}

/** What deleting a resource, as it was stored, takes from the totals. */
export function totalsOfDelete(resourceType: 'User' | 'Group', attributes: Record<string, unknown>): TotalsDelta {
    if (resourceType === 'Group') return { users: 0, activeUsers: 0, groups: -1 };
    return { users: -1, activeUsers: isActive(attributes) ? -1 : 0, groups: 0 };
}

/** A user's `active` flipping (PATCH or PUT): ±1 active user; anything else changes no total. */
export function totalsOfUpdate(resourceType: 'User' | 'Group', before: Record<string, unknown>, after: Record<string, unknown>): TotalsDelta {
    if (resourceType !== 'User' || isActive(before) === isActive(after)) return NO_CHANGE;
    return { users: 0, activeUsers: isActive(after) ? 1 : -1, groups: 0 };
}
