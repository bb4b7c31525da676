/**
 * What `@azure/data-tables` failures mean to the store. The ones a client can act on become the store's
 * own error values (`StoreError`, shared/scim/storeErrors.ts); anything else passes through unchanged, an
 * unexpected error the endpoint logs (by name and status, never its message) and answers with 500.
 *
 * Messages never repeat the storage error text: it can quote RowKeys, which hold userNames.
 */
import { StoreError } from '../scim/storeErrors';
import { statusCodeOf } from '../statusCodeOf';

/**
 * The index of the operation that failed a transaction: Table Storage prefixes the message with
 * `<index>:` (docs/azure-notes.md §3, "409 op-index prefixes"). Undefined if the failure was not one operation's.
 */
export function failedOperationIndex(error: unknown): number | undefined {
    const message = typeof error === 'object' && error !== null && 'message' in error ? error.message : undefined;
    const match = typeof message === 'string' ? /^(\d+):/.exec(message) : null;
    return match?.[1] === undefined ? undefined : Number(match[1]);
}

const NETWORK_ERROR_CODES = new Set([
    'ECONNREFUSED',
    'ECONNRESET',
    'ECONNABORTED',
    'ETIMEDOUT',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EPIPE',
    'EHOSTUNREACH',
    'ENETUNREACH',
    'REQUEST_SEND_ERROR',
]);

/**
 * The storage error code (`ServerBusy`, `OperationTimedOut`, …). The SDK sets `code` on transactions only; on
 * single-entity requests it is undefined and the code is in the `x-ms-error-code` response header
 * (https://learn.microsoft.com/rest/api/storageservices/table-service-error-codes).
 */
export function storageErrorCodeOf(error: unknown): string | undefined {
    if (typeof error !== 'object' || error === null) return undefined;
    const { code, response } = error as { code?: unknown; response?: { headers?: { get?(name: string): string | undefined } } };
    if (typeof code === 'string' && code !== '') return code;
    const header = response?.headers?.get?.('x-ms-error-code');
    return typeof header === 'string' && header !== '' ? header : undefined;
}

/**
 * Table Storage is shedding load rather than down: `ServerBusy` (503) when a partition or the account is over
 * its scalability targets, `OperationTimedOut` (500) when it could not finish in time under load
 * (https://learn.microsoft.com/azure/storage/tables/storage-performance-checklist). A 503 without `ServerBusy`
 * is an outage.
 */
export function isStorageThrottling(error: unknown): boolean {
    const status = statusCodeOf(error);
    const code = storageErrorCodeOf(error);
    return status === 429 || (status === 503 && code === 'ServerBusy') || (status === 500 && code === 'OperationTimedOut');
}

/** Seconds a throttled client waits before retrying: Entra pauses the job that long (docs/entra-protocol.md §14.6). */
const THROTTLED_RETRY_AFTER_SECONDS = 10;

/** Storage is down, throttling or too slow: the client should retry later (Entra does, on 503). */
export function isTransientStorageFailure(error: unknown): boolean {
    const status = statusCodeOf(error);
    if (status !== undefined) return status >= 500 || status === 408 || status === 429;
    if (typeof error !== 'object' || error === null) return false;
    const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return true;
    if (name === 'AbortError' || name === 'TimeoutError') return true;
    return typeof message === 'string' && /Cannot connect|socket hang up|timed? ?out/i.test(message);
}

export function versionConflict(): StoreError {
    return new StoreError('versionConflict', 'The resource was modified: version mismatch');
}

/** Conflicting writers a delete sits out before giving up with `beingChangedConcurrently`. */
export const MAX_DELETE_ATTEMPTS = 5;

/** A delete that kept losing to concurrent writers: the client should retry. */
export function beingChangedConcurrently(): StoreError {
    return new StoreError('unavailable', 'The resource is being changed concurrently, retry later');
}

/**
 * A storage failure as the store reports it: 412 and 404 as their kinds, throttling `throttled`, other transient
 * ones `unavailable`, the rest as thrown.
 */
export function asStoreError(error: unknown): unknown {
    if (error instanceof StoreError) return error;
    const status = statusCodeOf(error);
    if (status === 412) return versionConflict();
    if (status === 404) return new StoreError('notFound', 'Resource not found');
    if (isStorageThrottling(error)) {
        return new StoreError('throttled', 'Too many requests for the storage service right now, retry later', { retryAfterSeconds: THROTTLED_RETRY_AFTER_SECONDS });
    }
    if (isTransientStorageFailure(error)) return new StoreError('unavailable', 'Service temporarily unavailable, retry later');
    return error;
}
