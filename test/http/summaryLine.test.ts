import { describe, expect, it } from 'vitest';
import { attributeNameOf, MAX_LOG_LINE_BYTES, MAX_LOGGED_NAMES, NOT_A_NAME, summaryLine, SUMMARY_PREFIX } from '../../shared/http/summaryLine';

const BASE = { invocationId: '6f1c0000-0000-4000-8000-000000000000', method: 'PATCH', resourceType: 'User', status: 200, storageRequests: 2, durationMs: 41 };

function parsed(line: string): Record<string, unknown> {
    expect(line.startsWith(SUMMARY_PREFIX)).toBe(true);
    return JSON.parse(line.slice(SUMMARY_PREFIX.length)) as Record<string, unknown>;
}

describe('attributeNameOf', () => {
    it.each([
        ['someUnknownAttribute', 'someUnknownAttribute'],
        ['name.nickName', 'name.nickName'],
        ['secondaryEmails[value eq "bob.private@example.com"].value', 'secondaryEmails.value'],
        ['emails[type eq "work" and value co "]"].display', 'emails.display'],
        ['emails[value eq "a\\"]b"]', 'emails'],
        ['urn:ietf:params:scim:schemas:extension:alvao_tPersonCust:2.0:User:costCenter', 'urn:ietf:params:scim:schemas:extension:alvao_tPersonCust:2.0:User:costCenter'],
        ['manager.$ref', 'manager.$ref'],
        // Not names: keys that are values, unclosed filters, junk.
        ['bob.private@example.com', NOT_A_NAME],
        ['emails[value eq "bob@example.com"', 'emails'],
        ['a b', NOT_A_NAME],
        ['', NOT_A_NAME],
        ['x.y.z', NOT_A_NAME],
    ])('%j → %j', (path, name) => {
        expect(attributeNameOf(path)).toBe(name);
    });

    it('cuts a very long name', () => {
        expect(attributeNameOf('a'.repeat(10_000)).length).toBeLessThanOrEqual(129);
    });
});

describe('summaryLine', () => {
    it('lists distinct names, at most MAX_LOGGED_NAMES, and counts the rest', () => {
        const ignoredPaths = Array.from({ length: 40_000 }, (_, n) => `unknownKey${n}`);
        const line = summaryLine({ ...BASE, ignoredPaths });
        const fields = parsed(line);
        expect(fields.ignoredPaths).toHaveLength(MAX_LOGGED_NAMES);
        expect(fields.ignoredPathsOmitted).toBe(40_000 - MAX_LOGGED_NAMES);
        expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
    });

    it('stays within MAX_LOG_LINE_BYTES with the longest names and id allowed', () => {
        const ignoredPaths = Array.from({ length: 100 }, (_, n) => `a${n}${'b'.repeat(5000)}`);
        const line = summaryLine({ ...BASE, resourceId: 'i'.repeat(100_000), ignoredPaths });
        expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LOG_LINE_BYTES);
        expect(parsed(line).ignoredPathsOmitted).toBeGreaterThan(0);
    });

    it('writes no value a filter or a key carried, and nothing for no ignored paths', () => {
        const line = summaryLine({ ...BASE, ignoredPaths: ['secondaryEmails[value eq "bob.private@example.com"].value', 'bob.private@example.com'] });
        expect(line).not.toContain('bob.private');
        expect(parsed(line).ignoredPaths).toEqual(['secondaryEmails.value', NOT_A_NAME]);
        expect(parsed(summaryLine({ ...BASE, ignoredPaths: [] }))).toEqual(BASE);
    });
});
