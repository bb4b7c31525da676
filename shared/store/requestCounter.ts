/**
 * Counts storage requests by kind, so every SCIM request can log what it cost ("storage requests") and
 * tests can hold the store to request budgets (docs/storage.md, "Request budgets").
 *
 * A pipeline policy on the TableClient sees every HTTP request the SDK sends — each retry attempt too,
 * because it sits after the retry policy — and classifies it from method and URL alone. Counts go to
 * (a) every `countStorageRequests` scope the request runs in (AsyncLocalStorage), and (b) global
 * listeners registered with `onStorageRequest` (benchmarks).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { TableClient } from '@azure/data-tables';

export type StorageRequestKind =
    /** GET of one entity by PartitionKey and RowKey. */
    | 'pointRead'
    /** GET with a RowKey condition in $filter: a key range, or a batch of RowKey equalities. */
    | 'rangeRead'
    /** GET with no RowKey condition: a partition or table scan. */
    | 'scan'
    /** POST $batch: one entity-group transaction. */
    | 'transaction'
    /** A single-entity insert, update, merge, upsert or delete. */
    | 'write'
    | 'tableCreate'
    | 'other';

export type StorageRequestCounts = Record<StorageRequestKind, number> & { total: number };

export interface StorageRequestEvent {
    kind: StorageRequestKind;
    method: string;
    /** HTTP status, absent when no response arrived (network failure, timeout). */
    status?: number;
    durationMs: number;
}

export function emptyStorageRequestCounts(): StorageRequestCounts {
    return { pointRead: 0, rangeRead: 0, scan: 0, transaction: 0, write: 0, tableCreate: 0, other: 0, total: 0 };
}

const activeScopes = new AsyncLocalStorage<StorageRequestCounts[]>();
const listeners = new Set<(event: StorageRequestEvent) => void>();

/**
 * Runs `fn` and counts the storage requests it causes (nested scopes count into their parents too).
 * Pass your own `counts` object to read the counts even when `fn` throws.
 */
export async function countStorageRequests<T>(
    fn: () => Promise<T>,
    counts: StorageRequestCounts = emptyStorageRequestCounts(),
): Promise<{ result: T; requests: StorageRequestCounts }> {
    const scopes = [...(activeScopes.getStore() ?? []), counts];
    const result = await activeScopes.run(scopes, fn);
    return { result, requests: counts };
}

/**
 * Runs `fn` outside every `countStorageRequests` scope: for background work a request merely starts (and
 * does not wait for), which must not count as that request's cost. Global listeners still see it.
 */
export function outsideRequestCounts<T>(fn: () => T): T {
    return activeScopes.exit(fn);
}

/** Registers a listener for every storage request in the process; returns the function that removes it. */
export function onStorageRequest(listener: (event: StorageRequestEvent) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
}

export function classifyStorageRequest(method: string, url: string): StorageRequestKind {
    const parsed = new URL(url);
    const path = safeDecode(parsed.pathname);
    const verb = method.toUpperCase();
    if (path.endsWith('/$batch')) return 'transaction';
    if (/\/Tables(\(.*\))?$/.test(path)) return verb === 'POST' ? 'tableCreate' : 'other';
    if (verb === 'GET') {
        if (/\(PartitionKey='.*',RowKey='.*'\)$/.test(path)) return 'pointRead';
        const filter = parsed.searchParams.get('$filter') ?? '';
        return /\bRowKey\b/.test(filter) ? 'rangeRead' : 'scan';
    }
    if (['POST', 'PUT', 'MERGE', 'PATCH', 'DELETE'].includes(verb)) return 'write';
    return 'other';
}

function safeDecode(text: string): string {
    try {
        return decodeURIComponent(text);
    } catch {
        return text;
    }
}

type Pipeline = TableClient['pipeline'];
type PipelinePolicy = Parameters<Pipeline['addPolicy']>[0];

export const STORAGE_REQUEST_COUNTER_POLICY = 'storageRequestCounter';

export function storageRequestCounterPolicy(): PipelinePolicy {
    return {
        name: STORAGE_REQUEST_COUNTER_POLICY,
        async sendRequest(request, next) {
            const kind = classifyStorageRequest(request.method, request.url);
            for (const counts of activeScopes.getStore() ?? []) {
                counts[kind]++;
                counts.total++;
            }
            const started = performance.now();
            let status: number | undefined;
            try {
                const response = await next(request);
                status = response.status;
                return response;
            } finally {
                if (listeners.size > 0) {
                    const event: StorageRequestEvent = { kind, method: request.method, durationMs: performance.now() - started };
                    if (status !== undefined) event.status = status;
                    for (const listener of listeners) listener(event);
                }
            }
        },
    };
}

/** Adds the counter to a client's pipeline, after the retry policy so each attempt counts. */
export function addStorageRequestCounter(pipeline: Pipeline): void {
    pipeline.addPolicy(storageRequestCounterPolicy(), { afterPhase: 'Retry' });
}
