/**
 * The pure part of the activity records (docs/activity.md): how a request is classified, how hours add up,
 * what comes back from storage, what each failure means, and the summary's warnings and totals.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failureFromJson, failureOf, indexedAttributesOf, meaningOf } from '../../shared/activity/failures';
import { addRequest, emptyHour, hourFromJson, hourOf, hoursEndingAt, mergeHours, type HourCounts } from '../../shared/activity/hourlyCounts';
import { operationOf, outcomeOf, type RequestActivity } from '../../shared/activity/requestActivity';
import { CHART_HOURS, formatDuration, summarize, type SummaryInput } from '../../shared/activity/statusSummary';
import { readIndexConfiguration } from '../../shared/scim/attributeIndexes';
import { NO_CHANGE, OPERATIONS, totalsOfCreate, totalsOfDelete, totalsOfUpdate } from '../../shared/scim/operations';

const NOW = Date.parse('2026-03-04T12:30:00Z');

function activity(overrides: Partial<RequestActivity> = {}): RequestActivity {
    return { at: NOW, method: 'GET', operation: 'lookup', status: 200, invocationId: 'inv-1', resourceType: 'User', ...overrides };
}

describe('a request is classified', () => {
    it('by outcome: 401, 503 and other 5xx apart from the rest of 4xx', () => {
        expect([200, 201, 204, 304, 400, 404, 409, 412, 401, 503, 500, 502].map(outcomeOf)).toEqual([
            'ok', 'ok', 'ok', 'ok', 'clientError', 'clientError', 'clientError', 'clientError', 'unauthorized', 'unavailable', 'serverError', 'serverError',
        ]);
    });

    it('by operation: the handler\'s note first, else method and URL', () => {
        const user = { resourceType: 'User', hasId: false, hasFilter: false };
        expect(operationOf({ ...user, method: 'GET', hasFilter: true })).toBe('lookup');
        expect(operationOf({ ...user, method: 'GET', hasId: true })).toBe('read');
        expect(operationOf({ ...user, method: 'GET' })).toBe('list');
        expect(operationOf({ ...user, method: 'POST' })).toBe('create');
        expect(operationOf({ ...user, method: 'PATCH', hasId: true })).toBe('update');
        expect(operationOf({ ...user, method: 'PATCH', hasId: true, noted: 'disable' })).toBe('disable');
        expect(operationOf({ ...user, method: 'DELETE', hasId: true })).toBe('delete');
        expect(operationOf({ method: 'GET', hasId: false, hasFilter: false })).toBe('discovery');
        expect(operationOf({ method: 'POST', hasId: false, hasFilter: false })).toBe('other');
    });

    it('into totals: creates, deletes and active flips; a user without `active` is active', () => {
        expect(totalsOfCreate('User', { userName: 'a' })).toEqual({ users: 1, activeUsers: 1, groups: 0 });
        expect(totalsOfCreate('User', { userName: 'a', active: false })).toEqual({ users: 1, activeUsers: 0, groups: 0 });
        expect(totalsOfCreate('Group', { displayName: 'g' })).toEqual({ users: 0, activeUsers: 0, groups: 1 });
        expect(totalsOfDelete('User', { active: true })).toEqual({ users: -1, activeUsers: -1, groups: 0 });
        expect(totalsOfDelete('User', { active: false })).toEqual({ users: -1, activeUsers: 0, groups: 0 });
        expect(totalsOfDelete('Group', {})).toEqual({ users: 0, activeUsers: 0, groups: -1 });
        expect(totalsOfUpdate('User', { active: true }, { active: false })).toEqual({ users: 0, activeUsers: -1, groups: 0 });
        expect(totalsOfUpdate('User', { active: false }, {})).toEqual({ users: 0, activeUsers: 1, groups: 0 });
        expect(totalsOfUpdate('User', { active: true }, { active: true, title: 'x' })).toBe(NO_CHANGE);
    });
});

describe('an hour of counts', () => {
    it('adds requests by operation, outcome and 4xx kind, and keeps the latest request', () => {
        const hour = emptyHour();
        addRequest(hour, activity({ at: NOW + 2000, operation: 'create', status: 409, scimType: 'uniqueness', method: 'POST' }));
        addRequest(hour, activity({ at: NOW + 1000, operation: 'lookup', status: 200 }));
        addRequest(hour, activity({ at: NOW + 3000, operation: 'read', status: 401 }));
        addRequest(hour, activity({ at: NOW + 500, operation: 'read', status: 404 }));
        expect(hour).toEqual({
            requests: 4,
            operations: { create: 1, lookup: 1, read: 2 },
            outcomes: { clientError: 2, ok: 1, unauthorized: 1 },
            clientErrors: { '409 uniqueness': 1, '404': 1 },
            lastAt: new Date(NOW + 3000).toISOString(),
            lastStatus: 401,
        });
    });

    it('merges in any order and grouping to the same counts as adding every request to one hour', () => {
        let cases = 0;
        const request = fc.record({
            offset: fc.integer({ min: 0, max: 3_599_999 }),
            operation: fc.constantFrom(...OPERATIONS),
            status: fc.constantFrom(200, 201, 204, 400, 401, 404, 409, 412, 500, 503),
            scimType: fc.option(fc.constantFrom('uniqueness', 'invalidFilter', 'invalidValue'), { nil: undefined }),
        });
        fc.assert(
            fc.property(fc.array(request, { maxLength: 40 }), fc.integer({ min: 0, max: 40 }), (requests, cut) => {
                cases++;
                const toActivity = (r: (typeof requests)[number]) => activity({ at: NOW + r.offset, operation: r.operation, status: r.status, ...(r.scimType ? { scimType: r.scimType } : {}) });
                const whole = emptyHour();
                requests.forEach((r) => addRequest(whole, toActivity(r)));
                const first = emptyHour();
                const second = emptyHour();
                requests.forEach((r, i) => addRequest(i < cut ? first : second, toActivity(r)));
                const normal = (h: HourCounts) => sortedKeys(h);
                expect(normal(mergeHours(first, second))).toEqual(normal(whole));
                expect(normal(mergeHours(second, first))).toEqual(normal(whole));
                // A stored hour reads back as it was written.
                expect(hourFromJson(JSON.stringify(mergeHours(first, second)))).toEqual(mergeHours(emptyHour(), whole));
            }),
            { numRuns: 200 },
        );
        expect(cases).toBeGreaterThanOrEqual(200);
    });

    it('reads back only what it knows from storage: junk, unknown names and non-numbers are dropped', () => {
        expect(hourFromJson('not json')).toEqual(emptyHour());
        expect(hourFromJson(JSON.stringify({
            requests: 3,
            operations: { create: 2, '<script>': 5, delete: -1, read: 'x' },
            outcomes: { ok: 2, weird: 1 },
            clientErrors: { '409 uniqueness': 1, 'alice@contoso.com': 4, '404': 2 },
            lastAt: 'yesterday',
            lastStatus: 200,
        }))).toEqual({ requests: 3, operations: { create: 2 }, outcomes: { ok: 2 }, clientErrors: { '409 uniqueness': 1, '404': 2 }, lastStatus: 200 });
    });

    it('is keyed by UTC hour; a window of hours ends with the current one', () => {
        expect(hourOf(NOW)).toBe('2026-03-04T12');
        const window = hoursEndingAt(NOW, CHART_HOURS);
        expect(window).toHaveLength(168);
        expect(window[167]).toBe('2026-03-04T12');
        expect(window[0]).toBe('2026-02-25T13');
    });
});

/** The same value with every object's keys in sorted order, so key order does not matter to toEqual's output. */
function sortedKeys(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== 0).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortedKeys(v)]));
}

