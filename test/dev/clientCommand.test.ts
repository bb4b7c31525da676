/**
 * `npm run token -- client create|rotate|status` against the Key Vault stub through the real SecretClient:
 * what it writes (client id tag, expiry in 1–3 years), that a secret is printed once and only on stdout,
 * and what status reports without ever reading a secret value.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runTokenCommand } from '../../dev/tokenCommand';
import { startKeyVaultStub, stubSecretClient, type KeyVaultStub } from '../support/keyVaultStub';

const SECRET_NAME = 'scim-oauth-client-secret';
const DAY = 24 * 60 * 60_000;
const YEAR = 365 * DAY;

let vault: KeyVaultStub | undefined;
let now = Date.parse('2031-09-01T07:00:00Z');

afterAll(async () => {
    await vault?.stop();
});

beforeEach(async () => {
    await vault?.stop();
    vault = await startKeyVaultStub({ now: () => now });
});

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runTokenCommand(['client', ...args], {
        env: { KEY_VAULT_URL: vault!.vaultUrl, ...env },
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        createSecretClient: () => stubSecretClient(vault!),
        now: () => new Date(now),
    });
    return { code, out, err };
}

const valueOf = (lines: string[], name: string): string | undefined => lines.find((line) => line.startsWith(`${name}=`))?.slice(name.length + 1);

describe('client create', () => {
    it('makes a client id and a first secret expiring in a year; prints both once, on stdout only', async () => {
        const { code, out, err } = await run(['create']);
        expect(code, err.join('\n')).toBe(0);
        const clientId = valueOf(out, 'client_id')!;
        const secret = valueOf(out, 'client_secret')!;
        expect(clientId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(err.join('\n')).not.toContain(secret);
        expect(err.join('\n')).toContain(`SCIM_OAUTH_CLIENT_ID=${clientId}`);

        const [version] = vault!.versionsOf(SECRET_NAME);
        expect(version!.value).toBe(secret);
        expect(version!.tags).toEqual({ clientId });
        expect(version!.contentType).toBe('OAuth client secret');
        expect(version!.expiresOn! - now).toBeGreaterThan(YEAR - 1000);
        expect(version!.expiresOn! - now).toBeLessThanOrEqual(YEAR);
    });

    it('takes --client-id and --years up to 3', async () => {
        const { code, out } = await run(['create', '--client-id', 'contoso-entra', '--years', '3']);
        expect(code).toBe(0);
        expect(valueOf(out, 'client_id')).toBe('contoso-entra');
        const [version] = vault!.versionsOf(SECRET_NAME);
        expect(version!.expiresOn! - now).toBeGreaterThan(3 * YEAR - 1000);
    });

    it('refuses to replace an existing client', async () => {
        await run(['create', '--client-id', 'first']);
        const { code, out, err } = await run(['create']);
        expect(code).toBe(1);
        expect(out).toEqual([]);
        expect(err.join('\n')).toMatch(/already exists \(client first\)/);
        expect(vault!.versionsOf(SECRET_NAME)).toHaveLength(1);
    });
});

describe('client rotate', () => {
    it('writes a new secret for the same client and says until when the previous one stays valid', async () => {
        const created = await run(['create', '--client-id', 'rotating']);
        now += 30 * DAY;
        const { code, out, err } = await run(['rotate', '--grace-minutes', '120', '--years', '2']);
        expect(code, err.join('\n')).toBe(0);
        const secret = valueOf(out, 'client_secret')!;
        expect(out).toHaveLength(1); // the secret only: the client id does not change
        expect(secret).not.toBe(valueOf(created.out, 'client_secret'));
        const versions = vault!.versionsOf(SECRET_NAME);
        expect(versions).toHaveLength(2);
        expect(versions[1]!.tags).toEqual({ clientId: 'rotating' });
        expect(versions[1]!.expiresOn! - now).toBeGreaterThan(2 * YEAR - 1000);
        expect(err.join('\n')).toContain(`stays valid until ${new Date(Math.floor(now / 1000) * 1000 + 120 * 60_000).toISOString()}`);
    });

    it('without a client, tells to create one first', async () => {
        const { code, out, err } = await run(['rotate']);
        expect(code).toBe(1);
        expect(out).toEqual([]);
        expect(err.join('\n')).toContain('client create');
    });
});

describe('client status', () => {
    it('reports the client, the current secret\'s dates and the previous one in its grace window, never a value', async () => {
        const created = await run(['create', '--client-id', 'status-client']);
        now += DAY;
        const rotated = await run(['rotate']);
        const readsBefore = vault!.requests.getSecret;
        const { code, out } = await run(['status']);
        expect(code).toBe(0);
        const text = out.join('\n');
        expect(text).toContain('2 version(s)');
        expect(text).toContain('Client id status-client.');
        expect(text).toMatch(/Current secret: version [0-9a-f]{32}, created .*, expires /);
        expect(text).toMatch(/Previous secret: version [0-9a-f]{32}, still accepted until /);
        expect(vault!.requests.getSecret).toBe(readsBefore); // properties only
        for (const secret of [valueOf(created.out, 'client_secret')!, valueOf(rotated.out, 'client_secret')!]) expect(text).not.toContain(secret);
    });

    it('warns when the current secret expires within 30 days, and when SCIM_OAUTH_CLIENT_ID names another client', async () => {
        await run(['create', '--client-id', 'expiring']);
        now += YEAR - 10 * DAY;
        const { out } = await run(['status'], { SCIM_OAUTH_CLIENT_ID: 'someone-else' });
        const text = out.join('\n');
        expect(text).toContain('expires within 30 days');
        expect(text).toContain('SCIM_OAUTH_CLIENT_ID here is someone-else');
        now += 20 * DAY; // past the expiry
        expect((await run(['status'])).out.join('\n')).toContain('No usable version');
    });
});

describe('usage', () => {
    for (const [args, message] of [
        [['create', '--years', '4'], /--years must be 1, 2 or 3/],
        [['create', '--years', '0.5'], /--years must be 1, 2 or 3/],
        [['rotate', '--client-id', 'x'], /--client-id applies to create only/],
        [['create', '--client-id', 'has space'], /--client-id takes/],
        [['frobnicate'], /Unknown client command/],
        [[], /Missing client command/],
        [['status', '--colour', 'red'], /Unknown option --colour/],
    ] as [string[], RegExp][]) {
        it(`${args.join(' ') || '(nothing)'} → exit 2 with the usage`, async () => {
            const { code, out, err } = await run(args);
            expect(code).toBe(2);
            expect(out).toEqual([]);
            expect(err.join('\n')).toMatch(message);
            expect(err.join('\n')).toContain('Usage: npm run token -- client');
        });
    }

    it('no vault → exit 2', async () => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await runTokenCommand(['client', 'status'], { env: {}, out: (l) => out.push(l), err: (l) => err.push(l), createSecretClient: () => stubSecretClient(vault!) });
        expect(code).toBe(2);
        expect(err.join('\n')).toContain('--vault-url');
    });
});
