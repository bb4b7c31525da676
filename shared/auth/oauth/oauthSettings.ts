/**
 * The settings of the OAuth 2.0 token endpoint (client credentials, RFC 6749 §4.4) and of workload identity
 * federation (client assertions, RFC 7523 §2.2), read in one place into one object. One object on purpose:
 * with several tenants each tenant gets its own client and federation settings, and this is the shape each
 * of them will have.
 *
 *   SCIM_OAUTH_CLIENT_ID               the client id Entra presents; unset = no token endpoint (Secret Token only)
 *   SCIM_OAUTH_CLIENT_SECRET           the client secret, local development only (like SCIM_TOKEN)
 *   SCIM_OAUTH_CLIENT_SECRET_NAME      Key Vault secret holding the client secret (default `scim-oauth-client-secret`)
 *   SCIM_OAUTH_SECRET_GRACE_MINUTES    how long the previous client secret stays valid after a rotation (default 10080, 7 days)
 *   SCIM_OAUTH_SIGNING_KEY_NAME        Key Vault key that signs access tokens (default `scim-oauth-signing-key`)
 *   SCIM_OAUTH_TOKEN_LIFETIME_MINUTES  access token lifetime, 60–360 (default 120)
 *   SCIM_OAUTH_SCOPE                   space-separated scopes a client may ask for; unset = `scope` is ignored
 *   SCIM_WIF_ISSUER                    federation: the assertion's `iss` (https://login.microsoftonline.com/<tenant>/v2.0)
 *   SCIM_WIF_JWKS_URL                  federation: the issuer's keys (default <issuer root>/discovery/v2.0/keys)
 *   SCIM_WIF_SUBJECT                   federation: the assertion's `sub`
 *   SCIM_WIF_AUDIENCE                  federation: accepted `aud` values, comma-separated
 *
 * Key Vault itself (KEY_VAULT_URL, AZURE_CLIENT_ID, SCIM_TOKEN_CACHE_SECONDS) is shared with the Secret Token.
 */

export const DEFAULT_CLIENT_SECRET_NAME = 'scim-oauth-client-secret';
export const DEFAULT_SIGNING_KEY_NAME = 'scim-oauth-signing-key';
export const DEFAULT_SECRET_GRACE_MINUTES = 7 * 24 * 60;
/** Microsoft's gallery guidance: access tokens live at least 60 minutes and at most 6 hours (docs/entra-protocol.md §15). */
export const MIN_TOKEN_LIFETIME_MINUTES = 60;
export const MAX_TOKEN_LIFETIME_MINUTES = 360;
export const DEFAULT_TOKEN_LIFETIME_MINUTES = 120;

export interface FederationSettings {
    /** The assertion's exact `iss`. */
    issuer: string;
    /** Where the issuer publishes its signing keys (a JWKS). */
    jwksUrl: string;
    /** The assertion's exact `sub` (the object id of Entra's workload identity). */
    subject: string;
    /** Accepted `aud` values: Microsoft's examples show both `api://<appId>` and the bare app id. */
    audiences: string[];
    /** The tenant the assertion must come from (`tid`), the GUID in the issuer's path. */
    tenantId: string;
}

export interface OAuthSettings {
    clientId: string;
    /** Where the client secret comes from; undefined: no client secret is accepted (federation only). */
    clientSecret: { keyVaultSecretName: string } | { value: string } | undefined;
    secretGraceWindowMs: number;
    /** Where the access-token signing key lives: a Key Vault key, or one generated in memory (local). */
    signingKey: { keyVaultKeyName: string } | { inMemory: true };
    accessTokenLifetimeSeconds: number;
    /** Scopes a token request may name; undefined: any `scope` parameter is ignored. */
    scopes: string[] | undefined;
    federation: FederationSettings | undefined;
}

/**
 * The OAuth settings, or undefined when SCIM_OAUTH_CLIENT_ID is unset (the token endpoint then refuses
 * every request and the SCIM routes accept only the Secret Token). `log` hears about every value that was
 * unusable and what was done instead; nothing here logs a secret.
 */
