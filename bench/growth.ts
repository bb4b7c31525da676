/**
 * Benchmark (not a test): does a request cost more as the tenant or the group grows?
 *
 * Two tenants, each in a table of its own on one Azurite (in this process): a small one (1k users) and a
 * large one (100k users by default, `--users N` to scale down). Each is served by our endpoint in a child
 * process of its own (bench/support/serverProcess.ts), which reports the storage requests it makes. The
 * large tenant also holds a group of 10 members and a group of 50k (`--members N`).
 *
 * Every probe is sent alternately to the small and the large side (ABAB…), so drift on this shared
 * machine hits both sides alike, and compared two ways: storage round trips (goal: ratio 1.00 — the
 * same reads and writes whatever the size) and median latency (goal: ratio ≤ 1.5).
 *
 * Seeding writes the rows the store writes, not through HTTP (bench/support/seeding.ts), with progress output. Every
 * loop is bounded by a count and by time.
 *
 * A third comparison (issue 22) serves one named tenant from a table holding 1 tenant and from one holding
 * 1,000 (`--tenants N`): the measured tenant has the same users on both sides (`--tenant-users N`), every other
 * tenant a few (`--other-tenant-users N`). `--only-tenants` runs just that comparison.
 *
 * The change feed's probe (bench/feedGrowth.ts) reads 100 events at 1k vs 1M events (`--feed-events N`).
 *
 * Run: npm run bench:growth [-- --users 100000 --members 50000 --reps 25 --seed-minutes 20 --tenants 1000 --only-tenants]
 *      npm run bench:growth -- --only feed [--feed-events 1000000]     (just the change feed probe)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readIndexConfiguration } from '../shared/scim/attributeIndexes';
import { tokenDigest } from '../shared/auth/tokenDigest';
import { partitionsOf } from '../shared/store/keys';
import { createStoreFromSettings } from '../shared/store/createStore';
import { startEmbeddedAzurite } from '../dev/embeddedAzurite';
import { feedGrowthProbe } from './feedGrowth';
import { Deadline, numberFlag, stringFlag } from './support/deadline';
import type { EmbeddedAzurite } from '../dev/embeddedAzurite';
import * as entra from './support/entraRequests';
import type { ScimRequestSpec } from './support/entraRequests';
import { markdownTable } from './support/markdown';
import { writeResultsSection } from './support/results';
import { ScimClient } from './support/scimClient';
import { seedGroup, seedTenants, seedUsers } from './support/seeding';
import { ServerProcess } from './support/serverProcess';
import { STORAGE_KIND_LABELS, STORAGE_KINDS, subtractCounts, type StorageCounts } from './support/storageCounts';
import { formatCount, formatMs, formatRatio, median } from './support/stats';

const SMALL_USERS = numberFlag('small-users', 1000);
const LARGE_USERS = numberFlag('users', 100_000);
const REPS = numberFlag('reps', 25);
/** Spare users (never members) for the add/remove probes, one per repetition. */
const SPARE_USERS = REPS + 5;
const BIG_GROUP_MEMBERS = Math.min(numberFlag('members', 50_000), LARGE_USERS - SPARE_USERS);
const SMALL_GROUP_MEMBERS = 10;
const SEED_BUDGET_MS = numberFlag('seed-minutes', 20) * 60_000;
const PROBE_BUDGET_MS = numberFlag('probe-minutes', 5) * 60_000;
const LATENCY_GOAL = 1.5;
const TENANTS = numberFlag('tenants', 1000);
const TENANT_USERS = numberFlag('tenant-users', 1000);
const OTHER_TENANT_USERS = numberFlag('other-tenant-users', 3);
const ONLY_TENANTS = process.argv.includes('--only-tenants');
const FEED_EVENTS = numberFlag('feed-events', 1_000_000);
const ONLY = stringFlag('only', 'all');

/** One side of a comparison: a server process and the client that talks to it. */
interface Side {
    label: string;
    server: ServerProcess;
    client: ScimClient;
}

interface Sample {
    ms: number;
    storage: StorageCounts;
    status: number;
}

