/**
 * The admin command for tenants (`npm run tenant -- <command>`, docs/operate.md "Onboarding a customer"):
 *
 *   add <name>      register a tenant; prints its change feed URL and token, then its Tenant URL and Secret Token
 *                   as the last two lines, once
 *   list            every tenant with its state, where its tokens are checked and its OAuth client id
 *   rotate <name>   a new Secret Token (Key Vault: a new secret version, the previous one kept for the grace window);
 *                   with --feed, a new change feed token instead (or the first, for a tenant added before tenant feeds)
 *   disable <name>  refuse its token (every instance within SCIM_TOKEN_CACHE_SECONDS); its data stays
 *   enable <name>   accept its token again
 *   remove <name>   delete its data in bounded batches with a progress bar, then the tenant; rerun to resume
 *   client <create|rotate|status> <name>   its own OAuth client (dev/tenantClientCommand.ts)
 *
 * Storage is the app's own setting: TABLES_CONNECTION_STRING (local, the same Azurite as `npm start`) or
 * TABLES_ENDPOINT with the admin's Azure identity. With KEY_VAULT_URL set, a tenant's token is the Key Vault secret
 * `scim-tenant-<name>` and its feed token `scim-feed-tenant-<name>`; without it only their SHA-256 digests are stored
 * in the tenant's registry row.
 * Options: --app-url <url> (the app's public URL for the Tenant URL; default SCIM_PUBLIC_BASE_URL or the local host).
 */
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { describeError } from '../shared/describeError';
import { splitCommandLine } from './commandLine';
import { tokenDigest } from '../shared/auth/tokenDigest';
import { readSettings, type Environment, type Settings } from '../shared/config';
import { scimBaseUrl } from '../shared/http/scimEndpoint';
import { createStoreFromSettings } from '../shared/store/createStore';
import { isTenantName, partitionsOf } from '../shared/store/keys';
import { createTableResourceStore, type TableResourceStore } from '../shared/store/TableResourceStore';
import { TenantExistsError, type TenantRecord, type TenantRegistry } from '../shared/store/TenantRegistry';
import { generateToken } from './generateToken';
import { runTenantClientCommand, TENANT_CLIENT_COMMANDS, type TenantClientCommand } from './tenantClientCommand';
import { rotateToken } from './tokenCommand';

export interface TenantCommandIo {
    env: Environment;
    /** Program output: the Tenant URL and Secret Token, the list. */
    out: (line: string) => void;
    /** Explanations, progress and errors. */
    err: (line: string) => void;
    /** The progress bar, redrawn in place (a terminal's `\r`); defaults to `err`. */
    progress?: (line: string) => void;
    /** The store of the default tenant (its table holds the registry); defaults to the app's storage settings. */
    openStore?: (settings: Settings) => TableResourceStore;
    createSecretClient: (vaultUrl: string) => SecretClient;
    now?: () => Date;
}

/** Rows a `remove` deletes per step: one page read, then ten transactions. */
export const REMOVE_BATCH_ROWS = 1000;

const COMMANDS = ['add', 'list', 'rotate', 'disable', 'enable', 'remove', 'client'] as const;
type Command = (typeof COMMANDS)[number];

const USAGE = [
    'Usage: npm run tenant -- <add|list|rotate|disable|enable|remove> [<name>] [--feed] [--app-url <url>]',
    '       npm run tenant -- client <create|rotate|status> <name> [--app-url <url>]',
    '  add <name>      register a tenant; prints its change feed token and its Tenant URL and Secret Token once',
    '  list            every tenant: its state, where its tokens are kept, its OAuth client id',
    '  rotate <name>   a new Secret Token for the tenant (--feed: a new change feed token)',
    '  disable <name>  refuse the tenant\'s token, keep its data',
    '  enable <name>   accept the tenant\'s token again',
    '  remove <name>   delete the tenant and all its data (resumable)',
    '  client create|rotate|status <name>   the tenant\'s own OAuth client (client credentials; the secret is printed once)',
    'Tenant names: 3–40 lower-case letters, digits and hyphens.',
];

