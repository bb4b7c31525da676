/**
 * Benchmark (not a test): Entra-shaped load over HTTP, our endpoint (persisting to Azurite) against the
 * SCIMMY peer (in memory), on the same workload in the same run.
 *
 * Each server runs in a child process of its own (bench/support/serverProcess.ts); Azurite runs in a
 * third, standing in for Table Storage, which in Azure is a separate service. The load comes from this
 * process through undici with a fixed number of requests in flight. Phases, in Entra's order:
 *   1. initial cycle, users: per user a lookup that misses, then the create (docs/entra-protocol.md §1);
 *   2. initial cycle, groups: per group a lookup that misses and the create, then member PATCHes;
 *   3. incremental mix: lookups, PATCHes, disables, member adds/removes, group reads — run twice per
 *      server in ABBA order, best round reported (other engineers' test runs only ever slow a round down).
 * Every phase is bounded by a request count and a time budget; the script stops the servers itself.
 *
 * The workload uses request shapes both servers accept (see `patchUserPortable`, `disableUser(id, false)`):
 * SCIMMY answers Entra's `"False"` string and URN-prefixed PATCH paths with 400, which would make it look
 * faster by failing early. bench:roundtrips covers the exact Entra shapes against our endpoint.
 *
 * CPU ms/request is each server process's own CPU time (process.cpuUsage in that process) over the phase:
 * for ours the app process only; Azurite's (standing in for Table Storage, a separate service in Azure)
 * is shown apart. `--profile <dir>` starts our app process with `--cpu-prof`, leaves the profile there and
 * writes where its busy time went (bench/RESULTS.md) instead of the timings, which the profiler distorts.
 *
 * Run: npm run bench:load [-- --users 1000 --groups 20 --members 50 --mix 3000 --concurrency 12 --budget-seconds 120 --profile dir]
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { numberFlag, stringFlag } from './support/deadline';
import * as entra from './support/entraRequests';
import { newestProfile, profileShares } from './support/cpuProfile';
import { mixTasks, need, planMix, type MixShape, type Tenant } from './support/incrementalMix';
import { runLoad, type LoadResult, type LoadTask } from './support/loadGenerator';
import { markdownTable } from './support/markdown';
import { writeResultsSection } from './support/results';
import { ScimClient } from './support/scimClient';
import { ServerProcess } from './support/serverProcess';
import { formatCount, formatMs, formatRatio } from './support/stats';

const USERS = numberFlag('users', 1000);
const GROUPS = numberFlag('groups', 20);
const MEMBERS_PER_GROUP = Math.min(numberFlag('members', 50), USERS);
const MEMBERS_PER_PATCH = 10;
const MIX_REQUESTS = numberFlag('mix', 3000);
const CONCURRENCY = numberFlag('concurrency', 12);
const PHASE_BUDGET_MS = numberFlag('budget-seconds', 120) * 1000;
/** Entra's gallery floor (docs/entra-protocol.md §10); the goal is ten times it. */
const ENTRA_FLOOR_RPS = 25;
const PROFILE_DIRECTORY = stringFlag('profile', '');

interface Target {
    name: string;
    client: ScimClient;
    tenant: Tenant;
    /** The server's own process: its CPU time is what a request costs the server. */
    process: ServerProcess;
    /** Ours only: Azurite's process, standing in for Table Storage (its CPU time is reported apart). */
    storageProcess?: ServerProcess;
    /** The process that reports storage requests (ours only). */
    storageReporter?: ServerProcess;
}

interface PhaseRun {
    result: LoadResult;
    cpuMsPerRequest: number;
    storageCpuMsPerRequest?: number;
    storagePerRequest?: number;
}

// ---- The workload ------------------------------------------------------------------------------------

function initialUserTasks(tenant: Tenant, runId: string): LoadTask[] {
    return Array.from({ length: USERS }, (_, n): LoadTask => async (send) => {
        const miss = await send('user lookup (miss)', entra.lookupUserName(entra.userNameOf(n, runId)));
        if (miss.status !== 200 || miss.body?.totalResults !== 0) throw new Error('lookup before create did not miss');
        const created = await send('create user', entra.createUser(n, runId));
        if (created.status !== 201) throw new Error('create failed');
        tenant.userIds[n] = created.body.id;
    });
}

