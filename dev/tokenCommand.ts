/**
 * The admin command for the SCIM Secret Token (`npm run token -- <command>`):
 *
 *   rotate    write a fresh random token as a new version of the Key Vault secret and print it once, for
 *             pasting into Entra's Secret Token field; the previous token stays valid for the grace window,
 *             and versions older than that one are disabled. The token is printed as soon as it is written:
 *             whatever fails afterwards, the admin has the token Key Vault now holds.
 *   status    when the current version was created and whether a previous one is still in its grace window
 *             (reads only version properties, so it never sees a token value)
 *   generate  print a fresh token without touching Key Vault (for the local SCIM_TOKEN setting)
 *   client …  the OAuth client (create, rotate, status): see clientCommand.ts
 *
 * Options: --vault-url <url> (default KEY_VAULT_URL), --secret-name <name> (default SCIM_TOKEN_SECRET_NAME
 * or `scim-token`), --grace-minutes <n> (default SCIM_TOKEN_GRACE_MINUTES or 60: must match the app's).
 *
 * The Key Vault work is in exported functions that take a `SecretClient`, so tests run them against a stub;
 * only `main` builds the admin's `DefaultAzureCredential` (az login, environment, …).
 */
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { describeError } from '../shared/describeError';
import { splitCommandLine } from './commandLine';
import { isDated, listSecretVersions, readTokenStatus, selectAcceptedVersions } from '../shared/auth/tokenVersions';
import { readTokenSettings, TOKEN_SETTING_NAMES, type Environment } from '../shared/config';
import { CLIENT_USAGE, runClientCommand } from './clientCommand';
import { generateToken } from './generateToken';

export interface WrittenToken {
    token: string;
    /** As Key Vault reported them (a service that leaves them out still got the token). */
    version?: string;
    createdOn?: Date;
}

export interface RotationResult extends WrittenToken {
    /** The version that stays accepted for the grace window, if one was valid before the rotation. */
    previous?: { version: string; acceptedUntil: Date };
    /** Older versions this rotation disabled, so none of them can become the token again. */
    disabled: string[];
}

/**
 * Writes a new token version, hands it to `onWritten` at once (the caller prints it: it is in Key Vault now,
 * whatever fails next), then disables every enabled version older than the one just before it.
 */
export async function rotateToken(
    client: SecretClient,
    secretName: string,
    graceWindowMs: number,
    now = new Date(),
    onWritten: (written: WrittenToken) => void = () => undefined,
    contentType = 'SCIM bearer token',
): Promise<RotationResult> {
    const token = generateToken();
    const response = await client.setSecret(secretName, token, { contentType });
    const { version, createdOn } = response.properties;
    const written: WrittenToken = { token, ...(version !== undefined ? { version } : {}), ...(createdOn !== undefined ? { createdOn } : {}) };
    onWritten(written);

    const versions = await listSecretVersions(client, secretName);
    const disabled: string[] = [];
    const newestFirst = versions
        .filter(isDated)
        .sort((a, b) => b.createdOn.getTime() - a.createdOn.getTime());
    const newIndex = newestFirst.findIndex((properties) => properties.version === version);
    if (newIndex >= 0) {
        for (const older of newestFirst.slice(newIndex + 2)) {
            if (older.enabled !== true) continue;
            await client.updateSecretProperties(secretName, older.version, { enabled: false });
            disabled.push(older.version);
        }
    }
    // Ask the same rule the verifier uses, so what we print is what the app will do.
    const selected = selectAcceptedVersions(await listSecretVersions(client, secretName), graceWindowMs, now);
    const previous = version !== undefined && selected?.current?.version === version && selected.previous
        ? { version: selected.previous.properties.version, acceptedUntil: selected.previous.acceptedUntil }
        : undefined;
    return { ...written, disabled, ...(previous ? { previous } : {}) };
}

export interface TokenCommandIo {
    env: Environment;
    /** Program output: the token, the status report. */
    out: (line: string) => void;
    /** Explanations and errors. */
    err: (line: string) => void;
    createSecretClient: (vaultUrl: string) => SecretClient;
    now?: () => Date;
}

const USAGE = [
    'Usage: npm run token -- <rotate|status|generate> [--feed] [--vault-url <url>] [--secret-name <name>] [--grace-minutes <n>]',
    '  rotate    write a new random token to Key Vault and print it once (paste it into Entra\'s Secret Token)',
    '  status    show the current version and whether the previous one is still accepted',
    '  generate  print a random token without touching Key Vault (for the local SCIM_TOKEN setting)',
    '  --feed    the change feed\'s token (the application reading /changes) instead of Entra\'s',
    ...CLIENT_USAGE,
];

