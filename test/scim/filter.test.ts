import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasLoneSurrogate } from '../../shared/scim/caseFold';
import { ScimError } from '../../shared/scim/errors';
import {
    MAX_FILTER_DEPTH,
    MAX_FILTER_LENGTH,
    MAX_SCAN_RESOURCES,
    matchesElement,
    matchesFilter,
    parseFilter,
    parsePatchPath,
    planQuery,
    printFilter,
    type AttributeReference,
    type FilterNode,
    type FilterValue,
    type PatchPath,
} from '../../shared/scim/filter';
import type { IndexLookup, QueryPlan } from '../../shared/scim/queryPlan';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, type ResourceTypeName } from '../../shared/scim/schemas';

// ---- fixtures

interface ParseRow {
    why: string;
    filter: string;
    ast?: FilterNode;
    error?: string;
    position?: number;
}

interface MatchCase {
    why: string;
    resourceType: ResourceTypeName;
    filter: string;
    matches: string[];
}

interface MatchFixture {
    resources: Record<ResourceTypeName, Record<string, Record<string, unknown>>>;
    cases: MatchCase[];
}

function readFixture<T>(name: string): T {
    return JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as T;
}

const parseRows = readFixture<ParseRow[]>('filter-parse.json');
const matchFixture = readFixture<MatchFixture>('filter-match.json');

/** The ScimError `run` throws; fails the test if it throws anything else or nothing. */
function scimErrorOf(run: () => unknown): ScimError {
    try {
        run();
    } catch (error) {
        expect(error).toBeInstanceOf(ScimError);
        return error as ScimError;
    }
    throw new Error('expected a ScimError, nothing was thrown');
}

// ---- builders for expected ASTs

const path = (attribute: string, subAttribute?: string, schema?: string): AttributeReference => ({
    ...(schema === undefined ? {} : { schema }),
    attribute,
    ...(subAttribute === undefined ? {} : { subAttribute }),
});
const eq = (attribute: string, value: FilterValue): FilterNode => ({ kind: 'compare', path: path(attribute), op: 'eq', value });

describe('parseFilter: fixture table (test/scim/fixtures/filter-parse.json)', () => {
    const valid = parseRows.filter((row) => row.ast !== undefined);
    const invalid = parseRows.filter((row) => row.error !== undefined);

    it('has rows of both kinds', () => {
        expect(valid.length).toBeGreaterThan(50);
        expect(invalid.length).toBeGreaterThan(30);
    });

    it.each(valid.map((row) => [row.why, row]))('parses: %s', (_why, row) => {
        const ast = parseFilter(row.filter);
        expect(ast).toEqual(row.ast);
        // And the printed form reads back to the same tree.
        expect(parseFilter(printFilter(ast))).toEqual(row.ast);
    });

    it.each(invalid.map((row) => [row.why, row]))('rejects: %s', (_why, row) => {
        const error = scimErrorOf(() => parseFilter(row.filter));
        expect(error.status).toBe(400);
        expect(error.scimType).toBe(row.error);
        if (row.position !== undefined) expect(error.detail).toContain(`at character ${row.position}:`);
    });
});

describe('matchesFilter: fixture table (test/scim/fixtures/filter-match.json)', () => {
    it('covers users and groups', () => {
        expect(matchFixture.cases.filter((c) => c.resourceType === 'User').length).toBeGreaterThan(50);
        expect(matchFixture.cases.filter((c) => c.resourceType === 'Group').length).toBeGreaterThan(4);
    });

    it.each(matchFixture.cases.map((c) => [`${c.resourceType}: ${c.why}`, c]))('%s', (_name, testCase) => {
        const resources = matchFixture.resources[testCase.resourceType];
        const before = structuredClone(resources);
        const ast = parseFilter(testCase.filter);
        const matched = Object.entries(resources)
            .filter(([, resource]) => matchesFilter(ast, resource, testCase.resourceType))
            .map(([name]) => name);
        expect(matched.sort()).toEqual([...testCase.matches].sort());
        expect(resources).toEqual(before); // evaluation never mutates the resource
    });
});

