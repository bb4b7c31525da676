/**
 * GitHub Actions workflows, the deployment package script and .funcignore (issues #8 and #18): read with
 * the `yaml` package and asserted on their structure. What CI cannot run (no Azure account) is checked
 * as order and wiring: a fresh OIDC login before each later Azure step, the production environment,
 * actions pinned by commit, what-if on pull requests with the same parameters as the deployment.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from './bicepTree';

type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };
type YamlMap = { [key: string]: Yaml };

const workflowDir = path.join(repoRoot, '.github', 'workflows');
const workflowFiles = readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f)).sort();
const text = (rel: string): string => readFileSync(path.join(repoRoot, rel), 'utf8');

function asMap(y: Yaml | undefined, what: string): YamlMap {
    expect(y !== null && typeof y === 'object' && !Array.isArray(y), `${what} is a mapping`).toBe(true);
    return y as YamlMap;
}

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    if?: string;
    id?: string;
    with: YamlMap;
    env: YamlMap;
    index: number;
}

function jobs(workflow: YamlMap): Map<string, YamlMap> {
    return new Map(Object.entries(asMap(workflow.jobs, 'jobs')).map(([k, v]) => [k, asMap(v, `job ${k}`)]));
}

function steps(job: YamlMap): Step[] {
    expect(Array.isArray(job.steps), 'steps is a list').toBe(true);
    return (job.steps as Yaml[]).map((s, index) => {
        const m = asMap(s, 'step');
        const str = (v: Yaml | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
        return {
            name: str(m.name),
            uses: str(m.uses),
            run: str(m.run),
            if: str(m.if),
            id: str(m.id),
            with: m.with ? asMap(m.with, 'with') : {},
            env: m.env ? asMap(m.env, 'env') : {},
            index,
        };
    });
}

/** Every string anywhere in the document. */
function strings(y: Yaml): string[] {
    if (typeof y === 'string') return [y];
    if (y === null || typeof y !== 'object') return [];
    if (Array.isArray(y)) return y.flatMap(strings);
    return Object.entries(y).flatMap(([k, v]) => [k, ...strings(v)]);
}

/** YAML 1.2 (the `yaml` default): `on` stays a string key; duplicate keys are an error. */
const workflow = (file: string): YamlMap => asMap(parse(text(`.github/workflows/${file}`)) as Yaml, file);

// ---- what a step does with Azure --------------------------------------------------------------------

