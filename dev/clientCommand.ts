/**
 * `npm run token -- client <create|rotate|status>`: the OAuth client Entra authenticates as. The client
 * secret is a Key Vault secret (like the Secret Token); each version carries the client id as its `clientId`
 * tag and an expiry 1 to 3 years out (Microsoft's gallery guidance for client secrets).
 *
 *   create  a new client id (or --client-id) and its first secret; refuses if the secret already exists
 *   rotate  a new secret for the same client; the previous one stays valid for the grace window
 *   status  client id, when the current secret was created and expires, whether a previous one is still
 *           accepted (reads version properties only, so it never sees a secret)
 *
 * Options: --vault-url (default KEY_VAULT_URL), --secret-name (SCIM_OAUTH_CLIENT_SECRET_NAME or
 * `scim-oauth-client-secret`), --grace-minutes (SCIM_OAUTH_SECRET_GRACE_MINUTES or 10080: must match the
 * app's), --years (1–3, default 1), --client-id (create only).
 *
 * A new secret is printed once, on stdout; explanations go to stderr.
 */
import { randomUUID } from 'node:crypto';
import type { SecretClient } from '@azure/keyvault-secrets';
import { describeError } from '../shared/describeError';
import { splitCommandLine } from './commandLine';
import { listSecretVersions, selectAcceptedVersions } from '../shared/auth/tokenVersions';
import { readClientSecretVersionSettings, type Environment } from '../shared/config';
import { generateToken } from './generateToken';

export const CLIENT_ID_TAG = 'clientId';
const YEAR_MS = 365 * 24 * 60 * 60_000;
/** `status` warns when the current secret expires within this long. */
const EXPIRY_WARNING_MS = 30 * 24 * 60 * 60_000;

export interface ClientCommandIo {
    env: Environment;
    out: (line: string) => void;
    err: (line: string) => void;
    createSecretClient: (vaultUrl: string) => SecretClient;
    now?: () => Date;
}

export const CLIENT_USAGE = [
    'Usage: npm run token -- client <create|rotate|status> [--vault-url <url>] [--secret-name <name>] [--grace-minutes <n>] [--years <1-3>] [--client-id <id>]',
    '  create  make the OAuth client: a client id and its first secret, printed once (for Entra\'s client credentials)',
    '  rotate  write a new client secret and print it once; the previous one stays valid for the grace window',
    '  status  show the client id, the current secret\'s creation and expiry, and whether the previous one is still accepted',
];

export interface ClientSecretWritten {
    clientId: string;
    secret: string;
    version: string;
    expiresOn: Date;
    previous?: { version: string; acceptedUntil: Date };
}

/** Writes a new version of the client secret for `clientId`, expiring `years` from now. */
export async function writeClientSecret(
    client: SecretClient,
    secretName: string,
    clientId: string,
    years: number,
    graceWindowMs: number,
    now: Date,
): Promise<ClientSecretWritten> {
    // Like the Secret Token: 256 random bits, base64url, unchanged by copy-paste and form encoding.
    const secret = generateToken();
    const expiresOn = new Date(now.getTime() + years * YEAR_MS);
    const written = await client.setSecret(secretName, secret, {
        contentType: 'OAuth client secret',
        tags: { [CLIENT_ID_TAG]: clientId },
        expiresOn,
    });
    const version = written.properties.version;
    if (version === undefined) throw new Error('Key Vault did not report the new version');
    // The verifier's own rule tells what stays accepted, so what is printed is what the app will do.
    const selected = selectAcceptedVersions(await listSecretVersions(client, secretName), graceWindowMs, now);
    const previous = selected?.current?.version === version && selected.previous
        ? { version: selected.previous.properties.version, acceptedUntil: selected.previous.acceptedUntil }
        : undefined;
    return { clientId, secret, version, expiresOn, ...(previous ? { previous } : {}) };
}

