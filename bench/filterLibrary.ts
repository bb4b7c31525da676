/**
 * Benchmark (not a test): our filter module against `scim2-parse-filter` in the same process, on the
 * filters Entra and Microsoft's test tools send (docs/entra-protocol.md §5.1, §6, §12).
 *
 * Measures parse ops/s and evaluation ops/s (their `filter(ast)` predicate vs our `matchesFilter`),
 * and whether each library gets the Entra cases right. Every measurement loop is bounded both in
 * iterations and in time. A last table times our parser on hostile filters at half and full
 * `MAX_FILTER_LENGTH` (a ratio near 2 is linear): the speed test/scim/filter.test.ts does not assert.
 *
 * Run: npx tsc -p tsconfig.json --outDir /tmp/filterbench-out && NODE_PATH=$PWD/node_modules node /tmp/filterbench-out/bench/filterLibrary.js
 */
import { filter as theirFilter, parse as theirParse } from 'scim2-parse-filter';
import { matchesFilter, MAX_FILTER_LENGTH, parseFilter, type FilterNode } from '../shared/scim/filter';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA, type ResourceTypeName } from '../shared/scim/schemas';

/**
 * Each measurement is the median of SLICES runs, each bounded by SLICE_MS and MAX_ITERATIONS: the
 * median keeps a neighbour's burst of CPU (the machine is shared) from deciding a cell.
 */
const SLICES = 5;
const SLICE_MS = 60;
const MAX_ITERATIONS = 1_000_000;
const BATCH = 1_000;

interface BenchFilter {
    label: string;
    text: string;
    resourceType: ResourceTypeName;
}

const BENCH_FILTERS: BenchFilter[] = [
    { label: 'userName eq (Entra user match)', text: 'userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"', resourceType: 'User' },
    { label: 'externalId eq', text: 'externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"', resourceType: 'User' },
    { label: 'group displayName eq', text: 'displayName eq "Group 1"', resourceType: 'Group' },
    { label: 'id eq … and manager eq …', text: 'id eq "u-bob" and manager eq "u-alice"', resourceType: 'User' },
    { label: 'id eq … and members[value eq …]', text: 'id eq "g-eng" and members[value eq "u-bob"]', resourceType: 'Group' },
    { label: 'emails[type eq "work"].value eq', text: 'emails[type eq "work"].value eq "bob@contoso.com"', resourceType: 'User' },
    { label: 'same-element emails[…]', text: 'emails[type eq "work" and value co "@contoso"]', resourceType: 'User' },
    { label: 'URN path', text: `${ENTERPRISE_USER_SCHEMA}:employeeNumber eq "701984"`, resourceType: 'User' },
    { label: 'Postman bare words', text: 'name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)', resourceType: 'User' },
];

const BOB = {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    id: 'u-bob',
    externalId: 'Bob-Ext',
    userName: 'bob@contoso.com',
    displayName: 'Bob Smith',
    active: true,
    name: { familyName: 'Smith', givenName: 'Bob' },
    emails: [{ type: 'work', value: 'bob@contoso.com', primary: true }, { type: 'home', value: 'bob@home.example' }],
    [ENTERPRISE_USER_SCHEMA]: { employeeNumber: '701984', department: 'Sales', manager: { value: 'u-alice' } },
};
const ALICE = {
    schemas: [USER_SCHEMA],
    id: 'u-alice',
    externalId: 'alice-ext',
    userName: 'Alice@Contoso.com',
    emails: [{ type: 'home', value: 'alice@contoso.com' }, { type: 'work', value: 'alice@fabrikam.com' }],
};
const NO_EMAILS = { schemas: [USER_SCHEMA], id: 'u-none', userName: 'Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee' };
const EMPLOYEE = { schemas: [USER_SCHEMA], id: 'u-emp', userName: 'emp1', name: { familyName: 'Employee' }, emails: [{ value: 'emp@example.com' }] };
const USERS: Record<string, unknown>[] = [BOB, ALICE, NO_EMAILS, EMPLOYEE];
const GROUPS: Record<string, unknown>[] = [
    { id: 'g-eng', displayName: 'Engineering', members: [{ value: 'u-bob' }, { value: 'u-alice' }] },
    { id: 'g-1', displayName: 'Group 1' },
];

/** Entra cases each library must get right (expected result per resource). */
interface CorrectnessCase {
    label: string;
    text: string;
    resourceType: ResourceTypeName;
    resource: Record<string, unknown>;
    expected: boolean;
}

