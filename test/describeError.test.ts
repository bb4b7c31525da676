/** The one description of a caught error for logs, and the one reader of an SDK error's HTTP status. */
import { describe, expect, it } from 'vitest';
import { describeError } from '../shared/describeError';
import { statusCodeOf } from '../shared/statusCodeOf';

class RestError extends Error {
    override name = 'RestError';
    constructor(message: string, readonly statusCode?: number, readonly code?: string) {
        super(message);
    }
}

describe('describeError', () => {
    it('names the error, its status and code, never its message', () => {
        const error = new RestError('token=secret-value in a response body', 503, 'ServiceUnavailable');
        expect(describeError(error)).toBe('RestError status=503 code=ServiceUnavailable');
        expect(describeError(new TypeError('userName alice@contoso.com'))).toBe('TypeError');
        expect(describeError('a thrown string')).toBe('string');
        expect(describeError(undefined)).toBe('undefined');
    });

    it('adds the first stack frames when asked, still without the message', () => {
        const error = new TypeError('userName alice@contoso.com');
        const lines = describeError(error, { stackFrames: 3 }).split('\n');
        expect(lines[0]).toBe('TypeError');
        expect(lines.length).toBe(4);
        for (const frame of lines.slice(1)) expect(frame.trim()).toMatch(/^at /);
        expect(lines.join('\n')).not.toContain('alice');
    });
});

describe('statusCodeOf', () => {
    it('reads a positive numeric statusCode and nothing else', () => {
        expect(statusCodeOf(new RestError('x', 412))).toBe(412);
        expect(statusCodeOf({ statusCode: 404 })).toBe(404);
        expect(statusCodeOf(new RestError('no response'))).toBeUndefined();
        expect(statusCodeOf({ statusCode: 0 })).toBeUndefined();
        expect(statusCodeOf({ statusCode: '404' })).toBeUndefined();
        expect(statusCodeOf(null)).toBeUndefined();
    });
});