describe('matchesFilter: semantics beyond the table', () => {
    it('extension attribute names and keys are found case-insensitively', () => {
        const resource = { [ENTERPRISE_USER_SCHEMA.toUpperCase()]: { EmployeeNumber: '42' } };
        expect(matchesFilter(parseFilter(`${ENTERPRISE_USER_SCHEMA}:employeeNumber eq "42"`), resource, 'User')).toBe(true);
    });

    it('reuses the compiled filter across resource types without mixing caseExact rules', () => {
        // `externalId` is case-exact for both types; `displayName` case-insensitive for both: the same AST object serves both.
        const ast = parseFilter('displayName eq "ABC"');
        expect(matchesFilter(ast, { displayName: 'abc' }, 'User')).toBe(true);
        expect(matchesFilter(ast, { displayName: 'abc' }, 'Group')).toBe(true);
        const manager = parseFilter('manager eq "m"');
        expect(matchesFilter(manager, { [ENTERPRISE_USER_SCHEMA]: { manager: { value: 'm' } } }, 'User')).toBe(true);
        expect(matchesFilter(manager, { [ENTERPRISE_USER_SCHEMA]: { manager: { value: 'm' } } }, 'Group')).toBe(false);
    });

    it('does not throw on resources of any shape', () => {
        const ast = parseFilter('emails[type eq "work"].value co "x" or name.familyName pr or meta.created gt "2020-01-01T00:00:00Z" or not (title eq null)');
        for (const resource of [{}, { emails: null }, { emails: [null, 1, 'x', [], {}] }, { name: 'x' }, { meta: { created: 5 } }, Object.create(null) as Record<string, unknown>]) {
            expect(() => matchesFilter(ast, resource, 'User')).not.toThrow();
        }
    });
});

describe('matchesElement (PATCH value filters)', () => {
    it('compares sub-attributes of one element with the schema caseExact', () => {
        expect(matchesElement(parseFilter('type eq "work"'), { type: 'Work', value: 'a@b' }, 'User', { attribute: 'emails' })).toBe(true);
        expect(matchesElement(parseFilter('type eq "work"'), { type: 'home', value: 'a@b' }, 'User', { attribute: 'emails' })).toBe(false);
        // members.value is case-exact (our Group schema).
        expect(matchesElement(parseFilter('value eq "u1"'), { value: 'u1' }, 'Group', { attribute: 'members' })).toBe(true);
        expect(matchesElement(parseFilter('value eq "u1"'), { value: 'U1' }, 'Group', { attribute: 'members' })).toBe(false);
    });

    it('holds only when one element satisfies every condition', () => {
        const filter = parseFilter('type eq "work" and value co "@contoso"');
        expect(matchesElement(filter, { type: 'work', value: 'a@contoso.com' }, 'User', { attribute: 'emails' })).toBe(true);
        expect(matchesElement(filter, { type: 'work', value: 'a@fabrikam.com' }, 'User', { attribute: 'emails' })).toBe(false);
    });

    it('treats a primitive element as its own value and never throws on odd elements', () => {
        expect(matchesElement(parseFilter('value eq "x"'), 'x', 'User', { attribute: 'schemas' })).toBe(true);
        expect(matchesElement(parseFilter('type eq "x"'), 'x', 'User', { attribute: 'emails' })).toBe(false);
        for (const element of [null, undefined, 5, [], {}]) {
            expect(matchesElement(parseFilter('value eq "x" or type pr'), element, 'User', { attribute: 'emails' })).toBe(false);
        }
    });

    it('accepts a URN-qualified parent and the filter parsePatchPath returns', () => {
        const patchPath = parsePatchPath(`${USER_SCHEMA}:emails[type eq "WORK"].value`);
        expect(patchPath.valueFilter).toBeDefined();
        expect(matchesElement(patchPath.valueFilter!, { type: 'work' }, 'User', patchPath.attribute)).toBe(true);
    });
});

