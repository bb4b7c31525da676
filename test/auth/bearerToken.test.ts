import { describe, expect, it } from 'vitest';
import { bearerToken } from '../../shared/auth/bearerToken';

describe('bearerToken', () => {
    it.each([
        ['Bearer abc.DEF-123_~+/=', 'abc.DEF-123_~+/='],
        ['bearer xyz', 'xyz'],
        ['BEARER xyz', 'xyz'],
        ['  Bearer   xyz  ', 'xyz'],
        ['Bearer\txyz', 'xyz'],
        ['\tBearer xyz\t', 'xyz'],
        ['Bearer abc==', 'abc=='],
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
        // Issue 17: trim() and \s took Unicode spaces for separators, so these reached the verifier as "xyz".
        ['a token followed by a no-break space (U+00A0)', 'Bearer xyz\u00a0'],
        ['a token preceded by a no-break space', 'Bearer\u00a0xyz'],
        ['a header led by a no-break space', '\u00a0Bearer xyz'],
        ['a token followed by an ideographic space (U+3000)', 'Bearer xyz\u3000'],
        ['a token followed by a line separator (U+2028)', 'Bearer xyz\u2028'],
        ['a token followed by a form feed', 'Bearer xyz\f'],
        ['a token followed by a vertical tab', 'Bearer xyz\v'],
        ['a token with a character outside b64token', 'Bearer xy!z'],
        ['a token with a non-ASCII letter', 'Bearer xyzé'],
        ['padding inside the token', 'Bearer xy=z'],
    ])('rejects %s', (_what, header) => {
        expect(bearerToken(header)).toBeUndefined();
    });
});
