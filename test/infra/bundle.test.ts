/**
 * The deployment bundle (infra/scripts/bundle.mjs) and the package built from it (package-function.sh):
 * what ships registers exactly what the route table lists, serves Entra's whole cycle, leaves the Azure SDK
 * file unread on a SCIM_TOKEN run, and carries no test, bench or dev-only code.
 *
 * The bundle is built into a temporary directory and loaded with Node's own `require`, in two copies:
 * one beside a stand-in for `@azure/functions-core` (the module the Functions worker provides), which
 * records every registration the way the host receives it; one without it, where @azure/functions runs in
 * test mode and the local host serves the bundle's exported `ROUTES`.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWEEP_SCHEDULE } from '../../functions/SweepDeletedGroups';
import { ROUTES } from '../../functions/routes';
import type { BundledApp } from '../../dev/loadRouteTable';
import { createApp } from '../../shared/app';
import { loadFixtureFiles, ProvisioningCycle } from '../entra/cycle';
import { fakeCredential, startKeyVaultStub, stubSecretClientOptions } from '../support/keyVaultStub';
import { startScimServer, type ScimTestServer } from '../support/scimServer';

const repoRoot = path.resolve(__dirname, '..', '..');
const nodeRequire = createRequire(__filename);
const BUNDLE_FILES = ['index.js', 'azureSdk.js', 'ajv.js'];

/** Dev-only modules: the local host, embedded Azurite, the admin's token command. Never in the bundle. */
const DEV_ONLY = /(^|\/)(dev|test|bench|infra)\/|serveLocally|localHost|loadRouteTable|embeddedAzurite|tokenCommand/;

let work: string;
let built: string;

beforeAll(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'scim-bundle-'));
    built = path.join(work, 'built');
    execFileSync(process.execPath, [path.join(repoRoot, 'infra', 'scripts', 'bundle.mjs'), '--outdir', built], { stdio: 'pipe' });
});
afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
});

/** A copy of the bundle in a directory of its own: a fresh module instance for each use. */
function copyBundle(name: string): string {
    const directory = path.join(work, name);
    mkdirSync(directory, { recursive: true });
    for (const file of BUNDLE_FILES) copyFileSync(path.join(built, file), path.join(directory, file));
    return directory;
}

interface Registration {
    name: string;
    trigger: Record<string, unknown>;
}

describe('registrations, as the Functions host receives them', () => {
    let registrations: Registration[];
    let hooks: string[];

    beforeAll(() => {
        const directory = copyBundle('host');
        // What the worker hands @azure/functions: the calls it makes, recorded.
        const core = path.join(directory, 'node_modules', '@azure', 'functions-core');
        mkdirSync(core, { recursive: true });
        writeFileSync(path.join(core, 'index.js'), `
            const registrations = [], hooks = [];
            module.exports = {
                registrations, hooks,
                setProgrammingModel() {},
                registerFunction(metadata) { registrations.push(metadata); return { dispose() {} }; },
                registerHook(name) { hooks.push(name); return { dispose() {} }; },
                log() {},
            };`);
        nodeRequire(path.join(directory, 'index.js'));
        const recorded = nodeRequire(path.join(core, 'index.js')) as { registrations: { name: string; bindings: Record<string, Record<string, unknown>> }[]; hooks: string[] };
        registrations = recorded.registrations.map(({ name, bindings }) => ({
            name,
            trigger: Object.values(bindings).find((binding) => binding.direction === 'in' && String(binding.type).endsWith('Trigger'))!,
        }));
        hooks = recorded.hooks;
    });

    it('registers every route of the route table, anonymous, with its route and methods, and nothing else over HTTP', () => {
        const http = registrations.filter((r) => r.trigger.type === 'httpTrigger');
        expect(http.map((r) => r.name).sort()).toEqual(ROUTES.map((route) => route.name).sort());
        for (const route of ROUTES) {
            const registered = http.find((r) => r.name === route.name)!;
            expect(registered.trigger, route.name).toMatchObject({ route: route.route, methods: route.methods, authLevel: 'anonymous' });
        }
    });

    it('registers the delete sweep timer and the change feed timer on their schedules, the start-up check and the shutdown flush of the activity records', () => {
        const others = registrations.filter((r) => r.trigger.type !== 'httpTrigger');
        expect(others).toEqual([
            { name: 'SweepDeletedGroups', trigger: expect.objectContaining({ type: 'timerTrigger', schedule: SWEEP_SCHEDULE, runOnStartup: false }) },
            { name: 'MaintainChangeFeed', trigger: expect.objectContaining({ type: 'timerTrigger', schedule: '0 */1 * * * *', runOnStartup: false }) },
        ]);
        expect(registrations).toHaveLength(ROUTES.length + 2);
        expect(hooks).toEqual(['appStart', 'appTerminate']);
    });
});

