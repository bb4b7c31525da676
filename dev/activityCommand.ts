/**
 * `npm run activity`: the status page's summary in a terminal (docs/activity.md).
 *
 *   npm run activity                                   the app `npm start` serves (http://127.0.0.1:7071/admin)
 *   npm run activity -- --url https://<app>/admin      a deployed app, signed in with the admin's `az login`
 *   npm run activity -- --json                         the summary as JSON, as the page's `?format=json` gives it
 *   npm run activity -- --tenant <name>                a named tenant's summary (its page, `/admin?tenant=<name>`)
 *
 * It asks `/admin` for JSON. A deployed app answers 401 with the scope of its admin app registration
 * (`WWW-Authenticate: Bearer scope="api://<client id>/.default"`); the command then asks Azure CLI for an access
 * token for that scope and asks again. The app checks it like a browser sign-in (shared/auth/adminSignIn.ts).
 */
import { OUTCOMES } from '../shared/activity/requestActivity';
import { formatDuration, type StatusSummary } from '../shared/activity/statusSummary';
import { OPERATION_LABELS, OUTCOME_LABELS } from '../shared/admin/statusPage';
import { OPERATIONS } from '../shared/scim/operations';
import { isTenantName } from '../shared/store/keys';
import { splitCommandLine } from './commandLine';

export interface ActivityCommandIo {
    out: (line: string) => void;
    err: (line: string) => void;
    /** An access token for `scope` from the admin's own sign-in (Azure CLI); only called for a deployed app. */
    accessToken: (scope: string) => Promise<string>;
    env: Readonly<Record<string, string | undefined>>;
}

const USAGE = 'Usage: npm run activity -- [--url <https://app/admin>] [--tenant <name>] [--json]';

export async function runActivityCommand(argv: readonly string[], io: ActivityCommandIo): Promise<number> {
    const options = parseArguments(argv);
    if (typeof options === 'string') {
        io.err(options);
        io.err(USAGE);
        return 2;
    }
    const url = new URL(options.url ?? `http://127.0.0.1:${io.env.PORT || 7071}/admin`);
    if (options.tenant !== undefined) url.searchParams.set('tenant', options.tenant);
    url.searchParams.set('format', 'json');
    let response: Response;
    try {
        response = await fetch(url, { headers: { Accept: 'application/json' } });
        if (response.status === 401) {
            const scope = /scope="([^"]+)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1];
            if (!scope) {
                io.err('The app asks for a sign-in but does not say for which app registration.');
                return 1;
            }
            const token = await io.accessToken(scope);
            response = await fetch(url, { headers: { Accept: 'application/json', Authorization: `Bearer ${token}` } });
        }
    } catch (error) {
        io.err(`Could not reach ${url.origin}: ${error instanceof Error ? error.message : String(error)}`);
        if (!options.url) io.err('Is `npm start` running? Or pass --url https://<app>/admin.');
        return 1;
    }
    if (!response.ok) {
        const body = (await response.json().catch(() => undefined)) as { error?: string } | undefined;
        io.err(`${url.origin} answered ${response.status}${body?.error ? `: ${body.error}` : ''}`);
        if (response.status === 404 && options.tenant !== undefined) io.err(`No tenant named '${options.tenant}' (npm run tenant -- list).`);
        if (response.status === 403) io.err('Your account must be listed in SCIM_ADMIN_PRINCIPAL_IDS (docs/operate.md, "Status page").');
        return 1;
    }
    const summary = (await response.json()) as StatusSummary;
    if (options.json) io.out(JSON.stringify(summary, null, 2));
    else for (const line of renderStatusText(summary)) io.out(line);
    return 0;
}

