/** The SearchRequest body (RFC 7644 §3.4.3) read into the parameters of the equivalent GET. */
import { describe, expect, it } from 'vitest';
import { ScimError } from '../../shared/scim/errors';
import { readSearchRequest, SEARCH_REQUEST_SCHEMA } from '../../shared/scim/searchRequest';

function errorOf(body: unknown): ScimError {
    try {
        readSearchRequest(body);
    } catch (error) {
        if (error instanceof ScimError) return error;
        throw error;
    }
    throw new Error('expected a ScimError');
}

describe('readSearchRequest', () => {
    it('reads the RFC example into GET parameters', () => {
        const query = readSearchRequest({
            schemas: [SEARCH_REQUEST_SCHEMA],
            attributes: ['displayName', 'userName'],
            excludedAttributes: ['members'],
            filter: 'displayName sw "smith"',
            startIndex: 1,
            count: 10,
        });
        expect(Object.fromEntries(query)).toEqual({
            filter: 'displayName sw "smith"',
            attributes: 'displayName,userName',
            excludedAttributes: 'members',
            startIndex: '1',
            count: '10',
        });
    });

    it('matches member names in any case, accepts comma-separated lists, ignores unknown members', () => {
        const query = readSearchRequest({ SCHEMAS: [SEARCH_REQUEST_SCHEMA.toUpperCase()], Filter: 'userName eq "a"', attributes: 'userName, emails', extra: 1 });
        expect(Object.fromEntries(query)).toEqual({ filter: 'userName eq "a"', attributes: 'userName, emails' });
        expect([...readSearchRequest({ schemas: [SEARCH_REQUEST_SCHEMA], filter: null })]).toEqual([]);
    });

    it('refuses what is not a SearchRequest with 400 invalidSyntax, wrong member types with invalidValue', () => {
        expect(errorOf([])).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
        expect(errorOf({ filter: 'userName eq "a"' })).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
        expect(errorOf({ schemas: [SEARCH_REQUEST_SCHEMA], filter: 5 })).toMatchObject({ status: 400, scimType: 'invalidValue' });
        expect(errorOf({ schemas: [SEARCH_REQUEST_SCHEMA], attributes: [1] })).toMatchObject({ status: 400, scimType: 'invalidValue' });
        expect(errorOf({ schemas: [SEARCH_REQUEST_SCHEMA], count: true })).toMatchObject({ status: 400, scimType: 'invalidValue' });
    });
});
