/**
 * Access tokens: JWTs in the RFC 9068 profile (header `typ: at+jwt`), issued by the token endpoint and
 * accepted on the SCIM routes beside the Secret Token.
 *
 *   header  alg (RS256), kid (which signing key), typ
 *   claims  iss  the app's OAuth root (`https://<host>/oauth`, beside the SCIM root)
 *           aud  the SCIM base URL (`https://<host>/scim`): a token is good for this endpoint only
 *           sub, client_id  the client (RFC 9068 §2.2: for the client credentials grant, sub is the client)
 *           iat, nbf, exp, jti, and `scope` when scopes are configured
 *           tenant  a named tenant's tokens only (`/tenants/<tenant>/oauth/token`, docs/operate.md "Tenants"):
 *                   its name; required on that tenant's routes and refused on the default's, beside the audience
 *
 * Checking one is local: the signature against a public key held in memory (signingKeys.ts), the one
 * algorithm, issuer, audience, type, and the times with at most 60 s of clock skew. `jose` does the
 * JOSE work; only the signing input is assembled here, because in Azure the signature comes from Key Vault.
 */
import { randomUUID } from 'node:crypto';
import { base64url, jwtVerify, type JWTHeaderParameters } from 'jose';
import { SIGNING_ALGORITHM, type SigningKeys } from './signingKeys';

export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Clock skew tolerated on `exp`, `nbf` and `iat`. */
export const CLOCK_LEEWAY_SECONDS = 60;
/** A token longer than this is not one of ours; refused before any parsing. */
const MAX_TOKEN_LENGTH = 4096;

/** The issuer (`iss`) of tokens for a SCIM base URL: its sibling `oauth` path, e.g. `https://host/oauth`. */
export function accessTokenIssuer(scimBaseUrl: string): string {
    return `${scimBaseUrl.replace(/\/+$/, '').replace(/\/[^/]*$/, '')}/oauth`;
}

export interface AccessTokenGrant {
    clientId: string;
    /** The SCIM base URL the token is for (its `aud`). */
    scimBaseUrl: string;
    /** When the token expires, milliseconds since the epoch (whole seconds are kept). */
    expiresAt: number;
    scopes?: string[];
    /** The named tenant the token is for (its `tenant` claim); absent for the default tenant's tokens. */
    tenant?: string;
}

/** What a token must name besides its audience: the tenant (none: the default's) and, for a tenant, its client. */
export interface AccessTokenExpectations {
    tenant?: string;
    clientId?: string;
}

/** Signs one access token. Throws `SigningKeyUnavailableError` when the key cannot be used. */
export async function issueAccessToken(keys: SigningKeys, grant: AccessTokenGrant, now: number): Promise<string> {
    const signer = await keys.signer();
    const issuedAt = Math.floor(now / 1000);
    const header = { alg: signer.alg, kid: signer.kid, typ: ACCESS_TOKEN_TYPE };
    const claims = {
        iss: accessTokenIssuer(grant.scimBaseUrl),
        aud: grant.scimBaseUrl,
        sub: grant.clientId,
        client_id: grant.clientId,
        iat: issuedAt,
        nbf: issuedAt,
        exp: Math.floor(grant.expiresAt / 1000),
        jti: randomUUID(),
        ...(grant.scopes ? { scope: grant.scopes.join(' ') } : {}),
        ...(grant.tenant !== undefined ? { tenant: grant.tenant } : {}),
    };
    const signingInput = `${encodeJson(header)}.${encodeJson(claims)}`;
    const signature = await signer.sign(new TextEncoder().encode(signingInput));
    return `${signingInput}.${base64url.encode(signature)}`;
}

/** True for a string with the three dot-separated base64url parts of a compact JWS (RFC 7515 §7.1). */
export function looksLikeJwt(token: string): boolean {
    return token.length <= MAX_TOKEN_LENGTH && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

export class AccessTokenVerifier {
    readonly #keys: SigningKeys;
    readonly #now: () => number;

    constructor(keys: SigningKeys, options: { now?: () => number } = {}) {
        this.#keys = keys;
        this.#now = options.now ?? (() => Date.now());
    }

    /**
     * True if `token` is a valid access token for `scimBaseUrl` naming exactly `expected.tenant` (none: the
     * default tenant's) and, when given, the client `expected.clientId`. Never throws for a bad token.
     */
    async verify(token: string, scimBaseUrl: string, expected: AccessTokenExpectations = {}): Promise<boolean> {
        if (!looksLikeJwt(token)) return false;
        try {
            const { payload } = await jwtVerify(token, (header) => this.#keyFor(header), {
                algorithms: [SIGNING_ALGORITHM],
                typ: ACCESS_TOKEN_TYPE,
                issuer: accessTokenIssuer(scimBaseUrl),
                audience: scimBaseUrl,
                clockTolerance: CLOCK_LEEWAY_SECONDS,
                requiredClaims: ['iss', 'aud', 'sub', 'client_id', 'iat', 'nbf', 'exp', 'jti'],
                currentDate: new Date(this.#now()),
            });
            return payload.tenant === expected.tenant && (expected.clientId === undefined || payload.client_id === expected.clientId);
        } catch {
            return false; // any failure (signature, claims, unknown key) is just "not a valid token"
        }
    }

    /** The public key the header names, if it is one of ours. */
    async #keyFor(header: JWTHeaderParameters) {
        if (typeof header.kid !== 'string') throw new Error('no kid');
        let found = this.#keys.verificationKey(header.kid);
        if (found === undefined) {
            await this.#keys.reloadForUnknownKid();
            found = this.#keys.verificationKey(header.kid);
        }
        if (found === undefined || found.alg !== header.alg) throw new Error('unknown key');
        return found.key;
    }
}

function encodeJson(value: unknown): string {
    return base64url.encode(JSON.stringify(value));
}
