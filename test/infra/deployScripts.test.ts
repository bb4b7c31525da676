/**
 * The deployment scripts (infra/scripts/*.sh) run for real under bash, with a scripted `az` on PATH in
 * place of the Azure CLI (CI has no Azure account), a `sleep` that only records how long it was asked
 * to wait, and a stand-in token command. Each scenario feeds the CLI answers Azure gives — secret not
 * found, 403 while a role propagates, an expired federated login — and checks what the script does.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from './bicepTree';

interface AzAnswer {
    code?: number;
    stdout?: string;
    stderr?: string;
}

/** What the Azure CLI prints in the situations the scripts handle (shapes as the CLI reports them). */
const AZ = {
    secretNotFound: { code: 1, stderr: '(SecretNotFound) A secret with (name/id) scim-token was not found in this key vault.\nCode: SecretNotFound' },
    forbidden: { code: 1, stderr: "(Forbidden) Caller is not authorized to perform action on resource.\nCode: Forbidden\nInner error: {\n    \"code\": \"ForbiddenByRbac\"\n}" },
    loginExpired: { code: 1, stderr: "ERROR: AADSTS700024: Client assertion is not within its valid time range. Please run 'az login' to setup account." },
    uploadForbidden: { code: 1, stderr: 'ERROR: Deployment failed: Failed to upload blob package to storage account with Error: Response status code does not indicate success: 403 (This request is not authorized to perform this operation.).' },
    badPackage: { code: 1, stderr: 'ERROR: An error occured during deployment. Status Code: 400, Details: the package is not a zip file' },
    notFound: { code: 3, stderr: "(ResourceNotFound) The Resource 'Microsoft.KeyVault/vaults/kv-scim-x/secrets/scim-token' was not found." },
    ok: { code: 0 },
} satisfies Record<string, AzAnswer>;

let dir: string;

beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'deploy-scripts-'));
    // az: answer call N with the scripted answer N and log its arguments; an unscripted call fails loudly.
    writeExecutable('az', [
        '#!/usr/bin/env bash',
        'n=$(( $(cat "$FAKE_DIR/az-count" 2>/dev/null || echo 0) + 1 ))',
        'echo "$n" > "$FAKE_DIR/az-count"',
        'printf "%s\\n" "$*" >> "$FAKE_DIR/az-calls"',
        '[ -f "$FAKE_DIR/az-$n.code" ] || { echo "unscripted az call $n: $*" >&2; exit 99; }',
        '[ -f "$FAKE_DIR/az-$n.out" ] && cat "$FAKE_DIR/az-$n.out"',
        '[ -f "$FAKE_DIR/az-$n.err" ] && cat "$FAKE_DIR/az-$n.err" >&2',
        'exit "$(cat "$FAKE_DIR/az-$n.code")"',
    ]);
    writeExecutable('sleep', ['#!/usr/bin/env bash', 'echo "$1" >> "$FAKE_DIR/sleeps"']);
    // The token command: explanations on stderr, the token alone on stdout (like `npm run token -- rotate`).
    writeExecutable('token-command', [
        '#!/usr/bin/env bash',
        'printf "%s\\n" "$*" >> "$FAKE_DIR/token-calls"',
        'echo "Wrote version 1 of the secret." >&2',
        'printf "%s" "${FAKE_TOKEN-}"; [ -n "${FAKE_TOKEN-}" ] && echo',
        'exit 0',
    ]);
});

afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
});

function writeExecutable(name: string, lines: string[]): void {
    const file = path.join(dir, name);
    writeFileSync(file, `${lines.join('\n')}\n`);
    chmodSync(file, 0o755);
}

function scriptAz(answers: AzAnswer[]): void {
    answers.forEach((a, i) => {
        writeFileSync(path.join(dir, `az-${i + 1}.code`), String(a.code ?? 0));
        if (a.stdout !== undefined) writeFileSync(path.join(dir, `az-${i + 1}.out`), a.stdout);
        if (a.stderr !== undefined) writeFileSync(path.join(dir, `az-${i + 1}.err`), a.stderr);
    });
}

function lines(name: string): string[] {
    const file = path.join(dir, name);
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
}

function run(script: string, args: string[], env: Record<string, string> = {}) {
    const result = spawnSync('bash', [path.join(repoRoot, 'infra', 'scripts', script), ...args], {
        encoding: 'utf8',
        env: { PATH: `${dir}:${process.env.PATH}`, HOME: dir, FAKE_DIR: dir, ...env },
    });
    return {
        code: result.status,
        stdout: result.stdout,
        stderr: result.stderr,
        azCalls: lines('az-calls'),
        sleeps: lines('sleeps').map(Number),
        tokenCalls: lines('token-calls'),
    };
}

