/**
 * Benchmark (not a test): our PATCH engine against the `scim-patch` npm library, in the same process,
 * on the bodies Entra sends (docs/entra-protocol.md §5.4, §5.5, §6), app roles in the three shapes Entra
 * provisions them (§14.3), and the cost of adding one member to a group of 10 versus 50,000 members.
 * scim-patch stores an AppRoleAssignmentsComplex role as the JSON string it arrives in; ours decodes it
 * (roles.ts), so that row measures more work on our side.
 *
 * Run: npx tsc -p tsconfig.json --outDir /tmp/patchbench-out && NODE_PATH=$PWD/node_modules node /tmp/patchbench-out/bench/patchLibrary.js
 *
 * Both libraries get copies of the same inputs. Our engine never modifies its input; scim-patch is
 * measured both ways: `mutateDocument: false` (a deep copy first — the same contract as ours) and its
 * default, in place. For scim-patch the group carries its members array, as it would have to; ours
 * does not: members are edges and a member PATCH becomes a delta.
 */
import { scimPatch, type ScimPatchOperation, type ScimResource as ScimPatchResource } from 'scim-patch';
import { applyPatch } from '../shared/scim/patch';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, type ResourceTypeName } from '../shared/scim/schemas';
import type { ScimResource } from '../shared/scim/store';

/** Each sample runs until this many milliseconds or `MAX_ITERATIONS_PER_SAMPLE` calls, whichever first. */
const SAMPLE_MILLISECONDS = 200;
const MAX_ITERATIONS_PER_SAMPLE = 2_000_000;
/** Samples per measurement; the median is reported. */
const SAMPLES = 7;
const WARMUP_MILLISECONDS = 300;

interface Scenario {
    name: string;
    resourceType: ResourceTypeName;
    /** The resource as our store hands it to the engine. */
    ours: ScimResource;
    /** The resource scim-patch needs (for a group: with its members array). */
    theirs: ScimResource;
    operations: ScimPatchOperation[];
}

function user(): ScimResource {
    return {
        schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        id: '2441309d85324e7793ae',
        userName: 'alice@contoso.com',
        externalId: 'alice',
        active: true,
        displayName: 'Alice Smith',
        title: 'Engineer',
        name: { givenName: 'Alice', familyName: 'Smith', formatted: 'Alice Smith' },
        emails: [{ type: 'work', value: 'alice@contoso.com', primary: true }],
        phoneNumbers: [{ type: 'work', value: '+1 555 0100' }, { type: 'mobile', value: '+1 555 0101' }],
        addresses: [{ type: 'work', locality: 'Prague', country: 'CZ', primary: true }],
        [ENTERPRISE_USER_SCHEMA]: { employeeNumber: '42', department: 'IT', manager: { value: 'manager-1' } },
        meta: { resourceType: 'User', created: '2026-01-01T00:00:00Z', lastModified: '2026-01-01T00:00:00Z' },
    };
}

function group(memberCount: number, withMembers: boolean): ScimResource {
    const resource: ScimResource = {
        schemas: [GROUP_SCHEMA],
        id: 'group-1',
        displayName: 'Engineers',
        externalId: 'eng',
        meta: { resourceType: 'Group', created: '2026-01-01T00:00:00Z', lastModified: '2026-01-01T00:00:00Z' },
    };
    if (withMembers) resource.members = Array.from({ length: memberCount }, (_, index) => ({ value: `member-${index}` }));
    return resource;
}

const DEFAULT_DIALECT_USER_PATCH: ScimPatchOperation[] = [
    { op: 'Replace', path: 'displayName', value: 'Pvlo' },
    { op: 'Replace', path: 'emails[type eq "work"].value', value: 'TestBcwqnm@test.microsoft.com' },
    { op: 'Replace', path: 'name.givenName', value: 'Gtfd' },
    { op: 'Replace', path: 'name.familyName', value: 'Pkqf' },
    { op: 'Replace', path: 'externalId', value: 'Eqpj' },
    { op: 'Replace', path: `${ENTERPRISE_USER_SCHEMA}:employeeNumber`, value: 'Eqpj' },
];

const PATHLESS_DIALECT_USER_PATCH: ScimPatchOperation[] = [
    { op: 'replace', path: 'emails[type eq "work"].value', value: 'TestMhvaes@test.microsoft.com' },
    {
        op: 'replace',
        value: { displayName: 'Bjfe', 'name.givenName': 'Kkom', 'name.familyName': 'Unua', [`${ENTERPRISE_USER_SCHEMA}:employeeNumber`]: 'Aklq' },
    },
];

const DISABLE_USER_PATCH: ScimPatchOperation[] = [{ op: 'Replace', path: 'active', value: 'False' }];

