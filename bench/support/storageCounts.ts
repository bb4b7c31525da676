/**
 * Storage requests per SCIM request, by kind, from the request counter's global listener
 * (shared/store/requestCounter.ts). The handlers run in the local host's request context, not the
 * benchmark's, so the AsyncLocalStorage scope cannot be used from here; the global listener sees every
 * storage request of the process, which is exact as long as one SCIM request is in flight at a time.
 */
import * as requestCounter from '../../shared/store/requestCounter';

export const STORAGE_KINDS = ['pointRead', 'rangeRead', 'scan', 'transaction', 'write'] as const;
export type StorageKind = (typeof STORAGE_KINDS)[number];
export type StorageCounts = Record<StorageKind, number> & { total: number };

export const STORAGE_KIND_LABELS: Record<StorageKind, string> = {
    pointRead: 'point read',
    rangeRead: 'range read',
    scan: 'scan',
    transaction: 'transaction',
    write: 'write',
};

export function emptyCounts(): StorageCounts {
    return { pointRead: 0, rangeRead: 0, scan: 0, transaction: 0, write: 0, total: 0 };
}

/** Counts the storage requests made while `fn` runs (`fn` must be the only thing talking to storage). */
export async function recordStorageRequests<T>(fn: () => Promise<T>): Promise<{ result: T; counts: StorageCounts }> {
    const counts = emptyCounts();
    const unsubscribe = subscribe((kind) => {
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
    subscribe((kind) => {
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

/** The one place that knows the request counter's listener API. */
function subscribe(listener: (kind: StorageKind) => void): () => void {
    return requestCounter.onStorageRequest((kind: string) => listener(kind as StorageKind));
}
