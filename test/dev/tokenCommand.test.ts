/**
 * The admin command's Key Vault functions and its command line, against the stub vault. The command
 * line is run through `runTokenCommand` with the stub's client in place of the admin's credential.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../shared/auth/createTokenVerifier';
import { KeyVaultTokenVerifier } from '../../shared/auth/KeyVaultTokenVerifier';
import { readSettings } from '../../shared/config';
import { generateToken } from '../../dev/generateToken';
import { rotateToken, runTokenCommand } from '../../dev/tokenCommand';
import { readTokenStatus } from '../../shared/auth/tokenVersions';
import { fakeCredential, startKeyVaultStub, stubSecretClient, stubSecretClientOptions, type KeyVaultStub } from '../support/keyVaultStub';

const SECRET = 'scim-token';
const MINUTE = 60_000;
const GRACE = 60 * MINUTE;
const OLD_TOKEN = 'old-token-b2xkIHRva2VuIGluIHRoZSB2YXVsdA';
const BASE64URL_256_BITS = /^[A-Za-z0-9_-]{43}$/;

let clock: number;
let stub: KeyVaultStub;

beforeEach(async () => {
    clock = Date.parse('2026-03-01T09:00:00Z');
    stub = await startKeyVaultStub({ now: () => clock });
});

afterEach(async () => {
    await stub.stop();
});

/** Runs the command line; returns its exit code and what it printed. */
async function run(argv: string[], env: NodeJS.ProcessEnv = { KEY_VAULT_URL: stub.vaultUrl }) {
    const out: string[] = [];
    const err: string[] = [];
    const vaultUrls: string[] = [];
    const code = await runTokenCommand(argv, {
        env,
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        createSecretClient: (vaultUrl) => {
            vaultUrls.push(vaultUrl);
            return stubSecretClient(stub);
        },
        now: () => new Date(clock),
    });
    return { code, out, err, vaultUrls };
}

describe('generateToken', () => {
    it('makes 256-bit base64url tokens that differ every time', () => {
        const tokens = new Set(Array.from({ length: 100 }, generateToken));
        expect(tokens.size).toBe(100);
        for (const token of tokens) {
            expect(token).toMatch(BASE64URL_256_BITS);
            expect(Buffer.from(token, 'base64url')).toHaveLength(32);
        }
    });
});

describe('rotateToken', () => {
    it('writes a new version and reports until when the previous one is accepted', async () => {
        const oldVersion = stub.addSecretVersion(SECRET, OLD_TOKEN);
        clock += 10 * MINUTE;

        const result = await rotateToken(stubSecretClient(stub), SECRET, GRACE, new Date(clock));

        expect(result.token).toMatch(BASE64URL_256_BITS);
        expect(stub.versionsOf(SECRET).map((version) => version.value)).toEqual([OLD_TOKEN, result.token]);
        expect(result.version).toBe(stub.versionsOf(SECRET)[1]?.version);
        expect(result.createdOn?.toISOString()).toBe('2026-03-01T09:10:00.000Z');
        expect(result.previous).toEqual({ version: oldVersion, acceptedUntil: new Date('2026-03-01T10:10:00.000Z') });

        // The verifier agrees: both tokens now, only the new one after the grace window.
        const verifier = new KeyVaultTokenVerifier({
            secretClient: stubSecretClient(stub), secretName: SECRET, graceWindowMs: GRACE, cacheTtlMs: 5 * MINUTE,
            now: () => clock, log: () => undefined,
        });
        await expect(verifier.verify(result.token)).resolves.toBe(true);
        await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);
        clock = result.previous!.acceptedUntil.getTime();
        await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(false);
    });

    it('reports no previous version on a first rotation or when the previous one is disabled', async () => {
        const first = await rotateToken(stubSecretClient(stub), SECRET, GRACE, new Date(clock));
        expect(first.previous).toBeUndefined();

        stub.setEnabled(SECRET, first.version!, false);
        clock += MINUTE;
        const second = await rotateToken(stubSecretClient(stub), SECRET, GRACE, new Date(clock));
        expect(second.previous).toBeUndefined();
        expect(second.token).not.toBe(first.token);
    });

    it('disables every enabled version older than the previous one, so none can become the token again', async () => {
        const v1 = stub.addSecretVersion(SECRET, 'v1-token');
        clock += MINUTE;
        const v2 = stub.addSecretVersion(SECRET, 'v2-token');
        clock += MINUTE;
        const v3 = stub.addSecretVersion(SECRET, OLD_TOKEN);
        clock += MINUTE;

        const result = await rotateToken(stubSecretClient(stub), SECRET, GRACE, new Date(clock));

        expect(result.disabled.sort()).toEqual([v1, v2].sort());
        expect(result.previous?.version).toBe(v3);
        expect(stub.versionsOf(SECRET).map((version) => version.enabled)).toEqual([false, false, true, true]);
    });
});

