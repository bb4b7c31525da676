/**
 * Benchmark (not a test): cold start, the layout the app shipped in before the bundle against the
 * deployment bundle, side by side in one run (bench/RESULTS.md "Cold start").
 *
 *   1. Package size, zipped and unpacked. Before: dist/ (no tests, benches or maps) + host.json +
 *      package.json + production node_modules (`npm ls --omit=dev --omit=optional`), as package-function.sh
 *      used to build it. Bundle: what infra/scripts/package-function.sh builds now.
 *   2. Module load time: loading the app in a fresh process, as the Functions host does with package.json
 *      "main" (median of `--runs` processes per layout, layouts interleaved so machine noise spreads evenly).
 *   3. First answered request: from spawning a fresh process to the first 200 on
 *      `GET /scim/Users?filter=userName eq "…"` through the local host, on Azurite in a process of its own
 *      (the table already exists, as it does in Azure after the first deployment).
 *
 *   4. The protocol's first calls in a fresh process (validation, which compiles each attribute's validator
 *      on first use; filter; PATCH): first and second call, median of `--runs`.
 *
 * Three layouts (bench/support/coldStartProcess.ts): "before" is dist + node_modules with the Azure SDK
 * loaded at start, as the code did before it imported Key Vault's SDK and @azure/identity on first use;
 * "dist" is dist + node_modules as the code is now; "bundle" is dist/bundle. SCIM_TOKEN is set, so no
 * layout needs Key Vault (the local host never uses it): what is measured is what every cold start pays.
 *
 * Run: npm run bench:coldstart [-- --runs 15]
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { numberFlag } from './support/deadline';
import type { Layout } from './support/coldStartProcess';
import { markdownTable } from './support/markdown';
import { writeResultsSection } from './support/results';
import { ServerProcess } from './support/serverProcess';
import { formatMs, formatRatio, median } from './support/stats';

const RUNS = numberFlag('runs', 15);
const ROOT = path.resolve(__dirname, '..', '..');
const CHILD = path.join(__dirname, 'support', 'coldStartProcess.js');
const LAYOUTS: { layout: Layout; label: string }[] = [
    { layout: 'before', label: 'before: dist + node_modules, Azure SDK loaded at start' },
    { layout: 'dist', label: 'dist + node_modules, Azure SDK on first use' },
    { layout: 'bundle', label: 'bundle (dist/bundle)' },
];

interface PackageSize {
    zippedBytes: number;
    unpackedBytes: number;
    files: number;
}

// ---- 1. package size ---------------------------------------------------------------------------------

function directorySize(directory: string): { bytes: number; files: number } {
    let bytes = 0;
    let files = 0;
    for (const entry of fs.readdirSync(directory, { withFileTypes: true, recursive: true })) {
        if (!entry.isFile()) continue;
        bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size;
        files++;
    }
    return { bytes, files };
}

function zipAndMeasure(packageDirectory: string): PackageSize {
    const zip = `${packageDirectory}.zip`;
    execFileSync('zip', ['-q', '-X', '-r', zip, '.'], { cwd: packageDirectory });
    const { bytes, files } = directorySize(packageDirectory);
    return { zippedBytes: fs.statSync(zip).size, unpackedBytes: bytes, files };
}

/** The package as package-function.sh built it before the bundle, from this checkout's dist/ and node_modules. */
function packageBefore(work: string): PackageSize {
    const pkg = path.join(work, 'before');
    fs.mkdirSync(pkg, { recursive: true });
    fs.cpSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'), {
        recursive: true,
        filter: (source) => {
            const relative = path.relative(path.join(ROOT, 'dist'), source).split(path.sep);
            return !['test', 'bench', 'bundle'].includes(relative[0]!) && !source.endsWith('.map') && !source.endsWith('.meta.json');
        },
    });
    for (const file of ['host.json', 'package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, file), path.join(pkg, file));
    const production = execFileSync('npm', ['ls', '--omit=dev', '--omit=optional', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.startsWith(path.join(ROOT, 'node_modules') + path.sep));
    for (const directory of production) fs.cpSync(directory, path.join(pkg, path.relative(ROOT, directory)), { recursive: true });
    return zipAndMeasure(pkg);
}

function packageBundle(work: string): PackageSize {
    const out = path.join(work, 'bundle-out');
    const printed = execFileSync('bash', [path.join(ROOT, 'infra', 'scripts', 'package-function.sh'), out], { cwd: ROOT, encoding: 'utf8' });
    const zip = printed.trim().split('\n').at(-1)!;
    const { bytes, files } = directorySize(path.join(out, 'package'));
    return { zippedBytes: fs.statSync(zip).size, unpackedBytes: bytes, files };
}

// ---- 2. module load ----------------------------------------------------------------------------------

function moduleLoadMs(layout: Layout): number {
    const output = execFileSync(process.execPath, [CHILD, 'load', layout], { encoding: 'utf8' });
    return (JSON.parse(output) as { moduleLoadMs: number }).moduleLoadMs;
}

// ---- 3. first answered request -----------------------------------------------------------------------

function get(port: number, pathAndQuery: string, token: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const request = http.get({ host: '127.0.0.1', port, path: pathAndQuery, headers: { Authorization: `Bearer ${token}` }, agent: false }, (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
        });
        request.on('error', reject);
    });
}

