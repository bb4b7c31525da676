/**
 * The one fold (shared/scim/caseFold.ts): idempotent, the same in keys, the evaluator and the PATCH engine,
 * and text with a lone surrogate refused with 400 invalidValue.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseFolded, hasLoneSurrogate, requireWellFormedJson, requireWellFormedText } from '../../shared/scim/caseFold';
import { ScimError } from '../../shared/scim/errors';
import { matchesFilter, parseFilter } from '../../shared/scim/filter';
import { applyPatch } from '../../shared/scim/patch';
import { uniqueNameRowKey } from '../../shared/store/keys';

describe('caseFolded', () => {
    it('is idempotent on any well-formed text (full Unicode), with counted cases', () => {
        let runs = 0;
        fc.assert(
            fc.property(fc.string({ unit: 'grapheme', maxLength: 12 }), (text) => {
                runs++;
                expect(caseFolded(caseFolded(text))).toBe(caseFolded(text));
            }),
            { numRuns: 5000 },
        );
        expect(runs).toBe(5000);
    });

    it('makes composed and decomposed, upper and lower case one', () => {
        expect(caseFolded('JOSE\u0301')).toBe(caseFolded('josé'));
        expect(caseFolded('Ω')).toBe(caseFolded('ω')); // OHM SIGN is NFC-equivalent to GREEK CAPITAL OMEGA
        expect(caseFolded('ß')).not.toBe(caseFolded('SS')); // no full case folding: keys of earlier versions stay valid
    });

    it('is what the evaluator, the uniqueness key and the PATCH engine compare with', () => {
        const resource = { userName: 'josé@example.com', emails: [{ type: 'work', value: 'Jos\u00e9@Work.example' }] };
        expect(matchesFilter(parseFilter('userName eq "JOSE\u0301@example.com"'), resource, 'User')).toBe(true);
        expect(matchesFilter(parseFilter('userName sw "jose\u0301"'), resource, 'User')).toBe(true);
        expect(uniqueNameRowKey('User', 'jose\u0301@example.com')).toBe(uniqueNameRowKey('User', 'JOSÉ@EXAMPLE.COM'));
        const patched = applyPatch(
            { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: 'u', ...resource },
            [{ op: 'remove', path: 'emails', value: [{ value: 'JOSE\u0301@work.example' }] }],
            'User',
        );
        expect(patched.resource.emails).toBeUndefined();
    });
});

describe('lone surrogates', () => {
    it.each(['\uD800', 'a\uDC00b', '\uDBFF\uDBFF', 'x\uDFFF'])('are refused in %j with 400 invalidValue', (text) => {
        expect(hasLoneSurrogate(text)).toBe(true);
        let error: unknown;
        try {
            requireWellFormedText(text, 'filter');
        } catch (caught) {
            error = caught;
        }
        expect(error).toBeInstanceOf(ScimError);
        expect((error as ScimError).status).toBe(400);
        expect((error as ScimError).scimType).toBe('invalidValue');
        expect(() => requireWellFormedJson({ a: [{ b: text }] }, 'request body')).toThrow(ScimError);
        expect(() => requireWellFormedJson({ [text]: 1 }, 'request body')).toThrow(ScimError);
        expect(() => parseFilter(`userName eq "${text}"`)).toThrow(/lone surrogate/);
    });

    it('are refused when a filter spells one with an escape, but pairs are fine', () => {
        expect(() => parseFilter('userName eq "\\ud800x"')).toThrow(/lone surrogate/);
        expect(parseFilter('userName eq "\\ud83d\\ude00"')).toEqual({ kind: 'compare', path: { attribute: 'userName' }, op: 'eq', value: '😀' });
        expect(hasLoneSurrogate('😀 é')).toBe(false);
        expect(() => requireWellFormedJson({ deep: [[['😀']]] }, 'request body')).not.toThrow();
    });
});
