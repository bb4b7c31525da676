/**
 * GitHub Actions workflows, the deployment package script and .funcignore (issue #8). No YAML package is
 * installed, so `parseWorkflowYaml` reads the YAML subset workflows use (block mappings and sequences,
 * `|` block scalars, `[a, b]`, quoted scalars, comments) and throws on anything else (tabs, stray
 * indentation, unclosed quotes, duplicate keys) — enough to catch a broken file and to assert on keys.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './bicepTree';

type Yaml = string | null | Yaml[] | { [key: string]: Yaml };
type YamlMap = { [key: string]: Yaml };

interface RawLine {
    no: number;
    indent: number;
    text: string;
}

const KEY = /^((?:[A-Za-z0-9_][A-Za-z0-9_.\-/]*)|'[^']*'|"[^"]*"):(?:\s+|$)/;

function stripComment(text: string): string {
    let quote: string | undefined;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quote) {
            if (c === quote) quote = undefined;
        } else if (c === "'" || c === '"') {
            if (i === 0 || /[\s:[,-]/.test(text[i - 1]!)) quote = c;
        } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
            return text.slice(0, i).trimEnd();
        }
    }
    return text.trimEnd();
}

function scalar(raw: string, no: number): Yaml {
    const text = stripComment(raw).trim();
    if (text.startsWith("'")) {
        if (!/^'(?:[^']|'')*'$/.test(text)) throw new Error(`line ${no}: unclosed or trailing text after '…'`);
        return text.slice(1, -1).replace(/''/g, "'");
    }
    if (text.startsWith('"')) {
        if (!/^"(?:[^"\\]|\\.)*"$/.test(text)) throw new Error(`line ${no}: unclosed or trailing text after "…"`);
        return JSON.parse(text) as string;
    }
    if (text.startsWith('[')) {
        if (!text.endsWith(']')) throw new Error(`line ${no}: unclosed [`);
        const inner = text.slice(1, -1).trim();
        return inner === '' ? [] : inner.split(',').map((part) => scalar(part, no));
    }
    if (text.startsWith('{')) {
        if (text !== '{}') throw new Error(`line ${no}: flow mappings are not supported here`);
        return {};
    }
    if (/^[&*!|>]/.test(text)) throw new Error(`line ${no}: anchors, tags and misplaced block scalars are not supported`);
    return text === '' || text === '~' || text === 'null' ? null : text;
}

export function parseWorkflowYaml(source: string): Yaml {
    const raw = source.split('\n');
    raw.forEach((line, i) => {
        if (/^\s*\t/.test(line)) throw new Error(`line ${i + 1}: tab in indentation`);
    });
    let pos = 0;

    const significant = (): RawLine | undefined => {
        while (pos < raw.length) {
            const line = raw[pos]!;
            const trimmed = line.trim();
            if (trimmed === '' || trimmed.startsWith('#') || trimmed === '---') {
                pos++;
                continue;
            }
            return { no: pos + 1, indent: line.length - line.trimStart().length, text: line.trim() };
        }
        return undefined;
    };
    let pending: RawLine | undefined; // a "- key: value" line re-read as a mapping line

    const peek = (): RawLine | undefined => pending ?? significant();
    const consume = (): void => {
        if (pending) pending = undefined;
        else pos++;
    };

    const blockScalar = (parentIndent: number, style: string): string => {
        const lines: string[] = [];
        let blockIndent: number | undefined;
        while (pos < raw.length) {
            const line = raw[pos]!;
            if (line.trim() === '') {
                lines.push('');
                pos++;
                continue;
            }
            const indent = line.length - line.trimStart().length;
            if (indent <= parentIndent) break;
            blockIndent ??= indent;
            if (indent < blockIndent) throw new Error(`line ${pos + 1}: block scalar less indented than its first line`);
            lines.push(line.slice(blockIndent));
            pos++;
        }
        while (lines.length && lines[lines.length - 1] === '') lines.pop();
        const body = style.startsWith('>') ? lines.join(' ') : lines.join('\n');
        return style.endsWith('-') ? body : `${body}\n`;
    };

    const value = (rest: string, line: RawLine): Yaml => {
        const text = stripComment(rest).trim();
        if (/^[|>][-+]?$/.test(text)) return blockScalar(line.indent, text);
        if (text !== '') return scalar(text, line.no);
        const next = peek();
        if (!next) return null;
        if (next.indent > line.indent) return block(next.indent);
        if (next.indent === line.indent && next.text.startsWith('- ')) return sequence(next.indent);
        return null;
    };

    const mapping = (indent: number): YamlMap => {
        const map: YamlMap = {};
        for (let line = peek(); line && line.indent === indent && !line.text.startsWith('- '); line = peek()) {
            const m = KEY.exec(line.text);
            if (!m) throw new Error(`line ${line.no}: expected "key: value", got ${JSON.stringify(line.text)}`);
            const key = scalar(m[1]!, line.no) as string;
            if (Object.prototype.hasOwnProperty.call(map, key)) throw new Error(`line ${line.no}: duplicate key ${key}`);
            consume();
            map[key] = value(line.text.slice(m[0].length), line);
        }
        const after = peek();
        if (after && after.indent > indent) throw new Error(`line ${after.no}: unexpected indentation`);
        return map;
    };

    const sequence = (indent: number): Yaml[] => {
        const items: Yaml[] = [];
        for (let line = peek(); line && line.indent === indent && line.text.startsWith('- '); line = peek()) {
            const content = line.text.slice(2).trimStart();
            const contentIndent = indent + (line.text.length - content.length);
            if (KEY.test(content)) {
                consume();
                pending = { no: line.no, indent: contentIndent, text: content };
                items.push(mapping(contentIndent));
            } else {
                consume();
                items.push(scalar(content, line.no));
            }
        }
        const after = peek();
        if (after && after.indent > indent) throw new Error(`line ${after.no}: unexpected indentation`);
        return items;
    };

    const block = (indent: number): Yaml => (peek()!.text.startsWith('- ') ? sequence(indent) : mapping(indent));

    const first = peek();
    if (!first) return null;
    if (first.indent !== 0) throw new Error(`line ${first.no}: the document must start at column 0`);
    const doc = block(0);
    const rest = peek();
    if (rest) throw new Error(`line ${rest.no}: unexpected content`);
    return doc;
}

// ---- helpers --------------------------------------------------------------------------------------

const workflowDir = path.join(repoRoot, '.github', 'workflows');
const workflowFiles = readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f)).sort();
const text = (rel: string): string => readFileSync(path.join(repoRoot, rel), 'utf8');

function asMap(y: Yaml | undefined, what: string): YamlMap {
    expect(y !== null && typeof y === 'object' && !Array.isArray(y), `${what} is a mapping`).toBe(true);
    return y as YamlMap;
}
function asList(y: Yaml | undefined, what: string): Yaml[] {
    expect(Array.isArray(y), `${what} is a list`).toBe(true);
    return y as Yaml[];
}

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with: YamlMap;
    env: YamlMap;
    index: number;
}

function jobs(workflow: YamlMap): Map<string, YamlMap> {
    return new Map(Object.entries(asMap(workflow.jobs, 'jobs')).map(([k, v]) => [k, asMap(v, `job ${k}`)]));
}

function steps(job: YamlMap): Step[] {
    return asList(job.steps, 'steps').map((s, index) => {
        const m = asMap(s, 'step');
        return {
            name: typeof m.name === 'string' ? m.name : undefined,
            uses: typeof m.uses === 'string' ? m.uses : undefined,
            run: typeof m.run === 'string' ? m.run : undefined,
            with: m.with ? asMap(m.with, 'with') : {},
            env: m.env ? asMap(m.env, 'env') : {},
            index,
        };
    });
}

/** Every string anywhere in the document. */
function strings(y: Yaml): string[] {
    if (typeof y === 'string') return [y];
    if (y === null) return [];
    if (Array.isArray(y)) return y.flatMap(strings);
    return Object.entries(y).flatMap(([k, v]) => [k, ...strings(v)]);
}

