/**
 * The PATCH engine (shared/scim/patch.ts), driven by JSON fixture tables in `fixtures/patch-*.json`: each
 * case is a resource before, the `Operations` Entra (or RFC 7644 §3.5.2) sends, and the resource after — or
 * the error's scimType; group cases also give the member delta. Below them: the request-level rules, and
 * fast-check properties over random operation lists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScimError, type ScimType } from '../../shared/scim/errors';
import { applyPatch, MAX_PATCH_OPERATIONS, type PatchResult } from '../../shared/scim/patch';
import { ENTERPRISE_USER_SCHEMA, type ResourceTypeName } from '../../shared/scim/schemas';
import type { MemberDelta, ScimResource } from '../../shared/store/ResourceStore';

interface FixtureCase {
    name: string;
    /** Defaults to the file's resourceType. */
    resourceType?: ResourceTypeName;
    /** A resource, or the name of one in the file's `resources`. */
    before: string | ScimResource;
    operations: unknown;
    after?: string | ScimResource;
    error?: ScimType;
    /** The expected member delta; `null`: no member operation, so no delta. Checked when given. */
    members?: MemberDelta | null;
    /** Defaults to []: nothing ignored. */
    ignored?: string[];
    changed?: boolean;
}

interface FixtureFile {
    description: string;
    resourceType?: ResourceTypeName;
    resources?: Record<string, ScimResource>;
    cases: FixtureCase[];
}

const fixtureDirectory = join(__dirname, 'fixtures');
const fixtureFiles = readdirSync(fixtureDirectory).filter((name) => name.startsWith('patch-') && name.endsWith('.json')).sort();

function resourceOf(file: FixtureFile, reference: string | ScimResource): ScimResource {
    if (typeof reference !== 'string') return structuredClone(reference);
    const named = file.resources?.[reference];
    if (named === undefined) throw new Error(`fixture names an unknown resource '${reference}'`);
    return structuredClone(named);
}

/** Frozen all the way down: any attempt to modify the input throws a TypeError, which fails the test. */
function deepFreeze<T>(value: T): T {
    if (typeof value === 'object' && value !== null) {
        for (const child of Object.values(value)) deepFreeze(child);
        Object.freeze(value);
    }
    return value;
}

function thrownBy(action: () => unknown): unknown {
    try {
        action();
    } catch (error) {
        return error;
    }
    return undefined;
}

describe('PATCH fixture tables', () => {
    it('finds the fixture files', () => {
        expect(fixtureFiles.length).toBeGreaterThanOrEqual(7);
    });

    for (const fileName of fixtureFiles) {
        const file = JSON.parse(readFileSync(join(fixtureDirectory, fileName), 'utf8')) as FixtureFile;
        describe(fileName, () => {
            for (const testCase of file.cases) {
                it(testCase.name, () => {
                    const resourceType = testCase.resourceType ?? file.resourceType ?? 'User';
                    const before = deepFreeze(resourceOf(file, testCase.before));
                    const snapshot = structuredClone(before);
                    const operations = deepFreeze(structuredClone(testCase.operations));

                    if (testCase.error !== undefined) {
                        const error = thrownBy(() => applyPatch(before, operations, resourceType));
                        expect(error).toBeInstanceOf(ScimError);
                        expect((error as ScimError).status).toBe(400);
                        expect((error as ScimError).scimType).toBe(testCase.error);
                    } else {
                        if (testCase.after === undefined) throw new Error('a fixture case needs after or error');
                        const result: PatchResult = applyPatch(before, operations, resourceType);
                        expect(result.resource).toEqual(resourceOf(file, testCase.after));
                        expect(result.resource).not.toBe(before);
                        expect(result.ignored).toEqual(testCase.ignored ?? []);
                        if (testCase.members !== undefined) expect(result.members).toEqual(testCase.members ?? undefined);
                        if (testCase.changed !== undefined) expect(result.changed).toBe(testCase.changed);
                        if (resourceType === 'Group') expect(result.resource).not.toHaveProperty('members');
                    }
                    expect(before).toEqual(snapshot);
                });
            }
        });
    }
});
