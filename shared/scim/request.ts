/**
 * A SCIM request and response as the protocol code sees them: plain data, no Azure types. The HTTP layer
 * (`shared/http/scimEndpoint.ts`) builds the request and writes the response.
 */
import type { ResourceStore } from './store';

/**
 * Largest request body accepted, in bytes (advertised as `bulk.maxPayloadSize`); larger is 413 before the
 * body is parsed. A fixed limit, not a setting: Entra's requests are a few kilobytes (a PATCH of a few dozen
 * operations), and nothing is gained by letting an operator raise it.
 */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

export interface ScimRequest {
    /** Upper case. */
    method: string;
    /** Route parameters, e.g. `id` of `scim/Users/{id?}` (absent when the optional segment is). */
    params: Readonly<Record<string, string | undefined>>;
    query: URLSearchParams;
    header(name: string): string | undefined;
    /** Parsed JSON body of POST/PUT/PATCH; undefined otherwise. */
    body: unknown;
    /** Public URL of the SCIM root, e.g. `https://app.example/scim`, for `Location` and `meta.location`. */
    baseUrl: string;
    /** Notes for the request's summary log line (never personal data). */
    log: RequestLog;
}

export interface RequestLog {
    resourceType?: string;
    resourceId?: string;
    /** Attribute paths a PATCH ignored (outside our schemas): logged by name, never by value. */
    ignoredPaths?: string[];
}

/** What a SCIM handler returns: a status, an optional JSON body, optional headers (Location, ETag). */
export interface ScimResponse {
    status: number;
    body?: unknown;
    headers?: Record<string, string>;
}

/** A SCIM handler; one that needs no storage may answer synchronously. */
export type ScimHandler = (request: ScimRequest, store: ResourceStore) => ScimResponse | Promise<ScimResponse>;
