/**
 * `npm run tenant -- client <create|rotate|status> <name>`: a named tenant's own OAuth client, for Entra's
 * "OAuth2 client credentials grant" against `/tenants/<name>/oauth/token` (docs/operate.md "Tenants",
 * docs/entra.md §10). Kept where the tenant keeps its Secret Token:
 *
 *   local  the client id and a SHA-256 digest of the secret in the tenant's registry row; a rotate replaces the
 *          digest, so the previous secret is refused at once (like the tenant's Secret Token);
 *   Azure  the client id in the row, the secret in the Key Vault secret `scim-oauth-tenant-<name>` (tagged with the
 *          client id, expiring 1 year out), with the deployment's client secret rules: a rotate writes a new
 *          version and the previous one stays valid for SCIM_OAUTH_SECRET_GRACE_MINUTES.
 *
 *   create  a new client id and its first secret; refuses if the tenant has a client
 *   rotate  a new secret for the same client
 *   status  the client id and where its secret is (Key Vault: version dates, never a value)
 *
 * A new secret is printed once, on stdout, as the last of the four lines Entra asks for; explanations go to stderr.
 */
import { randomUUID } from 'node:crypto';
import type { SecretClient } from '@azure/keyvault-secrets';
import { tokenDigest } from '../shared/auth/tokenDigest';
import { listSecretVersions, selectAcceptedVersions } from '../shared/auth/tokenVersions';
import { readClientSecretVersionSettings, type Environment } from '../shared/config';
import type { TenantRecord, TenantRegistry } from '../shared/store/TenantRegistry';
import { writeClientSecret } from './clientCommand';
import { generateToken } from './generateToken';

export const TENANT_CLIENT_COMMANDS = ['create', 'rotate', 'status'] as const;
export type TenantClientCommand = (typeof TENANT_CLIENT_COMMANDS)[number];

export interface TenantClientContext {
    env: Environment;
    out: (line: string) => void;
    err: (line: string) => void;
    registry: TenantRegistry;
    /** The tenant's row (exists, not being removed). */
    tenant: TenantRecord;
    /** KEY_VAULT_URL, when set. */
    vaultUrl: string | undefined;
    createSecretClient: (vaultUrl: string) => SecretClient;
    /** The tenant's SCIM root, `https://<host>/tenants/<name>/scim`. */
    tenantUrl: string;
    now: Date;
}

/** The Key Vault secret of a tenant's OAuth client secret; no other secret of ours starts with `scim-oauth-tenant-`. */
export function clientSecretNameOf(tenant: string): string {
    return `scim-oauth-tenant-${tenant}`;
}

/** Runs one client subcommand for one tenant; returns the exit code (0 ok, 1 failed, 2 setting missing). */
export async function runTenantClientCommand(command: TenantClientCommand, context: TenantClientContext): Promise<number> {
    const { tenant, err } = context;
    const inKeyVault = tenant.secretName !== undefined;
    if (inKeyVault && context.vaultUrl === undefined) {
        err(`Tenant '${tenant.name}' keeps its secrets in Key Vault: set KEY_VAULT_URL.`);
        return 2;
    }
    if (command === 'status') return status(context);
    if (command === 'create' && tenant.clientId !== undefined) {
        err(`Tenant '${tenant.name}' already has OAuth client ${tenant.clientId}: use \`npm run tenant -- client rotate ${tenant.name}\` for a new secret.`);
        return 1;
    }
    if (command === 'rotate' && tenant.clientId === undefined) {
        err(`Tenant '${tenant.name}' has no OAuth client: run \`npm run tenant -- client create ${tenant.name}\` first.`);
        return 1;
    }
    const clientId = tenant.clientId ?? randomUUID();
    const secret = inKeyVault ? await writeToKeyVault(context, clientId, command) : await writeDigest(context, clientId, command);
    if (secret === undefined) return 1;
    if (!context.env.SCIM_OAUTH_CLIENT_ID?.trim()) {
        err('Note: the app must have OAuth on (SCIM_OAUTH_CLIENT_ID set): its signing key signs every tenant\'s access tokens; without it this tenant\'s token endpoint answers invalid_client.');
    }
    err('Enter these in the customer\'s Entra provisioning (Admin Credentials → Authentication Method: OAuth2 client credentials grant); the secret is shown only once:');
    context.out(`Tenant URL: ${context.tenantUrl}`);
    context.out(`Token Endpoint: ${context.tenantUrl.replace(/\/scim$/, '/oauth/token')}`);
    context.out(`Client Identifier: ${clientId}`);
    context.out(`Client Secret: ${secret}`);
    return 0;
}

