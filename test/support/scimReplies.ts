/**
 * What every reply of the service must look like, whatever was sent: a SCIM content type, and for an
 * error the RFC 7644 §3.12 body whose `status` matches the HTTP status.
 */
import { expect } from 'vitest';
import type { ScimType } from '../../shared/scim/errors';
import type { ScimReply } from './scimServer';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * The one check of a SCIM error reply (RFC 7644 §3.12): the status, the SCIM content type, the error schema,
 * `status` as a string, and exactly the given scimType — none when none is given (a 401, 404 or 503 has none).
 */
export function expectScimError(reply: Pick<ScimReply, 'status' | 'headers' | 'body' | 'text'>, status: number, scimType?: ScimType): void {
    expect(reply.status, reply.text).toBe(status);
    expect(reply.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(reply.body?.schemas).toEqual([ERROR_SCHEMA]);
    expect(reply.body?.status).toBe(String(status));
    expect(reply.body?.scimType).toBe(scimType);
}

/**
 * The contract under hostile input: a 2xx or a 4xx, never a 5xx, always `application/scim+json`, and a
 * 4xx carries a well-formed SCIM error. Returns false (instead of throwing) so fast-check can shrink.
 */
export function isWellFormedReply(reply: ScimReply): boolean {
    if (reply.status >= 500 || reply.status < 200 || reply.status >= 300 && reply.status < 400) return false;
    if (reply.status === 204) return true;
    if (!/^application\/scim\+json/.test(reply.headers.get('content-type') ?? '')) return false;
    if (reply.status >= 400) {
        return Array.isArray(reply.body?.schemas) && reply.body.schemas[0] === ERROR_SCHEMA && reply.body.status === String(reply.status);
    }
    return true;
}