describe('parsePatchPath', () => {
    const cases: [string, PatchPath][] = [
        ['userName', { attribute: path('userName') }],
        ['name.givenName', { attribute: path('name', 'givenName') }],
        ['emails[type eq "work"].value', { attribute: path('emails'), valueFilter: eq('type', 'work'), subAttribute: 'value' }],
        ['phoneNumbers[type eq "fax"].value', { attribute: path('phoneNumbers'), valueFilter: eq('type', 'fax'), subAttribute: 'value' }],
        ['addresses[type eq "work"].streetAddress', { attribute: path('addresses'), valueFilter: eq('type', 'work'), subAttribute: 'streetAddress' }],
        ['members[value eq "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]', { attribute: path('members'), valueFilter: eq('value', '7f4bc1a3-285e-48ae-8202-5accb43efb0e') }],
        [`${ENTERPRISE_USER_SCHEMA}:manager`, { attribute: path('manager', undefined, ENTERPRISE_USER_SCHEMA) }],
        [`${ENTERPRISE_USER_SCHEMA}:manager.value`, { attribute: path('manager', 'value', ENTERPRISE_USER_SCHEMA) }],
        [`${ENTERPRISE_USER_SCHEMA.toLowerCase()}:employeeNumber`, { attribute: path('employeeNumber', undefined, ENTERPRISE_USER_SCHEMA) }],
        [`${USER_SCHEMA}:emails[type eq "work"].value`, { attribute: path('emails', undefined, USER_SCHEMA), valueFilter: eq('type', 'work'), subAttribute: 'value' }],
        ['emails[type eq "work" and primary eq true]', {
            attribute: path('emails'),
            valueFilter: { kind: 'and', left: eq('type', 'work'), right: eq('primary', true) },
        }],
        [' displayName ', { attribute: path('displayName') }],
    ];

    it.each(cases)('%s', (text, expected) => {
        expect(parsePatchPath(text)).toEqual(expected);
    });

    it.each([
        '',
        'emails[type eq "work"',
        'emails[type eq "work"].',
        'emails[type eq "work"].value.x',
        'name.givenName.x',
        'emails[type eq]',
        'emails[type eq "work"] eq "x"',
        'userName eq "x"',
        'a b',
        'name.givenName[value eq "x"]',
        'emails[value[type eq "x"]]',
        '1name',
    ])('rejects %j with 400 invalidPath', (text) => {
        const error = scimErrorOf(() => parsePatchPath(text));
        expect(error.status).toBe(400);
        expect(error.scimType).toBe('invalidPath');
    });
});

