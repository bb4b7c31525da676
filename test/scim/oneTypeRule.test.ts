/**
 * Issue 14, one place per rule: POST/PUT (canonicalizeResource + validateResource, as resourceEndpoint.ts
 * reads a body) and PATCH (applyPatch) take and refuse the same values for every RFC 7643 §2.3 type,
 * because both go through the one ajv validator compiled from the attribute definition
 * (shared/scim/attributeTypeCheck.ts). Values are sent as a declared extension attribute of each type and
 * as core attributes; PATCH sets them with `replace` at the attribute's path.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attributeJsonSchema, attributeValidator } from '../../shared/scim/attributeTypeCheck';
import { canonicalizeResource } from '../../shared/scim/attributeValues';
import { ScimError } from '../../shared/scim/errors';
import { applyPatch } from '../../shared/scim/patch';
import { readSchemaExtensions } from '../../shared/scim/schemaExtensions';
import { resolveAttribute, useSchemaExtensions } from '../../shared/scim/schemaRegistry';
import { validateResource } from '../../shared/scim/validation';

const EXT = 'urn:example:scim:schemas:extension:types:1.0:User';

beforeEach(() => {
    useSchemaExtensions(
        readSchemaExtensions(
            JSON.stringify([
                {
                    id: EXT,
                    name: 'Types',
                    resourceType: 'User',
                    attributes: [
                        { name: 'aString', type: 'string' },
                        { name: 'aBoolean', type: 'boolean' },
                        { name: 'anInteger', type: 'integer' },
                        { name: 'aDecimal', type: 'decimal' },
                        { name: 'aDateTime', type: 'dateTime' },
                        { name: 'aReference', type: 'reference', referenceTypes: ['external'] },
                        { name: 'aComplex', type: 'complex', subAttributes: [{ name: 'label', type: 'string' }, { name: 'count', type: 'integer' }] },
                        { name: 'strings', type: 'string', multiValued: true },
                        { name: 'integers', type: 'integer', multiValued: true },
                        { name: 'complexes', type: 'complex', multiValued: true, subAttributes: [{ name: 'on', type: 'boolean' }, { name: 'at', type: 'dateTime' }] },
                    ],
                },
            ]),
        ),
    );
});

afterEach(() => {
    useSchemaExtensions([]);
});

/** Candidate values, good and bad, for each type (null and "" left out: both mean "clear" in PATCH, RFC 7644 §3.5.2). */
const SCALARS: unknown[] = ['text', 'True', 'false', '12', '2008-01-23T04:56:22Z', '2008-01-23', 'Jan 23 2008', true, false, 0, 12, -3, 1.5, 1e21, {}, { label: 'x' }, []];
const CASES: Record<string, unknown[]> = {
    aString: SCALARS,
    aBoolean: SCALARS,
    anInteger: SCALARS,
    aDecimal: SCALARS,
    aDateTime: [...SCALARS, '2008-01-23T04:56:22.123+02:00', '2008-13-45T99:99:99Z', '2008-01-23T04:56:22'],
    aReference: [...SCALARS, 'https://example.com/x'],
    aComplex: [...SCALARS, { label: 'a', count: 2 }, { label: 5 }, { count: 1.5 }, { count: '2' }, { label: 'a', unknown: 5 }, { count: true }],
    strings: [['a', 'b'], ['a', 5], [true], [{}], [[]], [1.5, 'x']],
    integers: [[1, 2], [1, 2.5], ['1'], [true], [{}]],
    complexes: [[{ on: true }], [{ on: 'True' }], [{ on: 'yes' }], [{ at: '2008-01-23T04:56:22Z' }], [{ at: '2008' }], [{ on: 1 }], ['x'], [5], [[]]],
};

type Outcome = 'accepted' | { refused: string };