/** A user holding app roles, as the role shapes find it. */
function userWithRoles(): ScimResource {
    return {
        ...user(),
        roles: [
            { primary: true, type: 'WindowsAzureActiveDirectoryRole', value: 'Admin', display: 'Administrator' },
            { primary: false, type: 'WindowsAzureActiveDirectoryRole', value: 'User', display: 'User' },
        ],
    };
}

/** SingleAppRoleAssignment: the primary role's value and display (docs/entra-protocol.md §14.3). */
const SINGLE_APP_ROLE_PATCH: ScimPatchOperation[] = [
    { op: 'Replace', path: 'roles[primary eq "True"].value', value: 'Admin' },
    { op: 'Replace', path: 'roles[primary eq "True"].display', value: 'Administrator' },
];

/** AppRoleAssignmentsComplex: roles added as JSON strings inside `value`. */
const APP_ROLE_ASSIGNMENTS_COMPLEX_PATCH: ScimPatchOperation[] = [
    {
        op: 'Add',
        path: 'roles',
        value: [
            { value: '{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"Admin","displayName":"Administrator"}' },
            { value: '{"id":"06b07648-ecfe-599f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}' },
        ],
    },
];

/** AssertiveAppRoleAssignmentsComplex: the assigned set replaces the roles. */
const ASSERTIVE_APP_ROLE_ASSIGNMENTS_PATCH: ScimPatchOperation[] = [
    {
        op: 'replace',
        path: 'roles',
        value: [
            { primary: false, type: 'WindowsAzureActiveDirectoryRole', display: 'User', value: 'User' },
            { primary: false, type: 'WindowsAzureActiveDirectoryRole', display: 'Test', value: 'Test' },
        ],
    },
];

const ADD_ONE_MEMBER: ScimPatchOperation[] = [{ op: 'Add', path: 'members', value: [{ $ref: null, value: 'new-member' }] }];

function scenariosByName(name: string): Scenario {
    const found = scenarios().find((scenario) => scenario.name === name);
    if (found === undefined) throw new Error(`no scenario ${name}`);
    return found;
}

function scenarios(): Scenario[] {
    return [
        { name: 'user PATCH, default dialect (6 × Replace)', resourceType: 'User', ours: user(), theirs: user(), operations: DEFAULT_DIALECT_USER_PATCH },
        { name: 'user PATCH, aadOptscim062020 (path-less)', resourceType: 'User', ours: user(), theirs: user(), operations: PATHLESS_DIALECT_USER_PATCH },
        { name: 'disable user (active "False")', resourceType: 'User', ours: user(), theirs: user(), operations: DISABLE_USER_PATCH },
        { name: 'roles, SingleAppRoleAssignment (primary role value + display)', resourceType: 'User', ours: userWithRoles(), theirs: userWithRoles(), operations: SINGLE_APP_ROLE_PATCH },
        { name: 'roles, AppRoleAssignmentsComplex (add 2 JSON-string roles)', resourceType: 'User', ours: userWithRoles(), theirs: userWithRoles(), operations: APP_ROLE_ASSIGNMENTS_COMPLEX_PATCH },
        { name: 'roles, AssertiveAppRoleAssignmentsComplex (replace the set)', resourceType: 'User', ours: userWithRoles(), theirs: userWithRoles(), operations: ASSERTIVE_APP_ROLE_ASSIGNMENTS_PATCH },
        { name: 'add 1 member, group of 10', resourceType: 'Group', ours: group(10, false), theirs: group(10, true), operations: ADD_ONE_MEMBER },
        { name: 'add 1 member, group of 50,000', resourceType: 'Group', ours: group(50_000, false), theirs: group(50_000, true), operations: ADD_ONE_MEMBER },
    ];
}

/**
 * Calls per second of each action: the median of `samples` samples, each bounded in time and count.
 * The actions take turns sample by sample, so a noisy neighbour on the machine slows them alike.
 */