describe('planQuery', () => {
    const byIndex = (attribute: string, value: string): IndexLookup => ({ kind: 'attribute', attribute, value });
    const membersProbe = 'id eq "g1" and members[value eq "u1"]';
    const cases: [string, ResourceTypeName, string, QueryPlan][] = [
        ['Entra user match', 'User', 'userName eq "Bob@Contoso.com"', { lookups: [byIndex('userName', 'Bob@Contoso.com')], residual: eq('userName', 'Bob@Contoso.com') }],
        ['attribute name in another case', 'User', 'USERNAME eq "b"', { lookups: [byIndex('userName', 'b')], residual: eq('USERNAME', 'b') }],
        ['core URN prefix', 'User', `${USER_SCHEMA}:userName eq "b"`, {
            lookups: [byIndex('userName', 'b')],
            residual: { kind: 'compare', path: path('userName', undefined, USER_SCHEMA), op: 'eq', value: 'b' },
        }],
        ['externalId (User)', 'User', 'externalId eq "x"', { lookups: [byIndex('externalId', 'x')], residual: eq('externalId', 'x') }],
        ['externalId (Group)', 'Group', 'externalId eq "x"', { lookups: [byIndex('externalId', 'x')], residual: eq('externalId', 'x') }],
        ['id', 'User', 'id eq "u1"', { lookups: [{ kind: 'id', value: 'u1' }], residual: eq('id', 'u1') }],
        ['Entra group match', 'Group', 'displayName eq "Sales"', { lookups: [byIndex('displayName', 'Sales')], residual: eq('displayName', 'Sales') }],
        ['user displayName (a default index)', 'User', 'displayName eq "x"', { lookups: [byIndex('displayName', 'x')], residual: eq('displayName', 'x') }],
        ['the work email, as Entra writes it', 'User', 'emails[type eq "work"].value eq "a@b.c"', {
            lookups: [byIndex('emails[type eq "work"].value', 'a@b.c')],
            residual: { kind: 'valuePath', path: path('emails'), filter: { kind: 'and', left: eq('type', 'work'), right: eq('value', 'a@b.c') } },
        }],
        ['the work email, conditions swapped and cased', 'User', 'EMAILS[Value eq "a@b.c" and TYPE eq "Work"]', {
            lookups: [byIndex('emails[type eq "work"].value', 'a@b.c')],
            residual: { kind: 'valuePath', path: path('EMAILS'), filter: { kind: 'and', left: eq('Value', 'a@b.c'), right: eq('TYPE', 'Work') } },
        }],
        ['another email type: no lookup', 'User', 'emails[type eq "home"].value eq "a@b.c"', {
            residual: { kind: 'valuePath', path: path('emails'), filter: { kind: 'and', left: eq('type', 'home'), right: eq('value', 'a@b.c') } },
        }],
        ['any email: no lookup', 'User', 'emails.value eq "a@b.c"', { residual: { kind: 'compare', path: path('emails', 'value'), op: 'eq', value: 'a@b.c' } }],
        ['employeeNumber with its URN', 'User', `${ENTERPRISE_USER_SCHEMA}:employeeNumber eq "1"`, {
            lookups: [byIndex(`${ENTERPRISE_USER_SCHEMA}:employeeNumber`, '1')],
            residual: { kind: 'compare', path: path('employeeNumber', undefined, ENTERPRISE_USER_SCHEMA), op: 'eq', value: '1' },
        }],
        ['employeeNumber unqualified', 'User', 'employeeNumber eq "1"', { lookups: [byIndex(`${ENTERPRISE_USER_SCHEMA}:employeeNumber`, '1')], residual: eq('employeeNumber', '1') }],
        ['groups have no userName', 'Group', 'userName eq "x"', { residual: eq('userName', 'x') }],
        ['legacy manager probe', 'User', 'id eq "u1" and manager eq "m1"', {
            lookups: [{ kind: 'id', value: 'u1' }],
            residual: { kind: 'and', left: eq('id', 'u1'), right: eq('manager', 'm1') },
        }],
        ['id wins over another index', 'User', 'externalId eq "e" and id eq "u1"', {
            lookups: [{ kind: 'id', value: 'u1' }],
            residual: { kind: 'and', left: eq('externalId', 'e'), right: eq('id', 'u1') },
        }],
        ['first of equal indexes', 'User', 'userName eq "a" and externalId eq "e"', {
            lookups: [byIndex('userName', 'a')],
            residual: { kind: 'and', left: eq('userName', 'a'), right: eq('externalId', 'e') },
        }],
        ['legacy membership probe', 'Group', membersProbe, { lookups: [{ kind: 'id', value: 'g1' }], requiredMember: 'u1', residual: eq('id', 'g1') }],
        ['membership probe written first', 'Group', 'members[value eq "u1"] and id eq "g1"', { lookups: [{ kind: 'id', value: 'g1' }], requiredMember: 'u1', residual: eq('id', 'g1') }],
        ['membership without brackets', 'Group', 'id eq "g1" and members.value eq "u1"', { lookups: [{ kind: 'id', value: 'g1' }], requiredMember: 'u1', residual: eq('id', 'g1') }],
        ['membership alone', 'Group', 'members[value eq "u1"]', { requiredMember: 'u1' }],
        ['same member twice', 'Group', 'members[value eq "u1"] and members[value eq "u1"]', { requiredMember: 'u1' }],
        ['users have no members edge', 'User', 'members[value eq "u1"]', { residual: { kind: 'valuePath', path: path('members'), filter: eq('value', 'u1') } }],
        ['number value: compared as its text, like the evaluator does', 'User', 'userName eq 5', { lookups: [byIndex('userName', '5')], residual: eq('userName', 5) }],
        ['empty value: no lookup (empty values are not indexed)', 'User', 'displayName eq ""', { residual: eq('displayName', '') }],
        ['null value: no lookup', 'User', 'userName eq null', { residual: eq('userName', null) }],
        ['ne: no lookup', 'User', 'userName ne "a"', { residual: { kind: 'compare', path: path('userName'), op: 'ne', value: 'a' } }],
        ['sw: no lookup', 'User', 'userName sw "a"', { residual: { kind: 'compare', path: path('userName'), op: 'sw', value: 'a' } }],
        ['or of indexed equalities: the union', 'User', 'userName eq "a" or externalId eq "b"', {
            lookups: [byIndex('userName', 'a'), byIndex('externalId', 'b')],
            residual: { kind: 'or', left: eq('userName', 'a'), right: eq('externalId', 'b') },
        }],
        ['or with an unindexed branch: no lookup', 'User', 'userName eq "a" or title eq "b"', { residual: { kind: 'or', left: eq('userName', 'a'), right: eq('title', 'b') } }],
        ['or of ands: each branch by its cheapest index', 'User', '(title eq "t" and displayName eq "d") or (id eq "i" and userName eq "u")', {
            lookups: [byIndex('displayName', 'd'), { kind: 'id', value: 'i' }],
            residual: {
                kind: 'or',
                left: { kind: 'and', left: eq('title', 't'), right: eq('displayName', 'd') },
                right: { kind: 'and', left: eq('id', 'i'), right: eq('userName', 'u') },
            },
        }],
        ['and of an or and an indexed equality: the single lookup is cheaper', 'User', '(displayName eq "a" or displayName eq "b") and userName eq "u"', {
            lookups: [byIndex('userName', 'u')],
            residual: { kind: 'and', left: { kind: 'or', left: eq('displayName', 'a'), right: eq('displayName', 'b') }, right: eq('userName', 'u') },
        }],
        ['not: no lookup', 'User', 'not (userName eq "a")', { residual: { kind: 'not', operand: eq('userName', 'a') } }],
        ['unindexed extension attribute: no lookup', 'User', `${ENTERPRISE_USER_SCHEMA}:costCenter eq "1"`, {
            residual: { kind: 'compare', path: path('costCenter', undefined, ENTERPRISE_USER_SCHEMA), op: 'eq', value: '1' },
        }],
        ['unindexed sub-attribute: no lookup', 'User', 'name.familyName eq "x"', { residual: { kind: 'compare', path: path('name', 'familyName'), op: 'eq', value: 'x' } }],
    ];

    it.each(cases)('%s (%s): %s', (_why, resourceType, filter, expected) => {
        const ast = parseFilter(filter);
        const before = structuredClone(ast);
        expect(planQuery(ast, resourceType)).toEqual(expected);
        expect(ast).toEqual(before);
    });

    it.each([
        'members pr',
        'members[value eq "u1" or value eq "u2"]',
        'id eq "g1" or members[value eq "u1"]',
        'not (members[value eq "u1"])',
        'members[value eq "u1"] and members[value eq "u2"]',
        'members[display eq "x"]',
        'members.value co "u"',
        'members eq 5',
    ])('refuses the members condition no edge read answers: %s', (filter) => {
        const error = scimErrorOf(() => planQuery(parseFilter(filter), 'Group'));
        expect(error.status).toBe(400);
        expect(error.scimType).toBe('invalidFilter');
    });

    it('residual plus lookup plus member answer the filter like the filter itself', () => {
        const group = { id: 'g1', displayName: 'Sales', members: [{ value: 'u1' }] };
        const ast = parseFilter(membersProbe);
        const plan = planQuery(ast, 'Group');
        // The store answers lookup + requiredMember; the residual holds on the loaded group (without members).
        const { members: _members, ...loaded } = group;
        expect(matchesFilter(plan.residual!, loaded, 'Group')).toBe(true);
        expect(matchesFilter(ast, group, 'Group')).toBe(true);
    });

    it('documents the scan bound', () => {
        expect(MAX_SCAN_RESOURCES).toBeGreaterThanOrEqual(1_000);
        expect(Number.isInteger(MAX_SCAN_RESOURCES)).toBe(true);
    });
});

