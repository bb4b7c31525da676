/**
 * Rendering the status page (shared/admin/statusPage.ts): every text from data is escaped, the page has no
 * script, and its size is bounded whatever the traffic (a week of hours, at most 20 failures).
 */
import { describe, expect, it } from 'vitest';
import { failureOf } from '../../shared/activity/failures';
import { addRequest, emptyHour, hourOf, hoursEndingAt } from '../../shared/activity/hourlyCounts';
import { OUTCOMES } from '../../shared/activity/requestActivity';
import { CHART_HOURS, summarize } from '../../shared/activity/statusSummary';
import { escapeHtml, renderStatusPage } from '../../shared/admin/statusPage';
import { NO_CHANGE } from '../../shared/scim/operations';

const NOW = Date.parse('2026-03-04T12:30:00Z');
const STATUS_OF = { ok: 200, clientError: 404, unauthorized: 401, unavailable: 503, serverError: 500 } as const;

describe('the status page', () => {
    it('escapes every text that comes from data', () => {
        const hostile = '"><script>alert(1)</script>';
        const summary = summarize({
            now: NOW,
            stored: new Map(),
            storedTotals: { users: 1, activeUsers: 1, groups: 0, since: new Date(NOW - 86_400_000).toISOString() },
            storedFailures: [{ ...failureOf({ at: NOW, method: 'GET', operation: 'read', status: 404, invocationId: '<img src=x onerror=alert(2)>', resourceType: 'User', resourceId: hostile })! }],
            unflushed: { hours: new Map(), totals: NO_CHANGE, failures: [] },
            token: { source: 'keyVault', secretName: '<b>scim-token</b>', unavailable: 'RestError <i>status=403</i>' },
            quietPeriodMs: 3_600_000, indexedAttributes: {},
        });
        const html = renderStatusPage(summary, { jsonUrl: '/admin?format=json&x="y"' });
        expect(html).not.toMatch(/<script|<img|<b>|<i>/i);
        expect(html).toContain(escapeHtml(hostile));
        expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
        expect(html).toContain('/admin?format=json&amp;x=&quot;y&quot;');
        expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
    });

    it('stays bounded with traffic in every hour of the week, of every outcome, and more failures than it lists', () => {
        const stored = new Map(hoursEndingAt(NOW, CHART_HOURS).map((hour, index) => {
            const counts = emptyHour();
            for (const outcome of OUTCOMES) {
                for (let i = 0; i <= index % 7; i++) addRequest(counts, { at: Date.parse(`${hour}:10:00Z`), method: 'GET', operation: 'lookup', status: STATUS_OF[outcome], invocationId: 'x' });
            }
            return [hour, counts];
        }));
        const failures = Array.from({ length: 500 }, (_, i) => failureOf({ at: NOW - i * 1000, method: 'PATCH', operation: 'update', status: 400, scimType: 'invalidValue', invocationId: `inv-${i}`, resourceType: 'User', resourceId: 'x'.repeat(300) })!);
        const summary = summarize({ now: NOW, stored, storedTotals: undefined, storedFailures: failures, unflushed: { hours: new Map(), totals: NO_CHANGE, failures: [] }, token: { source: 'setting' }, quietPeriodMs: 3_600_000, indexedAttributes: {} });
        const html = renderStatusPage(summary, { jsonUrl: '/admin?format=json', signOutUrl: '/admin/signout' });
        expect(html.match(/<g class="hour">/g)).toHaveLength(168);
        expect(html.match(/<rect /g)!.length).toBeLessThanOrEqual(168 * OUTCOMES.length + OUTCOMES.length); // bars + legend
        expect(html.match(/<li class="failure">/g)).toHaveLength(20);
        expect(html.length).toBeLessThan(200_000);
        console.log(`status page, a full week of every outcome and 500 failures: ${html.length} characters`);
        expect(html).toContain('href="/admin/signout"');
        expect(html).toContain(`${hourOf(NOW)}:00 UTC`);
    });

    it('says plainly when nothing was recorded', () => {
        const summary = summarize({ now: NOW, stored: new Map(), storedTotals: undefined, storedFailures: [], unflushed: { hours: new Map(), totals: NO_CHANGE, failures: [] }, token: { source: 'none' }, quietPeriodMs: 3_600_000, indexedAttributes: {} });
        const html = renderStatusPage(summary, { jsonUrl: '/admin?format=json' });
        expect(html).toContain('None recorded in the last 7 days');
        expect(html).toContain('Nothing counted yet.');
        expect(html).toContain('<p id="no-failures">None.</p>');
        expect(html).toContain('No token source configured');
        expect(html).not.toContain('Sign out');
    });
});
