/** docs/limits.md states the limits the code enforces: each row's number is its constant's value. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, MAX_OBJECT_MEMBERS } from '../../shared/http/scimEndpoint';
import { MAX_LOG_LINE_BYTES, MAX_LOGGED_NAMES } from '../../shared/http/summaryLine';
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, MAX_SCAN_RESOURCES } from '../../shared/scim/filter';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../shared/scim/listResponse';
import { MAX_ATTRIBUTE_ELEMENTS } from '../../shared/scim/multiValuedElements';
import { MAX_PATCH_OPERATIONS } from '../../shared/scim/patch';
import { MAX_REQUEST_BODY_BYTES } from '../../shared/scim/request';
import { CURSOR_SCAN_WINDOW, MAX_COUNTED_RESOURCES, MAX_LISTED_REFERENCES, MAX_MEMBER_IDS_PER_REQUEST } from '../../shared/scim/resourceEndpoint';
import { MAX_NAMED_UNKNOWN_IDS } from '../../shared/store/MembershipEdges';

const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'limits.md'), 'utf8');

const LIMITS: [string, number[]][] = [
    ['MAX_REQUEST_BODY_BYTES', [MAX_REQUEST_BODY_BYTES]],
    ['MAX_JSON_DEPTH', [MAX_JSON_DEPTH]],
    ['MAX_OBJECT_MEMBERS', [MAX_OBJECT_MEMBERS]],
    ['MAX_FILTER_LENGTH', [MAX_FILTER_LENGTH]],
    ['MAX_FILTER_DEPTH', [MAX_FILTER_DEPTH]],
    ['MAX_PATCH_OPERATIONS', [MAX_PATCH_OPERATIONS]],
    ['MAX_ATTRIBUTE_ELEMENTS', [MAX_ATTRIBUTE_ELEMENTS]],
    ['MAX_MEMBER_IDS_PER_REQUEST', [MAX_MEMBER_IDS_PER_REQUEST]],
    ['MAX_NAMED_UNKNOWN_IDS', [MAX_NAMED_UNKNOWN_IDS]],
    ['`DEFAULT_PAGE_SIZE`, `MAX_PAGE_SIZE`', [DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE]],
    ['MAX_COUNTED_RESOURCES', [MAX_COUNTED_RESOURCES]],
    ['MAX_SCAN_RESOURCES', [MAX_SCAN_RESOURCES]],
    ['CURSOR_SCAN_WINDOW', [CURSOR_SCAN_WINDOW]],
    ['MAX_LISTED_REFERENCES', [MAX_LISTED_REFERENCES]],
    ['MAX_LOGGED_NAMES', [MAX_LOGGED_NAMES]],
    ['MAX_LOG_LINE_BYTES', [MAX_LOG_LINE_BYTES]],
];

describe('docs/limits.md', () => {
    it.each(LIMITS)('states %s as the code has it', (constant, values) => {
        const row = doc.split('\n').find((line) => line.startsWith('|') && line.includes(constant));
        expect(row, `a row naming ${constant}`).toBeDefined();
        const limit = row!.split('|')[2]!;
        for (const value of values) expect(limit).toContain(value.toLocaleString('en-US'));
    });
});
