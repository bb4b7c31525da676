import { describe, expect, it } from 'vitest';
import { bearerToken } from '../../shared/auth/bearerToken';

describe('bearerToken', () => {
    it.each([
        ['Bearer abc.DEF-123_~+/=', 'abc.DEF-123_~+/='],
        ['bearer xyz', 'xyz'],
        ['BEARER xyz', 'xyz'],
        ['  Bearer   xyz  ', 'xyz'],
        ['Bearer\txyz', 'xyz'],
    ])('reads %j as %j', (header, token) => {
        expect(bearerToken(header)).toBe(token);
    });

    it.each([
        ['a missing header', null],
        ['an empty header', ''],
        ['the scheme alone', 'Bearer'],
        ['the scheme and spaces', 'Bearer    '],
        ['another scheme', 'Basic dXNlcjpwYXNz'],
        ['a bare token', 'xyz'],
        ['a token with a space inside', 'Bearer abc def'],
        ['a scheme glued to the token', 'Bearerxyz'],
    ])('rejects %s', (_what, header) => {
        expect(bearerToken(header)).toBeUndefined();
    });
});
