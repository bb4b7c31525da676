/**
 * The HTTP side of the OAuth token endpoint (`shared/auth/oauth/TokenEndpoint.ts`): read the body with a
 * cap, answer JSON (OAuth, not SCIM: `application/json`), and write one log line per request that names
 * the outcome and never a credential, client id or token.
 */
import { randomUUID } from 'node:crypto';
import type { HttpHandler, HttpMethod, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { AppProvider } from '../app';
import { describeError } from '../describeError';
import { OAuthError } from '../auth/oauth/OAuthError';
import { oauthErrorResponse, type TokenEndpointResponse } from '../auth/oauth/TokenEndpoint';
import { scimBaseUrl, type RouteDefinition } from './scimEndpoint';

/** A token request is a few hundred bytes; with an Entra client assertion about 2 KB. */
export const MAX_TOKEN_REQUEST_BYTES = 16 * 1024;

const ALL_METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export function tokenRoute(options: { name: string; route: string }): RouteDefinition {
    const handlerFor = (app: AppProvider): HttpHandler => async (request, context) => {
        const started = Date.now();
        let response: TokenEndpointResponse;
        try {
            const { oauth, settings } = await app();
            // `tenants/{tenant}/oauth/token`: a named tenant's endpoint, whose tokens are for its own SCIM root.
            const tenant = request.params.tenant;
            const declaredLength = Number(request.headers.get('content-length') ?? '0');
            const body = declaredLength > MAX_TOKEN_REQUEST_BYTES ? undefined : await request.text();
            if (body === undefined || Buffer.byteLength(body) > MAX_TOKEN_REQUEST_BYTES) {
                response = oauthErrorResponse(new OAuthError(413, 'invalid_request', `The token request exceeds ${MAX_TOKEN_REQUEST_BYTES} bytes`));
            } else if (oauth === undefined) {
                response = oauthErrorResponse(OAuthError.invalidClient('No OAuth client is configured'));
            } else {
                response = await oauth.tokenEndpoint.respond({
                    method: request.method,
                    contentType: request.headers.get('content-type') ?? undefined,
                    authorization: request.headers.get('authorization') ?? undefined,
                    body,
                    scimBaseUrl: tenant === undefined
                        ? settings.publicBaseUrl ?? `${new URL(request.url).origin}/scim`
                        : scimBaseUrl(settings.publicBaseUrl ?? request.url, tenant),
                    ...(tenant !== undefined ? { tenant } : {}),
                });
            }
        } catch (error) {
            // Name, status and stack frames only: a message could quote the request.
            context.error(`oauth unexpected error invocationId=${context.invocationId} ${describeError(error, { stackFrames: 10 })}`);
            response = oauthErrorResponse(new OAuthError(500, 'server_error', `Internal error (invocation ${context.invocationId})`));
        }
        logSummary(context, request.method, response, Date.now() - started);
        return toHttpResponse(response);
    };
    return { name: options.name, route: options.route, methods: ALL_METHODS, handlerFor };
}

function toHttpResponse(response: TokenEndpointResponse): HttpResponseInit {
    return {
        status: response.status,
        headers: { 'Content-Type': JSON_CONTENT_TYPE, ...response.headers },
        body: JSON.stringify(response.body),
    };
}

/** `oauth token {"invocationId","method","status","error","clientAuthentication","durationMs"}`: docs/logs.md. */
function logSummary(context: InvocationContext, method: string, response: TokenEndpointResponse, durationMs: number): void {
    const summary = {
        invocationId: context.invocationId ?? randomUUID(),
        method,
        status: response.status,
        error: response.body.error,
        clientAuthentication: response.clientAuthentication,
        durationMs,
    };
    context.log(`oauth token ${JSON.stringify(summary)}`);
}
