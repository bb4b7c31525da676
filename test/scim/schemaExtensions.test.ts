/**
 * Declared extension schemas (SCIM_SCHEMA_EXTENSIONS): reading and checking the definitions, the schema
 * registry built from them, and the start-up that refuses a bad one with one log line.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../shared/app';
import { readSettings, SettingsError } from '../../shared/config';
import { checkStartup } from '../../shared/http/registerRoute';
import { resourceTypes, schemas } from '../../shared/scim/discovery';
import { readSchemaExtensions, SchemaExtensionError } from '../../shared/scim/schemaExtensions';
import { currentSchemas, parseAttributeReference, resolveAttribute, SchemaRegistry, useSchemaExtensions } from '../../shared/scim/schemaRegistry';
import { parseFilter } from '../../shared/scim/filter';
import { couldMatch } from '../../shared/scim/rootSearch';
import { CORE_SCHEMAS } from '../../shared/scim/schemas';
import { validateResource } from '../../shared/scim/validation';

const EXAMPLE_FILE = path.join(__dirname, '..', '..', 'docs', 'examples', 'alvao-schema-extensions.json');
const EXAMPLE = readFileSync(EXAMPLE_FILE, 'utf8');
/** `{why, text | definitions, error}`: what is refused, and the words the message must hold. */
const invalidCases = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'schema-extensions-invalid.json'), 'utf8')) as { why: string; text?: string; definitions?: unknown; error: string }[];
const PERSON = 'urn:ietf:params:scim:schemas:extension:alvao_tPersonCust:2.0:User';
const PROPERTY = 'urn:ietf:params:scim:schemas:extension:alvao_tblProperty:2.0:User';

afterEach(() => {
    useSchemaExtensions([]);
});

describe('readSchemaExtensions', () => {
    it('reads the ALVAO example, filling in RFC 7643 §2.2 defaults for what a definition leaves out', () => {
        const extensions = readSchemaExtensions(EXAMPLE);
        expect(extensions.map((e) => [e.resourceType, e.schema.id])).toEqual([['User', PERSON], ['User', PROPERTY]]);
        const kindId = extensions[1]!.schema.attributes[0]!;
        expect(kindId).toEqual({
            name: 'kindId_9',
            type: 'string',
            multiValued: false,
            description: expect.any(String),
            required: false,
            caseExact: false,
            mutability: 'readWrite',
            returned: 'default',
            uniqueness: 'none',
        });
        expect(extensions[0]!.schema.attributes.find((a) => a.name === 'dContractEnd')?.type).toBe('dateTime');
    });

    it('accepts an empty array, a complex attribute, a Group extension and a copied /Schemas entry (schemas, meta)', () => {
        expect(readSchemaExtensions('[]')).toEqual([]);
        const [extension] = readSchemaExtensions(JSON.stringify([{
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
            meta: { resourceType: 'Schema' },
            id: 'urn:example:groups:1.0:Group',
            name: 'GroupExtras',
            resourceType: 'group',
            attributes: [{ name: 'badge', type: 'complex', multiValued: true, subAttributes: [{ name: 'number', type: 'integer', required: true }] }],
        }]));
        expect(extension!.resourceType).toBe('Group');
        expect(extension!.schema.attributes[0]!.subAttributes![0]).toMatchObject({ name: 'number', type: 'integer', required: true });
    });

    it('refuses each invalid definition with a message naming the schema and attribute', () => {
        let refused = 0;
        for (const testCase of invalidCases) {
            const text = testCase.text ?? JSON.stringify(testCase.definitions);
            let error: unknown;
            try {
                readSchemaExtensions(text);
            } catch (caught) {
                error = caught;
            }
            expect(error, testCase.why).toBeInstanceOf(SchemaExtensionError);
            expect((error as Error).message, testCase.why).toContain(testCase.error);
            refused++;
        }
        expect(refused).toBe(invalidCases.length);
        expect(refused).toBeGreaterThanOrEqual(20);
    });
});