describe('the bundle served by the local host (test mode): Entra cycle smoke test', () => {
    const fixtures = loadFixtureFiles();
    let directory: string;
    let bundle: BundledApp;
    let warnings: string[];
    /** The files of this copy of the bundle that Node had loaded right after loading the bundle. */
    let loadedAtStart: string[];
    let server: ScimTestServer;
    let cycle: ProvisioningCycle;

    beforeAll(async () => {
        directory = copyBundle('local');
        warnings = [];
        const warn = console.warn;
        console.warn = (...args: unknown[]) => void warnings.push(String(args[0]));
        try {
            bundle = nodeRequire(path.join(directory, 'index.js')) as BundledApp;
        } finally {
            console.warn = warn;
        }
        loadedAtStart = Object.keys(nodeRequire.cache).filter((file) => file.startsWith(directory));
        // The bundle's routes serve an app built by the bundle's own createApp: every module is the bundle's.
        server = await startScimServer({ code: bundle });
        cycle = new ProvisioningCycle({ base: server.base, token: server.token });
    });
    afterAll(async () => {
        await server?.close();
    });

    it('runs @azure/functions in test mode, which names each function it skips: the route table and the timers', () => {
        expect(warnings.some((w) => w.includes('test mode'))).toBe(true);
        const skipped = warnings.map((w) => /register function "([^"]+)"/.exec(w)?.[1]).filter((name) => name !== undefined);
        expect(skipped.sort()).toEqual([...ROUTES.map((route) => route.name), 'SweepDeletedGroups', 'MaintainChangeFeed'].sort());
    });

    it('loads only index.js at start: ajv.js and azureSdk.js wait for the code that needs them', () => {
        expect(loadedAtStart).toEqual([path.join(directory, 'index.js')]);
    });

    it("exports the route table's routes and the app builder, its own copies of them", () => {
        expect(bundle.ROUTES.map(({ name, route, methods }) => ({ name, route, methods }))).toEqual(ROUTES.map(({ name, route, methods }) => ({ name, route, methods })));
        expect(bundle.ROUTES[0]).not.toBe(ROUTES[0]);
        expect(bundle.createApp).not.toBe(createApp);
    });

    it.each(fixtures.map((fixture) => [fixture.name, fixture] as const))('%s: every step passes', async (_name, fixture) => {
        const failures: string[] = [];
        let ran = 0;
        for (const step of fixture.steps) {
            const outcome = await cycle.runStep(step);
            ran++;
            if (!step.knownFailure) failures.push(...outcome.failures.map((failure) => `${step.name}: ${failure}`));
        }
        expect(failures).toEqual([]);
        expect(ran).toBe(fixture.steps.length);
    });

    it('after the cycle: nothing left behind, no unexpected error; Ajv was loaded by the first create, the Azure SDK never', async () => {
        expect(cycle.leftovers).toBe(0);
        expect((await server.request('GET', '/Users?count=1')).body.totalResults).toBe(0);
        expect(server.logs.filter((line) => line.includes('scim unexpected error'))).toEqual([]);
        expect(server.logs.filter((line) => line.startsWith('scim request')).length).toBeGreaterThanOrEqual(100);
        // A SCIM_TOKEN run never loads Key Vault's SDK or @azure/identity (they are imported on first use only).
        expect(Object.keys(nodeRequire.cache)).not.toContain(path.join(directory, 'azureSdk.js'));
        expect(Object.keys(nodeRequire.cache)).toContain(path.join(directory, 'ajv.js'));
    });
});