function callsPerSecond(actions: (() => unknown)[], samples = SAMPLES, sampleMilliseconds = SAMPLE_MILLISECONDS): number[] {
    for (const action of actions) runFor(action, WARMUP_MILLISECONDS);
    const rates: number[][] = actions.map(() => []);
    for (let sample = 0; sample < samples; sample++) {
        actions.forEach((action, index) => rates[index]?.push(runFor(action, sampleMilliseconds)));
    }
    return rates.map((values) => median(values));
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function runFor(action: () => unknown, milliseconds: number): number {
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(milliseconds) * 1_000_000n;
    let iterations = 0;
    let now = start;
    // The clock is read every 16 calls: cheap, and a slow call (50,000 members) still stops on time.
    while (iterations < MAX_ITERATIONS_PER_SAMPLE && now < deadline) {
        action();
        iterations++;
        if ((iterations & 15) === 0 || iterations < 16) now = process.hrtime.bigint();
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return iterations / seconds;
}

interface Row {
    name: string;
    ours: number;
    theirsCopy: number;
    theirsInPlace: number;
}

/** The three contenders on one scenario: ours, scim-patch on a copy, scim-patch in place. */
function contenders(scenario: Scenario): (() => unknown)[] {
    const theirs = scenario.theirs as unknown as ScimPatchResource;
    // In place: every call patches the same object; the bodies are idempotent (replace, add of a present member).
    const inPlace = structuredClone(theirs);
    return [
        () => applyPatch(scenario.ours, scenario.operations, scenario.resourceType),
        () => scimPatch(theirs, scenario.operations, { mutateDocument: false, treatMissingAsAdd: true }),
        () => scimPatch(inPlace, scenario.operations, { mutateDocument: true, treatMissingAsAdd: true }),
    ];
}

/** Every contender of every scenario in one interleaved run, so machine noise spreads over all rows alike. */
function measureAll(all: Scenario[]): Row[] {
    const rates = callsPerSecond(all.flatMap(contenders));
    return all.map((scenario, index) => ({
        name: scenario.name,
        ours: rates[3 * index] ?? 0,
        theirsCopy: rates[3 * index + 1] ?? 0,
        theirsInPlace: rates[3 * index + 2] ?? 0,
    }));
}

function formatRate(rate: number): string {
    if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)} M`;
    if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)} k`;
    return rate.toFixed(1);
}

/** Runs every scenario and returns a markdown table of calls per second, plus the 50,000 / 10 member cost ratio. */
export function runPatchBench(): Promise<string> {
    const rows = measureAll(scenarios());
    const lines = [
        `PATCH engine vs scim-patch ${scimPatchVersion()}, node ${process.version}: applyPatch calls per second (median of ${SAMPLES} × ${SAMPLE_MILLISECONDS} ms)`,
        '',
        '| body | ours | scim-patch (copy, same contract) | scim-patch (in place) | ours / scim-patch copy |',
        '|---|---:|---:|---:|---:|',
        ...rows.map((row) => `| ${row.name} | ${formatRate(row.ours)} | ${formatRate(row.theirsCopy)} | ${formatRate(row.theirsInPlace)} | ${(row.ours / row.theirsCopy).toFixed(2)}× |`),
    ];
    lines.push('', 'What the role bodies leave (speed is only half of it):', '', ...roleOutcomes());
    const small = rows.find((row) => row.name.endsWith('group of 10'));
    const large = rows.find((row) => row.name.endsWith('group of 50,000'));
    if (small !== undefined && large !== undefined) {
        // Cost per call at 50,000 members divided by the cost at 10: 1.0 means the group's size does not matter.
        // Ours is measured again in a run of its own, the two sizes alternating: in the table's run, the
        // garbage of scim-patch's 50,000-member copies lands in whichever sample comes next.
        const [ours10 = 0, ours50k = 0] = callsPerSecond([contenders(scenariosByName(small.name))[0]!, contenders(scenariosByName(large.name))[0]!], 15, 100);
        lines.push(
            '',
            `Cost of adding 1 member, 50,000 / 10 members: ours ${(ours10 / ours50k).toFixed(2)} (alternating run: ${formatRate(ours10)} vs ${formatRate(ours50k)} calls/s), ` +
                `scim-patch copy ${(small.theirsCopy / large.theirsCopy).toFixed(0)}, scim-patch in place ${(small.theirsInPlace / large.theirsInPlace).toFixed(0)}`,
        );
    }
    return Promise.resolve(lines.join('\n'));
}

/** The roles each engine leaves after each role body, in one line per scenario. */
function roleOutcomes(): string[] {
    return scenarios()
        .filter((scenario) => scenario.name.startsWith('roles,'))
        .map((scenario) => {
            const ours = applyPatch(scenario.ours, scenario.operations, scenario.resourceType).resource.roles;
            const theirs = scimPatch(scenario.theirs as unknown as ScimPatchResource, scenario.operations, { mutateDocument: false, treatMissingAsAdd: true }) as unknown as ScimResource;
            return `- ${scenario.name}: ours \`${JSON.stringify(ours)}\`; scim-patch \`${JSON.stringify(theirs.roles)}\``;
        });
}

function scimPatchVersion(): string {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return (require('scim-patch/package.json') as { version: string }).version;
    } catch {
        return '(version unknown)';
    }
}

if (require.main === module) {
    runPatchBench().then(
        (table) => console.log(table),
        (error: unknown) => {
            console.error(error);
            process.exitCode = 1;
        },
    );
}
