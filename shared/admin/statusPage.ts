/**
 * The `/admin` status page as HTML (docs/activity.md): server-rendered from a `StatusSummary`, one inline SVG
 * chart, inline CSS, no script — it works with JavaScript off and fits a phone screen. Every text that comes
 * from data goes through `escapeHtml`; the page is the same size whatever the tenant's size (a week of
 * hours, at most 20 failures).
 */
import { OUTCOMES, type Outcome } from '../activity/requestActivity';
import { formatDuration, type StatusSummary } from '../activity/statusSummary';
import { OPERATIONS } from '../scim/operations';

export interface StatusPageOptions {
    /** Where "Sign out" goes; absent when nobody signed in (the local host). */
    signOutUrl?: string;
    /** Link to the same summary as JSON. */
    jsonUrl: string;
    /** The default tenant's page (a named tenant's page links back to it). */
    defaultPageUrl?: string;
    /** A named tenant's page (the default page's tenant list links to each). */
    tenantPageUrl?: (name: string) => string;
    /** The next page of the tenant list, when there are more tenants than one page. */
    moreTenantsUrl?: string;
}

export const OUTCOME_LABELS: Record<Outcome, string> = {
    ok: 'Succeeded',
    clientError: 'Refused (4xx)',
    unauthorized: 'Token refused (401)',
    unavailable: 'Unavailable (503)',
    serverError: 'Server error (5xx)',
};

const OUTCOME_COLORS: Record<Outcome, string> = {
    ok: '#2e7d32',
    clientError: '#f9a825',
    unauthorized: '#c62828',
    unavailable: '#6a1b9a',
    serverError: '#37474f',
};

export const OPERATION_LABELS: Record<(typeof OPERATIONS)[number], string> = {
    lookup: 'Lookups (filter)',
    read: 'Reads by id',
    list: 'Lists',
    create: 'Creates',
    update: 'Updates',
    disable: 'Disables',
    enable: 'Enables',
    delete: 'Deletes',
    memberAdd: 'Member adds',
    memberRemove: 'Member removes',
    discovery: 'Discovery',
    other: 'Other',
};