export function readOAuthSettings(env: NodeJS.ProcessEnv, log: (line: string) => void = () => undefined): OAuthSettings | undefined {
    const clientId = nonEmpty(env.SCIM_OAUTH_CLIENT_ID);
    if (clientId === undefined) return undefined;

    const keyVault = nonEmpty(env.KEY_VAULT_URL) !== undefined;
    const staticSecret = env.SCIM_OAUTH_CLIENT_SECRET === '' ? undefined : env.SCIM_OAUTH_CLIENT_SECRET;
    const secretVersions = readClientSecretVersionSettings(env, log);
    let clientSecret: OAuthSettings['clientSecret'];
    if (keyVault) {
        if (staticSecret !== undefined) log('OAuth: SCIM_OAUTH_CLIENT_SECRET is ignored because KEY_VAULT_URL is set.');
        clientSecret = { keyVaultSecretName: secretVersions.secretName };
    } else if (staticSecret !== undefined) {
        clientSecret = { value: staticSecret };
    }

    const lifetimeMinutes = readNumber(env, 'SCIM_OAUTH_TOKEN_LIFETIME_MINUTES', DEFAULT_TOKEN_LIFETIME_MINUTES, log,
        (value) => value >= MIN_TOKEN_LIFETIME_MINUTES && value <= MAX_TOKEN_LIFETIME_MINUTES,
        `between ${MIN_TOKEN_LIFETIME_MINUTES} and ${MAX_TOKEN_LIFETIME_MINUTES}`);
    const scope = nonEmpty(env.SCIM_OAUTH_SCOPE);

    return {
        clientId,
        clientSecret,
        secretGraceWindowMs: secretVersions.graceWindowMs,
        signingKey: keyVault
            ? { keyVaultKeyName: nonEmpty(env.SCIM_OAUTH_SIGNING_KEY_NAME) ?? DEFAULT_SIGNING_KEY_NAME }
            : { inMemory: true },
        accessTokenLifetimeSeconds: Math.round(lifetimeMinutes * 60),
        scopes: scope === undefined ? undefined : scope.split(/\s+/),
        federation: readFederationSettings(env, log),
    };
}

/**
 * Where the client secret's Key Vault versions are and how long the previous one stays valid: what the app
 * and the admin command (`npm run token -- client …`) must agree on.
 */
export function readClientSecretVersionSettings(env: NodeJS.ProcessEnv, log: (line: string) => void = () => undefined): { secretName: string; graceWindowMs: number } {
    return {
        secretName: nonEmpty(env.SCIM_OAUTH_CLIENT_SECRET_NAME) ?? DEFAULT_CLIENT_SECRET_NAME,
        graceWindowMs: readNumber(env, 'SCIM_OAUTH_SECRET_GRACE_MINUTES', DEFAULT_SECRET_GRACE_MINUTES, log,
            (value) => value >= 0, 'a non-negative number') * 60_000,
    };
}

function readFederationSettings(env: NodeJS.ProcessEnv, log: (line: string) => void): FederationSettings | undefined {
    const issuer = nonEmpty(env.SCIM_WIF_ISSUER);
    const subject = nonEmpty(env.SCIM_WIF_SUBJECT);
    const audiences = (env.SCIM_WIF_AUDIENCE ?? '').split(',').map((value) => value.trim()).filter((value) => value !== '');
    if (issuer === undefined && subject === undefined && audiences.length === 0) return undefined;

    const missing = [
        ...(issuer === undefined ? ['SCIM_WIF_ISSUER'] : []),
        ...(subject === undefined ? ['SCIM_WIF_SUBJECT'] : []),
        ...(audiences.length === 0 ? ['SCIM_WIF_AUDIENCE'] : []),
    ];
    if (missing.length > 0) {
        log(`OAuth: workload identity federation is off: ${missing.join(', ')} not set.`);
        return undefined;
    }
    // Entra's v2.0 issuer is https://login.microsoftonline.com/<tenant id>/v2.0: the tenant is the segment before v2.0.
    const issuerPath = /^(https?:\/\/[^/]+(?:\/[^/]+)*)\/([^/]+)\/v2\.0$/.exec(issuer!);
    if (!issuerPath) {
        log('OAuth: workload identity federation is off: SCIM_WIF_ISSUER is not of the form https://<host>/<tenant id>/v2.0.');
        return undefined;
    }
    const [, , tenantId] = issuerPath;
    const jwksUrl = nonEmpty(env.SCIM_WIF_JWKS_URL) ?? `${issuer!.slice(0, -'/v2.0'.length)}/discovery/v2.0/keys`;
    if (!/^https?:\/\//.test(jwksUrl)) {
        log('OAuth: workload identity federation is off: SCIM_WIF_JWKS_URL is not an http(s) URL.');
        return undefined;
    }
    return { issuer: issuer!, jwksUrl, subject: subject!, audiences, tenantId: tenantId! };
}

function nonEmpty(value: string | undefined): string | undefined {
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function readNumber(
    env: NodeJS.ProcessEnv,
    name: string,
    fallback: number,
    log: (line: string) => void,
    isAcceptable: (value: number) => boolean,
    expectation: string,
): number {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || !isAcceptable(value)) {
        log(`Setting ${name}="${raw}" is not ${expectation}; using the default ${fallback}.`);
        return fallback;
    }
    return value;
}