interface ProbeResult {
    probe: string;
    small: { label: string; samples: Sample[] };
    large: { label: string; samples: Sample[] };
}

/** Sends one request and takes the storage requests the server made for it from the server's own counter. */
async function measure(side: Side, request: ScimRequestSpec, ...statuses: number[]): Promise<Sample> {
    const before = (await side.server.usage()).storage!;
    const reply = await side.client.expect(request, ...statuses);
    const after = (await side.server.usage()).storage!;
    return { ms: reply.ms, storage: subtractCounts(after, before), status: reply.status };
}

/**
 * Runs `probe(rep)` REPS times on both sides, alternating which goes first. `makeRequest` builds the
 * request for a side and repetition (a different user each time, so no answer is ever served twice).
 */
async function compare(
    probe: string,
    small: Side,
    large: Side,
    makeRequest: (side: 'small' | 'large', rep: number) => ScimRequestSpec,
    deadline: Deadline,
    ...statuses: number[]
): Promise<ProbeResult> {
    const result: ProbeResult = { probe, small: { label: small.label, samples: [] }, large: { label: large.label, samples: [] } };
    // Warm-up: compile the code paths and open connections on both sides before measuring.
    await measure(small, makeRequest('small', REPS), ...statuses);
    await measure(large, makeRequest('large', REPS), ...statuses);
    for (let rep = 0; rep < REPS && !deadline.expired(); rep++) {
        const order: ['small' | 'large', Side][] = rep % 2 === 0 ? [['small', small], ['large', large]] : [['large', large], ['small', small]];
        for (const [which, side] of order) result[which].samples.push(await measure(side, makeRequest(which, rep), ...statuses));
    }
    console.log(`  ${probe}: ${result.small.samples.length} reps, p50 ${formatMs(median(result.small.samples.map((s) => s.ms)))} vs ${formatMs(median(result.large.samples.map((s) => s.ms)))}`);
    return result;
}

/** `compare` for several probes in turn. */
async function compareEach(
    probes: { probe: string; request: (side: 'small' | 'large', rep: number) => ScimRequestSpec }[],
    small: Side,
    large: Side,
    deadline: Deadline,
): Promise<ProbeResult[]> {
    const results: ProbeResult[] = [];
    for (const { probe, request } of probes) results.push(await compare(probe, small, large, request, deadline, 200));
    return results;
}

/** `2 (1 point read, 1 transaction)`; a count that varied between repetitions shows as a range. */
function describeStorage(samples: Sample[]): string {
    const totals = samples.map((s) => s.storage.total);
    const low = Math.min(...totals);
    const high = Math.max(...totals);
    const typical = samples.find((s) => s.storage.total === median(totals)) ?? samples[0]!;
    const kinds = STORAGE_KINDS.filter((kind) => typical.storage[kind] > 0).map((kind) => `${typical.storage[kind]} ${STORAGE_KIND_LABELS[kind]}`);
    return `${low === high ? low : `${low}–${high}`} (${kinds.join(', ') || 'none'})`;
}

function resultRow(result: ProbeResult): string[] {
    const medianTotal = (samples: Sample[]) => median(samples.map((s) => s.storage.total));
    const roundTrips = formatRatio(medianTotal(result.large.samples), medianTotal(result.small.samples));
    const smallMs = median(result.small.samples.map((s) => s.ms));
    const largeMs = median(result.large.samples.map((s) => s.ms));
    const latencyRatio = largeMs / smallMs;
    const scans = [...result.small.samples, ...result.large.samples].some((s) => s.storage.scan > 0);
    const met = roundTrips === '1.00×' && latencyRatio <= LATENCY_GOAL && !scans;
    return [
        result.probe,
        describeStorage(result.small.samples),
        describeStorage(result.large.samples),
        roundTrips,
        formatMs(smallMs),
        formatMs(largeMs),
        formatRatio(largeMs, smallMs),
        met ? '✓' : scans ? '✗ scans' : '✗',
    ];
}