export function renderStatusPage(summary: StatusSummary, options: StatusPageOptions): string {
    const now = Date.parse(summary.generatedAt);
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SCIM provisioning status${summary.tenant ? ` · ${escapeHtml(summary.tenant.name)}` : ''}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>Provisioning status${summary.tenant ? ` of tenant <span id="tenant-name">${escapeHtml(summary.tenant.name)}</span>` : ''}</h1>
${summary.tenant && options.defaultPageUrl ? `<p class="meta">Tenant URL <code>/tenants/${escapeHtml(summary.tenant.name)}/scim</code> · <a href="${escapeHtml(options.defaultPageUrl)}">All tenants</a></p>\n` : ''}<p class="meta">As of <time datetime="${summary.generatedAt}">${utc(summary.generatedAt)}</time> · <a href="${escapeHtml(options.jsonUrl)}">JSON</a>${options.signOutUrl ? ` · <a href="${escapeHtml(options.signOutUrl)}">Sign out</a>` : ''}</p>
</header>
${lastContactSection(summary, now)}
${warningsSection(summary)}
${totalsSection(summary)}
${chartSection(summary)}
${countsSection(summary)}
${failuresSection(summary)}
${tokenSection(summary, now)}
${tenantsSection(summary, options)}
</main>
</body>
</html>
`;
}

function lastContactSection(summary: StatusSummary, now: number): string {
    const last = summary.lastContact;
    const body = last
        ? `<p class="big" id="last-contact"><time datetime="${last.at}">${formatDuration(now - Date.parse(last.at))} ago</time></p>
<p>${utc(last.at)} · answered <strong id="last-status">${last.status}</strong>${last.status === 401 ? ' (token refused)' : ''}</p>`
        : '<p class="big" id="last-contact">None recorded in the last 7 days</p>';
    return `<section aria-labelledby="h-contact"><h2 id="h-contact">Last contact from Entra</h2>
${body}
</section>`;
}

function warningsSection(summary: StatusSummary): string {
    if (summary.warnings.length === 0) return '<section aria-label="Warnings"><p class="ok" id="no-warnings">No warnings.</p></section>';
    const items = summary.warnings
        .map((w) => `<li class="warning ${w.level}"><strong>${escapeHtml(w.title)}</strong><br>${escapeHtml(w.text)}</li>`)
        .join('\n');
    return `<section aria-labelledby="h-warnings"><h2 id="h-warnings">Warnings</h2>
<ul class="warnings" id="warnings">
${items}
</ul>
</section>`;
}

function totalsSection(summary: StatusSummary): string {
    const totals = summary.totals;
    if (!totals) return '<section aria-labelledby="h-totals"><h2 id="h-totals">Totals</h2><p>Nothing counted yet.</p></section>';
    const cell = (id: string, label: string, value: number) => `<div><dt>${label}</dt><dd id="${id}">${value.toLocaleString('en-US')}</dd></div>`;
    return `<section aria-labelledby="h-totals"><h2 id="h-totals">Totals</h2>
<dl class="totals">
${cell('total-users', 'Users', totals.users)}
${cell('total-active-users', 'Active users', totals.activeUsers)}
${cell('total-groups', 'Groups', totals.groups)}
</dl>
<p class="note">Counted from the creates, deletes, disables and enables this service committed since <time datetime="${escapeHtml(totals.since)}">${utc(totals.since)}</time>.</p>
</section>`;
}

/** A week of hourly bars, stacked by outcome, with a day grid; bounded at 168 × 5 rectangles. */
function chartSection(summary: StatusSummary): string {
    // Narrow bars and large type: the whole week must read on a phone, where the chart is scaled down.
    const barWidth = 3;
    const plotHeight = 150;
    const left = 34;
    const top = 10;
    const width = left + summary.hours.length * barWidth + 4;
    const height = top + plotHeight + 20;
    const peak = Math.max(1, ...summary.hours.map((h) => h.requests));
    const scale = niceMax(peak);
    const bars: string[] = [];
    const grid: string[] = [];
    summary.hours.forEach((hour, index) => {
        const x = left + index * barWidth;
        if (hour.hour.endsWith('T00')) {
            grid.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${top + plotHeight}" class="grid"/>`);
            grid.push(`<text x="${x + 2}" y="${top + plotHeight + 16}" class="axis">${dayLabel(hour.hour)}</text>`);
        }
        if (hour.requests === 0) return;
        let y = top + plotHeight;
        const rects = OUTCOMES.filter((o) => hour.outcomes[o] > 0).map((outcome) => {
            const h = (hour.outcomes[outcome] / scale) * plotHeight;
            y -= h;
            return `<rect x="${x}" y="${y.toFixed(1)}" width="${barWidth - 1}" height="${h.toFixed(1)}" fill="${OUTCOME_COLORS[outcome]}" class="bar-${outcome}"/>`;
        });
        const parts = OUTCOMES.filter((o) => hour.outcomes[o] > 0).map((o) => `${hour.outcomes[o]} ${OUTCOME_LABELS[o].toLowerCase()}`);
        bars.push(`<g class="hour"><title>${hour.hour}:00 UTC: ${parts.join(', ')}</title>${rects.join('')}</g>`);
    });
    const legend = OUTCOMES.map(
        (o) => `<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${OUTCOME_COLORS[o]}"/></svg> ${OUTCOME_LABELS[o]}</li>`,
    ).join('');
    return `<section aria-labelledby="h-chart"><h2 id="h-chart">Requests per hour, last 7 days</h2>
<figure>
<svg id="chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title" preserveAspectRatio="xMidYMid meet">
<title id="chart-title">Requests per hour over the last 7 days, stacked by outcome; peak ${peak} in one hour</title>
<line x1="${left}" y1="${top}" x2="${width}" y2="${top}" class="grid"/>
<line x1="${left}" y1="${top + plotHeight}" x2="${width}" y2="${top + plotHeight}" class="axis-line"/>
<text x="${left - 4}" y="${top + 12}" class="axis" text-anchor="end">${scale}</text>
<text x="${left - 4}" y="${top + plotHeight}" class="axis" text-anchor="end">0</text>
${grid.join('\n')}
${bars.join('\n')}
</svg>
<figcaption><ul class="legend">${legend}</ul><span class="note">Hours in UTC; days start at the lines.</span></figcaption>
</figure>
</section>`;
}