function outcomeOf(run: () => void): Outcome {
    try {
        run();
        return 'accepted';
    } catch (error) {
        if (!(error instanceof ScimError)) throw error;
        expect(error.status).toBe(400);
        expect(error.scimType).toBe('invalidValue');
        // What the value must be: the words after the attribute path.
        return { refused: error.message.replace(/^.*' must be /, '') };
    }
}

/**
 * The PATCH engine takes a single element in place of an array of complex values (RFC 7644 §3.5.2.1), so
 * its words for a non-object element say so; the rule (an element must be an object) is the same.
 */
function sameWords(outcome: Outcome): Outcome {
    return outcome !== 'accepted' && outcome.refused === 'an object or an array of objects' ? { refused: 'an object' } : outcome;
}

function post(extensionAttributes: Record<string, unknown>): Outcome {
    return outcomeOf(() => validateResource('User', canonicalizeResource({ userName: 'u', [EXT]: extensionAttributes }, 'User', () => undefined)));
}

function patch(path: string, value: unknown): Outcome {
    return outcomeOf(() => applyPatch({ userName: 'u' }, [{ op: 'replace', path, value }], 'User'));
}

describe('one type rule for POST and PATCH', () => {
    it('POST and PATCH accept and refuse the same values, with the same words, for each type', () => {
        let compared = 0;
        let refused = 0;
        for (const [name, values] of Object.entries(CASES)) {
            for (const value of values) {
                const viaPost = post({ [name]: value });
                const viaPatch = patch(`${EXT}:${name}`, value);
                expect(sameWords(viaPatch), `${name} = ${JSON.stringify(value)}`).toEqual(viaPost);
                compared++;
                if (viaPost !== 'accepted') refused++;
            }
        }
        // Every type has values on both sides of the rule.
        expect(compared).toBeGreaterThanOrEqual(120);
        expect(refused).toBeGreaterThanOrEqual(60);
        expect(compared - refused).toBeGreaterThanOrEqual(30);
    });

    it('agrees on sub-attributes set by path and on core attributes too', () => {
        let compared = 0;
        for (const value of CASES.aComplex!) {
            expect(patch(`${EXT}:aComplex.count`, value), JSON.stringify(value)).toEqual(post({ aComplex: { count: value } }));
            compared++;
        }
        for (const value of SCALARS) {
            const viaPost = outcomeOf(() => validateResource('User', canonicalizeResource({ userName: 'u', active: value }, 'User', () => undefined)));
            expect(patch('active', value), JSON.stringify(value)).toEqual(viaPost);
            compared++;
        }
        expect(compared).toBeGreaterThanOrEqual(2 * SCALARS.length);
    });

    it('patches a multi-valued attribute of a simple type as values (add appends the new ones, remove takes them away)', () => {
        const path = `${EXT}:strings`;
        const added = applyPatch({ userName: 'u', [EXT]: { strings: ['a'] } }, [{ op: 'add', path, value: ['A', 'b'] }], 'User').resource;
        expect(added[EXT]).toEqual({ strings: ['a', 'b'] });
        const removed = applyPatch(added, [{ op: 'remove', path, value: 'B' }], 'User').resource;
        expect(removed[EXT]).toEqual({ strings: ['a'] });
        expect(() => applyPatch(added, [{ op: 'add', path, value: [5] }], 'User')).toThrow(`'${path}[0]' must be a string`);
    });

    it('compiles one validator per attribute definition and registry, from the definition', () => {
        const definition = resolveAttribute('User', { schema: EXT, attribute: 'complexes' })!.definition;
        expect(attributeValidator(definition)).toBe(attributeValidator(definition));
        expect(attributeJsonSchema(definition)).toMatchObject({
            type: 'array',
            items: { type: 'object', properties: { on: { type: 'boolean' }, at: { type: 'string', format: 'xsd-dateTime' } } },
        });
        const before = attributeValidator(definition);
        useSchemaExtensions([]);
        // Another registry, another cache.
        expect(attributeValidator(definition)).not.toBe(before);
    });
});