const isLogin = (s: Step): boolean => s.uses?.split('@')[0]?.toLowerCase() === 'azure/login';
/** Scripts that call the Azure CLI (infra/scripts/*.sh). */
const AZURE_SCRIPTS = /infra\/scripts\/(token-secret-exists|ensure-token|upload-package)\.sh/;
/** A step that needs a valid Azure login: it runs `az` (the Bicep compiler needs none) or an Azure script. */
function needsAzure(s: Step): boolean {
    if (!s.run) return false;
    const azCommands = s.run.split('\n').filter((line) => /(^|[\s($"])az\s+(?!bicep\b)[a-z]/.test(line));
    return azCommands.length > 0 || AZURE_SCRIPTS.test(s.run);
}
/** Read-only Azure steps that take seconds: they may share a login with the step after them. */
const isQuickRead = (s: Step): boolean => /token-secret-exists\.sh|az deployment group what-if/.test(s.run ?? '');

/** For each Azure step, the steps between it and the login before it (undefined: no login before it). */
function stepsSinceLogin(all: Step[]): Map<Step, Step[] | undefined> {
    const result = new Map<Step, Step[] | undefined>();
    for (const s of all.filter(needsAzure)) {
        const before = all.slice(0, s.index);
        const login = [...before].reverse().find(isLogin);
        result.set(s, login ? before.slice(login.index + 1) : undefined);
    }
    return result;
}

function parameterOverrides(run: string): string | undefined {
    return /--parameters (environmentName=[^\n\\]*)/.exec(run)?.[1]?.trim();
}

// ---- all workflows --------------------------------------------------------------------------------

const ALLOWED_ACTIONS = new Set([
    'actions/checkout',
    'actions/setup-node',
    'actions/upload-artifact',
    'actions/download-artifact',
    'azure/login',
]);

describe('.github/workflows', () => {
    it('has the CI and the deploy workflow', () => {
        expect(workflowFiles).toEqual(expect.arrayContaining(['ci.yml', 'deploy.yml']));
    });

    it.each(workflowFiles)('%s parses and has name, on, permissions and jobs with steps', (file) => {
        const wf = workflow(file);
        expect(typeof wf.name).toBe('string');
        expect(wf.on).toBeDefined();
        expect(wf.permissions, 'the workflow default is read-only; a job asks for more').toEqual({ contents: 'read' });
        for (const [name, job] of jobs(wf)) {
            expect(job['runs-on'], `${name} runs-on`).toBe('ubuntu-latest');
            expect(job['timeout-minutes'], `${name} has a timeout`).toBeDefined();
            expect(steps(job).length, `${name} has steps`).toBeGreaterThan(0);
            const idToken = job.permissions ? asMap(job.permissions, 'permissions')['id-token'] : undefined;
            const logsIn = steps(job).some(isLogin);
            expect(idToken === 'write', `${name}: id-token only where it logs in to Azure`).toBe(logsIn);
        }
    });

    it.each(workflowFiles)('%s pins every action to a full commit SHA with its release in a comment', (file) => {
        const pinned = [...text(`.github/workflows/${file}`).matchAll(/^\s*(?:- )?uses: (\S+)@(\S+)(.*)$/gm)];
        expect(pinned.length).toBeGreaterThan(0);
        for (const [line, action, ref, comment] of pinned) {
            expect(ALLOWED_ACTIONS.has(action!.toLowerCase()), `${action} is allowed`).toBe(true);
            expect(ref, `${line.trim()}: a 40-character commit SHA, not a tag`).toMatch(/^[0-9a-f]{40}$/);
            expect(comment, `${line.trim()}: names the release`).toMatch(/^ # v\d+\.\d+\.\d+$/);
        }
    });

    it('pins each action to the same commit everywhere', () => {
        const shas = new Map<string, Set<string>>();
        for (const file of workflowFiles) {
            for (const [, action, ref] of text(`.github/workflows/${file}`).matchAll(/uses: (\S+)@(\S+)/g)) {
                const key = action!.toLowerCase();
                shas.set(key, (shas.get(key) ?? new Set()).add(ref!));
            }
        }
        for (const [action, refs] of shas) expect([...refs], action).toHaveLength(1);
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

    it.each(workflowFiles)('%s logs in to Azure right before every later Azure step', (file) => {
        for (const job of jobs(workflow(file)).values()) {
            const all = steps(job);
            for (const [s, between] of stepsSinceLogin(all)) {
                const label = s.name ?? s.run!.slice(0, 40);
                expect(between, `${label}: an azure/login step comes before it`).toBeDefined();
                // The federated login cannot be renewed (Azure/azure-cli#28708): only quick reads may
                // stand between a login and the step that uses it.
                const slow = between!.filter((b) => !isQuickRead(b));
                expect(slow.map((b) => b.name ?? b.uses ?? b.run), `${label}: nothing slow since the last login`).toEqual([]);
            }
            // Installs happen before the first login, not between a login and its step.
            const firstLogin = all.find(isLogin);
            if (firstLogin) {
                for (const s of all.slice(firstLogin.index)) expect(s.run ?? '', s.name).not.toMatch(/\bnpm (ci|install)\b/);
            }
        }
    });
});

// The rule above, shown to fail on a workflow that logs in once.
describe('the re-login rule can fail', () => {
    const job = (source: string): Step[] => steps(asMap(parse(source) as Yaml, 'job'));
    const violations = (all: Step[]): number =>
        [...stepsSinceLogin(all)].filter(([, between]) => between === undefined || between.some((b) => !isQuickRead(b))).length;

    it('flags a Key Vault step after a deployment with no new login', () => {
        const all = job(['steps:', '  - uses: azure/login@x', '  - run: az deployment group create -g rg', '  - run: bash infra/scripts/ensure-token.sh'].join('\n'));
        expect(violations(all)).toBe(1);
    });

    it('flags an Azure step with no login at all, and accepts a probe and what-if before the deployment', () => {
        expect(violations(job('steps:\n  - run: az keyvault secret show --name x\n'))).toBe(1);
        const ok = job(['steps:', '  - uses: azure/login@x', '  - run: bash infra/scripts/token-secret-exists.sh rg prod x', '  - run: az deployment group what-if -g rg', '  - run: az deployment group create -g rg'].join('\n'));
        expect(violations(ok)).toBe(0);
    });

    it('fails deploy.yml without any one of its logins', () => {
        const all = steps(jobs(workflow('deploy.yml')).get('deploy')!);
        const logins = all.filter(isLogin);
        expect(logins.length).toBeGreaterThanOrEqual(4);
        expect(violations(all)).toBe(0);
        for (const login of logins) {
            const without = all.filter((s) => s !== login).map((s, index) => ({ ...s, index }));
            expect(violations(without), `without "${login.name}"`).toBeGreaterThan(0);
        }
    });

    it('does not count the Bicep compiler as an Azure step', () => {
        expect(needsAzure({ run: 'az bicep lint --file infra/main.bicep', with: {}, env: {}, index: 0 })).toBe(false);
        expect(needsAzure({ run: 'outputs="$(az deployment group create \\\n  -g rg)"', with: {}, env: {}, index: 0 })).toBe(true);
    });
});

describe('ci.yml', () => {
    const wf = workflow('ci.yml');
    const ciJobs = jobs(wf);

    it('runs on pull requests', () => {
        expect(asMap(wf.on, 'on')).toHaveProperty('pull_request');
    });

    it('runs the CI script (npm ci, typecheck, lint, test) and the build', () => {
        const runs = [...ciJobs.values()].flatMap(steps).map((s) => s.run ?? '');
        expect(runs.some((r) => r.includes('bash .ci/run'))).toBe(true);
        expect(runs.some((r) => r.includes('npm run build'))).toBe(true);
        const ci = text('.ci/run');
        for (const command of ['npm ci', 'npm run lint', 'npm test']) expect(ci, `.ci/run runs ${command}`).toContain(command);
    });

    it('lints and builds the Bicep', () => {
        const runs = [...ciJobs.values()].flatMap(steps).map((s) => s.run ?? '').join('\n');
        expect(runs).toContain('az bicep lint --file infra/main.bicep');
        expect(runs).toContain('az bicep build --file infra/main.bicep');
    });

    it('runs what-if on pull requests with a read-only identity, never for forks', () => {
        const whatIfJob = ciJobs.get('what-if');
        expect(whatIfJob, 'what-if job').toBeDefined();
        expect(whatIfJob!.if).toContain("vars.AZURE_WHATIF_CLIENT_ID != ''");
        expect(whatIfJob!.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
        expect(whatIfJob!.environment, 'no approval gate: it only reads').toBeUndefined();
        const all = steps(whatIfJob!);
        const login = all.find(isLogin)!;
        expect(login.with['client-id']).toBe('${{ vars.AZURE_WHATIF_CLIENT_ID }}');
        const whatIf = all.find((s) => (s.run ?? '').includes('az deployment group what-if'))!;
        expect(whatIf.run).toContain('--validation-level ProviderNoRbac');
        expect(whatIf.run).toContain('--template-file infra/main.bicep');
        expect(whatIf.run).toContain('--parameters @infra/main.parameters.json');
        expect(all.some((s) => (s.run ?? '').includes('az deployment group create')), 'a pull request never deploys').toBe(false);
    });

    it('what-ifs with the same parameters as the deployment', () => {
        const ciWhatIf = steps(ciJobs.get('what-if')!).find((s) => (s.run ?? '').includes('what-if'))!;
        const deploy = steps(jobs(workflow('deploy.yml')).get('deploy')!);
        const create = deploy.find((s) => (s.run ?? '').includes('az deployment group create'))!;
        const deployWhatIf = deploy.find((s) => (s.run ?? '').includes('az deployment group what-if'))!;
        const overrides = parameterOverrides(create.run!);
        expect(overrides).toContain('scimTokenSecretExists="$TOKEN_EXISTS"');
        expect(parameterOverrides(ciWhatIf.run!)).toBe(overrides);
        expect(parameterOverrides(deployWhatIf.run!)).toBe(overrides);
        expect(ciWhatIf.env.TOKEN_EXISTS).toBe('${{ steps.probe.outputs.token-exists }}');
    });
});

describe('deploy.yml', () => {
    const wf = workflow('deploy.yml');
    const deployJob = jobs(wf).get('deploy')!;
    const deploySteps = deployJob ? steps(deployJob) : [];
    const find = (pred: (s: Step) => boolean, what: string): Step => {
        const s = deploySteps.find(pred);
        expect(s, what).toBeDefined();
        return s!;
    };
    const runs = (fragment: string) => (s: Step): boolean => (s.run ?? '').includes(fragment);

    it('runs on push to main; only the deploy job may get an OIDC token, behind the production environment', () => {
        const push = asMap(asMap(wf.on, 'on').push, 'on.push');
        expect(push.branches).toContain('main');
        expect(deployJob.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
        expect(jobs(wf).get('build')?.permissions, 'the build job inherits read-only').toBeUndefined();
        expect(deployJob.environment, 'reviewers can be required on the environment').toBe('production');
        expect(text('.github/workflows/deploy.yml')).toContain('repo:<owner>/<repo>:environment:production');
    });

    it('tests and packages before it deploys', () => {
        const build = jobs(wf).get('build');
        expect(build, 'build job').toBeDefined();
        const buildRuns = steps(build!).map((s) => s.run ?? '');
        expect(buildRuns.some((r) => r.includes('bash .ci/run'))).toBe(true);
        expect(buildRuns.some((r) => r.includes('bash infra/scripts/package-function.sh'))).toBe(true);
        expect(deployJob.needs).toBe('build');
    });

    it('logs in with azure/login and a federated identity (no secret)', () => {
        const logins = deploySteps.filter(isLogin);
        expect(logins.length).toBeGreaterThanOrEqual(4);
        for (const login of logins) {
            expect(Object.keys(login.with).sort()).toEqual(['client-id', 'subscription-id', 'tenant-id']);
            for (const v of Object.values(login.with)) expect(v).toMatch(/^\$\{\{ vars\.AZURE_\w+ \}\}$/);
        }
    });

    it('probes the token secret, then lints, what-ifs and deploys the Bicep with the parameters file, in that order', () => {
        const lint = find(runs('az bicep lint --file infra/main.bicep'), 'bicep lint');
        const probe = find(runs('infra/scripts/token-secret-exists.sh'), 'token secret probe');
        const whatIf = find(runs('az deployment group what-if'), 'what-if');
        const create = find(runs('az deployment group create'), 'deployment create');
        expect(probe.id).toBe('probe');
        for (const s of [whatIf, create]) {
            expect(s.run).toContain('--template-file infra/main.bicep');
            expect(s.run).toContain('--parameters @infra/main.parameters.json');
            expect(s.env.TOKEN_EXISTS).toBe('${{ steps.probe.outputs.token-exists }}');
        }
        expect(probe.run).toContain('.parameters.scimTokenSecretName.value infra/main.parameters.json');
        expect(lint.index).toBeLessThan(probe.index);
        expect(probe.index).toBeLessThan(whatIf.index);
        expect(whatIf.index).toBeLessThan(create.index);
        for (const output of ['tenantUrl', 'functionAppName', 'keyVaultName', 'keyVaultUrl', 'scimTokenSecretName', 'tokenBootstrapAssignmentId']) {
            expect(create.run, `reads output ${output}`).toContain(`.${output}.value`);
        }
    });

    it('uploads the package with the script that retries the first deployment\'s 403, after the infrastructure', () => {
        const create = find(runs('az deployment group create'), 'deployment create');
        const upload = find(runs('bash infra/scripts/upload-package.sh'), 'package upload');
        expect(upload.run).toContain('"$RUNNER_TEMP/package/scim-functions.zip"');
        expect(upload.env.FUNCTION_APP_NAME).toBe('${{ steps.infra.outputs.function-app-name }}');
        expect(create.index).toBeLessThan(upload.index);
    });

    it('creates the token secret only when it is missing, with the script that fails fast on login errors', () => {
        const upload = find(runs('upload-package.sh'), 'package upload');
        const ensure = find(runs('bash infra/scripts/ensure-token.sh'), 'token creation');
        expect(ensure.env).toEqual({
            KEY_VAULT_NAME: '${{ steps.infra.outputs.key-vault-name }}',
            KEY_VAULT_URL: '${{ steps.infra.outputs.key-vault-url }}',
            TOKEN_SECRET_NAME: '${{ steps.infra.outputs.token-secret-name }}',
        });
        expect(upload.index).toBeLessThan(ensure.index);
    });

    it('smoke-tests the deployed endpoint with the token from Key Vault, masked first', () => {
        const ensure = find(runs('ensure-token.sh'), 'token creation');
        const smoke = find(runs('npm run smoke'), 'smoke step');
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
        expect(ensure.index).toBeLessThan(smoke.index);
        expect(text('test/entra/smoke.ts'), 'the smoke run cleans up after itself').toMatch(/cleanUp\(\)/);
    });

    it('drops the vault-wide bootstrap grant at the end, also after a failure', () => {
        const smoke = find(runs('npm run smoke'), 'smoke step');
        const drop = find(runs('az role assignment delete'), 'drop the bootstrap grant');
        expect(drop.run).toBe('az role assignment delete --ids "$ASSIGNMENT_ID"');
        expect(drop.env.ASSIGNMENT_ID).toBe('${{ steps.infra.outputs.token-bootstrap-assignment-id }}');
        expect(drop.if).toBe("always() && steps.infra.outputs.token-bootstrap-assignment-id != ''");
        const login = deploySteps[drop.index - 1]!;
        expect(isLogin(login)).toBe(true);
        expect(login.if).toBe(drop.if);
        expect(smoke.index).toBeLessThan(drop.index);
        expect(deploySteps.at(-1)).toBe(drop);
    });
});

describe('infra/scripts/package-function.sh', () => {
    const script = text('infra/scripts/package-function.sh');

    // What the zip holds is checked by building it: test/infra/bundle.test.ts.
    it('packages the bundle, host.json and package.json into scim-functions.zip, the file the pipeline uploads, and installs no node_modules', () => {
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
    it.each(['build', 'start', 'test', 'lint', 'token', 'smoke'])('declares "%s"', (name) => {
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
        for (const entry of ['test', 'infra', 'bench', 'docs', '/dev', 'dist/dev', '*.ts', '.azurite', 'local.settings.json', '*.js.map', '.git*', '.vscode']) {
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
