/**
 * What can go wrong in a store, as the store says it: a small set of error values (part of the storage port,
 * store.ts), and the one place each becomes a SCIM error (RFC 7644 §3.12). The store knows nothing of HTTP;
 * the endpoint wrapper (shared/http/scimEndpoint.ts) maps what it throws here, and handlers decide on kinds
 * (a `versionConflict` is retried unless the client sent If-Match).
 *
 * A new kind is one entry in `SCIM_ERROR_OF`: its name becomes a `StoreErrorKind`.
 */
import { ScimError } from './errors';

const SCIM_ERROR_OF = {
    /** The resource is no longer at the version the write expected (a conditional write lost; RFC 7644 §3.14). */
    versionConflict: (error: StoreError) => new ScimError(412, undefined, error.message),
    /** A unique value (id, userName, a group's displayName) is taken. */
    uniqueness: (error: StoreError) => ScimError.uniqueness(error.message),
    /** The resource does not exist (or is being deleted). */
    notFound: (error: StoreError) => ScimError.notFound(error.message),
    /** The resource does not fit a table entity. 413 without scimType: RFC 7644 §3.12 has none for size. */
    tooLarge: (error: StoreError) => new ScimError(413, undefined, error.message),
    /** Index lookups name more resources than one request reads (TableResourceStore.ts, MAX_LOOKUP_RESOURCES). */
    tooMany: (error: StoreError) => ScimError.badRequest('tooMany', error.message),
    /** The change cannot be stored as given: a member that does not exist, a group in itself. */
    invalidChange: (error: StoreError) => ScimError.badRequest('invalidValue', error.message),
    /** The change feed no longer holds the events after a cursor: retention removed them (RFC 9865 §2.1). */
    expiredCursor: (error: StoreError) => ScimError.badRequest('expiredCursor', error.message),
    /** Storage is throttling (ServerBusy, OperationTimedOut): 429, so Entra pauses and retries only the failed requests. */
    throttled: (error: StoreError) => ScimError.throttled(error.message, error.retryAfterSeconds),
    /** Storage is down or too slow: retry after `retryAfterSeconds` (Entra does, on 503). */
    unavailable: (error: StoreError) => ScimError.unavailable(error.message, error.retryAfterSeconds),
} satisfies Record<string, (error: StoreError) => ScimError>;

export type StoreErrorKind = keyof typeof SCIM_ERROR_OF;

/** Retry-After of an `unavailable` error unless the store knows better. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

export class StoreError extends Error {
    /** Seconds a client should wait before retrying (used by `unavailable`). */
    readonly retryAfterSeconds: number;

    constructor(readonly kind: StoreErrorKind, detail: string, options: { retryAfterSeconds?: number } = {}) {
        super(detail);
        this.name = 'StoreError';
        this.retryAfterSeconds = options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    }
}

export function isStoreError(error: unknown, kind?: StoreErrorKind): error is StoreError {
    return error instanceof StoreError && (kind === undefined || error.kind === kind);
}

/** The SCIM error a store error answers as. */
export function scimErrorOf(error: StoreError): ScimError {
    return SCIM_ERROR_OF[error.kind](error);
}