function countsSection(summary: StatusSummary): string {
    const day = summary.last24Hours;
    const week = summary.last7Days;
    const rows: string[] = [];
    const row = (label: string, a: number, b: number, id: string) => `<tr id="${id}"><th scope="row">${label}</th><td>${a}</td><td>${b}</td></tr>`;
    rows.push(row('All requests', day.requests, week.requests, 'count-requests'));
    for (const operation of OPERATIONS) {
        if (week.operations[operation] > 0) rows.push(row(OPERATION_LABELS[operation], day.operations[operation], week.operations[operation], `count-${operation}`));
    }
    for (const outcome of OUTCOMES) {
        if (outcome === 'ok' || week.outcomes[outcome] === 0) continue;
        rows.push(row(OUTCOME_LABELS[outcome], day.outcomes[outcome], week.outcomes[outcome], `count-${outcome}`));
        if (outcome !== 'clientError') continue;
        for (const kind of Object.keys(week.clientErrors).sort()) {
            rows.push(row(`&nbsp;&nbsp;${escapeHtml(kind)}`, day.clientErrors[kind] ?? 0, week.clientErrors[kind] ?? 0, `count-${kind.replace(/\s+/g, '-')}`));
        }
    }
    return `<section aria-labelledby="h-counts"><h2 id="h-counts">What Entra asked for</h2>
<div class="scroll"><table>
<thead><tr><th scope="col"></th><th scope="col">24 hours</th><th scope="col">7 days</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table></div>
</section>`;
}

function failuresSection(summary: StatusSummary): string {
    if (summary.failures.length === 0) return '<section aria-labelledby="h-failures"><h2 id="h-failures">Recent failures</h2><p id="no-failures">None.</p></section>';
    const items = summary.failures.map((f) => {
        const what = [f.method, f.resourceType].filter(Boolean).join(' ');
        const code = f.scimType ? `${f.status} ${f.scimType}` : String(f.status);
        return `<li class="failure">
<p><time datetime="${f.at}">${utc(f.at)}</time> · <code>${escapeHtml(what)}</code>${f.resourceId ? ` <code class="id">${escapeHtml(f.resourceId)}</code>` : ''} · <strong class="code">${escapeHtml(code)}</strong></p>
<p>${escapeHtml(f.meaning)}</p>
<p class="action"><strong>What to do:</strong> ${escapeHtml(f.action)}</p>
<p class="note">Invocation <code>${escapeHtml(f.invocationId)}</code></p>
</li>`;
    });
    return `<section aria-labelledby="h-failures"><h2 id="h-failures">Recent failures</h2>
<ol class="failures" id="failures">
${items.join('\n')}
</ol>
</section>`;
}

function tokenSection(summary: StatusSummary, now: number): string {
    const token = summary.token;
    let body: string;
    if (token.source === 'setting') body = '<p id="token-source">From the <code>SCIM_TOKEN</code> setting (local development). No rotation.</p>';
    else if (token.source === 'registry') body = '<p id="token-source">Checked against a SHA-256 digest in the tenant\'s registry row (no Key Vault). <code>npm run tenant -- rotate</code> replaces it at once; no grace window.</p>';
    else if (token.source === 'none') body = '<p id="token-source">No token source configured: every request is refused.</p>';
    else if (token.unavailable) body = `<p id="token-source">Key Vault secret <code>${escapeHtml(token.secretName ?? '')}</code>: could not be read (${escapeHtml(token.unavailable)}).</p>`;
    else {
        const current = token.versions?.current;
        const previous = token.versions?.previous;
        const lines = [`<p id="token-source">Key Vault secret <code>${escapeHtml(token.secretName ?? '')}</code>, grace window ${token.graceMinutes ?? 0} min.</p>`];
        lines.push(
            current
                ? `<p id="token-current">Current version <code>${escapeHtml(short(current.version))}</code>, created ${formatDuration(now - toMs(current.createdOn))} ago (${utc(current.createdOn)}).</p>`
                : '<p id="token-current">No usable version.</p>',
        );
        lines.push(
            previous
                ? `<p id="token-previous">Previous version <code>${escapeHtml(short(previous.version))}</code> still accepted for ${formatDuration(toMs(previous.acceptedUntil) - now)} (until ${utc(previous.acceptedUntil)}).</p>`
                : '<p id="token-previous">No previous version accepted.</p>',
        );
        body = lines.join('\n');
    }
    return `<section aria-labelledby="h-token"><h2 id="h-token">Secret Token</h2>
${body}
<p class="note">Versions and dates only; the token itself is never shown.</p>
</section>`;
}