/** Local: a new secret whose digest replaces the row's; the previous secret is refused from now on. */
async function writeDigest(context: TenantClientContext, clientId: string, command: TenantClientCommand): Promise<string> {
    const secret = generateToken();
    await context.registry.put({ ...context.tenant, clientId, clientSecretDigest: tokenDigest(secret).toString('hex') });
    context.err(command === 'create'
        ? `Created OAuth client ${clientId} for tenant '${context.tenant.name}' (secret digest stored locally).`
        : 'The previous client secret is refused from now on (running instances may accept it until their cache expires).');
    return secret;
}

/** Azure: a new version of the tenant's client secret; the previous one stays valid for the grace window. */
async function writeToKeyVault(context: TenantClientContext, clientId: string, command: TenantClientCommand): Promise<string | undefined> {
    const { tenant, err } = context;
    const secretName = tenant.clientSecretName ?? clientSecretNameOf(tenant.name);
    const client = context.createSecretClient(context.vaultUrl!);
    const { graceWindowMs } = readClientSecretVersionSettings(context.env, err);
    if (command === 'create' && (await listSecretVersions(client, secretName)).length > 0) {
        // Left by a removed tenant of the same name: its versions must not become this client's previous secret.
        err(`Key Vault secret '${secretName}' already exists (left by an earlier tenant '${tenant.name}'?): delete and purge it, then run create again.`);
        return undefined;
    }
    const written = await writeClientSecret(client, secretName, clientId, 1, graceWindowMs, context.now);
    if (tenant.clientId === undefined || tenant.clientSecretName === undefined) {
        await context.registry.put({ ...tenant, clientId, clientSecretName: secretName });
    }
    err(command === 'create'
        ? `Created OAuth client ${clientId} for tenant '${tenant.name}': version ${written.version} of Key Vault secret '${secretName}', expiring ${written.expiresOn.toISOString()}.`
        : `Wrote version ${written.version} of Key Vault secret '${secretName}', expiring ${written.expiresOn.toISOString()}. `
            + (written.previous
                ? `The previous secret stays valid until ${written.previous.acceptedUntil.toISOString()} (grace window ${graceWindowMs / 60_000} min, if the app's SCIM_OAUTH_SECRET_GRACE_MINUTES is the same). Update Entra before then.`
                : 'No previous secret was valid, so only the new one is accepted.'));
    return written.secret;
}

/** The client id and where its secret is; Key Vault version properties only, so never a secret. */
async function status(context: TenantClientContext): Promise<number> {
    const { tenant, out } = context;
    if (tenant.clientId === undefined) {
        out(`Tenant '${tenant.name}': no OAuth client (its token endpoint refuses every client). \`npm run tenant -- client create ${tenant.name}\` makes one.`);
        return 0;
    }
    out(`Tenant '${tenant.name}': OAuth client ${tenant.clientId} (${tenant.state}).`);
    if (tenant.clientSecretName === undefined) {
        out('Client secret: its digest is stored locally; a rotate replaces it at once (no previous secret is accepted).');
        return 0;
    }
    const client = context.createSecretClient(context.vaultUrl!);
    const { graceWindowMs } = readClientSecretVersionSettings(context.env, context.err);
    const selected = selectAcceptedVersions(await listSecretVersions(client, tenant.clientSecretName), graceWindowMs, context.now);
    if (!selected?.current) {
        out(`Key Vault secret '${tenant.clientSecretName}' has no usable version: every client secret is refused. Run \`npm run tenant -- client rotate ${tenant.name}\`.`);
        return 0;
    }
    const expiresOn = selected.current.expiresOn;
    out(`Current secret: version ${selected.current.version} of Key Vault secret '${tenant.clientSecretName}', created ${selected.current.createdOn.toISOString()}, `
        + (expiresOn ? `expires ${expiresOn.toISOString()}.` : 'no expiry date.'));
    out(selected.previous
        ? `Previous secret: version ${selected.previous.properties.version}, still accepted until ${selected.previous.acceptedUntil.toISOString()} (grace window ${graceWindowMs / 60_000} min).`
        : `No previous secret is in its grace window (${graceWindowMs / 60_000} min).`);
    return 0;
}
