/**
 * Decides once, at start-up, where the SCIM token comes from (settings in `tokenSettings.ts`):
 *
 *   KEY_VAULT_URL set  → Key Vault, through the app's managed identity (production);
 *   else SCIM_TOKEN set → that literal token (local development only);
 *   else               → every request is refused, and a log line says why (fail closed).
 */
import type { TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { StaticTokenVerifier } from './bearer';
import { KeyVaultTokenVerifier } from './keyVaultTokenVerifier';
import { managedIdentityCredential } from './managedIdentityCredential';
import type { TokenVerifier } from './TokenVerifier';
import { readTokenSettings } from './tokenSettings';

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
    async verify(): Promise<boolean> {
        return false;
    }
}

export async function createTokenVerifier(env: NodeJS.ProcessEnv, deps: TokenVerifierDependencies = {}): Promise<TokenVerifier> {
    const log = deps.log ?? ((line: string) => console.warn(line));
    const settings = readTokenSettings(env, log);

    if (settings.keyVaultUrl !== undefined) {
        if (settings.staticToken !== undefined) log('SCIM token: SCIM_TOKEN is ignored because KEY_VAULT_URL is set.');
        // Key Vault's SDK is loaded here and only here: a SCIM_TOKEN run never pays for it (bench/RESULTS.md "Cold start").
        const { SecretClient } = await import('@azure/keyvault-secrets');
        const credential = deps.credential ?? managedIdentityCredential(settings.managedIdentityClientId);
        log(`SCIM token: verified against secret '${settings.secretName}' in ${settings.keyVaultUrl}.`);
        return new KeyVaultTokenVerifier({
            secretClient: new SecretClient(settings.keyVaultUrl, credential, deps.secretClientOptions),
            secretName: settings.secretName,
            graceWindowMs: settings.graceWindowMs,
            cacheTtlMs: settings.cacheTtlMs,
            log,
            ...(deps.now ? { now: deps.now } : {}),
        });
    }

    if (settings.staticToken !== undefined) {
        log('SCIM token: using the SCIM_TOKEN setting (local development only; use KEY_VAULT_URL in Azure).');
        return new StaticTokenVerifier(settings.staticToken);
    }

    log('SCIM token: neither KEY_VAULT_URL nor SCIM_TOKEN is set; every SCIM request will be refused with 401.');
    return new RefuseAllTokenVerifier();
}
