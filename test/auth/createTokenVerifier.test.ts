import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StaticTokenVerifier } from '../../shared/auth/StaticTokenVerifier';
import { createTokenVerifier, RefuseAllTokenVerifier } from '../../shared/auth/createTokenVerifier';
import { KeyVaultTokenVerifier } from '../../shared/auth/KeyVaultTokenVerifier';
import { readSettings, readTokenSettings, type Environment } from '../../shared/config';
import { fakeCredential, startKeyVaultStub, stubSecretClientOptions, type KeyVaultStub } from '../support/keyVaultStub';

const TOKEN = 'vault-token-dGhlIHRva2VuIGluIHRoZSB2YXVsdA';
const LOCAL_TOKEN = 'local-token-Zm9yIGRldmVsb3BtZW50';

let stub: KeyVaultStub;
let logLines: string[];
const log = (line: string): void => {
    logLines.push(line);
};

beforeEach(async () => {
    stub = await startKeyVaultStub();
    logLines = [];
});

afterEach(async () => {
    await stub.stop();
    expect(logLines.join('\n')).not.toContain(TOKEN);
    expect(logLines.join('\n')).not.toContain(LOCAL_TOKEN);
});

const deps = () => ({ credential: fakeCredential, secretClientOptions: stubSecretClientOptions, log });
/** The verifier the app would build from these settings. */
const verifierFor = (env: Environment) => createTokenVerifier(readSettings(env, log), deps());

describe('createTokenVerifier', () => {
    it('uses Key Vault when KEY_VAULT_URL is set, with the default secret name', async () => {
        stub.addSecretVersion('scim-token', TOKEN);
        const verifier = verifierFor({ KEY_VAULT_URL: stub.vaultUrl });

        expect(verifier).toBeInstanceOf(KeyVaultTokenVerifier);
        await expect(verifier.verify(TOKEN)).resolves.toBe(true);
        await expect(verifier.verify('wrong')).resolves.toBe(false);
        expect(logLines[0]).toBe(`SCIM token: verified against secret 'scim-token' in ${stub.vaultUrl}.`);
    });

    it('reads the secret named by SCIM_TOKEN_SECRET_NAME and prefers Key Vault over SCIM_TOKEN', async () => {
        stub.addSecretVersion('custom-name', TOKEN);
        stub.addSecretVersion('scim-token', 'some-other-token');
        const verifier = verifierFor({ KEY_VAULT_URL: stub.vaultUrl, SCIM_TOKEN_SECRET_NAME: 'custom-name', SCIM_TOKEN: LOCAL_TOKEN });

        await expect(verifier.verify(TOKEN)).resolves.toBe(true);
        await expect(verifier.verify(LOCAL_TOKEN)).resolves.toBe(false);
        await expect(verifier.verify('some-other-token')).resolves.toBe(false);
        expect(logLines).toContain('SCIM token: SCIM_TOKEN is ignored because KEY_VAULT_URL is set.');
    });

    it('uses SCIM_TOKEN when there is no vault', async () => {
        const verifier = verifierFor({ SCIM_TOKEN: LOCAL_TOKEN });

        expect(verifier).toBeInstanceOf(StaticTokenVerifier);
        await expect(verifier.verify(LOCAL_TOKEN)).resolves.toBe(true);
        await expect(verifier.verify(`${LOCAL_TOKEN}x`)).resolves.toBe(false);
        expect(stub.requests.total).toBe(0);
    });

    it('says so when SCIM_TOKEN holds characters no bearer header can carry', () => {
        verifierFor({ SCIM_TOKEN: 'pass word!' });
        expect(logLines.some((line) => line.includes('no request can match it'))).toBe(true);
        logLines.length = 0;
        verifierFor({ SCIM_TOKEN: LOCAL_TOKEN });
        expect(logLines.some((line) => line.includes('no request can match it'))).toBe(false);
    });

    it.each([
        ['nothing is configured', {}],
        ['the settings are empty', { KEY_VAULT_URL: '  ', SCIM_TOKEN: '' }],
    ])('refuses every token, and says so, when %s', async (_what, env) => {
        const verifier = verifierFor(env);

        expect(verifier).toBeInstanceOf(RefuseAllTokenVerifier);
        await expect(verifier.verify('')).resolves.toBe(false);
        await expect(verifier.verify('anything')).resolves.toBe(false);
        expect(logLines).toEqual([
            'SCIM token: neither KEY_VAULT_URL nor SCIM_TOKEN is set; every SCIM request will be refused with 401.',
        ]);
    });
});

describe('readTokenSettings', () => {
    it('has the documented defaults', () => {
        expect(readTokenSettings({})).toEqual({
            keyVaultUrl: undefined,
            secretName: 'scim-token',
            graceWindowMs: 60 * 60_000,
            cacheTtlMs: 300_000,
            staticToken: undefined,
        });
    });

    it('reads every setting', () => {
        expect(readTokenSettings({
            KEY_VAULT_URL: ' https://v.vault.azure.net ',
            SCIM_TOKEN_SECRET_NAME: 'name',
            SCIM_TOKEN_GRACE_MINUTES: '0',
            SCIM_TOKEN_CACHE_SECONDS: '30',
            SCIM_TOKEN: ' spaced ',
        })).toEqual({
            keyVaultUrl: 'https://v.vault.azure.net',
            secretName: 'name',
            graceWindowMs: 0,
            cacheTtlMs: 30_000,
            staticToken: ' spaced ',
        });
    });

    it('falls back to the default, loudly, for a number that is not one', () => {
        const lines: string[] = [];
        const settings = readTokenSettings({ SCIM_TOKEN_GRACE_MINUTES: 'sixty', SCIM_TOKEN_CACHE_SECONDS: '-5' }, (line: string) => lines.push(line));

        expect(settings.graceWindowMs).toBe(60 * 60_000);
        expect(settings.cacheTtlMs).toBe(300_000);
        expect(lines).toEqual([
            'Setting SCIM_TOKEN_GRACE_MINUTES="sixty" is not a non-negative number; using the default 60.',
            'Setting SCIM_TOKEN_CACHE_SECONDS="-5" is not a non-negative number; using the default 300.',
        ]);
    });
});