describe('azureSdk.js: the lazily loaded Azure SDK', () => {
    it('exports what the app imports from it, and its SecretClient reads a secret (Key Vault stub)', async () => {
        const file = path.join(copyBundle('sdk'), 'azureSdk.js');
        const sdk = nodeRequire(file) as typeof import('@azure/keyvault-secrets') & typeof import('@azure/keyvault-keys') & typeof import('@azure/identity');
        expect(Object.keys(nodeRequire.cache)).toContain(file);
        // Never constructed here: it would probe the managed identity endpoint.
        expect(typeof sdk.ManagedIdentityCredential).toBe('function');
        expect(typeof sdk.KeyClient).toBe('function');
        expect(typeof sdk.CryptographyClient).toBe('function');
        const stub = await startKeyVaultStub();
        try {
            stub.addSecretVersion('scim-token', 'the-value-in-the-vault');
            const secret = await new sdk.SecretClient(stub.vaultUrl, fakeCredential, stubSecretClientOptions).getSecret('scim-token');
            expect(secret.value).toBe('the-value-in-the-vault');
        } finally {
            await stub.stop();
        }
    });

    it('is not part of the main file, which imports it with import() (and requires ajv.js, also apart)', () => {
        const main = readFileSync(path.join(built, 'index.js'), 'utf8');
        expect(main).toContain('import("./azureSdk.js")');
        expect(main).toContain('require("./ajv.js")');
        const inputs = Object.keys((JSON.parse(readFileSync(path.join(built, 'index.meta.json'), 'utf8')) as Metafile).inputs);
        expect(inputs.filter((input) => /node_modules\/(@azure\/(identity|keyvault-secrets|keyvault-keys|msal-node)|ajv)\//.test(input))).toEqual([]);
        expect(inputs.some((input) => input.includes('node_modules/@azure/data-tables/'))).toBe(true);
    });
});

interface Metafile {
    inputs: Record<string, unknown>;
}

describe('the deployment package (infra/scripts/package-function.sh)', () => {
    let zip: string;
    let entries: string[];

    beforeAll(() => {
        const out = mkdtempSync(path.join(work, 'package-'));
        const printed = execFileSync('bash', [path.join(repoRoot, 'infra', 'scripts', 'package-function.sh'), out], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        zip = printed.trim().split('\n').at(-1)!;
        entries = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').filter((entry) => !entry.endsWith('/'));
    });

    it('holds host.json, package.json and the bundle, nothing else: no node_modules, maps, sources or tests', () => {
        expect(entries.sort()).toEqual(['dist/bundle/ajv.js', 'dist/bundle/azureSdk.js', 'dist/bundle/index.js', 'host.json', 'package.json']);
    });

    it('has a package.json whose "main" is in the zip, with no dependencies to install', () => {
        const pkg = JSON.parse(execFileSync('unzip', ['-p', zip, 'package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
        expect(entries).toContain(pkg.main);
        expect(pkg.main).toBe((JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { main: string }).main);
        expect(pkg).not.toHaveProperty('dependencies');
        expect(pkg).not.toHaveProperty('devDependencies');
    });

    it('is at most 1 MB zipped', () => {
        expect(statSync(zip).size).toBeLessThanOrEqual(1024 * 1024);
    });

    it('bundles no test, bench or dev-only module and no development dependency', () => {
        const devDependencies = Object.keys((JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies);
        for (const meta of ['index.meta.json', 'azureSdk.meta.json', 'ajv.meta.json']) {
            const inputs = Object.keys((JSON.parse(readFileSync(path.join(repoRoot, 'dist', 'bundle', meta), 'utf8')) as Metafile).inputs);
            const ours = inputs.filter((input) => !input.includes('node_modules/'));
            expect(ours.filter((input) => DEV_ONLY.test(input)), meta).toEqual([]);
            if (meta === 'index.meta.json') {
                expect(ours.every((input) => /^(functions|shared)\//.test(input)), meta).toBe(true);
                expect(ours.length).toBeGreaterThan(20);
            }
            const packages = new Set(inputs.map((input) => /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(input)?.[1]).filter((name) => name !== undefined));
            expect([...packages].filter((name) => devDependencies.includes(name)), meta).toEqual([]);
        }
    });
});
