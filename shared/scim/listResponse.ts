/**
 * ListResponse (RFC 7644 §3.4.2) and the paging that shapes it: index paging (`startIndex`, RFC 7644 §3.4.2.4),
 * the default and what Entra uses (docs/entra-protocol.md §7), and cursor paging (`cursor`, RFC 9865), which walks
 * any list at a constant cost per page (docs/entra-protocol.md §14.7).
 */
import { ScimError, type ScimType } from './errors';
import { LIST_RESPONSE_SCHEMA } from './schemas';

/** Page size when the client sends no `count`, and the largest page served (advertised as `filter.maxResults`). */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;

export interface ListResponse<T> {
    schemas: [typeof LIST_RESPONSE_SCHEMA];
    /** Left out of cursor pages (RFC 9865 allows it): counting would cost what cursor paging avoids. */
    totalResults?: number;
    /** Index pages only. */
    startIndex?: number;
    /** The number of resources on this page (RFC 7644 §3.4.2; Entra does not read it, docs/entra-protocol.md §7). */
    itemsPerPage: number;
    Resources: T[];
    /** Cursor pages: where the next page starts; absent on the last page (RFC 9865). */
    nextCursor?: string;
}

export function listResponse<T>(resources: T[], totalResults: number, startIndex = 1): ListResponse<T> {
    return { schemas: [LIST_RESPONSE_SCHEMA], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
}

export function cursorListResponse<T>(resources: T[], nextCursor: string | undefined): ListResponse<T> {
    const response: ListResponse<T> = { schemas: [LIST_RESPONSE_SCHEMA], itemsPerPage: resources.length, Resources: resources };
    if (nextCursor !== undefined) response.nextCursor = nextCursor;
    return response;
}

export type Paging =
    /** `startIndex` is 1-based (RFC 7644 §3.4.2.4). */
    | { method: 'index'; startIndex: number; count: number }
    /** `after`: the id of the last resource the previous page covered; undefined for the first page. */
    | { method: 'cursor'; after: string | undefined; count: number };

/**
 * Index paging unless the request has a `cursor` parameter (empty for the first page). Index: `startIndex` below
 * 1 is read as 1 and a negative `count` as 0 (RFC 7644 §3.4.2.4); cursor: `count` must be at least 1, or the
 * client could never move on. A `count` above the maximum is capped. Non-numeric values are client errors.
 */
export function readPaging(query: URLSearchParams): Paging {
    const cursor = query.get('cursor');
    if (cursor !== null) {
        if (query.get('startIndex') !== null) throw ScimError.badRequest('invalidValue', 'Use either startIndex or cursor, not both');
        const count = readInteger(query, 'count', 'invalidCount') ?? DEFAULT_PAGE_SIZE;
        if (count < 1) throw ScimError.badRequest('invalidCount', 'With cursor paging, count must be at least 1');
        return { method: 'cursor', after: cursor === '' ? undefined : decodeCursor(cursor), count: Math.min(count, MAX_PAGE_SIZE) };
    }
    const startIndex = readInteger(query, 'startIndex', 'invalidValue') ?? 1;
    const count = readInteger(query, 'count', 'invalidValue') ?? DEFAULT_PAGE_SIZE;
    return { method: 'index', startIndex: Math.max(1, startIndex), count: Math.min(Math.max(0, count), MAX_PAGE_SIZE) };
}

/** Index paging only (the root search, RFC 7644 §3.4.3, pages its two types by index): a `cursor` is 400. */
export function readIndexPaging(query: URLSearchParams): { startIndex: number; count: number } {
    const paging = readPaging(query);
    if (paging.method === 'cursor') throw ScimError.badRequest('invalidValue', 'Cursor paging is offered on /Users and /Groups; page this search with startIndex');
    return paging;
}

/**
 * A cursor is the position after which the next page starts: the id of the last resource the previous page
 * covered, versioned, in base64url (RFC 9865 wants unreserved characters only). Positions do not expire — a
 * deleted resource still marks a place in the id order — so `expiredCursor` never applies.
 */
const CURSOR_VERSION = 'c1:';
const MAX_CURSOR_LENGTH = 2048;

export function encodeCursor(after: string): string {
    return Buffer.from(CURSOR_VERSION + after, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
    const invalid = ScimError.badRequest('invalidCursor', 'The cursor is not one this service issued');
    if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid;
    const text = Buffer.from(cursor, 'base64url').toString('utf8');
    if (!text.startsWith(CURSOR_VERSION) || text.length === CURSOR_VERSION.length || encodeCursor(text.slice(CURSOR_VERSION.length)) !== cursor) throw invalid;
    return text.slice(CURSOR_VERSION.length);
}

function readInteger(query: URLSearchParams, name: string, scimType: ScimType): number | undefined {
    const text = query.get(name);
    if (text === null || text.trim() === '') return undefined;
    if (!/^\s*[+-]?\d{1,9}\s*$/.test(text)) throw ScimError.badRequest(scimType, `${name} must be an integer`);
    return Number(text);
}