/** Runs one command; returns the process exit code (0 ok, 1 failed, 2 usage error). */
export async function runTokenCommand(argv: readonly string[], io: TokenCommandIo): Promise<number> {
    if (argv[0] === 'client') return runClientCommand(argv.slice(1), io);
    const parsed = parseArguments(argv);
    if (typeof parsed === 'string') {
        io.err(parsed);
        USAGE.forEach((line) => io.err(line));
        return 2;
    }
    const kind = parsed.feed ? 'feed' : 'scim';
    const names = TOKEN_SETTING_NAMES[kind];
    if (parsed.command === 'generate') {
        io.err(`A new token (for ${names.staticToken} in local.settings.json; it is not stored anywhere):`);
        io.out(generateToken());
        return 0;
    }

    const settings = readTokenSettings({
        ...io.env,
        ...(parsed.vaultUrl !== undefined ? { KEY_VAULT_URL: parsed.vaultUrl } : {}),
        ...(parsed.secretName !== undefined ? { [names.secretName]: parsed.secretName } : {}),
        ...(parsed.graceMinutes !== undefined ? { SCIM_TOKEN_GRACE_MINUTES: parsed.graceMinutes } : {}),
    }, io.err, kind);
    if (settings.keyVaultUrl === undefined) {
        io.err('No vault: pass --vault-url https://<vault>.vault.azure.net or set KEY_VAULT_URL.');
        return 2;
    }
    const client = io.createSecretClient(settings.keyVaultUrl);
    const now = io.now ?? (() => new Date());
    const graceMinutes = settings.graceWindowMs / 60_000;
    const where = `secret '${settings.secretName}' in ${settings.keyVaultUrl}`;

    let written: WrittenToken | undefined;
    try {
        if (parsed.command === 'rotate') {
            const result = await rotateToken(client, settings.secretName, settings.graceWindowMs, now(), (token) => {
                written = token;
                io.err(`Wrote version ${token.version ?? '(not reported)'} of ${where}${token.createdOn ? ` (created ${token.createdOn.toISOString()})` : ''}.`);
                io.err(parsed.feed
                    ? 'Give this token to the application that reads the change feed (GET /changes); it is shown only once:'
                    : 'Paste this token into Entra (Provisioning → Admin Credentials → Secret Token) and Test Connection; it is shown only once:');
                io.out(token.token);
            }, parsed.feed ? 'Change feed bearer token' : 'SCIM bearer token');
            if (result.disabled.length > 0) io.err(`Disabled ${result.disabled.length} older version(s), so they can never become the token again.`);
            io.err(result.previous
                ? `The previous token (version ${result.previous.version}) stays valid until ${result.previous.acceptedUntil.toISOString()} `
                    + `(grace window ${graceMinutes} min, if the app's SCIM_TOKEN_GRACE_MINUTES is the same). Update ${parsed.feed ? 'the application' : 'Entra'} before then.`
                : 'No previous version was valid, so only the new token is accepted.');
        } else {
            const status = await readTokenStatus(client, settings.secretName, settings.graceWindowMs, now());
            io.out(`${where}: ${status.versionCount} version(s).`);
            if (status.refused) {
                io.out(`The newest version ${status.refused.version} is ${status.refused.reason}: the app refuses every SCIM request (503) `
                    + 'until that version is re-enabled or you run `npm run token -- rotate`.');
                return 0;
            }
            if (!status.current) {
                io.out(parsed.feed
                    ? 'No enabled version: the app refuses every change feed request. Run `npm run token -- rotate --feed`.'
                    : 'No enabled version: the app refuses every SCIM request. Run `npm run token -- rotate`.');
                return 0;
            }
            io.out(`Current version ${status.current.version}, created ${status.current.createdOn.toISOString()}.`);
            io.out(status.previous
                ? `Previous version ${status.previous.version} (created ${status.previous.createdOn.toISOString()}) `
                    + `is still accepted until ${status.previous.acceptedUntil.toISOString()} (grace window ${graceMinutes} min).`
                : `No previous version is in its grace window (${graceMinutes} min): only the current token is accepted.`);
        }
        return 0;
    } catch (error) {
        // Only the error's name, status and code: an SDK message can quote a response body.
        io.err(`Failed on ${where}: ${describeError(error)}.`);
        if (written) io.err('The new token above IS written to Key Vault and is the current token; run `npm run token -- status` to check the older versions.');
        return 1;
    }
}

interface ParsedArguments {
    command: 'rotate' | 'status' | 'generate';
    /** The change feed's token rather than Entra's. */
    feed: boolean;
    vaultUrl?: string;
    secretName?: string;
    graceMinutes?: string;
}

/** The parsed command line, or a message saying what is wrong with it. */
function parseArguments(argv: readonly string[]): ParsedArguments | string {
    const line = splitCommandLine(argv, ['vault-url', 'secret-name', 'grace-minutes'], ['feed']);
    if (typeof line === 'string') return line;
    const { positional, options } = line;
    const feed = line.switches.has('feed');
    const [command, ...extra] = positional;
    if (command !== 'rotate' && command !== 'status' && command !== 'generate') {
        return command === undefined ? 'Missing command.' : `Unknown command '${command}'.`;
    }
    if (extra.length > 0) return `Unexpected argument '${extra[0]}'.`;
    return {
        command,
        feed,
        ...(options['vault-url'] !== undefined ? { vaultUrl: options['vault-url'] } : {}),
        ...(options['secret-name'] !== undefined ? { secretName: options['secret-name'] } : {}),
        ...(options['grace-minutes'] !== undefined ? { graceMinutes: options['grace-minutes'] } : {}),
    };
}

async function main(): Promise<void> {
    process.exitCode = await runTokenCommand(process.argv.slice(2), {
        env: process.env,
        out: (line) => console.log(line),
        err: (line) => console.error(line),
        // The admin's own identity (az login, environment variables, …); never built on import.
        createSecretClient: (vaultUrl) => new SecretClient(vaultUrl, new DefaultAzureCredential()),
    });
}

if (require.main === module) {
    void main();
}