const TOKEN = 'dG9rZW4tZm9yLXRoZS1zY3JpcHQtdGVzdHMtb25seS0x';
const VAULT = { KEY_VAULT_NAME: 'kv-scim-x', KEY_VAULT_URL: 'https://kv-scim-x.vault.azure.example/', TOKEN_SECRET_NAME: 'scim-token' };
const ensureToken = (answers: AzAnswer[], env: Record<string, string> = {}) => {
    scriptAz(answers);
    return run('ensure-token.sh', [], { ...VAULT, TOKEN_COMMAND: path.join(dir, 'token-command'), FAKE_TOKEN: TOKEN, ...env });
};

describe('infra/scripts/ensure-token.sh', () => {
    it('leaves an existing token alone', () => {
        const r = ensureToken([AZ.ok]);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("Secret 'scim-token' exists; not rotating.");
        expect(r.azCalls).toEqual(['keyvault secret show --vault-name kv-scim-x --name scim-token --query id --output none']);
        expect(r.tokenCalls).toEqual([]);
    });

    it('creates the first version with the token command when the secret does not exist, without printing it', () => {
        const r = ensureToken([AZ.secretNotFound]);
        expect(r.code).toBe(0);
        expect(r.tokenCalls).toEqual([`rotate --vault-url ${VAULT.KEY_VAULT_URL} --secret-name scim-token`]);
        expect(r.stdout).toContain("Created the first version of 'scim-token'");
        expect(r.stdout + r.stderr).not.toContain(TOKEN);
    });

    it('masks the new token in GitHub Actions before anything else could print it', () => {
        const r = ensureToken([AZ.secretNotFound], { GITHUB_ACTIONS: 'true' });
        expect(r.code).toBe(0);
        const withToken = r.stdout.split('\n').filter((l) => l.includes(TOKEN));
        expect(withToken).toEqual([`::add-mask::${TOKEN}`]);
        expect(r.stdout.indexOf('::add-mask::')).toBeLessThan(r.stdout.indexOf('Created the first version'));
    });

    it('waits while Key Vault answers 403 (a role still propagating), then carries on', () => {
        const r = ensureToken([AZ.forbidden, AZ.forbidden, AZ.secretNotFound], { TOKEN_RETRY_SECONDS: '30' });
        expect(r.code).toBe(0);
        expect(r.azCalls).toHaveLength(3);
        expect(r.sleeps).toEqual([30, 30]);
        expect(r.tokenCalls).toHaveLength(1);
    });

    it('gives up after TOKEN_ATTEMPTS refusals, without a last pointless wait', () => {
        const r = ensureToken([AZ.forbidden, AZ.forbidden, AZ.forbidden], { TOKEN_ATTEMPTS: '3' });
        expect(r.code).toBe(1);
        expect(r.azCalls).toHaveLength(3);
        expect(r.sleeps).toEqual([30, 30]);
        expect(r.stderr).toContain('still refuses access after 3 attempts');
        expect(r.tokenCalls).toEqual([]);
    });

    it('stops at once on an expired login instead of spending minutes retrying', () => {
        const r = ensureToken([AZ.loginExpired, AZ.ok]);
        expect(r.code).toBe(1);
        expect(r.azCalls).toHaveLength(1);
        expect(r.sleeps).toEqual([]);
        expect(r.stderr).toContain('log in again right before this step');
        expect(r.stderr).toContain('AADSTS700024');
    });

    it('stops at once on an error waiting cannot fix', () => {
        const r = ensureToken([{ code: 1, stderr: "Max retries exceeded with url: /secrets/scim-token (Caused by NameResolutionError)" }]);
        expect(r.code).toBe(1);
        expect(r.sleeps).toEqual([]);
        expect(r.stderr).toContain('waiting will not fix');
    });

    it('fails when the token command printed no token', () => {
        const r = ensureToken([AZ.secretNotFound], { FAKE_TOKEN: '' });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('printed no token');
    });

    it('needs the vault and the secret name', () => {
        const r = run('ensure-token.sh', [], { KEY_VAULT_NAME: 'kv' });
        expect(r.code).not.toBe(0);
        expect(r.azCalls).toEqual([]);
    });
});

