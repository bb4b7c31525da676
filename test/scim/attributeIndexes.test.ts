/**
 * Equality indexes as pure functions (shared/scim/attributeIndexes.ts): which paths can be indexed, the
 * keys a resource has, which filters an index answers — and the property everything rests on: an index
 * lookup never misses a resource the filter matches.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
    DEFAULT_INDEXED_ATTRIBUTES,
    indexedEquality,
    indexKeyOf,
    indexKeysOf,
    parseIndexedAttribute,
    readIndexConfiguration,
    unindexedFilterDetail,
    type AttributeIndex,
} from '../../shared/scim/attributeIndexes';
import { scimErrorOf, StoreError } from '../../shared/scim/storeErrors';
import { matchesFilter, parseFilter } from '../../shared/scim/filter';
import { ENTERPRISE_USER_SCHEMA, type ResourceTypeName } from '../../shared/scim/schemas';

function indexOf(resourceType: ResourceTypeName, path: string): AttributeIndex {
    const parse = parseIndexedAttribute(resourceType, path);
    if ('problem' in parse) throw new Error(parse.problem);
    return parse.index;
}

function problemOf(resourceType: ResourceTypeName, path: string): string {
    const parse = parseIndexedAttribute(resourceType, path);
    if ('index' in parse) throw new Error(`${path} was accepted`);
    return parse.problem;
}

describe('parseIndexedAttribute', () => {
    it.each<[ResourceTypeName, string, string, AttributeIndex['storage'], boolean]>([
        ['User', 'userName', 'userName', 'uniqueName', false],
        ['User', 'USERNAME', 'userName', 'uniqueName', false],
        ['User', 'urn:ietf:params:scim:schemas:core:2.0:User:userName', 'userName', 'uniqueName', false],
        ['User', 'externalId', 'externalId', 'externalId', true],
        ['Group', 'displayName', 'displayName', 'uniqueName', false],
        ['User', 'displayName', 'displayName', 'rows', false],
        ['User', 'emails[type eq "work"].value', 'emails[type eq "work"].value', 'rows', false],
        ['User', 'Emails[TYPE eq "Work"].Value', 'emails[type eq "work"].value', 'rows', false],
        ['User', 'emails[type eq "work"]', 'emails[type eq "work"].value', 'rows', false],
        ['User', 'phoneNumbers[type eq "mobile"].value', 'phoneNumbers[type eq "mobile"].value', 'rows', false],
        ['User', 'emails[type eq "work" and primary eq true].display', 'emails[type eq "work" and primary eq true].display', 'rows', false],
        ['User', `${ENTERPRISE_USER_SCHEMA}:employeeNumber`, `${ENTERPRISE_USER_SCHEMA}:employeeNumber`, 'rows', false],
        ['User', 'employeeNumber', `${ENTERPRISE_USER_SCHEMA}:employeeNumber`, 'rows', false],
        ['User', `${ENTERPRISE_USER_SCHEMA.toUpperCase()}:EMPLOYEENUMBER`, `${ENTERPRISE_USER_SCHEMA}:employeeNumber`, 'rows', false],
        ['User', `${ENTERPRISE_USER_SCHEMA}:manager`, `${ENTERPRISE_USER_SCHEMA}:manager.value`, 'rows', true],
        ['User', 'name.familyName', 'name.familyName', 'rows', false],
        ['User', 'roles[value eq "Admin"]', 'roles[value eq "admin"].value', 'rows', false],
    ])('%s %s → %s (%s, caseExact %s)', (resourceType, text, path, storage, caseExact) => {
        const index = indexOf(resourceType, text);
        expect(index.path).toBe(path);
        expect(index.storage).toBe(storage);
        expect(index.caseExact).toBe(caseExact);
        expect(indexOf(resourceType, index.path).path, 'the canonical path reads back as itself').toBe(path);
    });

    it.each<[ResourceTypeName, string, RegExp]>([
        ['User', 'nickname2', /not an attribute of Users/],
        ['User', 'emails', /multi-valued: pick one element/],
        ['User', 'emails.value', /multi-valued/],
        ['User', 'displayName[type eq "x"]', /needs a multi-valued attribute/],
        ['User', 'name', /needs a sub-attribute/],
        ['User', 'name.nope', /no sub-attribute 'nope'/],
        ['User', 'emails[nope eq "x"].value', /names a sub-attribute emails does not have/],
        ['User', 'password', /not stored/],
        ['User', 'groups[type eq "direct"].value', /not stored/],
        ['User', 'meta.created', /not stored/],
        ['User', 'id', /needs no index/],
        ['Group', 'members[type eq "User"].value', /not stored/],
        ['Group', 'userName', /not an attribute of Groups/],
        ['User', 'userName eq "x"', /not an attribute path/],
        ['User', 'emails[type eq "work"', /not an attribute path/],
        ['User', 'x509Certificates', /multi-valued/],
    ])('%s %s is refused, naming why', (resourceType, text, problem) => {
        const message = problemOf(resourceType, text);
        expect(message).toMatch(problem);
        expect(message).toContain(text);
    });

    it('refuses dateTime attributes (compared as instants, not as text) where the schema has one', () => {
        // No writable dateTime attribute exists in our schemas today; meta's are readOnly and refused earlier.
        expect(problemOf('User', 'meta.lastModified')).toMatch(/not stored/);
    });
});

describe('readIndexConfiguration', () => {
    it('is the default set without a setting', () => {
        const configuration = readIndexConfiguration(undefined);
        expect(configuration.User.map((index) => index.path)).toEqual(DEFAULT_INDEXED_ATTRIBUTES.User);
        expect(configuration.Group.map((index) => index.path)).toEqual(DEFAULT_INDEXED_ATTRIBUTES.Group);
    });

    it('adds entries to every type that knows them, or one type with a prefix; commas inside quotes stay', () => {
        const configuration = readIndexConfiguration(' title , Group:externalId, User:roles[value eq "a,b"].display,phoneNumbers[type eq "mobile"].value,, userName');
        expect(configuration.User.map((index) => index.path)).toEqual([
            ...DEFAULT_INDEXED_ATTRIBUTES.User,
            'title',
            'roles[value eq "a,b"].display',
            'phoneNumbers[type eq "mobile"].value',
        ]);
        expect(configuration.Group.map((index) => index.path)).toEqual(DEFAULT_INDEXED_ATTRIBUTES.Group);
    });

    it.each([
        ['nickname2', /SCIM_INDEXED_ATTRIBUTES: 'nickname2' is not an attribute of Users; 'nickname2' is not an attribute of Groups/],
        ['title, emails', /SCIM_INDEXED_ATTRIBUTES: 'emails' is multi-valued/],
        ['Group:title', /SCIM_INDEXED_ATTRIBUTES: 'title' is not an attribute of Groups/],
    ])('throws one message naming the bad entry: %s', (setting, message) => {
        expect(() => readIndexConfiguration(setting)).toThrow(message);
    });

    it('caps the indexes per resource type, so every write still fits one transaction', () => {
        const many = Array.from({ length: 16 }, (_, n) => `addresses[type eq "t${n}"].locality`).join(',');
        expect(() => readIndexConfiguration(many)).toThrow(/more than 20 indexes for Users/);
    });
});

describe('indexKeysOf and indexKeyOf', () => {
    const user = {
        userName: 'José@Example.com',
        displayName: 'Ann  Smith',
        emails: [
            { type: 'work', value: 'Ann@Work.example' },
            { type: 'Work', value: 'ann2@work.example' },
            { type: 'home', value: 'ann@home.example' },
            { type: 'work', value: 'ANN@work.example' },
        ],
        [ENTERPRISE_USER_SCHEMA]: { employeeNumber: 'E77', manager: { value: 'Mgr-1' } },
        externalId: 'Ext-1',
    };

    it('folds case-insensitive values with the one fold, keeps caseExact ones, and drops duplicates', () => {
        expect(indexKeysOf(indexOf('User', 'userName'), user)).toEqual(['josé@example.com']);
        expect(indexKeysOf(indexOf('User', 'externalId'), user)).toEqual(['Ext-1']);
        expect(indexKeysOf(indexOf('User', 'displayName'), user)).toEqual(['ann  smith']);
        expect(indexKeysOf(indexOf('User', 'emails[type eq "work"].value'), user)).toEqual(['ann@work.example', 'ann2@work.example']);
        expect(indexKeysOf(indexOf('User', 'employeeNumber'), user)).toEqual(['e77']);
        expect(indexKeysOf(indexOf('User', `${ENTERPRISE_USER_SCHEMA}:manager`), user)).toEqual(['Mgr-1']);
        expect(indexKeysOf(indexOf('User', 'title'), user)).toEqual([]);
    });

    it('keys a composed and a decomposed spelling alike', () => {
        const index = indexOf('User', 'displayName');
        expect(indexKeyOf(index, 'Jose\u0301')).toBe(indexKeyOf(index, 'JOSÉ'));
    });

    it('refuses a lone surrogate with 400 invalidValue and never keys an empty value', () => {
        const index = indexOf('User', 'displayName');
        let error: unknown;
        try {
            indexKeyOf(index, 'a\uD800');
        } catch (caught) {
            error = caught;
        }
        expect(error).toBeInstanceOf(StoreError);
        expect(scimErrorOf(error as StoreError)).toMatchObject({ status: 400, scimType: 'invalidValue' });
        expect((error as StoreError).message).toContain('displayName');
        expect(indexKeyOf(index, '')).toBeUndefined();
        expect(indexKeyOf(index, { value: 'x' })).toBeUndefined();
    });
});

describe('indexedEquality', () => {
    const work = indexOf('User', 'emails[type eq "work"].value');
    const ask = (index: AttributeIndex, filter: string) => indexedEquality(index, parseFilter(filter));

    it.each([
        ['emails[type eq "work"].value eq "a@b"', 'a@b'],
        ['emails[type eq "work" and value eq "a@b"]', 'a@b'],
        ['emails[value eq "a@b" and type eq "WORK"]', 'a@b'],
        ['emails[primary eq true and type eq "work" and value eq "a@b"]', 'a@b'],
        [`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value eq "a@b"`, 'a@b'],
    ])('the work-email index answers %s', (filter, value) => {
        expect(ask(work, filter)).toBe(value);
    });

    it.each([
        'emails[type eq "home"].value eq "a@b"',
        'emails[value eq "a@b"]',
        'emails.value eq "a@b"',
        'emails[type eq "work"].value ne "a@b"',
        'emails[type eq "work"].value co "a@b"',
        'emails[type eq "work" or value eq "a@b"]',
        'emails[type eq "work"].value eq ""',
        'emails[type eq "work"].value eq null',
        'emails[type eq "work"].display eq "a@b"',
    ])('the work-email index does not answer %s', (filter) => {
        expect(ask(work, filter)).toBeUndefined();
    });

    it('single-valued indexes answer eq on their path in any spelling', () => {
        const employee = indexOf('User', 'employeeNumber');
        expect(ask(employee, 'employeeNumber eq "E1"')).toBe('E1');
        expect(ask(employee, `${ENTERPRISE_USER_SCHEMA}:employeeNumber eq "E1"`)).toBe('E1');
        expect(ask(employee, 'employeeNumber eq 7')).toBe('7');
        expect(ask(employee, 'costCenter eq "E1"')).toBeUndefined();
        const manager = indexOf('User', `${ENTERPRISE_USER_SCHEMA}:manager`);
        expect(ask(manager, 'manager eq "m"')).toBe('m');
        expect(ask(manager, 'manager.value eq "m"')).toBe('m');
        expect(ask(manager, 'manager.displayName eq "m"')).toBeUndefined();
    });
});

describe('property: an index lookup finds every resource the filter matches', () => {
    const indexes = readIndexConfiguration('title, phoneNumbers[type eq "mobile"].value, roles[primary eq true].value, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager').User;
    // Text that stresses the fold: case, composed and decomposed accents, dotted I, sharp s, Greek sigma.
    const text = fc
        .array(fc.constantFrom('a', 'A', 'é', 'E\u0301', 'e\u0301', 'İ', 'i', 'ß', 'SS', 'Σ', 'σ', 'ς', ' ', '1', 'Ω', 'Ω'), { minLength: 1, maxLength: 6 })
        .map((parts) => parts.join(''));
    const typeText = fc.constantFrom('work', 'Work', 'WORK', 'home', 'mobile', 'Mobile');
    const element = fc.record({ type: typeText, value: text, primary: fc.boolean() }, { requiredKeys: ['value'] });
    const resource = fc.record({
        userName: text,
        displayName: text,
        title: text,
        externalId: text,
        emails: fc.array(element, { maxLength: 3 }),
        phoneNumbers: fc.array(element, { maxLength: 3 }),
        roles: fc.array(element, { maxLength: 2 }),
        [ENTERPRISE_USER_SCHEMA]: fc.record({ employeeNumber: text, manager: fc.record({ value: text }) }),
    }, { requiredKeys: ['userName'] });

    it('for generated resources and eq filters on every indexed path, with counted cases', () => {
        let matched = 0;
        let checked = 0;
        fc.assert(
            fc.property(resource, fc.nat(), text, fc.boolean(), (candidate, which, probe, fromResource) => {
                const index = indexes[which % indexes.length]!;
                const stored = indexKeysOf(index, candidate);
                // Ask for a value the resource holds (in another spelling) half the time, else for random text.
                const value = fromResource && stored.length > 0 ? spellDifferently(stored[which % stored.length]!) : probe;
                const filter = filterFor(index.path, value);
                const asked = indexedEquality(index, parseFilter(filter));
                expect(asked, filter).toBe(value);
                checked++;
                if (matchesFilter(parseFilter(filter), candidate, 'User')) {
                    matched++;
                    expect(stored, `${filter} matches, so the index must hold its key`).toContain(indexKeyOf(index, asked!));
                }
            }),
            { numRuns: 3000 },
        );
        expect(checked).toBe(3000);
        expect(matched).toBeGreaterThan(300);
    });
});

function spellDifferently(key: string): string {
    return key.normalize('NFD').toUpperCase();
}

function filterFor(path: string, value: string): string {
    const quoted = JSON.stringify(value);
    const bracket = /^(.*)\[(.*)\]\.(\w+)$/.exec(path);
    if (bracket) return `${bracket[1]}[${bracket[2]} and ${bracket[3]} eq ${quoted}]`;
    return `${path} eq ${quoted}`;
}

describe('unindexedFilterDetail', () => {
    const configuration = readIndexConfiguration(undefined);
    const paths = configuration.User.map((index) => index.path);
    const complete = { usable: paths, building: [] };
    const building = { usable: paths.filter((path) => path !== 'displayName'), building: ['displayName'] };

    it('names the attribute and the setting for an unindexed equality', () => {
        const detail = unindexedFilterDetail(parseFilter('title eq "CEO"'), 'User', complete, 10_000);
        expect(detail).toContain('more than 10,000 Users');
        expect(detail).toContain('no index serves title');
        expect(detail).toContain('SCIM_INDEXED_ATTRIBUTES');
        expect(detail).toContain('npm run index -- rebuild title');
        expect(detail).not.toContain('CEO');
    });

    it('names the value path of an element equality', () => {
        const detail = unindexedFilterDetail(parseFilter('phoneNumbers[type eq "mobile"].value eq "+1 555"'), 'User', complete, 10_000);
        expect(detail).toContain('no index serves phoneNumbers[type eq "mobile"].value');
        expect(detail).not.toContain('555');
    });

    it('says an index is still being built, and how to complete it', () => {
        const detail = unindexedFilterDetail(parseFilter('displayName eq "x"'), 'User', building, 10_000);
        expect(detail).toContain('the index on displayName is not complete yet');
        expect(detail).toContain('npm run index -- rebuild displayName');
    });

    it('skips attributes already indexed, and lists the indexes when no equality would help', () => {
        expect(unindexedFilterDetail(parseFilter('userName eq "a" or title eq "b"'), 'User', complete, 10_000)).toContain('no index serves title');
        const detail = unindexedFilterDetail(parseFilter('title co "x"'), 'User', complete, 10_000);
        expect(detail).toContain('only eq on an indexed attribute avoids one');
        expect(detail).toContain('emails[type eq "work"].value');
    });
});