function initialGroupTasks(tenant: Tenant, runId: string): LoadTask[] {
    return Array.from({ length: GROUPS }, (_, g): LoadTask => async (send) => {
        const miss = await send('group lookup (miss)', entra.lookupGroup(entra.groupNameOf(g, runId)));
        if (miss.status !== 200 || miss.body?.totalResults !== 0) throw new Error('group lookup before create did not miss');
        const created = await send('create group', entra.createGroup(g, runId));
        if (created.status !== 201) throw new Error('group create failed');
        tenant.groupIds[g] = created.body.id;
    });
}

/** The users of group `g` in the initial cycle. */
function initialMembers(g: number): number[] {
    return Array.from({ length: MEMBERS_PER_GROUP }, (_, k) => (g * MEMBERS_PER_GROUP + k) % USERS);
}

/** Member adds, `MEMBERS_PER_PATCH` per PATCH, round-robin over the groups so no one group takes all the load. */
function initialMembershipTasks(tenant: Tenant): LoadTask[] {
    const tasks: LoadTask[] = [];
    for (let offset = 0; offset < MEMBERS_PER_GROUP; offset += MEMBERS_PER_PATCH) {
        for (let g = 0; g < GROUPS; g++) {
            const batch = initialMembers(g).slice(offset, offset + MEMBERS_PER_PATCH);
            tasks.push(async (send) => {
                await send('add members (10/PATCH)', entra.addMembers(need(tenant.groupIds[g]), batch.map((n) => need(tenant.userIds[n]))));
            });
        }
    }
    return tasks;
}

const MIX_SHAPE: MixShape = { users: USERS, groups: GROUPS, initialMembers };

// ---- Running and reporting ---------------------------------------------------------------------------

async function runPhase(target: Target, tasks: LoadTask[], maxRequests: number): Promise<PhaseRun> {
    const cpuBefore = (await target.process.usage()).cpuMs;
    const storageCpuBefore = (await target.storageProcess?.usage())?.cpuMs;
    const storageBefore = (await target.storageReporter?.usage())?.storage?.total;
    const result = await runLoad(target.client, tasks, { concurrency: CONCURRENCY, maxRequests, budgetMs: PHASE_BUDGET_MS });
    const cpuAfter = (await target.process.usage()).cpuMs;
    const storageCpuAfter = (await target.storageProcess?.usage())?.cpuMs;
    const storageAfter = (await target.storageReporter?.usage())?.storage?.total;
    const perRequest = (total: number) => total / Math.max(1, result.requests);
    const run: PhaseRun = { result, cpuMsPerRequest: perRequest(cpuAfter - cpuBefore) };
    if (storageCpuBefore !== undefined && storageCpuAfter !== undefined) run.storageCpuMsPerRequest = perRequest(storageCpuAfter - storageCpuBefore);
    if (storageBefore !== undefined && storageAfter !== undefined) run.storagePerRequest = (storageAfter - storageBefore) / Math.max(1, result.requests);
    const skipped = result.tasksSkipped > 0 ? `, ${result.tasksSkipped} tasks not started (budget)` : '';
    console.log(
        `  ${target.name.padEnd(6)} ${formatCount(result.requests)} requests in ${(result.elapsedMs / 1000).toFixed(1)} s: ` +
            `${result.requestsPerSecond.toFixed(0)} req/s, p50 ${formatMs(result.latency.p50)}, p99 ${formatMs(result.latency.p99)}, ${result.errors} errors${skipped}`,
    );
    for (const sample of result.errorSamples) console.log(`      error: ${sample}`);
    return run;
}

function phaseRows(phase: string, ours: PhaseRun, peer: PhaseRun): (string | number)[][] {
    const row = (name: string, run: PhaseRun) => [
        phase,
        name,
        formatCount(run.result.requests),
        run.result.errors,
        run.result.requestsPerSecond.toFixed(0),
        formatMs(run.result.latency.p50),
        formatMs(run.result.latency.p99),
        run.cpuMsPerRequest.toFixed(2),
        run.storageCpuMsPerRequest === undefined ? '—' : run.storageCpuMsPerRequest.toFixed(2),
        run.storagePerRequest === undefined ? '—' : run.storagePerRequest.toFixed(2),
    ];
    return [row('ours (Azurite)', ours), row('SCIMMY (memory)', peer)];
}

