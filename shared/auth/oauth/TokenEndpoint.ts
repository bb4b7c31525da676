/**
 * `POST /oauth/token`: the OAuth 2.0 client credentials grant (RFC 6749 §4.4) for Entra's provisioning
 * service, with a client secret or a federated client assertion (RFC 7523 §2.2; what Entra sends:
 * docs/entra-protocol.md §15). In protocol order:
 *
 *   read the request → refuse a throttled client id → authenticate the client → check the scope → issue
 *
 * Success is RFC 6749 §5.1 (`access_token`, `token_type`, `expires_in`, `Cache-Control: no-store`); every
 * failure an RFC 6749 §5.2 error. A token issued for an assertion never outlives the assertion.
 *
 * A named tenant's endpoint (`POST /tenants/<tenant>/oauth/token`, docs/operate.md "Tenants") is the same, with
 * that tenant's client (its registry row, `TenantClients`) and a client secret only: its tokens carry its name
 * and its SCIM root as audience, so they open its routes and no other. An unknown, disabled or removing tenant is
 * `invalid_client`, the very answer a wrong secret gets.
 */
import type { OAuthSettings } from '../../config';
import type { TokenVerifier } from '../TokenVerifier';
import { matchesDigest, tokenDigest } from '../tokenDigest';
import { ScimError } from '../../scim/errors';
import { issueAccessToken } from './accessTokens';
import type { FailedAuthenticationLimiter } from './FailedAuthenticationLimiter';
import { IssuerKeysUnavailableError, type FederatedAssertionVerifier } from './FederatedAssertionVerifier';
import { OAuthError } from './OAuthError';
import { SigningKeyUnavailableError, type SigningKeys } from './signingKeys';
import { parseTokenRequest, type ClientAuthentication } from './tokenRequest';

export interface TokenEndpointRequest {
    method: string;
    contentType: string | undefined;
    authorization: string | undefined;
    body: string;
    /** The SCIM base URL tokens are issued for (their audience). */
    scimBaseUrl: string;
    /** The named tenant whose endpoint this is (`/tenants/<tenant>/oauth/token`); absent for `/oauth/token`. */
    tenant?: string;
}

/** The named tenants' OAuth clients (shared/auth/TenantTokenVerifier.ts). */
export interface TenantClients {
    /** True if `clientId` and `clientSecret` are the client of the active tenant `tenant`. */
    verifyClient(tenant: string, clientId: string, clientSecret: string): Promise<boolean>;
}

export interface TokenEndpointResponse {
    status: number;
    headers: Record<string, string>;
    body: Record<string, unknown>;
    /** For the log line: which client authentication was tried (never who or with what). */
    clientAuthentication: ClientAuthentication['method'] | undefined;
}

export interface TokenEndpointOptions {
    settings: OAuthSettings;
    /** Checks a client secret (the Key Vault secret, or SCIM_OAUTH_CLIENT_SECRET locally); undefined: none is accepted. */
    clientSecrets: TokenVerifier | undefined;
    /** Checks a federated client assertion; undefined: federation is not configured. */
    federation: FederatedAssertionVerifier | undefined;
    signingKeys: SigningKeys;
    limiter: FailedAuthenticationLimiter;
    /** The named tenants' clients; undefined: every tenant's endpoint refuses (`invalid_client`). */
    tenantClients?: TenantClients;
    now?: () => number;
}