describe('limits and error messages', () => {
    it('accepts a filter of exactly MAX_FILTER_LENGTH characters and refuses one more', () => {
        const filler = 'a'.repeat(MAX_FILTER_LENGTH - 'title eq ""'.length);
        const longest = `title eq "${filler}"`;
        expect(longest).toHaveLength(MAX_FILTER_LENGTH);
        expect(parseFilter(longest)).toEqual(eq('title', filler));
        const error = scimErrorOf(() => parseFilter(`${longest} `));
        expect(error.scimType).toBe('invalidFilter');
        expect(error.detail).toContain(String(MAX_FILTER_LENGTH));
    });

    it('accepts MAX_FILTER_DEPTH levels of nesting and refuses one more', () => {
        const nested = (depth: number, open: string, close: string) => `${open.repeat(depth)}a pr${close.repeat(depth)}`;
        expect(parseFilter(nested(MAX_FILTER_DEPTH, '(', ')'))).toEqual({ kind: 'present', path: path('a') });
        expect(scimErrorOf(() => parseFilter(nested(MAX_FILTER_DEPTH + 1, '(', ')'))).detail).toContain('nested deeper');
        expect(scimErrorOf(() => parseFilter(nested(MAX_FILTER_DEPTH + 1, 'not (', ')'))).detail).toContain('nested deeper');
        // A stack-exhaustion attempt within the length limit.
        expect(scimErrorOf(() => parseFilter('('.repeat(MAX_FILTER_LENGTH))).scimType).toBe('invalidFilter');
        expect(scimErrorOf(() => parseFilter('not ('.repeat(800))).scimType).toBe('invalidFilter');
    });

    // How long these take is measured in bench/filterLibrary.ts ("Hostile filters"), not asserted here.
    it('parses, evaluates and prints the longest flat chain', () => {
        const chain = Array.from({ length: 400 }, (_, i) => `a${i} pr`).join(' and ').slice(0, MAX_FILTER_LENGTH).replace(/ and a\d*( pr?)?$/, '');
        const ast = parseFilter(chain);
        expect(matchesFilter(ast, { a0: 'x' }, 'User')).toBe(false);
        expect(printFilter(ast)).toBe(chain);
    });

    it('parses or refuses hostile inputs of the longest length (each one pass, no backtracking)', () => {
        const hostile = [
            `title eq "${'\\'.repeat(MAX_FILTER_LENGTH - 12)}"`,
            `title co ${'a'.repeat(MAX_FILTER_LENGTH - 9)}`,
            `score eq ${'1'.repeat(MAX_FILTER_LENGTH - 10)}x`,
            `${'urn:'.repeat(MAX_FILTER_LENGTH / 4 - 3)}a pr`,
            'a pr or '.repeat(MAX_FILTER_LENGTH / 8 - 1) + 'a',
        ];
        let parsed = 0;
        for (const text of hostile) {
            expect(text.length).toBeLessThanOrEqual(MAX_FILTER_LENGTH);
            try {
                parseFilter(text);
                parsed++;
            } catch (error) {
                expect(error).toBeInstanceOf(ScimError);
            }
        }
        expect(parsed).toBeGreaterThan(0);
        // A long co against a long value is one substring search.
        expect(matchesFilter(parseFilter(`title co "${'a'.repeat(2000)}b"`), { title: 'a'.repeat(100_000) }, 'User')).toBe(false);
        expect(matchesFilter(parseFilter(`title co "${'a'.repeat(2000)}b"`), { title: `${'a'.repeat(100_000)}b` }, 'User')).toBe(true);
    });

    it('never echoes the input in the message', () => {
        const secret = 'personal.data@contoso.com';
        for (const text of [`userName eq "${secret}" "x"`, `userName eq ${secret} extra`, `userName ${secret}`, `${secret} eq`, `userName eq "${secret}`]) {
            const error = scimErrorOf(() => parseFilter(text));
            expect(error.detail).not.toContain('personal');
            expect(error.detail.length).toBeLessThan(120);
        }
        const long = scimErrorOf(() => parseFilter('x'.repeat(MAX_FILTER_LENGTH + 10)));
        expect(long.detail).not.toContain('xxxx');
    });

    it('refuses a non-string filter as invalidFilter', () => {
        expect(scimErrorOf(() => parseFilter(undefined as unknown as string)).scimType).toBe('invalidFilter');
    });
});