const CORRECTNESS_CASES: CorrectnessCase[] = [
    { label: 'case-insensitive userName (validator "different case")', text: 'userName eq "BOB@CONTOSO.COM"', resourceType: 'User', resource: BOB, expected: true },
    { label: 'case-insensitive group displayName', text: 'displayName eq "group 1"', resourceType: 'Group', resource: GROUPS[1]!, expected: true },
    { label: 'externalId stays case-exact', text: 'externalId eq "bob-ext"', resourceType: 'User', resource: BOB, expected: false },
    { label: 'same-element emails[…] (work email not at contoso)', text: 'emails[type eq "work" and value co "@contoso"]', resourceType: 'User', resource: ALICE, expected: false },
    { label: 'same-element emails[…] (matching email)', text: 'emails[type eq "work" and value co "@contoso"]', resourceType: 'User', resource: BOB, expected: true },
    { label: 'user without emails: emails.value co', text: 'emails.value co "contoso"', resourceType: 'User', resource: NO_EMAILS, expected: false },
    { label: 'user without emails: not (emails pr)', text: 'not (emails pr)', resourceType: 'User', resource: NO_EMAILS, expected: true },
    { label: 'URN path (enterprise employeeNumber)', text: `${ENTERPRISE_USER_SCHEMA}:employeeNumber eq "701984"`, resourceType: 'User', resource: BOB, expected: true },
    { label: 'URN path with sub-attribute (manager.value)', text: `${ENTERPRISE_USER_SCHEMA}:manager.value eq "u-alice"`, resourceType: 'User', resource: BOB, expected: true },
    { label: 'Entra docs form emails[type eq "work"].value eq', text: 'emails[type eq "work"].value eq "bob@contoso.com"', resourceType: 'User', resource: BOB, expected: true },
    { label: 'legacy probe id eq … and manager eq … (unquoted)', text: 'id eq u-bob and manager eq u-alice', resourceType: 'User', resource: BOB, expected: true },
    { label: 'Postman bare words with parentheses', text: BENCH_FILTERS[8]!.text, resourceType: 'User', resource: EMPLOYEE, expected: true },
];

interface Measurement {
    opsPerSecond: number;
    iterations: number;
}

/** Runs `operation` in batches until the time budget or the iteration cap is reached, SLICES times. */
function measure(operation: (i: number) => unknown): Measurement {
    let sink = 0;
    // Warm-up, bounded.
    for (let i = 0; i < 2 * BATCH; i++) if (operation(i)) sink++;
    const rates: number[] = [];
    let total = 0;
    for (let slice = 0; slice < SLICES; slice++) {
        let iterations = 0;
        const started = performance.now();
        let elapsed = 0;
        while (elapsed < SLICE_MS && iterations < MAX_ITERATIONS) {
            for (let i = 0; i < BATCH; i++) if (operation(iterations + i)) sink++;
            iterations += BATCH;
            elapsed = performance.now() - started;
        }
        rates.push((iterations / elapsed) * 1000);
        total += iterations;
    }
    if (sink < 0) console.log(sink); // keeps the results observable
    rates.sort((a, b) => a - b);
    return { opsPerSecond: rates[Math.floor(SLICES / 2)]!, iterations: total };
}

function tryRun<T>(run: () => T): T | Error {
    try {
        return run();
    } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
    }
}

function formatOps(value: number | undefined): string {
    if (value === undefined) return 'fails';
    if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
    return `${(value / 1e3).toFixed(0)} k`;
}

function resourcesOf(resourceType: ResourceTypeName): Record<string, unknown>[] {
    return resourceType === 'User' ? USERS : GROUPS;
}

function benchOne(entry: BenchFilter): string {
    const resources = resourcesOf(entry.resourceType);
    const count = resources.length;

    const ours = tryRun(() => parseFilter(entry.text));
    const theirs = tryRun(() => theirParse(entry.text));

    const ourParse = ours instanceof Error ? undefined : measure(() => parseFilter(entry.text)).opsPerSecond;
    const theirParseOps = theirs instanceof Error ? undefined : measure(() => theirParse(entry.text)).opsPerSecond;

    let ourEval: number | undefined;
    if (!(ours instanceof Error)) {
        const ast: FilterNode = ours;
        ourEval = measure((i) => matchesFilter(ast, resources[i % count]!, entry.resourceType)).opsPerSecond;
    }
    let theirEval: number | undefined;
    if (!(theirs instanceof Error)) {
        const predicate = tryRun(() => theirFilter(theirs));
        if (!(predicate instanceof Error) && resources.every((r) => !(tryRun(() => predicate(r)) instanceof Error))) {
            theirEval = measure((i) => predicate(resources[i % count])).opsPerSecond;
        }
    }
    const parseRatio = ourParse !== undefined && theirParseOps !== undefined ? `${(ourParse / theirParseOps).toFixed(1)}×` : '—';
    return `| ${entry.label} | ${formatOps(ourParse)} | ${formatOps(theirParseOps)} | ${parseRatio} | ${formatOps(ourEval)} | ${formatOps(theirEval)} |`;
}