describe('a failure record', () => {
    it('keeps ids, status and scimType, never a detail; success is no failure', () => {
        expect(failureOf(activity({ status: 200 }))).toBeUndefined();
        const record = failureOf(activity({ status: 409, scimType: 'uniqueness', method: 'POST', operation: 'create', resourceId: 'x'.repeat(300) }));
        expect(record).toEqual({ at: new Date(NOW).toISOString(), method: 'POST', operation: 'create', resourceType: 'User', resourceId: 'x'.repeat(80), status: 409, scimType: 'uniqueness', invocationId: 'inv-1' });
        expect(failureFromJson(JSON.stringify(record))).toEqual(record);
        expect(failureFromJson(JSON.stringify({ ...record, detail: 'alice@contoso.com exists' }))).toEqual(record);
        expect(failureFromJson('{"status":"500"}')).toBeUndefined();
        expect(failureFromJson('[]')).toBeUndefined();
    });

    it('says what it means and what to do for every answer the service gives', () => {
        const cases: [number, string | undefined, RegExp, string?][] = [
            [401, undefined, /token/i],
            [503, undefined, /retries/i],
            [500, undefined, /invocation id/i],
            [409, 'uniqueness', /already exists/i],
            [400, 'invalidFilter', /filter/i],
            [400, 'invalidValue', /mapping/i],
            [400, 'tooMany', /index/i],
            [404, undefined, /does not exist/i],
            [404, undefined, /Tenant URL/, 'none'],
            [412, undefined, /If-Match/],
            [413, undefined, /larger/i],
            [405, undefined, /method/i],
            [400, undefined, /malformed/i],
        ];
        const meanings = new Set<string>();
        for (const [status, scimType, pattern, resourceType = 'User'] of cases) {
            const { meaning, action } = meaningOf({ status, scimType, ...(resourceType === 'none' ? {} : { resourceType }) });
            expect(`${meaning} ${action}`, `${status} ${scimType}`).toMatch(pattern);
            expect(action.length).toBeGreaterThan(20);
            meanings.add(meaning);
        }
        expect(meanings.size).toBe(cases.length);
    });

    it('names, for tooMany, the attributes this app really indexes for that resource type', () => {
        const indexed = indexedAttributesOf(readIndexConfiguration('User:phoneNumbers[type eq "mobile"].value'));
        const forUsers = meaningOf({ status: 400, scimType: 'tooMany', resourceType: 'User' }, indexed).action;
        for (const path of ['userName', 'externalId', 'displayName', 'emails[type eq "work"].value', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber', 'phoneNumbers[type eq "mobile"].value']) {
            expect(forUsers).toContain(path);
        }
        const forGroups = meaningOf({ status: 400, scimType: 'tooMany', resourceType: 'Group' }, indexed).action;
        expect(forGroups).toContain('(displayName, externalId)');
        expect(forGroups).not.toContain('phoneNumbers');
        for (const action of [forUsers, forGroups]) expect(action).toMatch(/SCIM_INDEXED_ATTRIBUTES and run `npm run index -- rebuild <attribute>`/);
        // Without the configuration it names no attribute rather than guessing one.
        expect(meaningOf({ status: 400, scimType: 'tooMany', resourceType: 'User' }).action).not.toContain('userName');
    });
});

describe('the summary', () => {
    const base = (overrides: Partial<SummaryInput> = {}): SummaryInput => ({
        now: NOW,
        stored: new Map(),
        storedTotals: undefined,
        storedFailures: [],
        unflushed: { hours: new Map(), totals: NO_CHANGE, failures: [] },
        token: { source: 'setting' },
        quietPeriodMs: 3_600_000,
        indexedAttributes: {},
        ...overrides,
    });
    const hourWith = (...requests: RequestActivity[]) => {
        const hour = emptyHour();
        requests.forEach((r) => addRequest(hour, r));
        return hour;
    };

    it('adds this process\'s unflushed counts to the stored ones, hour by hour and in the totals', () => {
        const stored = new Map([[hourOf(NOW), hourWith(activity(), activity({ status: 404 }))], [hourOf(NOW - 3 * 86_400_000), hourWith(activity())]]);
        const unflushed = { hours: new Map([[hourOf(NOW), hourWith(activity({ operation: 'create', status: 201, at: NOW + 60_000 }))]]), totals: { users: 1, activeUsers: 1, groups: 0 }, failures: [] };
        const summary = summarize(base({ stored, unflushed, storedTotals: { users: 10, activeUsers: 8, groups: 2, since: '2026-03-01T00:00:00.000Z' } }));
        expect(summary.hours).toHaveLength(168);
        expect(summary.hours[167]).toEqual({ hour: '2026-03-04T12', requests: 3, outcomes: { ok: 2, clientError: 1, unauthorized: 0, unavailable: 0, serverError: 0 } });
        expect(summary.last24Hours.requests).toBe(3);
        expect(summary.last7Days.requests).toBe(4);
        expect(summary.last7Days.operations.create).toBe(1);
        expect(summary.totals).toEqual({ users: 11, activeUsers: 9, groups: 2, since: '2026-03-01T00:00:00.000Z' });
        expect(summary.lastContact).toEqual({ at: new Date(NOW + 60_000).toISOString(), status: 201 });
        expect(summary.warnings).toEqual([]);
    });

    it('warns when the last request was refused, when Entra has been quiet too long, and when nothing came at all', () => {
        const refused = summarize(base({ stored: new Map([[hourOf(NOW), hourWith(activity({ status: 401, at: NOW - 60_000 }))]]) }));
        expect(refused.warnings.map((w) => [w.level, w.title])).toEqual([['critical', 'Entra\'s last request was refused (401)']]);

        const quiet = summarize(base({ stored: new Map([[hourOf(NOW - 5 * 3_600_000), hourWith(activity({ at: NOW - 5 * 3_600_000 }))]]) }));
        expect(quiet.warnings.map((w) => w.title)).toEqual(['No request from Entra for 5 h']);

        expect(summarize(base()).warnings.map((w) => w.title)).toEqual(['No request from Entra in the last 7 days']);
    });

    it('lists at most 20 failures, newest first, once each, with their meaning', () => {
        const failures = Array.from({ length: 30 }, (_, i) => failureOf(activity({ status: 404, at: NOW - i * 1000, invocationId: `inv-${i}` }))!);
        const summary = summarize(base({ storedFailures: failures.slice(0, 25), unflushed: { hours: new Map(), totals: NO_CHANGE, failures: failures.slice(20) } }));
        expect(summary.failures.map((f) => f.invocationId)).toEqual(failures.slice(0, 20).map((f) => f.invocationId));
        expect(summary.failures[0]!.meaning).toMatch(/does not exist/);

        const tooMany = failureOf(activity({ status: 400, scimType: 'tooMany', resourceType: 'Group' }))!;
        const indexedAttributes = indexedAttributesOf(readIndexConfiguration(undefined));
        expect(summarize(base({ storedFailures: [tooMany], indexedAttributes })).failures[0]!.action).toContain('(displayName, externalId)');
    });

    it('reports the token rotation grace window, and a vault without a usable version', () => {
        const graceUntil = new Date(NOW + 30 * 60_000);
        const rotating = summarize(base({ token: { source: 'keyVault', secretName: 'scim-token', graceMinutes: 60, versions: { versionCount: 2, current: { version: 'v2', createdOn: new Date(NOW - 30 * 60_000) }, previous: { version: 'v1', createdOn: new Date(NOW - 86_400_000), acceptedUntil: graceUntil } } } }));
        expect(rotating.warnings.find((w) => w.level === 'info')?.text).toContain(graceUntil.toISOString());
        const empty = summarize(base({ token: { source: 'keyVault', secretName: 'scim-token', versions: { versionCount: 1 } } }));
        expect(empty.warnings.find((w) => w.level === 'critical')?.title).toBe('No usable token version');
    });

    it('formats durations the way an admin reads them', () => {
        expect([45_000, 20 * 60_000, 3 * 3_600_000, 3 * 3_600_000 + 20 * 60_000, 50 * 3_600_000, 72 * 3_600_000].map(formatDuration)).toEqual(['45 s', '20 min', '3 h', '3 h 20 min', '2 days 2 h', '3 days']);
    });
});