// ---- property tests

const KNOWN_SCHEMAS = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, 'urn:example:params:custom:1.0:Thing'];

const nameArb = fc.oneof(
    fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,7}$/),
    fc.constantFrom('userName', 'emails', 'value', 'type', '$ref', 'not', 'and', 'or', 'pr', 'eq', 'true', 'urn'),
);
const rootPathArb: fc.Arbitrary<AttributeReference> = fc
    .record({ schema: fc.option(fc.constantFrom(...KNOWN_SCHEMAS), { nil: undefined }), attribute: nameArb, subAttribute: fc.option(nameArb, { nil: undefined }) })
    .map(({ schema, attribute, subAttribute }) => path(attribute, subAttribute, schema));
const elementPathArb: fc.Arbitrary<AttributeReference> = nameArb.map((attribute) => ({ attribute }));
const complexPathArb: fc.Arbitrary<AttributeReference> = fc
    .record({ schema: fc.option(fc.constantFrom(...KNOWN_SCHEMAS), { nil: undefined }), attribute: nameArb })
    .map(({ schema, attribute }) => path(attribute, undefined, schema));

const textArb = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }));
const numberArb = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));

function comparisonArb(pathArb: fc.Arbitrary<AttributeReference>): fc.Arbitrary<FilterNode> {
    return fc.oneof(
        fc.record({
            kind: fc.constant('compare' as const),
            path: pathArb,
            op: fc.constantFrom('eq' as const, 'ne' as const),
            value: fc.oneof(textArb, numberArb, fc.boolean(), fc.constant(null)),
        }),
        fc.record({
            kind: fc.constant('compare' as const),
            path: pathArb,
            op: fc.constantFrom('co' as const, 'sw' as const, 'ew' as const, 'gt' as const, 'ge' as const, 'lt' as const, 'le' as const),
            value: fc.oneof(textArb, numberArb),
        }),
        fc.record({ kind: fc.constant('present' as const), path: pathArb }),
    );
}

