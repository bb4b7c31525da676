/**
 * Decides once, at start-up, where the SCIM token comes from (settings read in shared/config.ts):
 *
 *   KEY_VAULT_URL set  → Key Vault, through the app's managed identity (production);
 *   else SCIM_TOKEN set → that literal token (local development only);
 *   else               → every request is refused, and a log line says why (fail closed).
 */
import type { TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { TOKEN_SETTING_NAMES, type Settings, type TokenKind } from '../config';
import { isB64Token } from './bearerToken';
import { KeyVaultTokenVerifier, type SecretReader } from './KeyVaultTokenVerifier';
import { managedIdentityCredential } from './managedIdentityCredential';
import { StaticTokenVerifier } from './StaticTokenVerifier';
import type { AccessTokenVerifier } from './oauth/accessTokens';
import { TenantTokenVerifier, type TenantSecretKind } from './TenantTokenVerifier';
import type { TenantRegistry } from '../store/TenantRegistry';
import type { TokenVerifier } from './TokenVerifier';

export interface TokenVerifierDependencies {
    /** The Key Vault credential; tests inject a fake. Without it a managed identity is used. */
    credential?: TokenCredential;
    secretClientOptions?: SecretClientOptions;
    log?: (line: string) => void;
    /** The Key Vault verifier's clock, in milliseconds since the epoch (tests move it past a grace window). */
    now?: () => number;
}

/** The verifier used when no token source is configured: nothing is a valid token. */
export class RefuseAllTokenVerifier implements TokenVerifier {
    verify(): Promise<boolean> {
        return Promise.resolve(false);
    }
}

/**
 * Entra's SCIM token (`kind` 'scim'), or the change feed's (`kind` 'feed': SCIM_FEED_TOKEN_SECRET_NAME /
 * SCIM_FEED_TOKEN, docs/feed.md), by the same rules.
 */
export function createTokenVerifier(
    { token, feedToken, managedIdentityClientId }: Pick<Settings, 'token' | 'managedIdentityClientId'> & Partial<Pick<Settings, 'feedToken'>>,
    deps: TokenVerifierDependencies = {},
    kind: TokenKind = 'scim',
): TokenVerifier {
    const log = deps.log ?? ((line: string) => console.warn(line));
    const settings = kind === 'feed' ? feedToken : token;
    const { label, staticToken } = TOKEN_SETTING_NAMES[kind];
    if (settings === undefined) throw new Error(`No settings for the ${label}`);

    if (settings.keyVaultUrl !== undefined) {
        if (settings.staticToken !== undefined) log(`${label}: ${staticToken} is ignored because KEY_VAULT_URL is set.`);
        const credential = deps.credential ?? managedIdentityCredential(managedIdentityClientId);
        log(`${label}: verified against secret '${settings.secretName}' in ${settings.keyVaultUrl}.`);
        return new KeyVaultTokenVerifier({
            secretClient: secretClientOnFirstUse(settings.keyVaultUrl, credential, deps.secretClientOptions),
            secretName: settings.secretName,
            graceWindowMs: settings.graceWindowMs,
            cacheTtlMs: settings.cacheTtlMs,
            log,
            label,
            ...(deps.now ? { now: deps.now } : {}),
        });
    }

    if (settings.staticToken !== undefined) {
        log(`${label}: using the ${staticToken} setting (local development only; use KEY_VAULT_URL in Azure).`);
        if (!isB64Token(settings.staticToken)) {
            log(`${label}: ${staticToken} holds characters a bearer token cannot carry (RFC 6750 b64token: letters, digits, - . _ ~ + / and trailing =); no request can match it.`);
        }
        return new StaticTokenVerifier(settings.staticToken);
    }

    log(`${label}: neither KEY_VAULT_URL nor ${staticToken} is set; every ${kind === 'scim' ? 'SCIM' : 'change feed'} request will be refused with 401.`);
    return new RefuseAllTokenVerifier();
}

/**
 * The token check of named tenants: their registry rows, and with KEY_VAULT_URL set a Key Vault verifier per
 * tenant secret (same grace window and cache TTL as the default tenant's; a tenant's OAuth client secret the
 * deployment's client secret rules: SCIM_OAUTH_SECRET_GRACE_MINUTES, newest version unusable = refused), all
 * through one `SecretClient`. `accessTokens`: the deployment's access-token check when OAuth is on.
 */
export function createTenantTokenVerifier(
    { token: settings, managedIdentityClientId, oauth }: Pick<Settings, 'token' | 'managedIdentityClientId'> & Partial<Pick<Settings, 'oauth'>>,
    registry: Pick<TenantRegistry, 'get'>,
    deps: TokenVerifierDependencies = {},
    accessTokens?: AccessTokenVerifier,
): TenantTokenVerifier {
    const log = deps.log ?? ((line: string) => console.warn(line));
    let secretClient: SecretReader | undefined;
    const keyVaultUrl = settings.keyVaultUrl;
    const keyVaultVerifier = keyVaultUrl === undefined
        ? undefined
        : (secretName: string, kind: TenantSecretKind) => {
            secretClient ??= secretClientOnFirstUse(keyVaultUrl, deps.credential ?? managedIdentityCredential(managedIdentityClientId), deps.secretClientOptions);
            return new KeyVaultTokenVerifier({
                secretClient,
                secretName,
                graceWindowMs: kind === 'client' && oauth ? oauth.secretGraceWindowMs : settings.graceWindowMs,
                cacheTtlMs: settings.cacheTtlMs,
                log,
                ...(kind === 'client' ? { label: 'OAuth client secret', whenNewestUnusable: 'refuse' as const } : {}),
                ...(deps.now ? { now: deps.now } : {}),
            });
        };
    return new TenantTokenVerifier({
        registry,
        cacheTtlMs: settings.cacheTtlMs,
        log,
        ...(accessTokens ? { accessTokens } : {}),
        ...(keyVaultVerifier ? { keyVaultVerifier } : {}),
        ...(deps.now ? { now: deps.now } : {}),
    });
}

/**
 * Key Vault's `SecretClient`, with its SDK imported on the first call (the verifier's first Key Vault read,
 * on the first request) rather than at start-up: a SCIM_TOKEN run never loads it, and the deployment bundle
 * keeps it in a file of its own that only this import reads (infra/scripts/bundle.mjs, bench/RESULTS.md
 * "Cold start").
 */
export function secretClientOnFirstUse(vaultUrl: string, credential: TokenCredential, options: SecretClientOptions | undefined): SecretReader {
    let client: Promise<SecretReader> | undefined;
    const load = () => (client ??= import('@azure/keyvault-secrets').then(({ SecretClient }) => new SecretClient(vaultUrl, credential, options)));
    return {
        async getSecret(name, getOptions) {
            return (await load()).getSecret(name, getOptions);
        },
        async *listPropertiesOfSecretVersions(name) {
            yield* (await load()).listPropertiesOfSecretVersions(name);
        },
    };
}
