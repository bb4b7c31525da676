/**
 * Who may open `/admin` in Azure (docs/operate.md, "Status page"): an organisation admin signed in with
 * Microsoft Entra ID, whose object id (or one of whose groups) is in SCIM_ADMIN_PRINCIPAL_IDS.
 *
 * App Service Authentication ("Easy Auth") cannot do this here: Microsoft lists it as not supported on the
 * Flex Consumption plan, where unauthenticated callers are not blocked even with it enabled
 * (https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#considerations). So the function
 * checks the token itself, with `jose`:
 *
 * - the browser signs in with OpenID Connect (authorization endpoint, `response_type=id_token`,
 *   `response_mode=form_post`; https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc): the ID
 *   token comes back in a form POST, is checked (and its `nonce` against the one we set in a cookie), and is
 *   then kept as the session in an HttpOnly cookie, checked again on every view until it expires;
 * - `npm run activity` sends an access token for the same app registration (`az login`) as a bearer token.
 *
 * Either way: signature by a key the tenant publishes (its JWKS, cached by jose), RS256 only, issuer = the
 * tenant (v2.0 or v1 form), audience = the app's client id or `api://<client id>`, `tid` = the tenant, not
 * expired (60 s of clock skew), then the principal check. No secret is involved anywhere.
 */
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AdminSettings } from '../config';

export const DEFAULT_AUTHORITY = 'https://login.microsoftonline.com';
const ALGORITHMS = ['RS256'];
const CLOCK_TOLERANCE_SECONDS = 60;

/** A signed-in admin: ids only. */
export interface AdminPrincipal {
    objectId: string;
    /** When the token stops being accepted (seconds since the epoch). */
    expiresAt: number;
}

/** Why a token was not accepted: said to the admin in general terms, never with the token's content. */
export class AdminSignInError extends Error {
    constructor(
        readonly reason: 'invalid' | 'expired' | 'notAllowed' | 'keysUnavailable',
        message: string,
    ) {
        super(message);
        this.name = 'AdminSignInError';
    }
}

export interface AdminSignInDependencies {
    /** The tenant's signing keys; tests pass a local key set. Default: the tenant's published JWKS, fetched and cached by jose. */
    keys?: JWTVerifyGetKey;
    /** Tests: the clock jose checks `exp` against. */
    now?: () => number;
}

export class AdminSignIn {
    private readonly keys: JWTVerifyGetKey;
    private readonly allowed: Set<string>;

    constructor(
        private readonly settings: Required<Pick<AdminSettings, 'tenantId' | 'clientId'>> & AdminSettings,
        private readonly deps: AdminSignInDependencies = {},
    ) {
        this.keys = deps.keys ?? createRemoteJWKSet(new URL(`${DEFAULT_AUTHORITY}/${settings.tenantId}/discovery/v2.0/keys`));
        this.allowed = new Set(settings.principalIds.map((id) => id.toLowerCase()));
    }

    /** Where the browser signs in; Entra posts the ID token back to `redirectUri`. */
    authorizeUrl(redirectUri: string, nonce: string, state: string): string {
        const url = new URL(`${DEFAULT_AUTHORITY}/${encodeURIComponent(this.settings.tenantId)}/oauth2/v2.0/authorize`);
        url.search = new URLSearchParams({
            client_id: this.settings.clientId,
            response_type: 'id_token',
            response_mode: 'form_post',
            redirect_uri: redirectUri,
            scope: 'openid',
            nonce,
            state,
        }).toString();
        return url.toString();
    }

    /** The scope `npm run activity` asks Azure CLI for. */
    get accessTokenScope(): string {
        return `api://${this.settings.clientId}/.default`;
    }

    /**
     * Checks a token and the principal in it. `nonce`: the sign-in's nonce, which an ID token from that sign-in
     * must carry (OpenID Connect Core §3.2.2.11).
     */
    async verify(token: string, options: { nonce?: string } = {}): Promise<AdminPrincipal> {
        const { tenantId, clientId } = this.settings;
        let payload: JWTPayload;
        try {
            ({ payload } = await jwtVerify(token, this.keys, {
                algorithms: ALGORITHMS,
                issuer: [`${DEFAULT_AUTHORITY}/${tenantId}/v2.0`, `https://sts.windows.net/${tenantId}/`],
                audience: [clientId, `api://${clientId}`],
                clockTolerance: CLOCK_TOLERANCE_SECONDS,
                requiredClaims: ['exp', 'iat', 'oid', 'tid'],
                ...(this.deps.now ? { currentDate: new Date(this.deps.now()) } : {}),
            }));
        } catch (error) {
            if (error instanceof errors.JWTExpired) throw new AdminSignInError('expired', 'The sign-in has expired');
            // jose reports a bad token as a JOSEError; a key fetch that failed is a timeout, a non-200, or fetch's own error.
            const keysDown = error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError) || /Expected 200 OK/.test(error.message);
            if (keysDown) {
                throw new AdminSignInError('keysUnavailable', 'The tenant\'s signing keys could not be fetched');
            }
            throw new AdminSignInError('invalid', 'The token is not a valid sign-in for this app');
        }
        if (payload.tid !== tenantId) throw new AdminSignInError('invalid', 'The token is from another tenant');
        if (options.nonce !== undefined && payload.nonce !== options.nonce) throw new AdminSignInError('invalid', 'The sign-in does not match this browser');
        const objectId = String(payload.oid);
        const groups = Array.isArray(payload.groups) ? payload.groups.map(String) : [];
        if (![objectId, ...groups].some((id) => this.allowed.has(id.toLowerCase()))) {
            throw new AdminSignInError('notAllowed', 'This account is not one of the allowed admins (SCIM_ADMIN_PRINCIPAL_IDS)');
        }
        return { objectId, expiresAt: Number(payload.exp) };
    }
}

/** A random value for `nonce` and `state`. */
export function randomValue(): string {
    return randomBytes(24).toString('base64url');
}

/** Sign-in is possible when the app registration and at least one allowed admin are configured. */
export function createAdminSignIn(settings: AdminSettings, deps: AdminSignInDependencies = {}): AdminSignIn | undefined {
    if (!settings.tenantId || !settings.clientId || settings.principalIds.length === 0) return undefined;
    return new AdminSignIn({ ...settings, tenantId: settings.tenantId, clientId: settings.clientId }, deps);
}