/** Random filters up to `depth` levels of operators; value paths only at the root (brackets do not nest). */
function filterArb(depth: number, pathArb: fc.Arbitrary<AttributeReference>, inElement: boolean): fc.Arbitrary<FilterNode> {
    const leaf = comparisonArb(pathArb);
    if (depth === 0) return leaf;
    const sub = filterArb(depth - 1, pathArb, inElement);
    const choices: fc.Arbitrary<FilterNode>[] = [
        leaf,
        fc.record({ kind: fc.constant('and' as const), left: sub, right: sub }),
        fc.record({ kind: fc.constant('or' as const), left: sub, right: sub }),
        fc.record({ kind: fc.constant('not' as const), operand: sub }),
    ];
    if (!inElement) {
        choices.push(fc.record({ kind: fc.constant('valuePath' as const), path: complexPathArb, filter: filterArb(depth - 1, elementPathArb, true) }));
    }
    return fc.oneof(...choices);
}

describe('property: printFilter → parseFilter round-trip', () => {
    it('reads every printed AST back to an equal AST', () => {
        fc.assert(
            fc.property(filterArb(5, rootPathArb, false), (ast) => {
                expect(parseFilter(printFilter(ast))).toEqual(ast);
            }),
            { numRuns: 2000 },
        );
    });
});

