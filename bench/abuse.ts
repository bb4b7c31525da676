/**
 * Benchmark (not a test): abusive requests alongside Entra's incremental load (issue 17). Each request that used
 * to grow without bound inside one authenticated request — a PATCH with 32,000 e-mails, a member PATCH with
 * thousands of unknown ids, an unfiltered list of a big table, a group list carrying 10,000 members, a POST with
 * 40,000 unknown attributes, a token followed by a no-break space — is sent again and again while the incremental
 * mix (bench/support/incrementalMix.ts) runs, and the mix runs alone in between, in one process tree:
 *
 *   rounds: mix alone, mix + abuse, mix alone, mix + abuse (the better round of each kind is reported: other
 *   work on the shared machine only ever slows a round down);
 *   per abusive request: its answer time, its status, and its storage requests (from its summary log line);
 *   the longest log line the app wrote; afterwards the consistency checker over the whole table, and the
 *   resources the abuse aimed at must be unchanged.
 *
 * Goals (issue 17): load p99 with abuse ≤ 2× without; every abusive answer ≤ 2 s; storage requests of a member
 * change with k ids ≤ 1 + ⌈k/100⌉; every log line ≤ 4 KB; no consistency violation.
 *
 * The tenant has more users than an unfiltered index list counts (10,000) and one group with more members than a
 * list may carry, seeded through the store and straight into the table (bench/support/seeding.ts). Azurite and our
 * endpoint run in child processes of their own (bench/support/serverProcess.ts).
 *
 * Run (the machine is shared, so at low priority): nice -n 10 npm run bench:abuse [-- --users 10500 --mix 3000 --concurrency 8]
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { checkConsistency } from '../test/support/consistencyChecker';
import type { RequestSummary } from '../test/reliability/support/summaryLines';
import { MAX_LOG_LINE_BYTES, SUMMARY_PREFIX } from '../shared/http/summaryLine';
import { MAX_LISTED_REFERENCES } from '../shared/scim/resourceEndpoint';
import { readIndexConfiguration } from '../shared/scim/attributeIndexes';
import { createTableResourceStore } from '../shared/store/TableResourceStore';
import { Deadline, numberFlag } from './support/deadline';
import * as entra from './support/entraRequests';
import { mixTasks, planMix, type MixShape, type Tenant } from './support/incrementalMix';
import { runLoad, type LoadResult } from './support/loadGenerator';
import { markdownTable } from './support/markdown';
import { writeResultsSection } from './support/results';
import { ScimClient } from './support/scimClient';
import { seedGroup, seedUsers } from './support/seeding';
import { ServerProcess } from './support/serverProcess';
import { formatCount, formatMs, formatRatio, median } from './support/stats';

const USERS = numberFlag('users', 10_500);
const GROUPS = numberFlag('groups', 20);
const MEMBERS_PER_GROUP = Math.min(numberFlag('members', 50), USERS);
const MIX_REQUESTS = numberFlag('mix', 3000);
const CONCURRENCY = numberFlag('concurrency', 8);
const ROUND_BUDGET_MS = numberFlag('budget-seconds', 120) * 1000;
const SEED_BUDGET_MS = numberFlag('seed-seconds', 600) * 1000;
const BIG_GROUP_MEMBERS = Math.min(MAX_LISTED_REFERENCES + 1, USERS);
const ANSWER_GOAL_MS = 2000;
const LOG_LINE_GOAL_BYTES = MAX_LOG_LINE_BYTES;
const PATCH_OP = entra.PATCH_OP;

interface AbuseCase {
    name: string;
    /** The most storage requests it may take: 1 + ⌈k/100⌉ for k member ids to add (issue 17). */
    storageGoal?: { bound: number; text: string };
    expectedStatus: number;
    send(): Promise<{ status: number; ms: number }>;
    /** Picks this request's summary line among those logged since the previous abusive request. */
    isMine(summary: RequestSummary): boolean;
}

interface AbuseSample {
    status: number;
    ms: number;
    storageRequests: number | undefined;
}