/** Runs one command; returns the process exit code (0 ok, 1 failed, 2 usage error or bad name). */
export async function runTenantCommand(argv: readonly string[], io: TenantCommandIo): Promise<number> {
    const parsed = parseArguments(argv);
    if (typeof parsed === 'string') {
        io.err(parsed);
        USAGE.forEach((line) => io.err(line));
        return 2;
    }
    const now = io.now ?? (() => new Date());
    const { command, name } = parsed;
    try {
        const settings = readSettings(io.env, io.err);
        const store = (io.openStore ?? openAdminStore)(settings);
        const registry = store.tenantRegistry();
        const vaultUrl = settings.token.keyVaultUrl;
        if (command === 'list') {
            const tenants = await registry.list();
            if (tenants.length === 0) io.out('No tenants.');
            for (const tenant of tenants) io.out(`${tenant.name}  ${tenant.state}  created ${tenant.created}  ${describeTokenSource(tenant)}  ${describeFeedTokenSource(tenant)}  ${describeOAuthClient(tenant)}`);
            return 0;
        }
        const tenant = name!;
        const existing = await registry.get(tenant);
        if (command === 'add') {
            if (existing) {
                io.err(existing.state === 'removing'
                    ? `Tenant '${tenant}' is being removed; finish with \`npm run tenant -- remove ${tenant}\` first.`
                    : `Tenant '${tenant}' already exists.`);
                return 1;
            }
            const token = generateToken();
            const feedToken = generateToken();
            const record: TenantRecord = { name: tenant, state: 'active', created: now().toISOString() };
            if (vaultUrl === undefined) {
                record.tokenDigest = tokenDigest(token).toString('hex');
                record.feedTokenDigest = tokenDigest(feedToken).toString('hex');
            } else {
                record.secretName = secretNameOf(tenant);
                record.feedSecretName = feedSecretNameOf(tenant);
                const client = io.createSecretClient(vaultUrl);
                await client.setSecret(record.secretName, token, { contentType: 'SCIM bearer token' });
                await client.setSecret(record.feedSecretName, feedToken, { contentType: 'SCIM change feed token' });
            }
            await registry.add(record);
            io.err(`Added tenant '${tenant}' (${describeTokenSource(record)}; ${describeFeedTokenSource(record)}).`);
            io.err('The application reads this tenant\'s changes with the feed token (docs/feed.md, "Tenants"); shown only once:');
            printFeedCredentials(io, settings, parsed.appUrl, tenant, feedToken);
            io.err('Paste these into the customer\'s Entra provisioning (Provisioning → Admin Credentials); the token is shown only once:');
            io.out(`Tenant URL: ${tenantUrl(settings, io.env, parsed.appUrl, tenant)}`);
            io.out(`Secret Token: ${token}`);
            return 0;
        }
        if (!existing) {
            io.err(`No tenant named '${tenant}'.`);
            return 1;
        }
        if (existing.state === 'removing' && command !== 'remove') {
            io.err(`Tenant '${tenant}' is being removed; run \`npm run tenant -- remove ${tenant}\` to finish.`);
            return 1;
        }
        switch (command) {
            case 'client':
                return await runTenantClientCommand(parsed.clientCommand!, {
                    env: io.env, out: io.out, err: io.err, registry, tenant: existing, vaultUrl, createSecretClient: io.createSecretClient,
                    tenantUrl: tenantUrl(settings, io.env, parsed.appUrl, tenant), now: now(),
                });
            case 'rotate': {
                if (parsed.feed) return await rotateFeedToken(io, settings, registry, existing, parsed.appUrl, now());
                let token: string;
                if (existing.secretName !== undefined) {
                    if (vaultUrl === undefined) {
                        io.err(`Tenant '${tenant}' keeps its token in Key Vault: set KEY_VAULT_URL.`);
                        return 2;
                    }
                    const result = await rotateToken(io.createSecretClient(vaultUrl), existing.secretName, settings.token.graceWindowMs, now());
                    token = result.token;
                    io.err(result.previous
                        ? `The previous token stays valid until ${result.previous.acceptedUntil.toISOString()}. Update Entra before then.`
                        : 'No previous version was valid, so only the new token is accepted.');
                } else {
                    token = generateToken();
                    await registry.put({ ...existing, tokenDigest: tokenDigest(token).toString('hex') });
                    io.err('The previous token is refused from now on (running instances may accept it until their cache expires).');
                }
                io.err('Paste the new token into Entra (Provisioning → Admin Credentials → Secret Token); it is shown only once:');
                io.out(`Tenant URL: ${tenantUrl(settings, io.env, parsed.appUrl, tenant)}`);
                io.out(`Secret Token: ${token}`);
                return 0;
            }
            case 'disable':
            case 'enable':
                await registry.put({ ...existing, state: command === 'disable' ? 'disabled' : 'active' });
                io.out(command === 'disable'
                    ? `Tenant '${tenant}' disabled: its token is refused (by every running instance within ${settings.token.cacheTtlMs / 1000} s); its data is kept.`
                    : `Tenant '${tenant}' enabled.`);
                return 0;
            case 'remove':
                await removeTenant(store, existing, io.progress ?? io.err);
                io.out(`Tenant '${tenant}' removed.`);
                for (const secret of [existing.secretName, existing.feedSecretName, existing.clientSecretName]) {
                    if (secret !== undefined) io.err(`Its Key Vault secret '${secret}' is left in place (refused from now on: no tenant names it); delete it when you no longer need it.`);
                }
                return 0;
        }
    } catch (error) {
        if (error instanceof TenantExistsError) {
            io.err(error.message);
            return 1;
        }
        io.err(`Failed: ${describeError(error)}`);
        return 1;
    }
    return 1;
}

