/**
 * Builds the OAuth side of the app once, at start-up, from the settings (`Settings.oauth`, shared/config.ts):
 *
 *   SCIM_OAUTH_CLIENT_ID unset → no OAuth: the token endpoint refuses everything, SCIM takes the Secret Token only;
 *   KEY_VAULT_URL set          → client secret = Key Vault secret, signing key = Key Vault key (managed identity);
 *   else                       → client secret = SCIM_OAUTH_CLIENT_SECRET, signing key generated in memory (local).
 *
 * Federation is on when its settings are complete. Nothing here contacts anything: Key Vault and the
 * issuer's keys are first read on the first token request.
 */
import type { TokenCredential } from '@azure/identity';
import type { KeyClientOptions } from '@azure/keyvault-keys';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import type { OAuthSettings, Settings } from '../../config';
import { secretClientOnFirstUse } from '../createTokenVerifier';
import { managedIdentityCredential } from '../managedIdentityCredential';
import { KeyVaultTokenVerifier } from '../KeyVaultTokenVerifier';
import { StaticTokenVerifier } from '../StaticTokenVerifier';
import type { TokenVerifier } from '../TokenVerifier';
import { AccessTokenVerifier, CLOCK_LEEWAY_SECONDS } from './accessTokens';
import { FailedAuthenticationLimiter } from './FailedAuthenticationLimiter';
import { FederatedAssertionVerifier } from './FederatedAssertionVerifier';
import { SecretOrAccessTokenVerifier } from './SecretOrAccessTokenVerifier';
import { InMemorySigningKeys, keyClientOnFirstUse, KeyVaultSigningKeys, type SigningKeys } from './signingKeys';
import { TokenEndpoint, type TenantClients } from './TokenEndpoint';

export interface OAuthDependencies {
    /** The Key Vault credential; tests inject a fake. Without it a managed identity is used. */
    credential?: TokenCredential;
    secretClientOptions?: SecretClientOptions;
    keyClientOptions?: KeyClientOptions;
    now?: () => number;
    log?: (line: string) => void;
}

export interface OAuth {
    settings: OAuthSettings;
    tokenEndpoint: TokenEndpoint;
    accessTokens: AccessTokenVerifier;
    signingKeys: SigningKeys;
}

export function createOAuth(
    { oauth: settings, token: tokenSettings, managedIdentityClientId }: Pick<Settings, 'oauth' | 'token' | 'managedIdentityClientId'>,
    deps: OAuthDependencies = {},
    tenantClients?: TenantClients,
): OAuth | undefined {
    if (settings === undefined) return undefined;
    const log = deps.log ?? ((line: string) => console.warn(line));
    const now = deps.now ?? (() => Date.now());
    // Only ever used in Key Vault mode; built lazily, so it never probes for a managed identity otherwise.
    const credential = deps.credential ?? managedIdentityCredential(managedIdentityClientId);

    let clientSecrets: TokenVerifier | undefined;
    if (settings.clientSecret !== undefined && 'keyVaultSecretName' in settings.clientSecret) {
        clientSecrets = new KeyVaultTokenVerifier({
            secretClient: secretClientOnFirstUse(tokenSettings.keyVaultUrl!, credential, deps.secretClientOptions),
            secretName: settings.clientSecret.keyVaultSecretName,
            graceWindowMs: settings.secretGraceWindowMs,
            cacheTtlMs: tokenSettings.cacheTtlMs,
            label: 'OAuth client secret',
            whenNewestUnusable: 'refuse',
            log,
            now,
        });
    } else if (settings.clientSecret !== undefined) {
        clientSecrets = new StaticTokenVerifier(settings.clientSecret.value);
    }

    let signingKeys: SigningKeys;
    if ('keyVaultKeyName' in settings.signingKey) {
        signingKeys = new KeyVaultSigningKeys({
            keyClient: keyClientOnFirstUse(tokenSettings.keyVaultUrl!, credential, deps.keyClientOptions),
            keyName: settings.signingKey.keyVaultKeyName,
            credential,
            ...(deps.keyClientOptions ? { cryptographyClientOptions: deps.keyClientOptions } : {}),
            // A token signed with the old version just before a rotation, possibly by an instance that has
            // not noticed the rotation yet, must stay valid for its whole life.
            graceWindowMs: (settings.accessTokenLifetimeSeconds + CLOCK_LEEWAY_SECONDS) * 1000 + tokenSettings.cacheTtlMs,
            cacheTtlMs: tokenSettings.cacheTtlMs,
            now,
            log,
        });
    } else {
        signingKeys = new InMemorySigningKeys();
    }

    const federation = settings.federation && new FederatedAssertionVerifier(settings.federation, { now, log });
    log(`OAuth: token endpoint on; ${describe(settings, federation !== undefined)}.`);

    return {
        settings,
        tokenEndpoint: new TokenEndpoint({
            settings,
            clientSecrets,
            federation,
            signingKeys,
            limiter: new FailedAuthenticationLimiter({ now }),
            ...(tenantClients ? { tenantClients } : {}),
            now,
        }),
        accessTokens: new AccessTokenVerifier(signingKeys, { now }),
        signingKeys,
    };
}

/** The start-up log line: where each part comes from, never a value. */
function describe(settings: OAuthSettings, federation: boolean): string {
    const secret = settings.clientSecret === undefined
        ? 'no client secret'
        : 'keyVaultSecretName' in settings.clientSecret
            ? `client secret from Key Vault secret '${settings.clientSecret.keyVaultSecretName}'`
            : 'client secret from SCIM_OAUTH_CLIENT_SECRET (local development only)';
    const key = 'keyVaultKeyName' in settings.signingKey
        ? `tokens signed with Key Vault key '${settings.signingKey.keyVaultKeyName}'`
        : 'tokens signed with an in-memory key (local development only)';
    const lifetime = `token lifetime ${settings.accessTokenLifetimeSeconds / 60} min`;
    return [secret, federation ? 'workload identity federation on' : 'no workload identity federation', key, lifetime].join('; ');
}

/** The SCIM routes' verifier: the Secret Token alone, or, with OAuth configured, either it or an access token. */
export function withAccessTokens(secretToken: TokenVerifier, oauth: OAuth | undefined): TokenVerifier {
    return oauth === undefined ? secretToken : new SecretOrAccessTokenVerifier(secretToken, oauth.accessTokens);
}