/** Runs `client <subcommand> …`; returns the exit code (0 ok, 1 failed, 2 usage error). */
export async function runClientCommand(argv: readonly string[], io: ClientCommandIo): Promise<number> {
    const parsed = parseArguments(argv);
    if (typeof parsed === 'string') {
        io.err(parsed);
        CLIENT_USAGE.forEach((line) => io.err(line));
        return 2;
    }
    const vaultUrl = parsed.vaultUrl ?? io.env.KEY_VAULT_URL?.trim();
    if (!vaultUrl) {
        io.err('No vault: pass --vault-url https://<vault>.vault.azure.net or set KEY_VAULT_URL.');
        return 2;
    }
    const settings = readClientSecretVersionSettings({
        ...io.env,
        ...(parsed.secretName !== undefined ? { SCIM_OAUTH_CLIENT_SECRET_NAME: parsed.secretName } : {}),
        ...(parsed.graceMinutes !== undefined ? { SCIM_OAUTH_SECRET_GRACE_MINUTES: parsed.graceMinutes } : {}),
    }, io.err);
    const client = io.createSecretClient(vaultUrl);
    const now = (io.now ?? (() => new Date()))();
    const where = `secret '${settings.secretName}' in ${vaultUrl}`;
    const graceMinutes = settings.graceWindowMs / 60_000;

    try {
        const versions = await listSecretVersions(client, settings.secretName);
        const selected = selectAcceptedVersions(versions, settings.graceWindowMs, now);
        const currentClientId = selected?.current?.tags?.[CLIENT_ID_TAG];

        if (parsed.command === 'status') {
            io.out(`${where}: ${versions.length} version(s).`);
            if (!selected?.current) {
                io.out('No usable version (none, or the newest is disabled or expired): every client secret is refused. Run `npm run token -- client create` or `rotate`.');
                return 0;
            }
            io.out(`Client id ${currentClientId ?? '(no clientId tag)'}.`);
            const expiresOn = selected.current.expiresOn;
            io.out(`Current secret: version ${selected.current.version}, created ${selected.current.createdOn.toISOString()}, `
                + (expiresOn ? `expires ${expiresOn.toISOString()}.` : 'no expiry date.'));
            if (expiresOn && expiresOn.getTime() - now.getTime() < EXPIRY_WARNING_MS) {
                io.out('It expires within 30 days: run `npm run token -- client rotate` and update Entra.');
            }
            io.out(selected.previous
                ? `Previous secret: version ${selected.previous.properties.version}, still accepted until ${selected.previous.acceptedUntil.toISOString()} (grace window ${graceMinutes} min).`
                : `No previous secret is in its grace window (${graceMinutes} min).`);
            const configured = io.env.SCIM_OAUTH_CLIENT_ID?.trim();
            if (configured && currentClientId && configured !== currentClientId) {
                io.out(`Warning: SCIM_OAUTH_CLIENT_ID here is ${configured}, not the secret's client id.`);
            }
            return 0;
        }

        if (parsed.command === 'create') {
            if (versions.length > 0) {
                io.err(`${where} already exists (client ${currentClientId ?? 'unknown'}): use \`npm run token -- client rotate\` for a new secret.`);
                return 1;
            }
            const clientId = parsed.clientId ?? randomUUID();
            const written = await writeClientSecret(client, settings.secretName, clientId, parsed.years, settings.graceWindowMs, now);
            io.err(`Created OAuth client ${clientId}: version ${written.version} of ${where}, expiring ${written.expiresOn.toISOString()}.`);
            io.err(`Set the app setting SCIM_OAUTH_CLIENT_ID=${clientId} (Bicep parameter oauthClientId), then in Entra enter the client id`);
            io.err('and this client secret with the token endpoint https://<function app host>/oauth/token. The secret is shown only once:');
            io.out(`client_id=${clientId}`);
            io.out(`client_secret=${written.secret}`);
            return 0;
        }

        // rotate: for the client of the current version (a version written by hand, without the tag, is the
        // client of SCIM_OAUTH_CLIENT_ID)
        const clientId = currentClientId ?? io.env.SCIM_OAUTH_CLIENT_ID?.trim();
        if (!selected || !clientId) {
            io.err(`${where} has no usable version with a client id: run \`npm run token -- client create\` first.`);
            return 1;
        }
        const written = await writeClientSecret(client, settings.secretName, clientId, parsed.years, settings.graceWindowMs, now);
        io.err(`Wrote version ${written.version} of ${where} for client ${clientId}, expiring ${written.expiresOn.toISOString()}.`);
        io.err('Paste this client secret into Entra (Provisioning → Admin Credentials) and Test Connection; it is shown only once:');
        io.out(`client_secret=${written.secret}`);
        io.err(written.previous
            ? `The previous secret (version ${written.previous.version}) stays valid until ${written.previous.acceptedUntil.toISOString()} `
                + `(grace window ${graceMinutes} min, if the app's SCIM_OAUTH_SECRET_GRACE_MINUTES is the same). Update Entra before then.`
            : 'No previous secret was valid, so only the new one is accepted.');
        return 0;
    } catch (error) {
        // Only the error's name, status and code: an SDK message can quote a response body.
        io.err(`Failed on ${where}: ${describeError(error)}.`);
        return 1;
    }
}

interface ParsedArguments {
    command: 'create' | 'rotate' | 'status';
    vaultUrl?: string;
    secretName?: string;
    graceMinutes?: string;
    years: number;
    clientId?: string;
}

const OPTIONS = ['vault-url', 'secret-name', 'grace-minutes', 'years', 'client-id'];

function parseArguments(argv: readonly string[]): ParsedArguments | string {
    const line = splitCommandLine(argv, OPTIONS);
    if (typeof line === 'string') return line;
    const { positional, options } = line;
    const [command, ...extra] = positional;
    if (command !== 'create' && command !== 'rotate' && command !== 'status') {
        return command === undefined ? 'Missing client command.' : `Unknown client command '${command}'.`;
    }
    if (extra.length > 0) return `Unexpected argument '${extra[0]}'.`;
    const years = Number(options.years ?? '1');
    if (!Number.isInteger(years) || years < 1 || years > 3) return 'Option --years must be 1, 2 or 3 (client secrets expire within 1 to 3 years).';
    const clientId = options['client-id'];
    if (clientId !== undefined && command !== 'create') return 'Option --client-id applies to create only.';
    if (clientId !== undefined && !/^[A-Za-z0-9._~-]{1,128}$/.test(clientId)) return 'Option --client-id takes 1–128 letters, digits, ".", "_", "~" or "-".';
    return {
        command,
        years,
        ...(options['vault-url'] !== undefined ? { vaultUrl: options['vault-url'] } : {}),
        ...(options['secret-name'] !== undefined ? { secretName: options['secret-name'] } : {}),
        ...(options['grace-minutes'] !== undefined ? { graceMinutes: options['grace-minutes'] } : {}),
        ...(clientId !== undefined ? { clientId } : {}),
    };
}