describe('the schema registry with declared extensions', () => {
    it('serves them in /Schemas after the core schemas and in /ResourceTypes schemaExtensions', () => {
        useSchemaExtensions(readSchemaExtensions(EXAMPLE));
        const listed = schemas('https://h/scim') as { Resources: { id: string; meta: { location: string } }[] };
        expect(listed.Resources.map((s) => s.id)).toEqual([...CORE_SCHEMAS.map((s) => s.id), PERSON, PROPERTY]);
        expect((schemas('https://h/scim', PROPERTY.toLowerCase()) as { id: string }).id).toBe(PROPERTY);
        const user = resourceTypes('https://h/scim', 'User') as { schemaExtensions: { schema: string; required: boolean }[] };
        expect(user.schemaExtensions).toEqual([
            { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false },
            { schema: PERSON, required: false },
            { schema: PROPERTY, required: false },
        ]);
        expect((resourceTypes('https://h/scim', 'Group') as { schemaExtensions: unknown[] }).schemaExtensions).toEqual([]);
    });

    it('resolves URN-qualified paths to extension attributes in any letter case, for User only', () => {
        useSchemaExtensions(readSchemaExtensions(EXAMPLE));
        const reference = parseAttributeReference(`${PROPERTY.toUpperCase()}:KINDID_9`);
        expect(reference).toEqual({ schema: PROPERTY, attribute: 'KINDID_9' });
        expect(resolveAttribute('User', reference)).toMatchObject({ extension: PROPERTY, definition: { name: 'kindId_9' } });
        expect(resolveAttribute('Group', reference)).toBeUndefined();
    });

    it('answers for itself before it serves: settings that name attributes can be checked against it at start', () => {
        const registry = new SchemaRegistry(readSchemaExtensions(EXAMPLE));
        expect(currentSchemas()).not.toBe(registry);
        const reference = registry.parseAttributeReference(`${PERSON}:bExternal`);
        expect(registry.resolveAttribute('User', reference)?.definition.type).toBe('boolean');
        expect(resolveAttribute('User', reference)).toBeUndefined(); // the current registry serves the core schemas only
    });

    it('goes back to the core schemas alone, and a new registry is a new object (caches key on it)', () => {
        const declared = useSchemaExtensions(readSchemaExtensions(EXAMPLE));
        expect(resolveAttribute('User', { schema: PERSON, attribute: 'bExternal' })).toBeDefined();
        const core = useSchemaExtensions([]);
        expect(core).not.toBe(declared);
        expect(currentSchemas()).toBe(core);
        expect(resolveAttribute('User', { schema: PERSON, attribute: 'bExternal' })).toBeUndefined();
        expect(core.schemas).toEqual(CORE_SCHEMAS);
    });
});

describe('what reads the registry', () => {
    it('the validator: declared types, and a required attribute makes its extension required (RFC 7643 §6)', () => {
        useSchemaExtensions(readSchemaExtensions(JSON.stringify([
            { id: 'urn:example:badge:1.0:User', name: 'Badge', resourceType: 'User', attributes: [{ name: 'number', type: 'integer', required: true }, { name: 'site' }] },
        ])));
        const badge = 'urn:example:badge:1.0:User';
        expect(() => validateResource('User', { userName: 'a', [badge]: { number: 7 } })).not.toThrow();
        expect(() => validateResource('User', { userName: 'a', [badge]: { number: '7' } })).toThrow(`The value of '${badge}:number' must be an integer`);
        expect(() => validateResource('User', { userName: 'a', [badge]: { site: 'x' } })).toThrow(`'${badge}:number' is required`);
        expect(() => validateResource('User', { userName: 'a' })).toThrow(`'${badge}' is required`);
        expect((resourceTypes('https://h/scim', 'User') as { schemaExtensions: unknown[] }).schemaExtensions).toContainEqual({ schema: badge, required: true });
    });

    it('the root search: a type whose schemas lack an attribute the filter needs is not read', () => {
        useSchemaExtensions(readSchemaExtensions(EXAMPLE));
        const cases: [string, boolean, boolean][] = [
            ['userName eq "a"', true, false],
            ['displayName eq "a"', true, true],
            ['externalId eq "a" and userName eq "b"', true, false],
            ['userName eq "a" or members[value eq "u"]', true, true],
            ['members pr', false, true],
            [`${PROPERTY}:kindId_9 eq "B"`, true, false],
            ['manager eq "m"', true, false], // unqualified enterprise attribute, as the evaluator finds it
            ['not (userName eq "a")', true, true],
            ['userName ne "a"', true, true],
            ['userName eq null', true, true],
            ['schemas eq "x"', true, true],
            ['urn:example:nowhere:1.0:User:x eq "y"', false, false],
        ];
        for (const [filter, users, groups] of cases) {
            const ast = parseFilter(filter);
            expect([couldMatch(ast, 'User'), couldMatch(ast, 'Group')], filter).toEqual([users, groups]);
        }
    });
});