describe('property: bad input only ever throws ScimError invalidFilter (invalidValue for a lone surrogate)', () => {
    const expectParsesOrInvalidFilter = (text: string) => {
        try {
            const ast = parseFilter(text);
            // Whatever parses also prints and re-parses to the same tree.
            expect(parseFilter(printFilter(ast))).toEqual(ast);
        } catch (error) {
            if (!(error instanceof ScimError) || error.status !== 400) throw error;
            // Half a surrogate pair, raw or as a \u escape, is not text (caseFold.ts): invalidValue, as for bodies.
            const surrogate = hasLoneSurrogate(text) || /\\u[dD][89a-fA-F]/.test(text);
            if (error.scimType !== 'invalidFilter' && !(error.scimType === 'invalidValue' && surrogate)) throw error;
        }
    };

    it('random strings', () => {
        fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), expectParsesOrInvalidFilter), { numRuns: 2000 });
    });

    it('random sequences of filter tokens', () => {
        const token = fc.constantFrom(
            'userName', 'emails', 'name.familyName', `${ENTERPRISE_USER_SCHEMA}:`, 'urn:', '[', ']', '(', ')', '"', '"x"', '\\', '\\u00', '.',
            ' ', ' and ', ' or ', 'not', 'not (', ' eq ', ' pr', ' co ', ' gt ', 'true', 'null', '1e5', '-', ':', '$ref', 'value', '\t',
        );
        fc.assert(fc.property(fc.array(token, { maxLength: 40 }).map((tokens) => tokens.join('')), expectParsesOrInvalidFilter), { numRuns: 3000 });
    });

    it('printed filters with one character removed, replaced or inserted', () => {
        const mutated = fc
            .tuple(filterArb(3, rootPathArb, false), fc.nat(), fc.constantFrom('', '(', ')', '[', ']', '"', ' ', '\\', 'x', '.'))
            .map(([ast, at, insert]) => {
                const text = printFilter(ast);
                const index = at % (text.length + 1);
                return text.slice(0, index) + insert + text.slice(index + 1);
            });
        fc.assert(fc.property(mutated, expectParsesOrInvalidFilter), { numRuns: 2000 });
    });

    it('random PATCH paths throw only invalidPath', () => {
        fc.assert(
            fc.property(fc.string(), (text) => {
                try {
                    parsePatchPath(text);
                } catch (error) {
                    if (!(error instanceof ScimError) || error.scimType !== 'invalidPath') throw error;
                }
            }),
            { numRuns: 1000 },
        );
    });
});

describe('property: evaluation never throws and follows boolean logic', () => {
    const attributeNames = ['userName', 'emails', 'name', 'meta', 'id', 'active', 'members', 'title', 'value', 'type', 'EMAILS', ENTERPRISE_USER_SCHEMA];
    const evalNameArb = fc.constantFrom('userName', 'emails', 'name', 'meta', 'id', 'active', 'members', 'title', 'value', 'type', 'created', 'manager');
    const evalPathArb = fc
        .record({ schema: fc.option(fc.constantFrom(ENTERPRISE_USER_SCHEMA, USER_SCHEMA), { nil: undefined }), attribute: evalNameArb, subAttribute: fc.option(evalNameArb, { nil: undefined }) })
        .map(({ schema, attribute, subAttribute }) => path(attribute, subAttribute, schema));
    const resourceArb = fc.dictionary(fc.constantFrom(...attributeNames), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }) as fc.Arbitrary<Record<string, unknown>>;
    const resourceTypeArb = fc.constantFrom<ResourceTypeName>('User', 'Group');

    it('returns a boolean for any filter and resource, consistent with and / or / not', () => {
        const leafArb = filterArb(2, evalPathArb, false);
        fc.assert(
            fc.property(leafArb, leafArb, resourceArb, resourceTypeArb, (a, b, resource, resourceType) => {
                const left = matchesFilter(a, resource, resourceType);
                const right = matchesFilter(b, resource, resourceType);
                expect(typeof left).toBe('boolean');
                expect(matchesFilter({ kind: 'and', left: a, right: b }, resource, resourceType)).toBe(left && right);
                expect(matchesFilter({ kind: 'or', left: a, right: b }, resource, resourceType)).toBe(left || right);
                expect(matchesFilter({ kind: 'not', operand: a }, resource, resourceType)).toBe(!left);
            }),
            { numRuns: 1500 },
        );
    });
});