/**
 * Marks the tenant `removing` (its token is refused from then on, and a rerun knows to continue), deletes its
 * activity marker before any other row (so a flush that found the tenant active just before cannot write rows
 * back afterwards: docs/activity.md, "Tenants"), deletes its rows batch by batch, then its registry row.
 * Interrupted anywhere, running it again finishes the job.
 */
export async function removeTenant(defaultStore: TableResourceStore, tenant: TenantRecord, progress: (line: string) => void): Promise<number> {
    const registry = defaultStore.tenantRegistry();
    if (tenant.state !== 'removing') await registry.put({ ...tenant, state: 'removing' });
    await registry.closeActivityRecords(tenant.name);
    const store = defaultStore.withPartitions(partitionsOf(tenant.name));
    const total = await store.countRows();
    let deleted = 0;
    progress(progressBar(tenant.name, deleted, total));
    for (let step = await store.deleteSomeRows(REMOVE_BATCH_ROWS); step > 0; step = await store.deleteSomeRows(REMOVE_BATCH_ROWS)) {
        deleted += step;
        progress(progressBar(tenant.name, deleted, total));
    }
    await registry.delete(tenant.name);
    return deleted;
}

/** `Removing acme [##########----------] 50% (500/1000 rows)` */
export function progressBar(tenant: string, done: number, total: number): string {
    const fraction = total === 0 ? 1 : Math.min(1, done / total);
    const filled = Math.round(fraction * 20);
    return `Removing ${tenant} [${'#'.repeat(filled)}${'-'.repeat(20 - filled)}] ${Math.round(fraction * 100)}% (${done}/${total} rows)`;
}

export function secretNameOf(tenant: string): string {
    return `scim-tenant-${tenant}`;
}

/**
 * The Key Vault secret of a tenant's change feed token. Not `scim-tenant-<name>-feed`: tenant names may hold
 * hyphens, so that would be the Secret Token's secret of a tenant named `<name>-feed`. No Secret Token's secret
 * starts with `scim-feed-`, and no two tenants' feed secrets coincide.
 */
export function feedSecretNameOf(tenant: string): string {
    return `scim-feed-tenant-${tenant}`;
}

function describeTokenSource(tenant: TenantRecord): string {
    return tenant.secretName !== undefined ? `token in Key Vault secret '${tenant.secretName}'` : 'token digest stored locally';
}

function describeFeedTokenSource(tenant: TenantRecord): string {
    if (tenant.feedSecretName !== undefined) return `feed token in Key Vault secret '${tenant.feedSecretName}'`;
    if (tenant.feedTokenDigest !== undefined) return 'feed token digest stored locally';
    return `no feed token (rotate ${tenant.name} --feed creates one)`;
}

/** The tenant's OAuth client id (not a secret: Entra's admin enters it beside the secret), or that it has none. */
function describeOAuthClient(tenant: TenantRecord): string {
    return tenant.clientId === undefined ? 'no OAuth client' : `OAuth client ${tenant.clientId}`;
}

/**
 * `rotate <name> --feed`: a new change feed token, kept where the tenant keeps its Secret Token (a new Key Vault
 * secret version with the same grace rules, or a new digest). A tenant added before tenant feeds has none yet:
 * this creates its first, and its feed answers 401 until then.
 */
async function rotateFeedToken(io: TenantCommandIo, settings: Settings, registry: TenantRegistry, existing: TenantRecord, appUrl: string | undefined, now: Date): Promise<number> {
    const tenant = existing.name;
    const first = existing.feedTokenDigest === undefined && existing.feedSecretName === undefined;
    let token: string;
    if (existing.secretName !== undefined) {
        const vaultUrl = settings.token.keyVaultUrl;
        if (vaultUrl === undefined) {
            io.err(`Tenant '${tenant}' keeps its tokens in Key Vault: set KEY_VAULT_URL.`);
            return 2;
        }
        const secretName = existing.feedSecretName ?? feedSecretNameOf(tenant);
        const result = await rotateToken(io.createSecretClient(vaultUrl), secretName, settings.token.graceWindowMs, now, undefined, 'SCIM change feed token');
        token = result.token;
        if (existing.feedSecretName === undefined) await registry.put({ ...existing, feedSecretName: secretName });
        if (!first) {
            io.err(result.previous
                ? `The previous feed token stays valid until ${result.previous.acceptedUntil.toISOString()}. Update the application before then.`
                : 'No previous version was valid, so only the new feed token is accepted.');
        }
    } else {
        token = generateToken();
        await registry.put({ ...existing, feedTokenDigest: tokenDigest(token).toString('hex') });
        if (!first) io.err('The previous feed token is refused from now on (running instances may accept it until their cache expires).');
    }
    io.err(first
        ? `Created the first change feed token of tenant '${tenant}'; until now its feed answered 401. It is shown only once:`
        : 'Give the new feed token to the application that reads this tenant\'s changes; it is shown only once:');
    printFeedCredentials(io, settings, appUrl, tenant, token);
    return 0;
}