const workflow = (file: string): YamlMap => asMap(parseWorkflowYaml(text(`.github/workflows/${file}`)), file);

// ---- the tiny parser itself -----------------------------------------------------------------------

describe('parseWorkflowYaml', () => {
    it('reads the subset workflows use', () => {
        const doc = parseWorkflowYaml(
            [
                '# comment',
                'name: ci',
                'on:',
                '  push:',
                '    branches: [main, "release/*"]',
                'permissions:',
                '  id-token: write   # trailing comment',
                'jobs:',
                '  a:',
                '    steps:',
                '      - uses: actions/checkout@v4',
                '      - name: Run',
                '        run: |',
                '          echo "a: b" # kept',
                '',
                '          echo done',
                '        with:',
                "          x: 'it''s'",
                '      - plain item',
            ].join('\n'),
        );
        expect(doc).toEqual({
            name: 'ci',
            on: { push: { branches: ['main', 'release/*'] } },
            permissions: { 'id-token': 'write' },
            jobs: {
                a: {
                    steps: [
                        { uses: 'actions/checkout@v4' },
                        { name: 'Run', run: 'echo "a: b" # kept\n\necho done\n', with: { x: "it's" } },
                        'plain item',
                    ],
                },
            },
        });
    });

    it.each([
        ['a tab in indentation', 'a:\n\tb: 1\n'],
        ['stray indentation', 'a: 1\n   b: 2\n'],
        ['an unclosed quote', "a: 'open\n"],
        ['a duplicate key', 'a: 1\na: 2\n'],
        ['a line that is not key: value', 'a:\n  just text\n'],
        ['an anchor', 'a: &x 1\n'],
        ['an indented document start', '  a: 1\n'],
    ])('rejects %s', (_what, source) => {
        expect(() => parseWorkflowYaml(source)).toThrow();
    });
});

