/**
 * The commands the admin docs tell people to run work as written (issue #18): every `npm run token -- …`
 * in docs/ runs through the real token command against the stub vault (test/support/keyVaultStub.ts), with
 * the docs' placeholders filled in and nothing from the environment, so a missing `--vault-url` or a flag the
 * command does not have fails here. Other commands are checked for the flags and files they name.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runTokenCommand } from '../../dev/tokenCommand';
import { startKeyVaultStub, stubSecretClient, type KeyVaultStub } from '../support/keyVaultStub';
import { repoRoot } from './bicepTree';

const ADMIN_DOCS = ['deploy.md', 'entra.md', 'operate.md'];
const docText = (name: string): string => readFileSync(path.join(repoRoot, 'docs', name), 'utf8');

interface DocCommand {
    doc: string;
    line: number;
    text: string;
}

/** Every occurrence of `prefix …` in the docs, up to the end of the code span, the line or a comment. */
function commandsIn(docs: string[], prefix: string): DocCommand[] {
    const found: DocCommand[] = [];
    for (const doc of docs) {
        docText(doc).split('\n').forEach((line, index) => {
            for (const m of line.matchAll(new RegExp(`${prefix.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&')}[^\`#\\n]*`, 'g'))) {
                found.push({ doc, line: index + 1, text: m[0].trim() });
            }
        });
    }
    return found;
}

/** The docs' placeholders for the vault, filled with the stub's URL. */
function fillPlaceholders(argument: string, vaultUrl: string): string {
    return argument.replace(/^<keyVaultUrl>$/, vaultUrl).replace(/^https:\/\/<keyVaultName>\.vault\.azure\.net\/?$/, vaultUrl);
}

const tokenCommands = commandsIn(ADMIN_DOCS, 'npm run token -- ');

describe('`npm run token` in docs/', () => {
    let stub: KeyVaultStub;

    beforeEach(async () => {
        stub = await startKeyVaultStub();
        stub.addSecretVersion('scim-token', 'first-token-from-the-deployment-Xy7kQ2pL9');
    });

    afterEach(async () => {
        await stub.stop();
    });

    it('finds the rotation and status commands the docs give, for the token and the OAuth client', () => {
        const subcommands = new Set(tokenCommands.map((c) => c.text.split(/\s+/).slice(4, c.text.includes(' client ') ? 6 : 5).join(' ')));
        expect(tokenCommands.length).toBeGreaterThanOrEqual(6);
        expect([...subcommands].sort()).toEqual(['client create', 'client rotate', 'client status', 'rotate', 'status']);
    });

    it.each(tokenCommands.map((c) => [`${c.doc}:${c.line}`, c] as const))('%s runs as written', async (_where, command) => {
        const argv = command.text.split(/\s+/).slice(4).map((a) => fillPlaceholders(a, stub.vaultUrl));
        // An OAuth client exists for every client command but `create`, which refuses to replace one.
        if (argv[0] === 'client' && argv[1] !== 'create') {
            stub.addSecretVersion('scim-oauth-client-secret', 'client-secret-from-client-create-Qw3rTy7', {
                tags: { clientId: 'docs-client' }, expiresOn: Date.now() + 365 * 24 * 60 * 60_000,
            });
        }
        const out: string[] = [];
        const err: string[] = [];
        const vaultUrls: string[] = [];
        const code = await runTokenCommand(argv, {
            env: {}, // what the docs say must be enough: no KEY_VAULT_URL from anywhere else
            out: (line) => out.push(line),
            err: (line) => err.push(line),
            createSecretClient: (vaultUrl) => {
                vaultUrls.push(vaultUrl);
                return stubSecretClient(stub);
            },
        });
        expect({ code, err: code === 0 ? [] : err }, command.text).toEqual({ code: 0, err: [] });
        expect(vaultUrls).toEqual([stub.vaultUrl]);
        if (argv[0] === 'client') {
            const written = stub.versionsOf('scim-oauth-client-secret').at(-1);
            if (argv[1] === 'create') expect(out).toEqual([expect.stringMatching(/^client_id=/), `client_secret=${written?.value}`]);
            else if (argv[1] === 'rotate') expect(out).toEqual([`client_secret=${written?.value}`]);
            else expect(out.join('\n')).toContain('Client id docs-client.');
        } else if (argv[0] === 'rotate') {
            expect(out).toHaveLength(1);
            expect(stub.versionsOf('scim-token').at(-1)?.value).toBe(out[0]);
        } else {
            expect(out.join('\n')).toMatch(/Current version \w+/);
        }
    });

    it('would catch a status command without its vault, and a flag the command does not have', async () => {
        const io = { env: {}, out: () => undefined, err: () => undefined, createSecretClient: () => stubSecretClient(stub) };
        expect(await runTokenCommand(['status'], io)).toBe(2);
        expect(await runTokenCommand(['rotate', '--vault', stub.vaultUrl], io)).toBe(2);
        expect(await runTokenCommand(['status', '--vault-url', fillPlaceholders('<keyVaultUrl>', stub.vaultUrl)], io)).toBe(0);
    });
});

describe('other commands in docs/', () => {
    it('revoke a version by its id: `set-attributes --id`, with the listing printing ids', () => {
        const setAttributes = commandsIn(ADMIN_DOCS, 'az keyvault secret set-attributes');
        expect(setAttributes.length).toBeGreaterThan(0);
        for (const c of setAttributes) {
            expect(c.text, `${c.doc}:${c.line}`).toMatch(/ --id </);
            expect(c.text, `${c.doc}:${c.line}: --version takes a version, not the id the listing prints`).not.toMatch(/--version/);
        }
        for (const c of commandsIn(ADMIN_DOCS, 'az keyvault secret list-versions')) {
            expect(docText(c.doc).split('\n')[c.line - 1]).toContain('id:id');
        }
    });

    it('run the smoke command only with flags it has', () => {
        const source = readFileSync(path.join(repoRoot, 'test', 'entra', 'smoke.ts'), 'utf8');
        const options = /options:\s*\{([\s\S]*?)\n\s*\},/.exec(source)?.[1] ?? '';
        const known = new Set([...options.matchAll(/^\s*(\w+): \{/gm)].map((m) => m[1]!));
        expect(known).toContain('base');
        const smoke = commandsIn(ADMIN_DOCS, 'npm run smoke -- ');
        expect(smoke.length).toBeGreaterThan(0);
        for (const c of smoke) {
            for (const flag of c.text.matchAll(/--(\w[\w-]*)/g)) expect(known.has(flag[1]!), `${c.doc}:${c.line} --${flag[1]}`).toBe(true);
            expect(c.text, 'the token goes in SCIM_SMOKE_TOKEN: npm echoes its command line').not.toMatch(/--token/);
        }
    });

    it('name only scripts that exist', () => {
        const scripts = new Set(readdirSync(path.join(repoRoot, 'infra', 'scripts')));
        for (const doc of ADMIN_DOCS) {
            for (const m of docText(doc).matchAll(/infra\/scripts\/([\w.-]+\.sh)/g)) expect(scripts.has(m[1]!), `${doc}: ${m[0]}`).toBe(true);
        }
        expect(existsSync(path.join(repoRoot, 'azure.yaml')), 'docs/deploy.md describes azd up').toBe(true);
    });
});