/** The default page's list of named tenants: one page of the registry (bounded), each name linking to its page. */
function tenantsSection(summary: StatusSummary, options: StatusPageOptions): string {
    const tenants = summary.tenants;
    if (!tenants) return '';
    if (tenants.list.length === 0) return '<section aria-labelledby="h-tenants"><h2 id="h-tenants">Tenants</h2><p id="no-tenants">No named tenants (<code>npm run tenant -- add &lt;name&gt;</code>).</p></section>';
    const items = tenants.list.map((tenant) => {
        const name = escapeHtml(tenant.name);
        const link = options.tenantPageUrl && tenant.state !== 'removing' ? `<a href="${escapeHtml(options.tenantPageUrl(tenant.name))}">${name}</a>` : name;
        return `<li class="tenant">${link}${tenant.state === 'active' ? '' : ` <span class="note">(${escapeHtml(tenant.state)})</span>`}</li>`;
    });
    const more = options.moreTenantsUrl ? `\n<p><a id="more-tenants" href="${escapeHtml(options.moreTenantsUrl)}">More tenants</a></p>` : '';
    return `<section aria-labelledby="h-tenants"><h2 id="h-tenants">Tenants</h2>
<p class="note">Each named tenant (<code>/tenants/&lt;name&gt;/scim</code>) has its own records and page.</p>
<ul class="tenants" id="tenants">
${items.join('\n')}
</ul>${more}
</section>`;
}

export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** `2026-03-01 14:05 UTC` */
function utc(time: string | Date): string {
    const iso = new Date(time).toISOString();
    return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function toMs(time: string | Date): number {
    return new Date(time).getTime();
}

function short(version: string): string {
    return version.length > 12 ? `${version.slice(0, 8)}…` : version;
}

/** `Mon 2`: the weekday and the day of the month. */
function dayLabel(hour: string): string {
    const date = new Date(`${hour}:00:00Z`);
    return `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][date.getUTCDay()]} ${date.getUTCDate()}`;
}

/** 1, 2, 5, 10, 20, 50, … at or above `value`. */
function niceMax(value: number): number {
    for (let magnitude = 1; ; magnitude *= 10) {
        for (const step of [1, 2, 5]) if (step * magnitude >= value) return step * magnitude;
    }
}

const STYLE = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.4;color:#1b1b1b;background:#fafafa}
body{margin:0}
main{max-width:60rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.2rem 0}
h2{font-size:1.1rem;margin:1.4rem 0 .4rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.meta,.note{color:#555;font-size:.85rem}
.big{font-size:1.6rem;font-weight:600;margin:.2rem 0}
.ok{color:#2e7d32}
ul.warnings{list-style:none;padding:0;margin:0}
.warning{border-left:.4rem solid #f9a825;background:#fff8e1;padding:.5rem .7rem;margin:.4rem 0}
.warning.critical{border-color:#c62828;background:#ffebee}
.warning.info{border-color:#1565c0;background:#e3f2fd}
dl.totals{display:flex;flex-wrap:wrap;gap:.6rem;margin:0}
dl.totals div{background:#fff;border:1px solid #ddd;border-radius:.4rem;padding:.5rem .9rem;min-width:7rem;flex:1}
dl.totals dt{color:#555;font-size:.85rem}
dl.totals dd{margin:0;font-size:1.6rem;font-weight:600}
figure{margin:0}
svg#chart{width:100%;max-width:44rem;height:auto;background:#fff;border:1px solid #ddd}
.grid{stroke:#ddd;stroke-width:1}
.axis-line{stroke:#888;stroke-width:1}
.axis{font-size:13px;fill:#555}
ul.legend{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.85rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;min-width:18rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:right}
th[scope=row]{text-align:left;font-weight:normal}
ol.failures{padding-left:1.2rem}
li.failure{margin:.2rem 0 .8rem}
li.failure p{margin:.15rem 0}
code{font-size:.85em;word-break:break-all}
.code{color:#c62828}
`;
