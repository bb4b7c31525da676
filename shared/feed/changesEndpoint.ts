/**
 * `GET /changes?cursor=<opaque>&count=<n>`: a page of the change feed (docs/feed.md). Outside `/scim` and
 * with a credential of its own (the feed token); errors are SCIM errors with RFC 9865's cursor scimTypes.
 */
import type { ScimRequest, ScimResponse } from '../scim/request';
import { ScimError } from '../scim/errors';
import type { ChangeFeed } from './ChangeFeed';

export const DEFAULT_FEED_PAGE_SIZE = 100;
export const MAX_FEED_PAGE_SIZE = 1000;

export async function readChanges(request: ScimRequest, feed: ChangeFeed): Promise<ScimResponse> {
    const count = readCount(request.query.get('count'));
    const page = await feed.readPage(request.query.get('cursor') ?? '', count);
    request.log.resourceType = 'Changes';
    return {
        status: 200,
        body: { events: page.events, nextCursor: page.nextCursor },
        // Plain JSON (not a SCIM resource); never cached: the same cursor answers more once more has committed.
        headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    };
}

/**
 * `count` (RFC 9865 §2): absent → 100; a negative number counts as 0; more than 1,000 is served as 1,000 (the
 * provider may return fewer than asked). Anything but an integer is 400 `invalidCount`.
 */
export function readCount(text: string | null): number {
    if (text === null || text.trim() === '') return DEFAULT_FEED_PAGE_SIZE;
    if (!/^[+-]?\d{1,9}$/.test(text.trim())) throw ScimError.badRequest('invalidCount', 'count must be an integer between 0 and 1000');
    return Math.min(MAX_FEED_PAGE_SIZE, Math.max(0, Number(text.trim())));
}
