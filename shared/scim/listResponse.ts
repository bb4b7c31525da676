/** ListResponse (RFC 7644 §3.4.2) and the paging parameters that shape it (§3.4.2.4). */
import { ScimError } from './errors';
import { LIST_RESPONSE_SCHEMA } from './schemas';

/** Page size when the client sends no `count`, and the largest page served (advertised as `filter.maxResults`). */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;

export interface ListResponse<T> {
    schemas: [typeof LIST_RESPONSE_SCHEMA];
    totalResults: number;
    startIndex: number;
    /** The number of resources on this page (RFC 7644 §3.4.2; Entra does not read it, docs/entra-protocol.md §7). */
    itemsPerPage: number;
    Resources: T[];
}

export function listResponse<T>(resources: T[], totalResults: number, startIndex = 1): ListResponse<T> {
    return { schemas: [LIST_RESPONSE_SCHEMA], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
}

export interface Paging {
    /** 1-based (RFC 7644 §3.4.2.4). */
    startIndex: number;
    count: number;
}

/**
 * `startIndex` below 1 is read as 1 and a negative `count` as 0, as §3.4.2.4 says; a `count` above the
 * maximum is capped. Non-numeric values are a client error.
 */
export function readPaging(query: URLSearchParams): Paging {
    const startIndex = readInteger(query, 'startIndex') ?? 1;
    const count = readInteger(query, 'count') ?? DEFAULT_PAGE_SIZE;
    return { startIndex: Math.max(1, startIndex), count: Math.min(Math.max(0, count), MAX_PAGE_SIZE) };
}

function readInteger(query: URLSearchParams, name: string): number | undefined {
    const text = query.get(name);
    if (text === null || text.trim() === '') return undefined;
    if (!/^\s*[+-]?\d{1,9}\s*$/.test(text)) throw ScimError.badRequest('invalidValue', `${name} must be an integer`);
    return Number(text);
}