/** The summary as lines of text: the same sections as the page, the chart as one row of bars per day. */
export function renderStatusText(summary: StatusSummary): string[] {
    const now = Date.parse(summary.generatedAt);
    const whose = summary.tenant ? ` of tenant ${summary.tenant.name}` : '';
    const lines: string[] = [`Provisioning status${whose} as of ${utc(summary.generatedAt)}`, ''];
    const last = summary.lastContact;
    lines.push(last
        ? `Last contact from Entra: ${formatDuration(now - Date.parse(last.at))} ago (${utc(last.at)}), answered ${last.status}`
        : 'Last contact from Entra: none recorded in the last 7 days');
    if (summary.warnings.length > 0) {
        lines.push('', 'Warnings:');
        for (const w of summary.warnings) lines.push(`  ${w.level === 'critical' ? '!!' : w.level === 'warning' ? ' !' : ' i'} ${w.title}`, `     ${w.text}`);
    }
    lines.push('');
    lines.push(summary.totals
        ? `Totals: ${plural(summary.totals.users, 'user')} (${summary.totals.activeUsers} active), ${plural(summary.totals.groups, 'group')}; counted since ${utc(summary.totals.since)}`
        : 'Totals: nothing counted yet');

    lines.push('', 'Requests per hour, last 7 days (UTC, one character per hour; x = an hour with failures):');
    const peak = Math.max(1, ...summary.hours.map((h) => h.requests));
    for (let day = 0; day < summary.hours.length; day += 24) {
        const hours = summary.hours.slice(day, day + 24);
        const bars = hours.map((h) => (h.requests === 0 ? '·' : h.requests - h.outcomes.ok > 0 ? 'x' : BARS[Math.min(BARS.length - 1, Math.floor((h.requests / peak) * BARS.length))]!));
        const requests = hours.reduce((sum, h) => sum + h.requests, 0);
        lines.push(`  ${hours[0]!.hour.slice(0, 10)} ${hours[0]!.hour.slice(11)}h  ${bars.join('')}  ${requests}`);
    }

    lines.push('', `${'What Entra asked for'.padEnd(28)}${'24 h'.padStart(8)}${'7 days'.padStart(8)}`);
    const row = (label: string, a: number, b: number) => lines.push(`  ${label.padEnd(26)}${String(a).padStart(8)}${String(b).padStart(8)}`);
    row('All requests', summary.last24Hours.requests, summary.last7Days.requests);
    for (const operation of OPERATIONS) {
        if (summary.last7Days.operations[operation] > 0) row(OPERATION_LABELS[operation], summary.last24Hours.operations[operation], summary.last7Days.operations[operation]);
    }
    for (const outcome of OUTCOMES) {
        if (outcome === 'ok' || summary.last7Days.outcomes[outcome] === 0) continue;
        row(OUTCOME_LABELS[outcome], summary.last24Hours.outcomes[outcome], summary.last7Days.outcomes[outcome]);
        if (outcome !== 'clientError') continue;
        for (const kind of Object.keys(summary.last7Days.clientErrors).sort()) {
            row(`  ${kind}`, summary.last24Hours.clientErrors[kind] ?? 0, summary.last7Days.clientErrors[kind] ?? 0);
        }
    }

    lines.push('', summary.failures.length > 0 ? 'Recent failures, newest first:' : 'Recent failures: none');
    for (const f of summary.failures) {
        const what = [f.method, f.resourceType, f.resourceId].filter(Boolean).join(' ');
        lines.push(`  ${utc(f.at)}  ${what}  ${f.scimType ? `${f.status} ${f.scimType}` : f.status}  (invocation ${f.invocationId})`);
        lines.push(`     ${f.meaning}`, `     What to do: ${f.action}`);
    }

    lines.push('', `Secret Token: ${tokenLine(summary, now)}`);
    const tenants = summary.tenants;
    if (tenants && tenants.list.length > 0) {
        const names = tenants.list.map((t) => (t.state === 'active' ? t.name : `${t.name} (${t.state})`));
        lines.push('', `Tenants (--tenant <name> for one): ${names.join(', ')}${tenants.nextAfter !== undefined ? `, … (more after ${tenants.nextAfter}: npm run tenant -- list)` : ''}`);
    }
    return lines;
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

function tokenLine(summary: StatusSummary, now: number): string {
    const token = summary.token;
    if (token.source === 'setting') return 'the SCIM_TOKEN setting (local development)';
    if (token.source === 'none') return 'no token source: every request is refused';
    if (token.source === 'registry') return 'a SHA-256 digest in the tenant\'s registry row (no Key Vault; no grace window)';
    if (token.unavailable) return `Key Vault secret ${token.secretName} could not be read (${token.unavailable})`;
    const current = token.versions?.current;
    if (!current) return `Key Vault secret ${token.secretName} has no usable version`;
    let line = `Key Vault secret ${token.secretName}, current version created ${formatDuration(now - new Date(current.createdOn).getTime())} ago`;
    const previous = token.versions?.previous;
    if (previous) line += `; previous version accepted for ${formatDuration(new Date(previous.acceptedUntil).getTime() - now)} more`;
    return line;
}

function plural(count: number, noun: string): string {
    return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function utc(time: string): string {
    const iso = new Date(time).toISOString();
    return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function parseArguments(argv: readonly string[]): { url?: string; tenant?: string; json: boolean } | string {
    const line = splitCommandLine(argv, ['url', 'tenant'], ['json']);
    if (typeof line === 'string') return line;
    const { positional, options, switches } = line;
    if (positional.length > 0) return `Unexpected argument '${positional[0]}'.`;
    const url = options.url;
    if (url !== undefined && !/^https?:\/\//.test(url)) return `Not a URL: ${url}`;
    const tenant = options.tenant;
    if (tenant !== undefined && !isTenantName(tenant)) return `Invalid tenant name '${tenant}': use 3–40 lower-case letters, digits and hyphens.`;
    return { json: switches.has('json'), ...(url !== undefined ? { url } : {}), ...(tenant !== undefined ? { tenant } : {}) };
}

async function main(): Promise<void> {
    process.exitCode = await runActivityCommand(process.argv.slice(2), {
        out: (line) => console.log(line),
        err: (line) => console.error(line),
        env: process.env,
        // The admin's own Azure CLI sign-in; never built unless a deployed app asks for a token.
        accessToken: async (scope) => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { AzureCliCredential } = require('@azure/identity') as typeof import('@azure/identity');
            const token = await new AzureCliCredential().getToken(scope);
            if (!token) throw new Error('Azure CLI gave no token: run `az login`');
            return token.token;
        },
    });
}

if (require.main === module) {
    main().catch((error: unknown) => {
        console.error(error instanceof Error ? error.message : String(error));
        process.exitCode = 1;
    });
}
