/**
 * The app's managed identity as a `TokenCredential`, for Key Vault (the SCIM token) and Table Storage
 * (`TABLES_ENDPOINT`) in Azure. `@azure/identity` is the largest thing the app could load (with MSAL,
 * about half the bundle and most of the module load time, bench/RESULTS.md "Cold start"), so it is
 * imported on the first token request, not at start-up: a `SCIM_TOKEN` run, the local host and the tests
 * never load it, and the credential is never constructed outside Azure (its endpoint exists only there).
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

export function managedIdentityCredential(clientId: string | undefined): TokenCredential {
    let credential: Promise<TokenCredential> | undefined;
    return {
        async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
            credential ??= import('@azure/identity').then(({ ManagedIdentityCredential }) =>
                clientId === undefined ? new ManagedIdentityCredential() : new ManagedIdentityCredential({ clientId }),
            );
            return (await credential).getToken(scopes, options);
        },
    };
}