function ratioRow(phase: string, ours: PhaseRun, peer: PhaseRun): string[] {
    return [
        phase,
        formatRatio(ours.result.requestsPerSecond, peer.result.requestsPerSecond),
        formatRatio(ours.result.latency.p50, peer.result.latency.p50),
        formatRatio(ours.result.latency.p99, peer.result.latency.p99),
        formatRatio(ours.cpuMsPerRequest, peer.cpuMsPerRequest),
        formatRatio(ours.result.requestsPerSecond, ENTRA_FLOOR_RPS),
    ];
}

function bestOf(runs: PhaseRun[]): PhaseRun {
    return runs.reduce((best, run) => (run.result.requestsPerSecond > best.result.requestsPerSecond ? run : best));
}

async function main(): Promise<void> {
    const token = randomBytes(24).toString('base64url');
    const runId = entra.newRunId();
    console.log(`Load: ${USERS} users, ${GROUPS} groups × ${MEMBERS_PER_GROUP} members, ${MIX_REQUESTS}-request mix, concurrency ${CONCURRENCY}, ≤ ${PHASE_BUDGET_MS / 1000} s per phase`);
    const started: ServerProcess[] = [];
    const clients: ScimClient[] = [];
    try {
        const azurite = await ServerProcess.start('azurite');
        started.push(azurite);
        const profile = PROFILE_DIRECTORY ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIRECTORY}`] : [];
        const oursProcess = await ServerProcess.start('ours', { BENCH_TOKEN: token, TABLES_CONNECTION_STRING: azurite.ready.connectionString! }, profile);
        started.push(oursProcess);
        const peerProcess = await ServerProcess.start('scimmy', { BENCH_TOKEN: token });
        started.push(peerProcess);
        const makeTarget = (name: string, base: string, server: ServerProcess, storage?: ServerProcess): Target => {
            const client = new ScimClient(base, token, CONCURRENCY);
            clients.push(client);
            return { name, client, tenant: { userIds: [], groupIds: [] }, process: server, ...(storage ? { storageProcess: storage, storageReporter: server } : {}) };
        };
        const ours = makeTarget('ours', oursProcess.ready.base!, oursProcess, azurite);
        const peer = makeTarget('scimmy', peerProcess.ready.base!, peerProcess);

        const initialRequests = 2 * USERS;
        console.log('\nPhase 1: initial cycle, users (lookup miss + create)');
        const usersOurs = await runPhase(ours, initialUserTasks(ours.tenant, runId), initialRequests);
        const usersPeer = await runPhase(peer, initialUserTasks(peer.tenant, runId), initialRequests);

        console.log('\nPhase 2: initial cycle, groups (lookup miss + create) and member PATCHes');
        const groupsOurs = await runPhase(ours, initialGroupTasks(ours.tenant, runId), 2 * GROUPS);
        const groupsPeer = await runPhase(peer, initialGroupTasks(peer.tenant, runId), 2 * GROUPS);
        const memberPatches = GROUPS * Math.ceil(MEMBERS_PER_GROUP / MEMBERS_PER_PATCH);
        const membersOurs = await runPhase(ours, initialMembershipTasks(ours.tenant), memberPatches);
        const membersPeer = await runPhase(peer, initialMembershipTasks(peer.tenant), memberPatches);

        console.log('\nPhase 3: incremental mix, two rounds per server (ABBA)');
        const mixOurs: PhaseRun[] = [];
        const mixPeer: PhaseRun[] = [];
        const plan = planMix(MIX_SHAPE, MIX_REQUESTS, 0x5c1a);
        mixOurs.push(await runPhase(ours, mixTasks(plan, ours.tenant, runId), MIX_REQUESTS));
        mixPeer.push(await runPhase(peer, mixTasks(plan, peer.tenant, runId), MIX_REQUESTS));
        mixPeer.push(await runPhase(peer, mixTasks(plan, peer.tenant, runId), MIX_REQUESTS));
        mixOurs.push(await runPhase(ours, mixTasks(plan, ours.tenant, runId), MIX_REQUESTS));
        const mixBestOurs = bestOf(mixOurs);
        const mixBestPeer = bestOf(mixPeer);

        const phases: [string, PhaseRun, PhaseRun][] = [
            ['Initial cycle: users', usersOurs, usersPeer],
            ['Initial cycle: groups', groupsOurs, groupsPeer],
            ['Initial cycle: member PATCHes', membersOurs, membersPeer],
            ['Incremental mix (best of 2)', mixBestOurs, mixBestPeer],
        ];
        const operations = [...mixBestOurs.result.byOperation.keys()].sort();
        const operationRows = operations.map((operation) => {
            const mine = mixBestOurs.result.byOperation.get(operation)!;
            const theirs = mixBestPeer.result.byOperation.get(operation);
            const p50 = (latencies: number[] | undefined) => (latencies?.length ? [...latencies].sort((a, b) => a - b)[Math.ceil(latencies.length / 2) - 1]! : NaN);
            return [operation, mine.latenciesMs.length, formatMs(p50(mine.latenciesMs)), formatMs(p50(theirs?.latenciesMs)), formatRatio(p50(mine.latenciesMs), p50(theirs?.latenciesMs)), `${mine.errors} / ${theirs?.errors ?? '—'}`];
        });
        const markdown = [
            '## Entra-shaped load: ours vs SCIMMY',
            '',
            `\`npm run bench:load\`: ${formatCount(USERS)} users, ${GROUPS} groups × ${MEMBERS_PER_GROUP} members (${MEMBERS_PER_PATCH} per PATCH), ` +
                `a ${formatCount(MIX_REQUESTS)}-request incremental mix; ${CONCURRENCY} requests in flight (undici), each phase ≤ ${PHASE_BUDGET_MS / 1000} s. ` +
                'Ours persists to Azurite (its own process, standing in for Table Storage); SCIMMY 1.3.5 + scimmy-routers on express keeps everything in memory, ' +
                'with indexed userName/externalId/displayName lookups (bench/scimmyPeer.ts). Each server has a process of its own; CPU ms/request is ' +
                "that process's own CPU time (process.cpuUsage): for ours the app process, not Azurite's, which is shown apart.",
            '',
            '### Ratios (ours ÷ SCIMMY)',
            '',
            markdownTable(['Phase', 'req/s', 'p50 latency', 'p99 latency', 'CPU ms/request', 'ours req/s ÷ Entra floor (25)'], phases.map(([phase, o, p]) => ratioRow(phase, o, p))),
            '',
            'Goal: req/s ratio ≥ 1.00× and ours ≥ 10× the Entra floor (≥ 250 req/s). Per request, ours also sends its storage requests ' +
                '(Node HTTP client and Azure SDK: about half of its busy time, "Where the app\'s CPU goes" below), which SCIMMY, in memory, does not.',
            '',
            `Load on the machine when the run ended (1-minute load average, ${os.cpus().length} CPUs, shared with other work): ${os.loadavg()[0]!.toFixed(2)}.`,
            '',
            '### Measured',
            '',
            markdownTable(['Phase', 'Server', 'Requests', 'Errors', 'req/s', 'p50', 'p99', 'CPU ms/request', 'Azurite CPU ms/request', 'Storage requests/request'], phases.flatMap(([phase, o, p]) => phaseRows(phase, o, p))),
            '',
            '### Incremental mix by operation (best rounds)',
            '',
            markdownTable(['Operation', 'Requests', 'p50 ours', 'p50 SCIMMY', 'Ratio', 'Errors ours / SCIMMY'], operationRows),
        ].join('\n');
        console.log(`\n${markdown}`);
        if (!PROFILE_DIRECTORY) writeResultsSection('load', markdown); // a profiled run's times are the profiler's
    } finally {
        await Promise.all(clients.map((client) => client.close()));
        for (const server of started.reverse()) await server.stop();
    }
    // Our app process has exited now, so its profile is written.
    if (PROFILE_DIRECTORY) writeProfileSection(PROFILE_DIRECTORY);
}

/** bench/RESULTS.md "Where the app's CPU goes": the profiled run's busy time by part of the process. */
function writeProfileSection(directory: string): void {
    const file = newestProfile(directory);
    if (file === undefined) throw new Error(`no .cpuprofile in ${directory}`);
    const shares = profileShares(file);
    const markdown = [
        "## Where the app's CPU goes (profile of our app process under bench:load)",
        '',
        `\`npm run bench:load -- --profile <dir>\` (${formatCount(USERS)} users, ${GROUPS} groups, ${formatCount(MIX_REQUESTS)}-request mix): ` +
            "the app process's busy time (idle excluded) from `node --cpu-prof`, each sample charged to the first known part on its stack " +
            '(bench/support/cpuProfile.ts), so JSON, crypto and socket writes count for the code that called them. All phases together.',
        '',
        markdownTable(['Part of the app process', 'Share of busy time'], shares.map(({ part, share }) => [part, `${(share * 100).toFixed(1)}%`])),
    ].join('\n');
    console.log(`\n${markdown}`);
    writeResultsSection('load-profile', markdown);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
