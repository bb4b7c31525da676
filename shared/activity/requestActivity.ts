/**
 * What the activity records keep about one answered SCIM request (docs/activity.md): which operation it was,
 * how it ended, and what it changed in the tenant's totals. Ids and counts only: no userName, filter, body or
 * token ever reaches this type, so nothing personal can reach the activity rows or the status page.
 *
 * Pure: the endpoint wrapper builds one per request from the method, the route and the handler's notes
 * (`RequestLog.operation`, `RequestLog.totalsChange`, shared/scim/operations.ts), and the recorder adds it up.
 */
import type { Operation, TotalsDelta } from '../scim/operations';

/**
 * How a request ended, in the classes an admin acts on differently: 401 (the token: quarantine risk), other
 * 4xx (one object's data), 503 (a dependency: Entra retries), other 5xx (ours).
 */
export const OUTCOMES = ['ok', 'clientError', 'unauthorized', 'unavailable', 'serverError'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface RequestActivity {
    /** When the answer was ready, ms since the epoch. */
    at: number;
    method: string;
    operation: Operation;
    status: number;
    scimType?: string;
    resourceType?: string;
    /** The id in the URL (server-generated; Entra's "target id"). */
    resourceId?: string;
    invocationId: string;
    /** Only on a 2xx whose change storage confirmed. */
    totalsChange?: TotalsDelta;
}

export function outcomeOf(status: number): Outcome {
    if (status < 400) return 'ok';
    if (status === 401) return 'unauthorized';
    if (status === 503) return 'unavailable';
    if (status >= 500) return 'serverError';
    return 'clientError';
}

/**
 * The operation of a request: the handler's note when it has one (it alone knows that a PATCH disabled a
 * user or only added members), else what the method and URL say. A request that failed before its handler
 * looked (401, bad JSON, 404) is classified by method and URL alone.
 */
export function operationOf(request: { method: string; resourceType?: string; hasId: boolean; hasFilter: boolean; noted?: Operation }): Operation {
    if (request.noted) return request.noted;
    if (request.resourceType === undefined) return request.method === 'GET' ? 'discovery' : 'other';
    switch (request.method) {
        case 'GET':
            return request.hasId ? 'read' : request.hasFilter ? 'lookup' : 'list';
        case 'POST':
            return 'create';
        case 'PUT':
        case 'PATCH':
            return 'update';
        case 'DELETE':
            return 'delete';
        default:
            return 'other';
    }
}

export function addTotals(a: TotalsDelta, b: TotalsDelta): TotalsDelta {
    return { users: a.users + b.users, activeUsers: a.activeUsers + b.activeUsers, groups: a.groups + b.groups };
}

export function isNoChange(delta: TotalsDelta): boolean {
    return delta.users === 0 && delta.activeUsers === 0 && delta.groups === 0;
}