describe('infra/scripts/upload-package.sh', () => {
    const upload = (answers: AzAnswer[], env: Record<string, string> = {}) => {
        scriptAz(answers);
        return run('upload-package.sh', ['rg-scim', 'func-scim-x', '/tmp/pkg/scim-functions.zip'], env);
    };

    it('uploads once when the app takes it', () => {
        const r = upload([AZ.ok]);
        expect(r.code).toBe(0);
        expect(r.azCalls).toEqual(['functionapp deployment source config-zip --resource-group rg-scim --name func-scim-x --src /tmp/pkg/scim-functions.zip']);
        expect(r.stdout).toContain('Deployed scim-functions.zip to func-scim-x.');
    });

    it('retries a 403 with doubling waits (first deployment: the storage role is propagating)', () => {
        const r = upload([AZ.uploadForbidden, AZ.uploadForbidden, AZ.uploadForbidden, AZ.ok]);
        expect(r.code).toBe(0);
        expect(r.sleeps).toEqual([15, 30, 60]);
        expect(r.azCalls).toHaveLength(4);
    });

    it('stops retrying once the waiting budget is spent', () => {
        const r = upload(Array.from({ length: 12 }, () => AZ.uploadForbidden));
        expect(r.code).toBe(1);
        // 15 + 30 + 60 + 120 × 4 = 585 s of waiting; one more 120 s wait would pass the 600 s budget.
        expect(r.sleeps).toEqual([15, 30, 60, 120, 120, 120, 120]);
        expect(r.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(600);
        expect(r.azCalls).toHaveLength(8);
        expect(r.stderr).toContain('Storage Blob Data Owner');
    });

    it('keeps to a smaller budget when asked', () => {
        const r = upload(Array.from({ length: 5 }, () => AZ.uploadForbidden), { UPLOAD_RETRY_SECONDS: '60', UPLOAD_FIRST_WAIT_SECONDS: '10' });
        expect(r.code).toBe(1);
        expect(r.sleeps).toEqual([10, 20]);
    });

    it('does not retry a failure that is not a 403, nor an expired login', () => {
        const bad = upload([AZ.badPackage, AZ.ok]);
        expect(bad.code).toBe(1);
        expect(bad.sleeps).toEqual([]);
        expect(bad.stderr).toContain('Status Code: 400');
        rmSync(path.join(dir, 'az-count'));
        rmSync(path.join(dir, 'az-calls'));
        const expired = upload([AZ.loginExpired, AZ.ok]);
        expect(expired.code).toBe(1);
        expect(expired.azCalls).toHaveLength(1);
        expect(expired.stderr).toContain('log in again');
    });
});

describe('infra/scripts/token-secret-exists.sh', () => {
    const VAULT_ID = '/subscriptions/s/resourceGroups/rg-scim/providers/Microsoft.KeyVault/vaults/kv-scim-x';
    const probe = (answers: AzAnswer[]) => {
        scriptAz(answers);
        return run('token-secret-exists.sh', ['rg-scim', 'prod', 'scim-token']);
    };

    it('answers false before the first deployment (no vault)', () => {
        const r = probe([{ code: 0, stdout: '' }]);
        expect(r.code).toBe(0);
        expect(r.stdout.trim()).toBe('false');
        expect(r.azCalls).toHaveLength(1);
        expect(r.azCalls[0]).toContain("keyvault list --resource-group rg-scim --query [?tags.application=='scim' && tags.environment=='prod'].id | [0]");
    });

    it('answers true when the vault holds the secret, asking Resource Manager only', () => {
        const r = probe([{ code: 0, stdout: `${VAULT_ID}\n` }, { code: 0, stdout: `${VAULT_ID}/secrets/scim-token\n` }]);
        expect(r.stdout.trim()).toBe('true');
        expect(r.azCalls[1]).toBe(`resource show --ids ${VAULT_ID}/secrets/scim-token --query id --output tsv`);
        expect(r.azCalls.join('\n')).not.toMatch(/keyvault secret/);
    });

    it('answers false when the vault exists but the secret does not', () => {
        const r = probe([{ code: 0, stdout: `${VAULT_ID}\n` }, AZ.notFound]);
        expect(r.code).toBe(0);
        expect(r.stdout.trim()).toBe('false');
    });

    it('fails rather than guess on any other error', () => {
        const r = probe([{ code: 0, stdout: `${VAULT_ID}\n` }, AZ.loginExpired]);
        expect(r.code).toBe(1);
        expect(r.stdout.trim()).toBe('');
        expect(r.stderr).toContain('Could not look up the token secret');
    });
});