/** The change feed probe on the benchmark's Azurite, after the tenant probes. */
async function feedOnlyWith(azurite: Awaited<ReturnType<typeof startEmbeddedAzurite>>): Promise<void> {
    const markdown = await feedGrowthProbe(azurite, { smallLength: 1000, largeLength: FEED_EVENTS, reps: REPS, seedDeadline: new Deadline(SEED_BUDGET_MS) });
    console.log(`\n${markdown}`);
    writeResultsSection('growth-feed', markdown);
}

/** The change feed probe alone: its own results section, so it can be rerun without reseeding tenants. */
async function feedOnly(): Promise<void> {
    const azurite = await startEmbeddedAzurite();
    try {
        await feedOnlyWith(azurite);
    } finally {
        await azurite.stop();
    }
}

async function main(): Promise<void> {
    if (ONLY === 'feed') return feedOnly();
    const token = randomBytes(24).toString('base64url');
    const runId = entra.newRunId();
    const smallTable = `growsmall${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const largeTable = `growlarge${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const azurite = await startEmbeddedAzurite();
    const started: ServerProcess[] = [];
    const clients: ScimClient[] = [];
    try {
        if (ONLY_TENANTS) {
            const markdown = await tenantComparison(azurite, runId, started, clients);
            console.log(`\n${markdown}`);
            writeResultsSection('growth-tenants', markdown);
            return;
        }
        console.log(`Growth: ${formatCount(SMALL_USERS)} vs ${formatCount(LARGE_USERS)} users; groups of ${SMALL_GROUP_MEMBERS} vs ${formatCount(BIG_GROUP_MEMBERS)} members; ${REPS} reps per probe`);
        const seedDeadline = new Deadline(SEED_BUDGET_MS);
        // The app's default indexes, as the server processes have them: seeded users carry every index row. Each
        // store declares its indexes on the empty table first (complete: nothing to backfill), as a new deployment does.
        const indexes = readIndexConfiguration(undefined);
        const smallStore = createStoreFromSettings({ tableName: smallTable, connectionString: azurite.connectionString }, indexes);
        const largeStore = createStoreFromSettings({ tableName: largeTable, connectionString: azurite.connectionString }, indexes);
        await smallStore.indexes('User');
        await largeStore.indexes('User');
        console.log('Seeding (rows as the store writes them, not HTTP):');
        const smallTableAccess = { connectionString: azurite.connectionString, tableName: smallTable };
        const largeTableAccess = { connectionString: azurite.connectionString, tableName: largeTable };
        const smallUsers = await seedUsers(smallTableAccess, indexes, 'small tenant', 0, SMALL_USERS, runId, seedDeadline);
        const smallTenantGroup = await seedGroup(smallStore, smallTableAccess, `Small group ${runId}`, smallUsers.slice(0, SMALL_GROUP_MEMBERS), seedDeadline);
        const largeUsers = await seedUsers(largeTableAccess, indexes, 'large tenant', 0, LARGE_USERS, runId, seedDeadline);
        if (largeUsers.length < BIG_GROUP_MEMBERS + SPARE_USERS) throw new Error(`only ${largeUsers.length} users seeded; rerun with a smaller --users or --members`);
        const smallGroup = await seedGroup(largeStore, largeTableAccess, `Small group ${runId}`, largeUsers.slice(0, SMALL_GROUP_MEMBERS), seedDeadline);
        const bigGroup = await seedGroup(largeStore, largeTableAccess, `Big group ${runId}`, largeUsers.slice(0, BIG_GROUP_MEMBERS), seedDeadline);
        if (seedDeadline.expired()) throw new Error('seeding did not finish within --seed-minutes');
        // Spare users (never members) for the add/remove probes.
        const spareUsers = largeUsers.slice(BIG_GROUP_MEMBERS, BIG_GROUP_MEMBERS + SPARE_USERS);
        const smallSpareUsers = smallUsers.slice(smallUsers.length - SPARE_USERS);

        const startSide = async (label: string, tableName: string): Promise<Side> => {
            const server = await ServerProcess.start('ours', { BENCH_TOKEN: token, TABLES_CONNECTION_STRING: azurite.connectionString, BENCH_TABLE_NAME: tableName });
            started.push(server);
            const client = new ScimClient(server.ready.base!, token, 1);
            clients.push(client);
            return { label, server, client };
        };
        const smallTenant = await startSide(`${formatCount(smallUsers.length)} users`, smallTable);
        const largeTenant = await startSide(`${formatCount(largeUsers.length)} users`, largeTable);

        console.log('Probes (small vs large, alternating):');
        const probeDeadline = new Deadline(PROBE_BUDGET_MS);
        // Users are picked spread over each tenant, different ones per repetition.
        const pick = (users: readonly string[], rep: number) => (rep * 7919 + 13) % users.length;
        const userNumber = (which: 'small' | 'large', rep: number) => pick(which === 'small' ? smallUsers : largeUsers, rep);
        const userId = (which: 'small' | 'large', rep: number) => (which === 'small' ? smallUsers : largeUsers)[userNumber(which, rep)]!;
        const userResults = [
            await compare('userName eq (other case)', smallTenant, largeTenant, (w, rep) => entra.lookupUserName(entra.userNameOf(userNumber(w, rep), runId).toUpperCase()), probeDeadline, 200),
            await compare('externalId eq', smallTenant, largeTenant, (w, rep) => entra.lookupExternalId(entra.externalIdOf(userNumber(w, rep), runId)), probeDeadline, 200),
            // Other matching attributes an admin may pick (default indexes): before the PATCH probe renames them.
            ...(await compareEach(
                (['workEmail', 'employeeNumber', 'displayName'] as const).map((attribute) => ({
                    probe: `${{ workEmail: 'emails[type eq "work"].value', employeeNumber: 'enterprise employeeNumber', displayName: 'displayName' }[attribute]} eq`,
                    request: (w: 'small' | 'large', rep: number) => entra.lookupUsersBy(attribute, entra.matchingValuesOf(userNumber(w, rep), runId)[attribute]),
                })),
                smallTenant,
                largeTenant,
                probeDeadline,
            )),
            await compare('or of two indexed eqs (userName or work email)', smallTenant, largeTenant, (w, rep) => {
                const [a, b] = [userNumber(w, rep), userNumber(w, rep + 1)];
                return { method: 'GET', path: `/Users?${new URLSearchParams({ filter: `userName eq "${entra.userNameOf(a, runId)}" or emails[type eq "work"].value eq "${entra.userNameOf(b, runId)}"` })}` };
            }, probeDeadline, 200),
            await compare('GET user by id', smallTenant, largeTenant, (w, rep) => entra.getUser(userId(w, rep)), probeDeadline, 200),
            await compare('PATCH user (default dialect)', smallTenant, largeTenant, (w, rep) => entra.patchUserDefaultDialect(userId(w, rep), rep), probeDeadline, 200, 204),
            // Member adds check that the member exists, in the users partition: does that grow with the tenant?
            await compare(
                `add 1 member to a ${SMALL_GROUP_MEMBERS}-member group`,
                smallTenant,
                largeTenant,
                (w, rep) => entra.addMembers(w === 'small' ? smallTenantGroup : smallGroup, [w === 'small' ? smallSpareUsers[rep % SPARE_USERS]! : spareUsers[rep % SPARE_USERS]!]),
                probeDeadline,
                200,
                204,
            ),
            await compare(
                `remove 1 member from a ${SMALL_GROUP_MEMBERS}-member group`,
                smallTenant,
                largeTenant,
                (w, rep) => entra.removeMembers(w === 'small' ? smallTenantGroup : smallGroup, [w === 'small' ? smallSpareUsers[rep % SPARE_USERS]! : spareUsers[rep % SPARE_USERS]!]),
                probeDeadline,
                200,
                204,
            ),
        ];

        // The group probes compare two groups in the same (large) tenant, so only the group size differs.
        const smallGroupSide: Side = { ...largeTenant, label: `${SMALL_GROUP_MEMBERS} members` };
        const bigGroupSide: Side = { ...largeTenant, label: `${formatCount(BIG_GROUP_MEMBERS)} members` };
        const groupOf = (which: 'small' | 'large') => (which === 'small' ? smallGroup : bigGroup);
        const spare = (rep: number) => spareUsers[rep % spareUsers.length]!;
        const groupResults = [
            await compare('add 1 member', smallGroupSide, bigGroupSide, (w, rep) => entra.addMembers(groupOf(w), [spare(rep)]), probeDeadline, 200, 204),
            await compare('remove 1 member', smallGroupSide, bigGroupSide, (w, rep) => entra.removeMembers(groupOf(w), [spare(rep)]), probeDeadline, 200, 204),
            await compare('GET group excluding members', smallGroupSide, bigGroupSide, (w) => entra.getGroupExcludingMembers(groupOf(w)), probeDeadline, 200),
            await compare('membership probe (member)', smallGroupSide, bigGroupSide, (w, rep) => entra.membershipProbe(groupOf(w), largeUsers[rep % SMALL_GROUP_MEMBERS]!), probeDeadline, 200),
        ];

        const headers = (small: string, large: string) => ['Probe', `Storage requests, ${small}`, `Storage requests, ${large}`, 'Round-trip ratio', `p50, ${small}`, `p50, ${large}`, 'Latency ratio', 'Goal'];
        const markdown = [
            '## Growth: cost against tenant and group size',
            '',
            `\`npm run bench:growth\`: the same request against a small and a large side, alternating, ${REPS} repetitions each (median latency). ` +
                `Goal per probe: round-trip ratio 1.00× and latency ratio ≤ ${LATENCY_GOAL}×. Seeded with the rows the store writes (default indexes included, several users per transaction) on one in-process Azurite; each tenant served by its own app process.`,
            '',
            `### Tenant size: ${formatCount(smallUsers.length)} vs ${formatCount(largeUsers.length)} users`,
            '',
            markdownTable(headers(smallTenant.label, largeTenant.label), userResults.map(resultRow)),
            '',
            'Writes on the large side (PATCH, member add/remove) pay Azurite\'s own cost, not the service\'s: LokiJS updates its binary indices in O(rows in the table) for every row a transaction writes (docs/storage.md, "Request budgets"), and the 100,000-user table holds ~600,000 rows with the default indexes; the round trips are identical. Key-range reads (externalId and the equality indexes) are served from the RowKey index (dev/embeddedAzurite.ts), as Table Storage serves them; before that tweak `externalId eq` measured 16× here.',
            '',
            `### Group size: ${SMALL_GROUP_MEMBERS} vs ${formatCount(BIG_GROUP_MEMBERS)} members (both in the ${formatCount(largeUsers.length)}-user tenant)`,
            '',
            markdownTable(headers(smallGroupSide.label, bigGroupSide.label), groupResults.map(resultRow)),
        ].join('\n');
        console.log(`\n${markdown}`);
        writeResultsSection('growth', markdown);
        const tenantMarkdown = await tenantComparison(azurite, runId, started, clients);
        console.log(`\n${tenantMarkdown}`);
        writeResultsSection('growth-tenants', tenantMarkdown);
        await feedOnlyWith(azurite);
    } finally {
        await Promise.all(clients.map((client) => client.close()));
        for (const server of started.reverse()) await server.stop();
        await azurite.stop();
    }
}

/**
 * One named tenant served from a table with 1 tenant and from one with `TENANTS`: the same users, the same
 * requests. Its lookups stay point reads in its own partitions, and its token row is cached, so the round
 * trips must not change (ratio 1.00×) and neither should latency (≤ 1.5×).
 */
async function tenantComparison(azurite: EmbeddedAzurite, runId: string, started: ServerProcess[], clients: ScimClient[]): Promise<string> {
    const tenantToken = randomBytes(32).toString('base64url');
    const digest = tokenDigest(tenantToken).toString('hex');
    const measured = 'measured';
    const tables = { one: `tenantsone${randomUUID().replace(/-/g, '').slice(0, 12)}`, many: `tenantsmany${randomUUID().replace(/-/g, '').slice(0, 12)}` };
    console.log(`Tenants: 1 vs ${formatCount(TENANTS)} tenants in a table; the measured tenant has ${formatCount(TENANT_USERS)} users on both sides`);
    const seedDeadline = new Deadline(SEED_BUDGET_MS);
    const users: Record<'one' | 'many', string[]> = { one: [], many: [] };
    for (const side of ['one', 'many'] as const) {
        const indexes = readIndexConfiguration(undefined);
        const store = createStoreFromSettings({ tableName: tables[side], connectionString: azurite.connectionString }, indexes);
        const others = side === 'one' ? [] : Array.from({ length: TENANTS - 1 }, (_, index) => `tenant-${String(index).padStart(5, '0')}`);
        await seedTenants(store, others, digest, OTHER_TENANT_USERS, runId, seedDeadline);
        await seedTenants(store, [measured], digest, 0, runId, seedDeadline);
        await store.withPartitions(partitionsOf(measured)).indexes('User'); // declares them on the empty partitions
        const table = { connectionString: azurite.connectionString, tableName: tables[side], partitions: partitionsOf(measured) };
        users[side] = await seedUsers(table, indexes, `measured tenant (${side})`, 0, TENANT_USERS, runId, seedDeadline);
    }
    if (seedDeadline.expired()) throw new Error('seeding did not finish within --seed-minutes');

    const startSide = async (label: string, tableName: string): Promise<Side> => {
        const server = await ServerProcess.start('ours', { BENCH_TOKEN: randomBytes(24).toString('base64url'), TABLES_CONNECTION_STRING: azurite.connectionString, BENCH_TABLE_NAME: tableName });
        started.push(server);
        const client = new ScimClient(server.ready.base!.replace(/\/scim$/, `/tenants/${measured}/scim`), tenantToken, 1);
        clients.push(client);
        return { label, server, client };
    };
    const one = await startSide('1 tenant', tables.one);
    const many = await startSide(`${formatCount(TENANTS)} tenants`, tables.many);
    const probeDeadline = new Deadline(PROBE_BUDGET_MS);
    const userNumber = (rep: number) => (rep * 7919 + 13) % TENANT_USERS;
    const userId = (which: 'small' | 'large', rep: number) => users[which === 'small' ? 'one' : 'many'][userNumber(rep)]!;
    const results = [
        await compare('userName eq (other case)', one, many, (_w, rep) => entra.lookupUserName(entra.userNameOf(userNumber(rep), runId).toUpperCase()), probeDeadline, 200),
        await compare('externalId eq', one, many, (_w, rep) => entra.lookupExternalId(entra.externalIdOf(userNumber(rep), runId)), probeDeadline, 200),
        await compare('GET user by id', one, many, (w, rep) => entra.getUser(userId(w, rep)), probeDeadline, 200),
        await compare('PATCH user (default dialect)', one, many, (w, rep) => entra.patchUserDefaultDialect(userId(w, rep), rep), probeDeadline, 200, 204),
    ];
    const headers = ['Probe', 'Storage requests, 1 tenant', `Storage requests, ${formatCount(TENANTS)} tenants`, 'Round-trip ratio', 'p50, 1 tenant', `p50, ${formatCount(TENANTS)} tenants`, 'Latency ratio', 'Goal'];
    return [
        `## Growth: 1 tenant vs ${formatCount(TENANTS)} tenants`,
        '',
        `\`npm run bench:growth -- --only-tenants\`: one named tenant (\`/tenants/${measured}/scim\`, ${formatCount(TENANT_USERS)} users) served from a table holding ` +
            `only it and from one holding ${formatCount(TENANTS)} tenants (${formatCount(OTHER_TENANT_USERS)} user(s) each besides), alternating, ${REPS} repetitions each after a warm-up ` +
            `(which reads and caches the tenant's registry row). Goal: round-trip ratio 1.00× and latency ratio ≤ ${LATENCY_GOAL}×.`,
        '',
        markdownTable(headers, results.map(resultRow)),
    ].join('\n');
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
