/**
 * Storage requests per SCIM request, by kind, from the request counter's global listener
 * (shared/store/requestCounter.ts). The handlers run in the local host's request context, not the
 * benchmark's, so a `countStorageRequests` scope cannot be used from here; the global listener sees every
 * storage request of the process, which is exact as long as one SCIM request is in flight at a time.
 */
import { emptyStorageRequestCounts, onStorageRequest, type StorageRequestCounts, type StorageRequestKind } from '../../shared/store/requestCounter';

export type StorageCounts = StorageRequestCounts;
export type StorageKind = StorageRequestKind;

/** The kinds the tables show, in this order (`tableCreate` and `other` only ever appear on a first request). */
export const STORAGE_KINDS: readonly StorageKind[] = ['pointRead', 'rangeRead', 'scan', 'transaction', 'write', 'tableCreate', 'other'];

export const STORAGE_KIND_LABELS: Record<StorageKind, string> = {
    pointRead: 'point read',
    rangeRead: 'range read',
    scan: 'scan',
    transaction: 'transaction',
    write: 'write',
    tableCreate: 'table create',
    other: 'other',
};

export const emptyCounts = emptyStorageRequestCounts;

/** Counts the storage requests made while `fn` runs (`fn` must be the only thing talking to storage). */
export async function recordStorageRequests<T>(fn: () => Promise<T>): Promise<{ result: T; counts: StorageCounts }> {
    const counts = emptyCounts();
    const unsubscribe = onStorageRequest(({ kind }) => {
        counts[kind]++;
        counts.total++;
    });
    try {
        return { result: await fn(), counts };
    } finally {
        unsubscribe();
    }
}

/** Running counts of every storage request of this process from now on (a benchmark's server process). */
export function countAllStorageRequests(): () => StorageCounts {
    const counts = emptyCounts();
    onStorageRequest(({ kind }) => {
        counts[kind]++;
        counts.total++;
    });
    return () => ({ ...counts });
}

/** `after − before`, kind by kind. */
export function subtractCounts(after: StorageCounts, before: StorageCounts): StorageCounts {
    const difference = emptyCounts();
    for (const kind of [...STORAGE_KINDS, 'total'] as const) difference[kind] = after[kind] - before[kind];
    return difference;
}