/** RFC 6749 §5.1 and §5.2: token responses must not be cached. */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export class TokenEndpoint {
    readonly #options: TokenEndpointOptions;
    readonly #clientIdDigest: Buffer;
    readonly #now: () => number;

    constructor(options: TokenEndpointOptions) {
        this.#options = options;
        this.#clientIdDigest = tokenDigest(options.settings.clientId);
        this.#now = options.now ?? (() => Date.now());
    }

    async respond(request: TokenEndpointRequest): Promise<TokenEndpointResponse> {
        let clientAuthentication: ClientAuthentication['method'] | undefined;
        try {
            if (request.method.toUpperCase() !== 'POST') {
                throw new OAuthError(405, 'invalid_request', 'The token endpoint accepts POST only', { Allow: 'POST' });
            }
            const tokenRequest = parseTokenRequest(request);
            const { client } = tokenRequest;
            clientAuthentication = client.method;

            const retryAfter = this.#options.limiter.retryAfterSeconds(client.clientId);
            if (retryAfter !== undefined) throw OAuthError.throttled(retryAfter);
            const notAfter = request.tenant === undefined ? await this.#authenticate(client) : await this.#authenticateTenantClient(request.tenant, client);
            // An assertion within the clock leeway of its exp is valid, but a token cut to its remaining life
            // would be dead on arrival: refused like an expired one.
            if (notAfter === undefined || notAfter - this.#now() < 1000) {
                this.#options.limiter.recordFailure(client.clientId);
                throw OAuthError.invalidClient();
            }

            const scopes = this.#grantedScopes(tokenRequest.scopes);
            const now = this.#now();
            const expiresAt = Math.min(now + this.#options.settings.accessTokenLifetimeSeconds * 1000, notAfter);
            const accessToken = await issueAccessToken(this.#options.signingKeys, {
                // A tenant's client was just checked to be exactly this id.
                clientId: request.tenant === undefined ? this.#options.settings.clientId : client.clientId,
                scimBaseUrl: request.scimBaseUrl,
                expiresAt,
                ...(scopes ? { scopes } : {}),
                ...(request.tenant !== undefined ? { tenant: request.tenant } : {}),
            }, now);
            return {
                status: 200,
                headers: { ...NO_STORE },
                body: {
                    access_token: accessToken,
                    token_type: 'Bearer',
                    expires_in: Math.floor(expiresAt / 1000) - Math.floor(now / 1000),
                    ...(scopes ? { scope: scopes.join(' ') } : {}),
                },
                clientAuthentication,
            };
        } catch (error) {
            return oauthErrorResponse(toOAuthError(error), clientAuthentication);
        }
    }

    /**
     * When the client's proof stops being valid (milliseconds since the epoch: a secret has no end of its
     * own, an assertion its `exp`), or undefined when the client is not authenticated.
     */
    async #authenticate(client: ClientAuthentication): Promise<number | undefined> {
        // Constant time, like the Secret Token: the client id is not secret, but comparing it the same way costs nothing.
        const isOurClient = matchesDigest(client.clientId, this.#clientIdDigest);
        if (client.method === 'client_assertion') {
            const federation = this.#options.federation;
            if (!isOurClient || federation === undefined) return undefined;
            return (await federation.verify(client.assertion))?.expiresAt;
        }
        const secrets = this.#options.clientSecrets;
        if (secrets === undefined) return undefined;
        // The secret is checked even for a wrong client id, so timing does not tell which of the two was wrong.
        const secretMatches = await secrets.verify(client.clientSecret);
        return isOurClient && secretMatches ? Number.POSITIVE_INFINITY : undefined;
    }

    /**
     * A named tenant's client: its client secret only (workload identity federation stays the default tenant's),
     * checked against its registry row. The proof of a secret has no end of its own.
     */
    async #authenticateTenantClient(tenant: string, client: ClientAuthentication): Promise<number | undefined> {
        const clients = this.#options.tenantClients;
        if (client.method === 'client_assertion' || clients === undefined) return undefined;
        return (await clients.verifyClient(tenant, client.clientId, client.clientSecret)) ? Number.POSITIVE_INFINITY : undefined;
    }

    /** The scopes to grant: what was asked, if every one is allowed; all allowed ones if none was asked. */
    #grantedScopes(requested: string[] | undefined): string[] | undefined {
        const allowed = this.#options.settings.scopes;
        if (allowed === undefined) return undefined; // no scopes configured: `scope` is ignored
        if (requested === undefined) return allowed;
        if (requested.some((scope) => !allowed.includes(scope))) {
            throw new OAuthError(400, 'invalid_scope', 'A requested scope is not available to this client');
        }
        return requested;
    }
}

/** The RFC 6749 §5.2 response for an error. */
export function oauthErrorResponse(error: OAuthError, clientAuthentication?: ClientAuthentication['method']): TokenEndpointResponse {
    return {
        status: error.status,
        headers: { ...NO_STORE, ...error.headers },
        body: { error: error.error, error_description: error.description },
        clientAuthentication,
    };
}

/** Anything thrown while answering, as the OAuth error to send. */
function toOAuthError(error: unknown): OAuthError {
    if (error instanceof OAuthError) return error;
    if (error instanceof IssuerKeysUnavailableError) return OAuthError.unavailable(error.retryAfterSeconds);
    if (error instanceof SigningKeyUnavailableError) return OAuthError.unavailable(10);
    // The Key Vault secret verifier reports an outage as the SCIM routes' 503.
    if (error instanceof ScimError && error.status === 503) return OAuthError.unavailable(Number(error.headers['Retry-After'] ?? '10'));
    throw error;
}