/** `Feed URL: …/tenants/<name>/changes` and `Feed Token: …`, the last two lines of `rotate --feed`. */
function printFeedCredentials(io: TenantCommandIo, settings: Settings, appUrl: string | undefined, tenant: string, token: string): void {
    io.out(`Feed URL: ${tenantUrl(settings, io.env, appUrl, tenant).replace(/\/scim$/, '/changes')}`);
    io.out(`Feed Token: ${token}`);
}

function tenantUrl(settings: Settings, env: Environment, appUrl: string | undefined, tenant: string): string {
    const base = appUrl ?? settings.publicBaseUrl ?? `http://localhost:${env.PORT || 7071}`;
    return scimBaseUrl(base, tenant);
}

/** The admin's store: the connection string (local), or the table endpoint with the admin's own Azure identity. */
function openAdminStore(settings: Settings): TableResourceStore {
    if (settings.storage.connectionString || !settings.storage.endpoint) return createStoreFromSettings(settings.storage, settings.indexes);
    return createTableResourceStore({ tableName: settings.storage.tableName, endpoint: settings.storage.endpoint, credential: new DefaultAzureCredential() }, { indexes: settings.indexes });
}

interface ParsedArguments {
    command: Command;
    name?: string;
    appUrl?: string;
    /** `rotate --feed`: the change feed token rather than the Secret Token. */
    feed: boolean;
    /** `client <create|rotate|status> <name>`. */
    clientCommand?: TenantClientCommand;
}

function parseArguments(argv: readonly string[]): ParsedArguments | string {
    const line = splitCommandLine(argv, ['app-url'], ['feed']);
    if (typeof line === 'string') return line;
    const { positional, options: { 'app-url': appUrl } } = line;
    // `client <create|rotate|status> <name>`: the subcommand comes before the name.
    const clientCommand = positional[0] === 'client' ? positional.splice(1, 1)[0] : undefined;
    if (positional[0] === 'client' && !TENANT_CLIENT_COMMANDS.includes(clientCommand as TenantClientCommand)) {
        return clientCommand === undefined ? 'Missing client command: npm run tenant -- client <create|rotate|status> <name>.' : `Unknown client command '${clientCommand}'.`;
    }
    const [command, name, ...extra] = positional;
    if (!COMMANDS.includes(command as Command)) return command === undefined ? 'Missing command.' : `Unknown command '${command}'.`;
    if (command === 'list') {
        if (name !== undefined) return `Unexpected argument '${name}'.`;
    } else {
        if (name === undefined) return `Missing tenant name: npm run tenant -- ${command} <name>.`;
        if (!isTenantName(name)) return `Invalid tenant name '${name}': use 3–40 lower-case letters, digits and hyphens.`;
    }
    if (extra.length > 0) return `Unexpected argument '${extra[0]}'.`;
    if (line.switches.has('feed') && command !== 'rotate') return '--feed goes with rotate only: npm run tenant -- rotate <name> --feed.';
    return {
        command: command as Command,
        ...(name !== undefined ? { name } : {}),
        ...(appUrl !== undefined ? { appUrl } : {}),
        feed: line.switches.has('feed'),
        ...(clientCommand !== undefined ? { clientCommand: clientCommand as TenantClientCommand } : {}),
    };
}

async function main(): Promise<void> {
    const interactive = process.stderr.isTTY;
    process.exitCode = await runTenantCommand(process.argv.slice(2), {
        env: process.env,
        out: (line) => console.log(line),
        err: (line) => console.error(line),
        progress: interactive ? (line) => process.stderr.write(`\r${line}`) : (line) => console.error(line),
        // The admin's own identity (az login, environment variables, …); never built on import.
        createSecretClient: (vaultUrl) => new SecretClient(vaultUrl, new DefaultAzureCredential()),
    });
    if (interactive) process.stderr.write('\n');
}

if (require.main === module) {
    void main();
}