// ---- all workflows --------------------------------------------------------------------------------

const ALLOWED_ACTIONS = new Set([
    'actions/checkout',
    'actions/setup-node',
    'actions/upload-artifact',
    'actions/download-artifact',
    'azure/login',
    'Azure/functions-action',
]);

describe('.github/workflows', () => {
    it('has the CI and the deploy workflow', () => {
        expect(workflowFiles).toEqual(expect.arrayContaining(['ci.yml', 'deploy.yml']));
    });

    it.each(workflowFiles)('%s parses and has name, on, permissions and jobs with steps', (file) => {
        const wf = workflow(file);
        expect(typeof wf.name).toBe('string');
        expect(wf.on).toBeDefined();
        const permissions = asMap(wf.permissions, 'permissions');
        expect(permissions.contents).toBe('read');
        for (const [name, job] of jobs(wf)) {
            expect(job['runs-on'], `${name} runs-on`).toBe('ubuntu-latest');
            expect(job['timeout-minutes'], `${name} has a timeout`).toBeDefined();
            expect(steps(job).length, `${name} has steps`).toBeGreaterThan(0);
        }
    });

    it.each(workflowFiles)('%s uses only the standard actions, pinned to a major version', (file) => {
        for (const job of jobs(workflow(file)).values()) {
            for (const step of steps(job)) {
                if (!step.uses) continue;
                const [action, ref] = step.uses.split('@');
                expect(ALLOWED_ACTIONS.has(action!), `${step.uses} is allowed`).toBe(true);
                expect(ref, `${step.uses} pinned`).toMatch(/^v\d+$/);
            }
        }
    });

    it.each(workflowFiles)('%s names no host, stores no credential and never traces shell commands', (file) => {
        const source = text(`.github/workflows/${file}`);
        expect(source).not.toMatch(/https?:\/\//);
        expect(source).not.toMatch(/\bset -x\b|set -o xtrace/);
        expect(source).not.toMatch(/publish-profile|client-secret|creds:/);
        expect(source).not.toMatch(/\bsecrets\.\w*(TOKEN|SECRET|PASSWORD)/i);
    });

    it.each(workflowFiles)('%s references only files and npm scripts that exist', (file) => {
        const all = strings(workflow(file));
        const scripts = (JSON.parse(text('package.json')) as { scripts: Record<string, string> }).scripts;
        const paths = new Set<string>();
        const npmScripts = new Set<string>();
        for (const s of all) {
            for (const m of s.matchAll(/(?:^|[\s"'@=])((?:infra|\.ci|docs|test|shared|functions)\/[\w.\-/]*[\w])/g)) paths.add(m[1]!);
            for (const m of s.matchAll(/\bnpm run (?:--silent )?([\w:-]+)/g)) npmScripts.add(m[1]!);
            if (/\bnpm test\b/.test(s)) npmScripts.add('test');
        }
        for (const p of paths) expect(existsSync(path.join(repoRoot, p)), `${file} references ${p}`).toBe(true);
        for (const name of npmScripts) expect(scripts, `${file} runs npm script ${name}`).toHaveProperty(name);
    });
});

describe('ci.yml', () => {
    const wf = workflow('ci.yml');

    it('runs on pull requests with read-only permissions', () => {
        expect(asMap(wf.on, 'on')).toHaveProperty('pull_request');
        expect(wf.permissions).toEqual({ contents: 'read' });
    });

    it('runs the CI script (npm ci, typecheck, lint, test) and the build', () => {
        const runs = [...jobs(wf).values()].flatMap(steps).map((s) => s.run ?? '');
        expect(runs.some((r) => r.includes('bash .ci/run'))).toBe(true);
        expect(runs.some((r) => r.includes('npm run build'))).toBe(true);
        const ci = text('.ci/run');
        for (const command of ['npm ci', 'npm run lint', 'npm test']) expect(ci, `.ci/run runs ${command}`).toContain(command);
    });

    it('lints and builds the Bicep', () => {
        const runs = [...jobs(wf).values()].flatMap(steps).map((s) => s.run ?? '').join('\n');
        expect(runs).toContain('az bicep lint --file infra/main.bicep');
        expect(runs).toContain('az bicep build --file infra/main.bicep');
    });
});

describe('deploy.yml', () => {
    const wf = workflow('deploy.yml');
    const all = [...jobs(wf).values()];
    const deployJob = jobs(wf).get('deploy')!;
    const deploySteps = deployJob ? steps(deployJob) : [];
    const find = (pred: (s: Step) => boolean, what: string): Step => {
        const s = deploySteps.find(pred);
        expect(s, what).toBeDefined();
        return s!;
    };

    it('runs on push to main with OIDC permissions only', () => {
        const push = asMap(asMap(wf.on, 'on').push, 'on.push');
        expect(push.branches).toContain('main');
        expect(wf.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
        for (const job of all) {
            if (job.permissions === undefined) continue;
            const values = Object.values(asMap(job.permissions, 'job permissions'));
            expect(values.every((v) => v === 'read' || v === 'none'), 'a job may only narrow permissions').toBe(true);
        }
        expect(jobs(wf).get('build')?.permissions, 'the build job has no id-token').toEqual({ contents: 'read' });
    });

    it('tests and packages before it deploys', () => {
        const build = jobs(wf).get('build');
        expect(build, 'build job').toBeDefined();
        const runs = steps(build!).map((s) => s.run ?? '');
        expect(runs.some((r) => r.includes('bash .ci/run'))).toBe(true);
        expect(runs.some((r) => r.includes('bash infra/scripts/package-function.sh'))).toBe(true);
        expect(deployJob.needs).toBe('build');
    });

    it('logs in with azure/login@v2 and a federated identity (no secret)', () => {
        const login = find((s) => s.uses === 'azure/login@v2', 'azure/login@v2');
        expect(Object.keys(login.with).sort()).toEqual(['client-id', 'subscription-id', 'tenant-id']);
        for (const v of Object.values(login.with)) expect(v).toMatch(/^\$\{\{ vars\.AZURE_\w+ \}\}$/);
    });

    it('lints, builds, what-ifs and deploys the Bicep with the parameters file, in that order', () => {
        const login = find((s) => s.uses === 'azure/login@v2', 'login');
        const lint = find((s) => (s.run ?? '').includes('az bicep lint --file infra/main.bicep'), 'bicep lint');
        const whatIf = find((s) => (s.run ?? '').includes('az deployment group what-if'), 'what-if');
        const create = find((s) => (s.run ?? '').includes('az deployment group create'), 'deployment create');
        for (const s of [whatIf, create]) {
            expect(s.run).toContain('--template-file infra/main.bicep');
            expect(s.run).toContain('--parameters @infra/main.parameters.json');
        }
        expect(login.index).toBeLessThan(lint.index);
        expect(lint.index).toBeLessThan(whatIf.index);
        expect(whatIf.index).toBeLessThan(create.index);
        for (const output of ['tenantUrl', 'functionAppName', 'keyVaultName', 'keyVaultUrl', 'scimTokenSecretName']) {
            expect(create.run, `reads output ${output}`).toContain(`.${output}.value`);
        }
    });

    it('deploys the package with Azure/functions-action@v1 for Flex Consumption after the infrastructure', () => {
        const create = find((s) => (s.run ?? '').includes('az deployment group create'), 'deployment create');
        const fn = find((s) => s.uses === 'Azure/functions-action@v1', 'functions-action');
        expect(fn.with.sku).toBe('flexconsumption');
        expect(fn.with['remote-build']).toBe('false');
        expect(fn.with.package).toMatch(/scim-functions\.zip$/);
        expect(fn.with['app-name']).toBe('${{ steps.infra.outputs.function-app-name }}');
        expect(create.index).toBeLessThan(fn.index);
    });

    it('creates the token secret only when it is missing, without printing it', () => {
        const ensure = find((s) => (s.run ?? '').includes('npm run --silent token -- rotate'), 'token creation');
        const run = ensure.run!;
        expect(run).toMatch(/az keyvault secret show [^\n]*--query id/);
        expect(run).toContain('SecretNotFound');
        expect(run.indexOf('SecretNotFound')).toBeLessThan(run.indexOf('token -- rotate'));
        expect(run.indexOf('token -- rotate')).toBeLessThan(run.indexOf('::add-mask::'));
        expect(run).not.toMatch(/echo "?\$token"?\s*$/m);
        expect(run).not.toMatch(/GITHUB_(OUTPUT|ENV|STEP_SUMMARY)/);
    });

    it('smoke-tests the deployed endpoint with the token from Key Vault, masked first', () => {
        const fn = find((s) => s.uses === 'Azure/functions-action@v1', 'functions-action');
        const smoke = find((s) => (s.run ?? '').includes('npm run smoke'), 'smoke step');
        const run = smoke.run!;
        expect(run).toMatch(/az keyvault secret show [^\n]*--query value/);
        const mask = run.indexOf('echo "::add-mask::$token"');
        expect(mask, 'the token is masked').toBeGreaterThan(-1);
        expect(mask).toBeLessThan(run.indexOf('npm run smoke'));
        expect(mask).toBeLessThan(run.indexOf('curl'));
        expect(run).toMatch(/SCIM_SMOKE_TOKEN="\$token" npm run smoke -- --base "\$TENANT_URL"/);
        expect(run).not.toMatch(/--token/); // npm echoes its command line
        expect(smoke.env.TENANT_URL).toBe('${{ steps.infra.outputs.tenant-url }}');
        expect(run).not.toMatch(/GITHUB_(OUTPUT|ENV|STEP_SUMMARY)/);
        expect(fn.index).toBeLessThan(smoke.index);
    });
});

describe('infra/scripts/package-function.sh', () => {
    const script = text('infra/scripts/package-function.sh');

    // What the zip holds is checked by building it: test/deploy/bundle.test.ts.
    it('packages the bundle, host.json and package.json, and installs no node_modules', () => {
        expect(script).toMatch(/^set -euo pipefail$/m);
        expect(script).toContain('npm run --silent bundle');
        expect(script).not.toMatch(/npm (ci|install)/);
        expect(script).toMatch(/cp host\.json /);
        expect(script).toContain('scim-functions.zip');
    });

    it('ships what the host loads: host.json and package.json "main", the bundle', () => {
        expect(existsSync(path.join(repoRoot, 'host.json'))).toBe(true);
        const pkg = JSON.parse(text('package.json')) as { main: string };
        expect(pkg.main).toBe('dist/bundle/index.js');
        const host = JSON.parse(text('host.json')) as { extensions?: { http?: { routePrefix?: string } } };
        expect(host.extensions?.http?.routePrefix, 'Tenant URL is https://<app>/scim').toBe('');
    });
});

describe('package.json scripts the pipeline and docs rely on', () => {
    it.each(['build', 'test', 'lint', 'token', 'smoke'])('declares "%s"', (name) => {
        const scripts = (JSON.parse(text('package.json')) as { scripts: Record<string, string> }).scripts;
        expect(scripts, `npm run ${name}`).toHaveProperty(name);
    });
});

describe('.funcignore', () => {
    const entries = text('.funcignore')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'));

    it('excludes sources, tests, infra, docs and local settings (docs/azure-notes.md §2.4)', () => {
        for (const entry of ['test', 'infra', 'bench', 'docs', '*.ts', '.azurite', 'local.settings.json', '*.js.map', '.git*', '.vscode']) {
            expect(entries, entry).toContain(entry);
        }
    });

    it('keeps what the host needs: host.json, package.json and the bundle, not node_modules', () => {
        for (const kept of ['dist', 'dist/', 'dist/bundle', 'host.json', 'package.json', '*.js', '*.json']) {
            expect(entries, `does not exclude ${kept}`).not.toContain(kept);
        }
        expect(entries).toContain('node_modules');
        expect(entries).toContain('dist/*');
        expect(entries).toContain('!dist/bundle/');
    });
});