/** Bounded warm-up of both parsers on every filter, so the first table row is not measured cold. */
function warmUp(): void {
    for (let round = 0; round < 5_000; round++) {
        for (const entry of BENCH_FILTERS) {
            tryRun(() => parseFilter(entry.text));
            tryRun(() => theirParse(entry.text));
        }
    }
}

function ourAnswer(c: CorrectnessCase): boolean | Error {
    return tryRun(() => matchesFilter(parseFilter(c.text), c.resource, c.resourceType));
}

function theirAnswer(c: CorrectnessCase): boolean | Error {
    return tryRun(() => theirFilter(theirParse(c.text))(c.resource));
}

function verdict(answer: boolean | Error, expected: boolean): string {
    if (answer instanceof Error) return '✗ (throws)';
    return answer === expected ? '✓' : `✗ (${answer})`;
}

/** Hostile filters of a given length (the ones test/scim/filter.test.ts parses at full length). */
const HOSTILE_FILTERS: { label: string; make: (length: number) => string }[] = [
    { label: 'a string of backslashes', make: (n) => `title eq "${'\\'.repeat(n - 12)}"` },
    { label: 'one long bare word', make: (n) => `title co ${'a'.repeat(n - 9)}` },
    { label: 'a long number that is not one', make: (n) => `score eq ${'1'.repeat(n - 10)}x` },
    { label: 'repeated urn: prefixes', make: (n) => `${'urn:'.repeat(Math.floor(n / 4) - 3)}a pr` },
    { label: 'a flat chain of or', make: (n) => 'a pr or '.repeat(Math.floor(n / 8) - 1) + 'a' },
    { label: 'a flat chain of and', make: (n) => Array.from({ length: Math.floor(n / 9) }, (_, i) => `a${i} pr`).join(' and ').slice(0, n).replace(/ and a\d*( pr?)?$/, '') },
];

/** µs per parse (or refusal) of each hostile filter at half and full length. */
function hostileTable(): string[] {
    const lines = ['| Hostile filter | µs at half length | µs at full length | full / half |', '|---|---:|---:|---:|'];
    for (const { label, make } of HOSTILE_FILTERS) {
        const micros = [MAX_FILTER_LENGTH / 2, MAX_FILTER_LENGTH].map((length) => {
            const text = make(length);
            return 1e6 / measure(() => tryRun(() => parseFilter(text))).opsPerSecond;
        });
        lines.push(`| ${label} | ${micros[0]!.toFixed(1)} | ${micros[1]!.toFixed(1)} | ${(micros[1]! / micros[0]!).toFixed(2)} |`);
    }
    const needle = parseFilter(`title co "${'a'.repeat(2000)}b"`);
    const haystack = { title: 'a'.repeat(100_000) };
    lines.push(`| evaluate co of 2,000 characters against 100,000 | | ${(1e6 / measure(() => matchesFilter(needle, haystack, 'User')).opsPerSecond).toFixed(1)} | |`);
    return lines;
}

/** Runs the benchmark and returns the results as markdown tables. */
export async function runFilterBench(): Promise<string> {
    const lines: string[] = [];
    lines.push(
        `Node ${process.version}; each cell: median ops/s of ${SLICES} runs of up to ${SLICE_MS} ms / ${MAX_ITERATIONS.toLocaleString('en')} iterations; ` +
            'evaluation cycles through 2–4 resources of the type; "fails" = the library rejects the filter.',
    );
    lines.push('');
    warmUp();
    lines.push('| Filter | parse (ours) | parse (scim2-parse-filter) | parse ratio | evaluate (ours, matchesFilter) | evaluate (scim2-parse-filter, filter()) |');
    lines.push('|---|---:|---:|---:|---:|---:|');
    for (const entry of BENCH_FILTERS) {
        lines.push(benchOne(entry));
        // Let other work on the event loop run between measurements.
        await new Promise((resolve) => setImmediate(resolve));
    }
    lines.push('');
    lines.push('| Entra case | expected | ours | scim2-parse-filter |');
    lines.push('|---|---|---|---|');
    let oursRight = 0;
    let theirsRight = 0;
    for (const c of CORRECTNESS_CASES) {
        const ours = verdict(ourAnswer(c), c.expected);
        const theirs = verdict(theirAnswer(c), c.expected);
        if (ours === '✓') oursRight++;
        if (theirs === '✓') theirsRight++;
        lines.push(`| ${c.label} | ${c.expected} | ${ours} | ${theirs} |`);
    }
    lines.push(`| **right** | | **${oursRight}/${CORRECTNESS_CASES.length}** | **${theirsRight}/${CORRECTNESS_CASES.length}** |`);
    lines.push('', ...hostileTable());
    return lines.join('\n');
}

if (require.main === module) {
    runFilterBench().then(
        (table) => console.log(table),
        (error: unknown) => {
            console.error(error);
            process.exitCode = 1;
        },
    );
}
