/**
 * The one error type of the service (RFC 7644 §3.12).
 *
 * Anything that can go wrong for a client is thrown as a `ScimError`; the response writer
 * (`shared/http/responses.ts`) is the only place that turns it into an HTTP response.
 */

/** `scimType` values defined by RFC 7644 §3.12, Table 9, and RFC 9865. */
export type ScimType =
    | 'invalidFilter'
    | 'tooMany'
    | 'uniqueness'
    | 'mutability'
    | 'invalidSyntax'
    | 'invalidPath'
    | 'noTarget'
    | 'invalidValue'
    | 'invalidVers'
    | 'sensitive'
    /** RFC 9865 §3 (cursor paging). */
    | 'invalidCursor'
    | 'expiredCursor'
    | 'invalidCount';

/** The status each scimType belongs with (RFC 7644 §3.12, RFC 9865: all are 400 except uniqueness → 409). */
const statusOfScimType: Record<ScimType, number> = {
    invalidFilter: 400,
    tooMany: 400,
    uniqueness: 409,
    mutability: 400,
    invalidSyntax: 400,
    invalidPath: 400,
    noTarget: 400,
    invalidValue: 400,
    invalidVers: 400,
    sensitive: 400,
    invalidCursor: 400,
    expiredCursor: 400,
    invalidCount: 400,
};

export class ScimError extends Error {
    readonly status: number;
    readonly scimType: ScimType | undefined;
    /** Extra response headers, e.g. `Retry-After` on 503 or `WWW-Authenticate` on 401. */
    readonly headers: Readonly<Record<string, string>>;

    constructor(status: number, scimType: ScimType | undefined, detail: string, headers: Record<string, string> = {}) {
        super(detail);
        if (scimType !== undefined && statusOfScimType[scimType] !== status) {
            throw new Error(`scimType ${scimType} goes with status ${statusOfScimType[scimType]}, not ${status}`);
        }
        this.name = 'ScimError';
        this.status = status;
        this.scimType = scimType;
        this.headers = headers;
    }

    get detail(): string {
        return this.message;
    }

    /** A 400 with the given scimType: the common case for bad input. */
    static badRequest(scimType: ScimType, detail: string): ScimError {
        return new ScimError(400, scimType, detail);
    }

    static notFound(detail = 'Resource not found'): ScimError {
        return new ScimError(404, undefined, detail);
    }

    static uniqueness(detail: string): ScimError {
        return new ScimError(409, 'uniqueness', detail);
    }

    /**
     * A dependency (storage, Key Vault) is unavailable. 503 + Retry-After rather than 500: Entra retries
     * the request later instead of counting it as a failure of ours (docs/entra-protocol.md §8, §10).
     */
    static unavailable(detail = 'Service temporarily unavailable, retry later', retryAfterSeconds = 5): ScimError {
        return new ScimError(503, undefined, detail, { 'Retry-After': String(retryAfterSeconds) });
    }

    /**
     * A dependency is throttling us (Table Storage over its scalability targets). 429 + Retry-After rather than
     * 503: Entra then pauses the job for the Retry-After period and retries only the failed requests
     * (docs/entra-protocol.md §8), instead of adding load to a service that is already shedding it.
     */
    static throttled(detail = 'Too many requests for the storage service right now, retry later', retryAfterSeconds = 10): ScimError {
        return new ScimError(429, undefined, detail, { 'Retry-After': String(retryAfterSeconds) });
    }
}

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** The RFC 7644 §3.12 error body: `status` is a string. */
export interface ScimErrorBody {
    schemas: [typeof SCIM_ERROR_SCHEMA];
    status: string;
    scimType?: ScimType;
    detail: string;
}

export function toErrorBody(error: ScimError): ScimErrorBody {
    const body: ScimErrorBody = { schemas: [SCIM_ERROR_SCHEMA], status: String(error.status), detail: error.detail };
    if (error.scimType) body.scimType = error.scimType;
    return body;
}
