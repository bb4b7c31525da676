/**
 * Turns what `@azure/data-tables` throws into `ScimError`, the only error type the store lets out.
 *
 * Messages never repeat the storage error text: it can quote RowKeys, which hold userNames.
 */
import { ScimError } from '../scim/errors';

interface StorageFailure {
    statusCode?: number;
    code?: string;
    name?: string;
    message?: string;
    response?: { headers?: { get?(name: string): string | undefined } };
}

function asFailure(error: unknown): StorageFailure {
    return typeof error === 'object' && error !== null ? (error as StorageFailure) : {};
}

/** The HTTP status of a storage failure. Table Storage's 412 carries it in `statusCode`; `code` is undefined on the single-entity path (docs/azure-notes.md §3). */
export function storageStatusOf(error: unknown): number | undefined {
    const status = asFailure(error).statusCode;
    return typeof status === 'number' && status > 0 ? status : undefined;
}

/**
 * The index of the operation that failed a transaction: Table Storage prefixes the message with
 * `<index>:` (docs/azure-notes.md §3, "409 op-index prefixes"). Undefined if the failure was not one operation's.
 */
export function failedOperationIndex(error: unknown): number | undefined {
    const match = /^(\d+):/.exec(asFailure(error).message ?? '');
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
    const failure = asFailure(error);
    if (typeof failure.code === 'string' && failure.code !== '') return failure.code;
    const header = failure.response?.headers?.get?.('x-ms-error-code');
    return typeof header === 'string' && header !== '' ? header : undefined;
}

/**
 * Table Storage is shedding load rather than down: `ServerBusy` (503) when a partition or the account is over
 * its scalability targets, `OperationTimedOut` (500) when it could not finish in time under load
 * (https://learn.microsoft.com/azure/storage/tables/storage-performance-checklist). A 503 without `ServerBusy`
 * is an outage.
 */
export function isStorageThrottling(error: unknown): boolean {
    const status = storageStatusOf(error);
    const code = storageErrorCodeOf(error);
    return status === 429 || (status === 503 && code === 'ServerBusy') || (status === 500 && code === 'OperationTimedOut');
}

/** Storage is down, throttling or too slow: the client should retry later (Entra does, on 503 and 429). */
export function isTransientStorageFailure(error: unknown): boolean {
    const failure = asFailure(error);
    const status = storageStatusOf(error);
    if (status !== undefined) return status >= 500 || status === 408 || status === 429;
    if (failure.code !== undefined && NETWORK_ERROR_CODES.has(failure.code)) return true;
    if (failure.name === 'AbortError' || failure.name === 'TimeoutError') return true;
    return /Cannot connect|socket hang up|timed? ?out/i.test(failure.message ?? '');
}

export function versionMismatch(): ScimError {
    return new ScimError(412, undefined, 'The resource was modified: version mismatch');
}

/** Any storage failure as a ScimError: 412 stays 412, throttling becomes 429, other transient ones 503, the rest 500. */
export function toScimError(error: unknown): ScimError {
    if (error instanceof ScimError) return error;
    if (storageStatusOf(error) === 412) return versionMismatch();
    if (storageStatusOf(error) === 404) return ScimError.notFound();
    if (isStorageThrottling(error)) return ScimError.throttled();
    if (isTransientStorageFailure(error)) return ScimError.unavailable();
    return new ScimError(500, undefined, 'Storage request failed');
}