/** Spawn → first 200 on a userName lookup, and the module load time the process reported. */
async function firstAnswer(layout: Layout, env: NodeJS.ProcessEnv, token: string): Promise<{ firstAnswerMs: number; moduleLoadMs: number }> {
    const started = process.hrtime.bigint();
    // The app's own start-up lines ("SCIM token: using the SCIM_TOKEN setting …") are only shown if it fails.
    const child: ChildProcess = fork(CHILD, ['serve', layout], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
        const ready = await new Promise<{ port: number; moduleLoadMs: number }>((resolve, reject) => {
            child.once('message', (message) => resolve(message as { port: number; moduleLoadMs: number }));
            child.once('exit', (code) => reject(new Error(`${layout} exited with ${code} before it was ready\n${stderr}`)));
        });
        const filter = encodeURIComponent(`userName eq "cold-${randomUUID()}@contoso.example"`);
        const status = await get(ready.port, `/scim/Users?filter=${filter}`, token);
        const firstAnswerMs = Number(process.hrtime.bigint() - started) / 1e6;
        if (status !== 200) throw new Error(`${layout}: first request answered ${status}`);
        return { firstAnswerMs, moduleLoadMs: ready.moduleLoadMs };
    } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
    }
}

/** Spawn → first message of a Node process that loads nothing: the part of the first answer no layout can change. */
async function bareStartMs(): Promise<number> {
    const started = process.hrtime.bigint();
    const child = fork(CHILD, ['bare'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => child.once('message', resolve));
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    await exited;
    return elapsed;
}

// ---- report ------------------------------------------------------------------------------------------

const kib = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.round(bytes / 1024)} KiB`);

async function main(): Promise<void> {
    for (const file of ['dist/functions/routes.js', 'dist/bundle/index.js']) {
        if (!fs.existsSync(path.join(ROOT, file))) throw new Error(`${file} is missing: run npm run build:all && npm run bundle`);
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'scim-coldstart-'));
    const azurite = await ServerProcess.start('azurite');
    try {
        console.log('Package sizes');
        const sizes = { before: packageBefore(work), bundle: packageBundle(work) };
        for (const [name, size] of Object.entries(sizes)) console.log(`  ${name}: ${kib(size.zippedBytes)} zipped, ${kib(size.unpackedBytes)} unpacked, ${size.files} files`);

        console.log(`\nModule load, ${RUNS} fresh processes per layout (interleaved)`);
        const loads = new Map<Layout, number[]>(LAYOUTS.map(({ layout }) => [layout, []]));
        for (let run = 0; run < RUNS; run++) for (const { layout } of LAYOUTS) loads.get(layout)!.push(moduleLoadMs(layout));
        for (const { layout } of LAYOUTS) console.log(`  ${layout}: median ${formatMs(median(loads.get(layout)!))}`);

        console.log(`\nFirst answered request, ${RUNS} fresh processes per layout (interleaved)`);
        const token = randomBytes(24).toString('base64url');
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            TABLES_CONNECTION_STRING: azurite.ready.connectionString!,
            SCIM_TABLE_NAME: `cold${randomUUID().replace(/-/g, '').slice(0, 20)}`,
            SCIM_TOKEN: token,
        };
        delete env.KEY_VAULT_URL;
        await firstAnswer('dist', env, token); // creates the table: every measured run finds it there
        const answers = new Map<Layout, number[]>(LAYOUTS.map(({ layout }) => [layout, []]));
        const bare: number[] = [];
        for (let run = 0; run < RUNS; run++) {
            for (const { layout } of LAYOUTS) answers.get(layout)!.push((await firstAnswer(layout, env, token)).firstAnswerMs);
            bare.push(await bareStartMs());
        }
        for (const { layout } of LAYOUTS) console.log(`  ${layout}: median ${formatMs(median(answers.get(layout)!))}`);

        console.log(`\nFirst use, ${RUNS} fresh processes`);
        const firstUses: Record<string, [number, number]>[] = [];
        for (let run = 0; run < RUNS; run++) firstUses.push(JSON.parse(execFileSync(process.execPath, [CHILD, 'first-use'], { encoding: 'utf8' })) as Record<string, [number, number]>);
        const firstUseRows = Object.keys(firstUses[0]!).map((work) => [
            work,
            formatMs(median(firstUses.map((times) => times[work]![0]))),
            formatMs(median(firstUses.map((times) => times[work]![1]))),
        ]);

        const loadBefore = median(loads.get('before')!);
        const answerBefore = median(answers.get('before')!);
        const sizeOf = (layout: Layout) => (layout === 'bundle' ? sizes.bundle : layout === 'before' ? sizes.before : undefined);
        const rows = LAYOUTS.map(({ layout, label }) => {
            const size = sizeOf(layout);
            const load = median(loads.get(layout)!);
            const answer = median(answers.get(layout)!);
            return [
                label,
                size ? kib(size.zippedBytes) : '(as before)',
                size ? `${kib(size.unpackedBytes)} (${size.files.toLocaleString('en-US')} files)` : '(as before)',
                formatMs(load),
                formatRatio(load, loadBefore),
                formatMs(answer),
                formatRatio(answer, answerBefore),
            ];
        });
        const goals = [
            ['zipped package ≤ 1 MB', kib(sizes.bundle.zippedBytes), sizes.bundle.zippedBytes <= 1024 * 1024],
            ['module load ≤ 25% of before', formatRatio(median(loads.get('bundle')!), loadBefore), median(loads.get('bundle')!) <= 0.25 * loadBefore],
            ['first answered request ≤ 50% of before', formatRatio(median(answers.get('bundle')!), answerBefore), median(answers.get('bundle')!) <= 0.5 * answerBefore],
        ] as const;
        const markdown = [
            '## Cold start: before the bundle vs the bundle',
            '',
            `\`npm run bench:coldstart\`: package size; module load time (loading the app in a fresh process as the Functions host does, median of ${RUNS}); ` +
                `first answered request (spawning a fresh process → first 200 on \`GET /scim/Users?filter=userName eq "…"\` through the local host, ` +
                `on Azurite in its own process, median of ${RUNS}). Layouts interleaved; SCIM_TOKEN, so no Key Vault. ` +
                '"before" is dist + production node_modules with the Azure SDK (Key Vault secrets and keys, @azure/identity) loaded at start, as before it was imported on first use.',
            '',
            markdownTable(['Layout', 'Zipped', 'Unpacked', 'Module load (median)', '÷ before', 'First 200 (median)', '÷ before'], rows),
            '',
            `Of each first 200, starting Node itself (spawn → first message of a process that loads nothing) took ${formatMs(median(bare))} (median, same runs): ` +
                'the same for every layout: no first 200 can come sooner.',
            '',
            markdownTable(['Goal', 'Bundle', 'Met'], goals.map(([goal, value, met]) => [goal, value, met ? '✓' : '✗'])),
            '',
            `The protocol's first calls in a fresh process (median of ${RUNS}; the second call is the steady cost). Validators are ` +
                "compiled once per process, on an attribute's first use (shared/scim/attributeTypeCheck.ts), never at start-up: a cold start " +
                'that answers a lookup compiles nothing.',
            '',
            markdownTable(['Work', 'First call', 'Second call'], firstUseRows),
            '',
            `Load on the machine during the run (1-minute load average, ${os.cpus().length} CPUs): ${os.loadavg()[0]!.toFixed(2)}.`,
        ].join('\n');
        console.log(`\n${markdown}`);
        writeResultsSection('coldstart', markdown);
    } finally {
        await azurite.stop();
        fs.rmSync(work, { recursive: true, force: true });
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