function userBodyWithUnknownKeys(n: number, runId: string, keys: number): Record<string, unknown> {
    const body: Record<string, unknown> = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `abuse.keys.${n}.${runId}@contoso.example` };
    for (let key = 0; key < keys; key++) body[`k${key}`] = 'x';
    return body;
}

function emails(count: number, from = 0): { value: string }[] {
    return Array.from({ length: count }, (_, n) => ({ value: `m${from + n}@x.io` }));
}

function unknownIds(count: number): { value: string }[] {
    return Array.from({ length: count }, () => ({ value: randomBytes(16).toString('hex') }));
}

function abuseCases(client: ScimClient, badTokenClient: ScimClient, victims: { user: string; mailUser: string; group: string }, runId: string): AbuseCase[] {
    let posted = 0;
    const patch = (path: string, operations: unknown[]) => ({ method: 'PATCH' as const, path, body: { schemas: [PATCH_OP], Operations: operations } });
    const on = (id: string) => (summary: RequestSummary) => summary.method === 'PATCH' && summary.resourceId === id;
    return [
        {
            name: 'PATCH user: add 32,000 distinct e-mails (740 KB)',
            expectedStatus: 400,
            send: () => client.send(patch(`/Users/${victims.user}`, [{ op: 'add', path: 'emails', value: emails(32_000) }])),
            isMine: on(victims.user),
        },
        {
            name: 'PATCH user: add 1,000 e-mails and remove them again (the largest allowed)',
            expectedStatus: 200,
            send: () => client.send(patch(`/Users/${victims.mailUser}`, [{ op: 'add', path: 'emails', value: emails(1000) }, { op: 'remove', path: 'emails', value: emails(1000) }])),
            isMine: on(victims.mailUser),
        },
        {
            name: 'PATCH group: add 1,000 unknown member ids',
            storageGoal: { bound: 1 + Math.ceil(1000 / 100), text: '≤ 1 + ⌈k/100⌉ = 11' },
            expectedStatus: 400,
            send: () => client.send(patch(`/Groups/${victims.group}`, [{ op: 'add', path: 'members', value: unknownIds(1000) }])),
            isMine: on(victims.group),
        },
        {
            name: 'PATCH group: add 10,000 unknown member ids (over the cap)',
            storageGoal: { bound: 1 + Math.ceil(10_000 / 100), text: '≤ 1 + ⌈k/100⌉ = 101' },
            expectedStatus: 400,
            send: () => client.send(patch(`/Groups/${victims.group}`, [{ op: 'add', path: 'members', value: unknownIds(10_000) }])),
            isMine: on(victims.group),
        },
        {
            name: 'PATCH group: remove 1,000 ids that are not members',
            // Existence probes settle 99 ids per transaction (the 100th operation is the one that always fails).
            storageGoal: { bound: 2 + Math.ceil(1000 / 99), text: 'ours: ≤ 2 + ⌈k/99⌉ = 13' },
            expectedStatus: 204,
            send: () => client.send(patch(`/Groups/${victims.group}`, [{ op: 'remove', path: 'members', value: unknownIds(1000) }])),
            isMine: on(victims.group),
        },
        {
            name: `GET /Users?count=0&startIndex=100000 (${formatCount(USERS)} users)`,
            expectedStatus: 400,
            send: () => client.send({ method: 'GET', path: '/Users?count=0&startIndex=100000' }),
            isMine: (summary) => summary.method === 'GET' && summary.resourceType === 'User' && summary.scimType === 'tooMany',
        },
        {
            name: `GET /Groups with members (one group of ${formatCount(BIG_GROUP_MEMBERS)})`,
            expectedStatus: 400,
            send: () => client.send({ method: 'GET', path: '/Groups' }),
            isMine: (summary) => summary.method === 'GET' && summary.resourceType === 'Group' && summary.scimType === 'tooMany',
        },
        {
            name: 'POST /Users with 40,000 unknown attributes (480 KB)',
            expectedStatus: 400,
            send: () => client.send({ method: 'POST', path: '/Users', body: userBodyWithUnknownKeys(posted++, runId, 40_000) }),
            isMine: (summary) => summary.method === 'POST' && summary.scimType === 'invalidSyntax',
        },
        {
            name: 'POST /Users with 990 unknown attributes (the most allowed)',
            expectedStatus: 201,
            send: () => client.send({ method: 'POST', path: '/Users', body: userBodyWithUnknownKeys(posted++, runId, 990) }),
            isMine: (summary) => summary.method === 'POST' && summary.ignoredPathsOmitted !== undefined,
        },
        {
            name: 'GET /Users/{id} with the right token + U+00A0',
            expectedStatus: 401,
            send: () => badTokenClient.send({ method: 'GET', path: `/Users/${victims.user}` }),
            isMine: (summary) => summary.status === 401,
        },
    ];
}