describe('the SCIM_SCHEMA_EXTENSIONS setting', () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'scim-extensions-'));

    it('holds the JSON itself (an app setting) or the path of a file holding it', () => {
        expect(readSettings({}).schemaExtensions).toEqual([]);
        expect(readSettings({ SCIM_SCHEMA_EXTENSIONS: '  ' }).schemaExtensions).toEqual([]);
        expect(readSettings({ SCIM_SCHEMA_EXTENSIONS: EXAMPLE }).schemaExtensions).toHaveLength(2);
        expect(readSettings({ SCIM_SCHEMA_EXTENSIONS: EXAMPLE_FILE }).schemaExtensions).toHaveLength(2);
    });

    it('names the setting and the problem: a missing file, a bad definition', () => {
        const missing = path.join(directory, 'nowhere.json');
        expect(() => readSettings({ SCIM_SCHEMA_EXTENSIONS: missing })).toThrow(new SettingsError(`SCIM_SCHEMA_EXTENSIONS: cannot read the file ${missing} (ENOENT); the setting holds a JSON array or the path of a file holding one`));
        const bad = path.join(directory, 'bad.json');
        writeFileSync(bad, JSON.stringify([{ id: 'urn:example:a:1.0:User', name: 'A', resourceType: 'User', attributes: [{ name: 'code', type: 'text' }] }]));
        expect(() => readSettings({ SCIM_SCHEMA_EXTENSIONS: bad })).toThrow(/^SCIM_SCHEMA_EXTENSIONS: schema 'urn:example:a:1\.0:User', attribute 'code': unknown type 'text'/);
    });

    it('stops the start-up with one log line naming the problem', async () => {
        const errors: string[] = [];
        const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
        const env = { TABLES_CONNECTION_STRING: 'UseDevelopmentStorage=true', SCIM_SCHEMA_EXTENSIONS: JSON.stringify([{ id: 'urn:example:a:1.0:User', name: 'A', resourceType: 'User', attributes: [{ name: 'a' }, { name: 'A' }] }]) };
        try {
            // What the Functions host's app-start hook runs: build the app of this process from its settings.
            await expect(checkStartup(() => Promise.resolve().then(() => createApp(readSettings(env))))).rejects.toBeInstanceOf(SettingsError);
            expect(errors).toEqual(["scim start-up: SCIM_SCHEMA_EXTENSIONS: schema 'urn:example:a:1.0:User': duplicate attribute 'A' (also declared as 'a')"]);
            // Another failure (no storage configured) is logged the same way but does not stop the start.
            await expect(checkStartup(() => Promise.resolve().then(() => createApp(readSettings({}))))).resolves.toBeUndefined();
            expect(errors).toHaveLength(2);
        } finally {
            spy.mockRestore();
        }
    });

    it('an app built from settings serves their extensions', () => {
        createApp(readSettings({ TABLES_CONNECTION_STRING: 'UseDevelopmentStorage=true', SCIM_SCHEMA_EXTENSIONS: EXAMPLE }));
        expect(currentSchemas().extensions.map((e) => e.schema.id)).toEqual([PERSON, PROPERTY]);
        createApp(readSettings({ TABLES_CONNECTION_STRING: 'UseDevelopmentStorage=true' }));
        expect(currentSchemas().extensions).toEqual([]);
    });
});
