/**
 * Linear merge and remove of multi-valued attributes (issue 17): the set-based functions must answer exactly what
 * the pairwise comparisons they replaced answered (the reference implementations below are those comparisons),
 * on random inputs, and keep their answers for inputs of the largest allowed size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalizeAttributeValue } from '../../shared/scim/attributeValues';
import { isPlainObject } from '../../shared/scim/isPlainObject';
import { canonicalForm, MAX_ATTRIBUTE_ELEMENTS, withAddedElements, withoutGivenValues, withSinglePrimary } from '../../shared/scim/multiValuedElements';
import { findByName, type AttributeDefinition } from '../../shared/scim/schemas';
import { resolveAttribute } from '../../shared/scim/schemaRegistry';

const EMAILS = resolveAttribute('User', { attribute: 'emails' })!.definition;
const SUB_ATTRIBUTES = EMAILS.subAttributes ?? [];

/** The structural equality the engine used before (key order ignored). */
function jsonEqual(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
    const aKeys = Object.keys(a);
    return aKeys.length === Object.keys(b).length && aKeys.every((key) => Object.hasOwn(b, key) && jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/** Adding skips a value an element already holds: what a remove of it would take away. */
function referenceAdd(existing: unknown[], added: unknown[]): unknown[] {
    const next = [...existing];
    for (const element of added) if (!next.some((e) => referenceMatches(SUB_ATTRIBUTES, e, element))) next.push(element);
    return next;
}

function referenceMatches(subAttributes: readonly AttributeDefinition[], element: unknown, given: unknown): boolean {
    const givenObject: Record<string, unknown> = isPlainObject(given) ? given : { value: given };
    const entries = Object.entries(givenObject).filter(([, v]) => v !== null && v !== undefined);
    if (entries.length === 0 || !isPlainObject(element)) return false;
    return entries.every(([key, givenValue]) => {
        const sub = findByName(subAttributes, key);
        if (sub === undefined) return false;
        const stored = element[sub.name];
        if (typeof stored === 'string' && typeof givenValue === 'string' && !sub.caseExact) return stored.toLowerCase() === givenValue.toLowerCase();
        return jsonEqual(stored, canonicalizeAttributeValue(sub, givenValue));
    });
}

function referenceRemove(existing: unknown[], given: unknown[]): unknown[] {
    return existing.filter((element) => !given.some((g) => referenceMatches(SUB_ATTRIBUTES, element, g)));
}

const text = fc.constantFrom('a@x.example', 'A@X.example', 'b@x.example', 'work', 'Work', 'home', '');
const element = fc.tuple(
    fc.record({ value: text, type: fc.constantFrom('work', 'home', 'WORK'), display: text, primary: fc.boolean() }, { requiredKeys: [] }),
    fc.boolean(),
).map(([record, reversed]) => (reversed ? Object.fromEntries(Object.entries(record).reverse()) : record));
const given = fc.oneof(
    text,
    fc.record({ value: text, type: fc.constantFrom('work', 'home', 'WORK'), primary: fc.constantFrom(true, false, 'True', null), Value: text, unknownSub: text }, { requiredKeys: [] }),
);

describe('withAddedElements', () => {
    it('equals adding with pairwise comparisons (a value is added unless an element holds it), on random elements', () => {
        let cases = 0;
        fc.assert(fc.property(fc.array(element, { maxLength: 12 }), fc.array(element, { maxLength: 12 }), (existing, added) => {
            cases++;
            expect(withAddedElements(SUB_ATTRIBUTES, existing, added)).toEqual(referenceAdd(existing, added));
        }), { numRuns: 500 });
        expect(cases).toBe(500);
    });

    it('keeps one of each of the largest allowed number of values, sent twice in another key order', () => {
        const values = Array.from({ length: MAX_ATTRIBUTE_ELEMENTS }, (_, n) => ({ type: 'work', value: `user${n}@x.example` }));
        const reordered = values.map(({ type, value }) => ({ value, type }));
        expect(withAddedElements(SUB_ATTRIBUTES, [], [...values, ...reordered])).toEqual(values);
    });
});

describe('withoutGivenValues', () => {
    it('equals removing with pairwise comparisons, on random elements and given values', () => {
        let cases = 0;
        let removedSome = 0;
        fc.assert(fc.property(fc.array(element, { maxLength: 12 }), fc.array(given, { maxLength: 6 }), (existing, values) => {
            cases++;
            const expected = referenceRemove(existing, values);
            if (expected.length < existing.length) removedSome++;
            expect(withoutGivenValues(SUB_ATTRIBUTES, existing, values)).toEqual(expected);
        }), { numRuns: 1000 });
        expect(cases).toBe(1000);
        expect(removedSome).toBeGreaterThan(100); // the property is not vacuous: removals happen
    });

    it('removes the largest allowed number of values from the largest allowed attribute', () => {
        const values = Array.from({ length: MAX_ATTRIBUTE_ELEMENTS }, (_, n) => ({ type: 'work', value: `user${n}@x.example` }));
        const even = values.filter((_, n) => n % 2 === 0).map(({ value }) => value.toUpperCase());
        expect(withoutGivenValues(SUB_ATTRIBUTES, values, even)).toEqual(values.filter((_, n) => n % 2 === 1));
    });
});

describe('withSinglePrimary and canonicalForm', () => {
    it('lets the newly written primary win', () => {
        const old = { value: 'a', primary: true };
        const fresh = { value: 'b', primary: true };
        expect(withSinglePrimary([old], [old, fresh])).toEqual([{ value: 'a', primary: false }, fresh]);
    });

    it('gives equal forms to values equal as JSON, whatever their key order', () => {
        expect(canonicalForm({ b: [1, { d: 2, c: 3 }], a: 'x' })).toBe(canonicalForm({ a: 'x', b: [1, { c: 3, d: 2 }] }));
        expect(canonicalForm({ a: [1, 2] })).not.toBe(canonicalForm({ a: [2, 1] }));
    });
});