async function main(): Promise<void> {
    const token = randomBytes(24).toString('base64url');
    const runId = entra.newRunId();
    const tableName = `abuse${runId.replace(/-/g, '')}`;
    console.log(`Abuse: ${formatCount(USERS)} users, ${GROUPS} groups × ${MEMBERS_PER_GROUP} members + one of ${formatCount(BIG_GROUP_MEMBERS)}, ${formatCount(MIX_REQUESTS)}-request mix, concurrency ${CONCURRENCY}`);
    const started: ServerProcess[] = [];
    const clients: ScimClient[] = [];
    try {
        const azurite = await ServerProcess.start('azurite');
        started.push(azurite);
        const connectionString = azurite.ready.connectionString!;
        const ours = await ServerProcess.start('ours', { BENCH_TOKEN: token, TABLES_CONNECTION_STRING: connectionString, BENCH_TABLE_NAME: tableName });
        started.push(ours);
        const client = new ScimClient(ours.ready.base!, token, CONCURRENCY + 1);
        const badTokenClient = new ScimClient(ours.ready.base!, `${token}\u00a0`, 1);
        clients.push(client, badTokenClient);

        console.log('\nSeeding (through the store, and edges straight into the table)');
        const deadline = new Deadline(SEED_BUDGET_MS);
        const indexes = readIndexConfiguration(undefined);
        const store = createTableResourceStore({ tableName, connectionString }, { allowInsecureConnection: true, indexes });
        await store.indexes('User'); // declares the default indexes on the empty table, as the app does before its first write
        const tenant: Tenant = { userIds: await seedUsers({ connectionString, tableName }, indexes, 'users', 0, USERS, runId, deadline), groupIds: [] };
        if (tenant.userIds.length < USERS) throw new Error('seeding ran out of time; raise --seed-seconds');
        const initialMembers = (g: number) => Array.from({ length: MEMBERS_PER_GROUP }, (_, k) => (g * MEMBERS_PER_GROUP + k) % USERS);
        for (let g = 0; g < GROUPS; g++) {
            tenant.groupIds[g] = await seedGroup(store, { connectionString, tableName }, entra.groupNameOf(g, runId), initialMembers(g).map((n) => tenant.userIds[n]!), deadline);
        }
        await seedGroup(store, { connectionString, tableName }, `Big group ${runId}`, tenant.userIds.slice(0, BIG_GROUP_MEMBERS), deadline);
        const victims = {
            user: (await client.expect({ method: 'POST', path: '/Users', body: { userName: `abuse.victim.${runId}@contoso.example` } }, 201)).body.id as string,
            mailUser: (await client.expect({ method: 'POST', path: '/Users', body: { userName: `abuse.mails.${runId}@contoso.example` } }, 201)).body.id as string,
            group: (await client.expect({ method: 'POST', path: '/Groups', body: { displayName: `Abuse victim ${runId}` } }, 201)).body.id as string,
        };
        const versionsBefore = await victimVersions(client, victims);
        await ours.logs(); // forget the seeding's lines

        const shape: MixShape = { users: USERS, groups: GROUPS, initialMembers };
        const plan = planMix(shape, MIX_REQUESTS, 0xab05e);
        const cases = abuseCases(client, badTokenClient, victims, runId);
        const samples = new Map<string, AbuseSample[]>(cases.map((abuse) => [abuse.name, []]));
        const alone: LoadResult[] = [];
        const alongside: LoadResult[] = [];
        const loadAverages: number[] = [];
        // CPU time per round of each server process: where a round's time went (the app, or the emulator that stands
        // in for Table Storage and answers every storage request of the load and of the abuse on one thread).
        const cpuPerRound: { ours: number; azurite: number }[] = [];
        for (const withAbuse of [false, true, false, true]) {
            loadAverages.push(os.loadavg()[0]!);
            const cpuBefore = { ours: (await ours.usage()).cpuMs, azurite: (await azurite.usage()).cpuMs };
            console.log(`\nRound: mix ${withAbuse ? 'with abuse alongside' : 'alone'}`);
            const load = runLoad(client, mixTasks(plan, tenant, runId), { concurrency: CONCURRENCY, maxRequests: MIX_REQUESTS, budgetMs: ROUND_BUDGET_MS });
            let abusiveRequests = 0;
            if (withAbuse) {
                let loadDone = false;
                void load.finally(() => (loadDone = true));
                while (!loadDone) {
                    for (const abuse of cases) {
                        if (loadDone) break;
                        const reply = await abuse.send();
                        const mine = (await ours.logs()).summaryLines
                            .map((line) => JSON.parse(line.slice(SUMMARY_PREFIX.length)) as RequestSummary)
                            .filter((summary) => abuse.isMine(summary))
                            .at(-1);
                        samples.get(abuse.name)!.push({ status: reply.status, ms: reply.ms, storageRequests: mine?.storageRequests });
                        abusiveRequests++;
                    }
                }
            }
            const result = await load;
            cpuPerRound.push({ ours: (await ours.usage()).cpuMs - cpuBefore.ours, azurite: (await azurite.usage()).cpuMs - cpuBefore.azurite });
            (withAbuse ? alongside : alone).push(result);
            console.log(`  ${formatCount(result.requests)} mix requests, ${result.errors} errors, p50 ${formatMs(result.latency.p50)}, p99 ${formatMs(result.latency.p99)}${withAbuse ? `; ${abusiveRequests} abusive requests alongside` : ''}`);
            for (const sample of result.errorSamples) console.log(`      error: ${sample}`);
        }

        loadAverages.push(os.loadavg()[0]!);
        const { maxLineBytes } = await ours.logs();
        const versionsAfter = await victimVersions(client, victims);
        const victimMembers = (await client.expect({ method: 'GET', path: `/Groups/${victims.group}` }, 200)).body.members?.length ?? 0;
        console.log('\nConsistency check of the whole table');
        const violations = await checkConsistency(connectionString, tableName);
        for (const violation of violations.slice(0, 10)) console.log(`  ${violation}`);

        const best = (runs: LoadResult[]) => runs.reduce((a, b) => (b.latency.p99 < a.latency.p99 ? b : a));
        const quiet = best(alone);
        const noisy = best(alongside);
        const cpuCells = (round: number) => [formatCount(Math.round(cpuPerRound[round]!.ours)), formatCount(Math.round(cpuPerRound[round]!.azurite))];
        const loadRows = [
            ...alone.map((run, i) => [`alone, round ${i + 1}`, formatCount(run.requests), run.errors, run.requestsPerSecond.toFixed(0), formatMs(run.latency.p50), formatMs(run.latency.p99), ...cpuCells(2 * i)]),
            ...alongside.map((run, i) => [`with abuse, round ${i + 1}`, formatCount(run.requests), run.errors, run.requestsPerSecond.toFixed(0), formatMs(run.latency.p50), formatMs(run.latency.p99), ...cpuCells(2 * i + 1)]),
        ];
        const abuseRows = cases.map((abuse) => {
            const taken = samples.get(abuse.name)!;
            const times = taken.map((sample) => sample.ms);
            const storage = taken.map((sample) => sample.storageRequests ?? NaN);
            const maxStorage = Math.max(...storage);
            const statuses = [...new Set(taken.map((sample) => sample.status))].join(', ');
            const storageGoal = abuse.storageGoal === undefined ? '—' : `${abuse.storageGoal.text}${maxStorage <= abuse.storageGoal.bound ? '' : ' ✗'}`;
            const maxTime = Math.max(...times);
            return [
                abuse.name,
                taken.length,
                statuses === String(abuse.expectedStatus) ? statuses : `${statuses} (expected ${abuse.expectedStatus})`,
                formatMs(median(times)),
                `${formatMs(maxTime)}${maxTime <= ANSWER_GOAL_MS ? '' : ' ✗'}`,
                Number.isFinite(maxStorage) ? String(maxStorage) : '?',
                storageGoal,
            ];
        });
        const unchanged = JSON.stringify(versionsBefore) === JSON.stringify(versionsAfter) && victimMembers === 0;
        const markdown = [
            '## Abusive requests alongside Entra\'s load',
            '',
            `\`nice -n 10 npm run bench:abuse\`: ${formatCount(USERS)} users, ${GROUPS} groups × ${MEMBERS_PER_GROUP} members and one group of ${formatCount(BIG_GROUP_MEMBERS)}; ` +
                `the ${formatCount(MIX_REQUESTS)}-request incremental mix (bench/support/incrementalMix.ts) with ${CONCURRENCY} requests in flight, alone and with the abusive ` +
                'requests below sent one after another alongside it, two rounds each (ABAB), the round with the lower p99 of each kind compared. Azurite and our endpoint ' +
                `run in child processes; the machine is shared with other work (${os.cpus().length} cores, load average ${Math.min(...loadAverages).toFixed(0)}–${Math.max(...loadAverages).toFixed(0)} during the rounds), ` +
                'so the benchmark runs at low priority and absolute times are noise: compare the rounds with each other.',
            '',
            '### The load',
            '',
            markdownTable(['Round', 'Requests', 'Errors', 'req/s', 'p50', 'p99', 'CPU ms, app', 'CPU ms, Azurite'], loadRows),
            '',
            'Azurite answers every storage request of both on one thread (and sorts a query\'s whole result before it takes a page): ' +
                'when its CPU column comes near the round\'s duration, the load\'s storage requests wait in its queue, and the p99 ' +
                'ratio measures that queue as much as our endpoint. Read the ratio with the CPU columns beside it.',
            '',
            `p99 with abuse ÷ p99 alone (best rounds): **${formatRatio(noisy.latency.p99, quiet.latency.p99)}** (goal ≤ 2×).`,
            '',
            '### Each abusive request',
            '',
            markdownTable(['Request', 'Sent', 'Status', 'Answer p50', 'Answer max (goal ≤ 2 s)', 'Storage requests (max)', 'Goal'], abuseRows),
            '',
            `Longest log line: **${formatCount(maxLineBytes)} bytes** (goal ≤ ${formatCount(LOG_LINE_GOAL_BYTES)}). ` +
                `Consistency checker afterwards: **${violations.length} violations**. The resources the abuse aimed at: ${unchanged ? '**unchanged**' : '**CHANGED**'} (versions, and no members in the victim group).`,
        ].join('\n');
        console.log(`\n${markdown}`);
        writeResultsSection('abuse', markdown);
        if (violations.length > 0 || !unchanged) process.exitCode = 1;
    } finally {
        await Promise.all(clients.map((c) => c.close()));
        for (const server of started.reverse()) await server.stop();
    }
}

async function victimVersions(client: ScimClient, victims: { user: string; mailUser: string; group: string }): Promise<string[]> {
    const versions: string[] = [];
    for (const path of [`/Users/${victims.user}`, `/Users/${victims.mailUser}`, `/Groups/${victims.group}?excludedAttributes=members`]) {
        versions.push((await client.expect({ method: 'GET', path }, 200)).body.meta.version);
    }
    return versions;
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
