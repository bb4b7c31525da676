/**
 * One hour of activity, added up: the unit the recorder keeps in memory, flushes, and the status page
 * charts (docs/activity.md). Pure: adding a request, merging two hours, reading one back from JSON.
 *
 * Every key is a fixed name (an operation, an outcome, "status scimType"), so an hour is small and bounded
 * whatever the traffic: at most |OPERATIONS| + |OUTCOMES| + the 4xx kinds the service can answer.
 */
import { OPERATIONS, type Operation } from '../scim/operations';
import { OUTCOMES, outcomeOf, type Outcome, type RequestActivity } from './requestActivity';

export interface HourCounts {
    requests: number;
    operations: Partial<Record<Operation, number>>;
    outcomes: Partial<Record<Outcome, number>>;
    /** 4xx answers by status and scimType: `409 uniqueness`, `400 invalidFilter`, `404`. 401 is an outcome of its own. */
    clientErrors: Record<string, number>;
    /** The hour's latest request: when, and its status (a 401 here is the "token refused" warning). */
    lastAt?: string;
    lastStatus?: number;
}

/** `2026-03-01T14`: the UTC hour, as a sortable string (RowKeys use it, docs/storage.md). */
export type HourKey = string;

export function hourOf(ms: number): HourKey {
    return new Date(ms).toISOString().slice(0, 13);
}

export function startOfHour(hour: HourKey): number {
    return Date.parse(`${hour}:00:00.000Z`);
}

/** The `count` hours ending with the hour of `ms`, oldest first. */
export function hoursEndingAt(ms: number, count: number): HourKey[] {
    const last = startOfHour(hourOf(ms));
    return Array.from({ length: count }, (_, index) => hourOf(last - (count - 1 - index) * 3_600_000));
}

export function emptyHour(): HourCounts {
    return { requests: 0, operations: {}, outcomes: {}, clientErrors: {} };
}

/** Adds one request to an hour (in place). */
export function addRequest(hour: HourCounts, activity: RequestActivity): void {
    hour.requests++;
    increment(hour.operations, activity.operation);
    const outcome = outcomeOf(activity.status);
    increment(hour.outcomes, outcome);
    if (outcome === 'clientError') increment(hour.clientErrors, clientErrorKind(activity.status, activity.scimType));
    const at = new Date(activity.at).toISOString();
    if (hour.lastAt === undefined || at >= hour.lastAt) {
        hour.lastAt = at;
        hour.lastStatus = activity.status;
    }
}

/** `409 uniqueness`, `400 invalidFilter`, `404`. */
export function clientErrorKind(status: number, scimType: string | undefined): string {
    return scimType ? `${status} ${scimType}` : String(status);
}

/** a + b, as a new hour. */
export function mergeHours(a: HourCounts, b: HourCounts): HourCounts {
    const merged: HourCounts = {
        requests: a.requests + b.requests,
        operations: sumRecords(a.operations, b.operations),
        outcomes: sumRecords(a.outcomes, b.outcomes),
        clientErrors: sumRecords(a.clientErrors, b.clientErrors),
    };
    const latest = a.lastAt !== undefined && (b.lastAt === undefined || a.lastAt >= b.lastAt) ? a : b;
    if (latest.lastAt !== undefined) merged.lastAt = latest.lastAt;
    if (latest.lastStatus !== undefined) merged.lastStatus = latest.lastStatus;
    return merged;
}

/**
 * An hour read back from storage. Unknown or malformed entries are dropped, not trusted: a row written by a
 * later version with more operations still reads, and nothing but numbers reaches the page.
 */
export function hourFromJson(json: string): HourCounts {
    let raw: unknown;
    try {
        raw = JSON.parse(json);
    } catch {
        return emptyHour();
    }
    const value = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const hour: HourCounts = {
        requests: count(value.requests),
        operations: countsOf(value.operations, OPERATIONS),
        outcomes: countsOf(value.outcomes, OUTCOMES),
        clientErrors: countsOf(value.clientErrors, undefined, /^[45]\d\d(?: [A-Za-z]{1,32})?$/),
    };
    if (typeof value.lastAt === 'string' && !Number.isNaN(Date.parse(value.lastAt))) hour.lastAt = new Date(value.lastAt).toISOString();
    if (typeof value.lastStatus === 'number' && Number.isInteger(value.lastStatus)) hour.lastStatus = value.lastStatus;
    return hour;
}

function increment<K extends string>(record: Partial<Record<K, number>>, key: K): void {
    record[key] = (record[key] ?? 0) + 1;
}

function sumRecords<K extends string>(a: Partial<Record<K, number>>, b: Partial<Record<K, number>>): Record<K, number> {
    const sum = { ...a } as Record<K, number>;
    for (const [key, value] of Object.entries(b) as [K, number][]) sum[key] = (sum[key] ?? 0) + value;
    return sum;
}

function count(value: unknown): number {
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

function countsOf<K extends string>(value: unknown, allowed: readonly K[] | undefined, pattern?: RegExp): Record<K, number> {
    const counts = {} as Record<K, number>;
    if (typeof value !== 'object' || value === null) return counts;
    for (const [key, raw] of Object.entries(value)) {
        if (allowed ? !allowed.includes(key as K) : !pattern?.test(key)) continue;
        const n = count(raw);
        if (n > 0) counts[key as K] = n;
    }
    return counts;
}
