/** Member ids read from request values and from `value eq "<id>"` filters: one reader for POST, PUT, PATCH and filters. */
import { describe, expect, it } from 'vitest';
import { ScimError } from '../../shared/scim/errors';
import { parseFilter } from '../../shared/scim/filterParser';
import { memberIdCompared, memberIdsOf } from '../../shared/scim/memberIds';

describe('memberIdsOf', () => {
    it.each([
        ['objects', [{ value: 'u1', $ref: 'https://x/Users/u1', display: 'U' }, { value: 'g1' }], ['u1', 'g1']],
        ['a single object', { value: 'u1' }, ['u1']],
        ['bare ids', ['u1', 'u2'], ['u1', 'u2']],
        ['a key in another case', [{ Value: 'u1' }], ['u1']],
        ['repeated ids, kept for the caller to merge', ['u1', { value: 'u1' }], ['u1', 'u1']],
    ])('reads %s', (_what, value, ids) => {
        expect(memberIdsOf(value, 'members')).toEqual(ids);
    });

    it.each([
        ['an empty id', [{ value: '' }]],
        ['a number', [{ value: 7 }]],
        ['an object without value', [{ display: 'x' }]],
        ['null', [null]],
    ])('refuses %s with 400 invalidValue naming the path', (_what, value) => {
        let thrown: unknown;
        try {
            memberIdsOf(value, 'members[value eq "x"]');
        } catch (error) {
            thrown = error;
        }
        expect(thrown).toBeInstanceOf(ScimError);
        expect(thrown).toMatchObject({ status: 400, scimType: 'invalidValue' });
        expect((thrown as ScimError).detail).toContain("'members[value eq \"x\"]'");
    });
});

describe('memberIdCompared', () => {
    it.each([
        ['value eq "u1"', 'u1'],
        ['VALUE eq "u1"', 'u1'],
        ['value eq "U1"', 'U1'],
    ])('reads the id of %s', (filter, id) => {
        expect(memberIdCompared(parseFilter(filter))).toBe(id);
    });

    it.each(['value ne "u1"', 'value eq 5', 'value co "u"', 'display eq "u1"', 'value.sub eq "u1"', 'value eq "u1" or value eq "u2"', 'value pr'])('is undefined for %s', (filter) => {
        expect(memberIdCompared(parseFilter(filter))).toBeUndefined();
    });
});