describe('readTokenStatus', () => {
    it('reports the current version and the previous one while it is in its grace window', async () => {
        const oldVersion = stub.addSecretVersion(SECRET, OLD_TOKEN);
        clock += 5 * MINUTE;
        const newVersion = stub.addSecretVersion(SECRET, 'new-token');
        clock += 30 * MINUTE;

        const during = await readTokenStatus(stubSecretClient(stub), SECRET, GRACE, new Date(clock));
        expect(during).toEqual({
            versionCount: 2,
            current: { version: newVersion, createdOn: new Date('2026-03-01T09:05:00Z') },
            previous: { version: oldVersion, createdOn: new Date('2026-03-01T09:00:00Z'), acceptedUntil: new Date('2026-03-01T10:05:00Z') },
        });

        clock += 30 * MINUTE;
        const after = await readTokenStatus(stubSecretClient(stub), SECRET, GRACE, new Date(clock));
        expect(after.previous).toBeUndefined();
        expect(after.current?.version).toBe(newVersion);
        expect(stub.requests.getSecret).toBe(0); // status never reads a value
    });
});

describe('npm run token -- <command>', () => {
    it('rotate prints the new token once, on stdout, and the end of the grace window', async () => {
        stub.addSecretVersion(SECRET, OLD_TOKEN);
        clock += MINUTE;

        const { code, out, err } = await run(['rotate']);

        expect(code).toBe(0);
        expect(out).toHaveLength(1);
        expect(out[0]).toMatch(BASE64URL_256_BITS);
        expect(stub.versionsOf(SECRET).at(-1)?.value).toBe(out[0]);
        expect(err.join('\n')).toContain('stays valid until 2026-03-01T10:01:00.000Z (grace window 60 min');
        expect(err.join('\n')).not.toContain(out[0]);
        expect([...out, ...err].join('\n')).not.toContain(OLD_TOKEN);
    });

    it('rotate --feed writes the change feed\'s secret (same grace rules) and leaves Entra\'s alone', async () => {
        stub.addSecretVersion(SECRET, OLD_TOKEN);
        stub.addSecretVersion('scim-feed-token', 'old-feed-token');
        clock += MINUTE;

        const { code, out, err } = await run(['rotate', '--feed']);

        expect(code).toBe(0);
        expect(out).toHaveLength(1);
        expect(stub.versionsOf('scim-feed-token').at(-1)?.value).toBe(out[0]);
        expect(stub.versionsOf(SECRET)).toHaveLength(1);
        expect(err.join('\n')).toContain("secret 'scim-feed-token'");
        expect(err.join('\n')).toContain('application that reads the change feed');
        expect(err.join('\n')).toContain('stays valid until 2026-03-01T10:01:00.000Z (grace window 60 min');
        const custom = await run(['status', '--feed'], { KEY_VAULT_URL: stub.vaultUrl, SCIM_FEED_TOKEN_SECRET_NAME: 'scim-feed-token' });
        expect(custom.out.join('\n')).toContain("secret 'scim-feed-token'");
        expect(custom.out.join('\n')).not.toContain(out[0]);

        // The app accepts the new feed token as the feed credential, not as the SCIM one.
        const deps = { credential: fakeCredential, secretClientOptions: stubSecretClientOptions, log: () => undefined, now: () => clock };
        const settings = readSettings({ KEY_VAULT_URL: stub.vaultUrl }, () => undefined);
        await expect(createTokenVerifier(settings, deps, 'feed').verify(out[0]!)).resolves.toBe(true);
        await expect(createTokenVerifier(settings, deps, 'scim').verify(out[0]!)).resolves.toBe(false);
        await expect(createTokenVerifier(settings, deps, 'feed').verify('old-feed-token')).resolves.toBe(true); // grace window
    });

    it('takes the vault, secret name and grace window from options over settings', async () => {
        stub.addSecretVersion('other-secret', OLD_TOKEN);
        clock += MINUTE;

        const { code, out, err, vaultUrls } = await run(
            ['rotate', `--vault-url=${stub.vaultUrl}`, '--secret-name', 'other-secret', '--grace-minutes', '15'],
            { KEY_VAULT_URL: 'https://elsewhere.vault.azure.net', SCIM_TOKEN_GRACE_MINUTES: '90' },
        );

        expect(code).toBe(0);
        expect(vaultUrls).toEqual([stub.vaultUrl]);
        expect(stub.versionsOf('other-secret').at(-1)?.value).toBe(out[0]);
        expect(err.join('\n')).toContain('until 2026-03-01T09:16:00.000Z (grace window 15 min');
    });

    it('status prints versions and dates but no token', async () => {
        stub.addSecretVersion(SECRET, OLD_TOKEN);
        clock += MINUTE;
        stub.addSecretVersion(SECRET, 'new-token-value');

        const { code, out } = await run(['status']);

        expect(code).toBe(0);
        const report = out.join('\n');
        expect(report).toContain(`secret 'scim-token' in ${stub.vaultUrl}: 2 version(s).`);
        expect(report).toMatch(/Current version [0-9a-f]{32}, created 2026-03-01T09:01:00\.000Z\./);
        expect(report).toContain('still accepted until 2026-03-01T10:01:00.000Z');
        expect(report).not.toContain(OLD_TOKEN);
        expect(report).not.toContain('new-token-value');
    });

    it('status says when nothing is accepted', async () => {
        const { code, out } = await run(['status']);
        expect(code).toBe(0);
        expect(out.join('\n')).toContain('No enabled version: the app refuses every SCIM request.');
    });

    it('generate prints a token without touching Key Vault', async () => {
        const { code, out, vaultUrls } = await run(['generate'], {});
        expect(code).toBe(0);
        expect(out).toHaveLength(1);
        expect(out[0]).toMatch(BASE64URL_256_BITS);
        expect(vaultUrls).toEqual([]);
        expect(stub.requests.total).toBe(0);
    });

    it.each([
        [[], /Missing command/],
        [['rotat'], /Unknown command 'rotat'/],
        [['rotate', '--vault'], /Unknown option --vault/],
        [['rotate', '--secret-name'], /--secret-name needs a value/],
        [['rotate', '--feed=yes'], /--feed takes no value/],
        [['status', 'extra'], /Unexpected argument 'extra'/],
    ])('exits 2 with usage for %j', async (argv, message) => {
        const { code, err, vaultUrls } = await run(argv);
        expect(code).toBe(2);
        expect(err[0]).toMatch(message);
        expect(err.join('\n')).toContain('Usage: npm run token');
        expect(vaultUrls).toEqual([]);
    });

    it('exits 2 when no vault is given', async () => {
        const { code, err } = await run(['status'], {});
        expect(code).toBe(2);
        expect(err).toEqual(['No vault: pass --vault-url https://<vault>.vault.azure.net or set KEY_VAULT_URL.']);
    });

    it('exits 1 with the reason when Key Vault is down', async () => {
        await stub.goDown('service-unavailable');
        const { code, out, err } = await run(['rotate']);
        expect(code).toBe(1);
        expect(out).toEqual([]); // no token printed that was never stored
        expect(err.join('\n')).toMatch(/Failed on secret 'scim-token' in .*: RestError status=503/);
    });

    it.each(['listVersions', 'updateSecret'] as const)(
        'rotate prints the token it wrote even when a later step (%s) fails, and never an SDK error message',
        async (failingStep) => {
            stub.addSecretVersion(SECRET, 'v1-token');
            clock += MINUTE;
            stub.addSecretVersion(SECRET, OLD_TOKEN);
            clock += MINUTE;
            stub.failRequests(failingStep, 'internal detail quoting a request body');

            const { code, out, err } = await run(['rotate']);

            expect(code).toBe(1);
            expect(out).toHaveLength(1);
            expect(out[0]).toMatch(BASE64URL_256_BITS);
            expect(stub.versionsOf(SECRET).at(-1)?.value).toBe(out[0]);
            const said = err.join('\n');
            expect(said).toMatch(/Failed on secret 'scim-token' in .*: RestError status=500 code=InternalError\./);
            expect(said).toContain('The new token above IS written to Key Vault');
            expect(said).not.toContain('internal detail');
            expect(said).not.toContain(out[0]);
        },
    );

    it('status says when the newest version is disabled: nothing is accepted, an older one does not come back', async () => {
        stub.addSecretVersion(SECRET, OLD_TOKEN);
        clock += MINUTE;
        const newest = stub.addSecretVersion(SECRET, 'new-token-value');
        stub.setEnabled(SECRET, newest, false);

        const { code, out } = await run(['status']);

        expect(code).toBe(0);
        expect(out.join('\n')).toContain(`The newest version ${newest} is disabled: the app refuses every SCIM request (503)`);
        expect(out.join('\n')).not.toContain('Current version');
    });
});
