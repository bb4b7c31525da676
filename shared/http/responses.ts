/**
 * The one place that turns SCIM results and errors into HTTP responses.
 *
 * Every response is `application/scim+json` (RFC 7644 §3.1; Entra's validator aborts on `application/json`,
 * docs/entra-protocol.md §2), errors included.
 */
import type { HttpResponseInit } from '@azure/functions';
import { ScimError, toErrorBody } from '../scim/errors';
import type { ScimResponse } from '../scim/request';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';


export function toHttpResponse(response: ScimResponse): HttpResponseInit {
    const headers: Record<string, string> = { 'Content-Type': SCIM_CONTENT_TYPE, ...response.headers };
    const init: HttpResponseInit = { status: response.status, headers };
    if (response.body !== undefined && response.status !== 204) init.body = JSON.stringify(response.body);
    return init;
}

export function errorResponse(error: ScimError): ScimResponse {
    return { status: error.status, body: toErrorBody(error), headers: { ...error.headers } };
}
