/**
 * What the status page and `npm run activity` show (docs/activity.md), computed from the stored activity,
 * this process's unflushed counts and the token status. Pure, and bounded: a fixed window of hours and a
 * fixed number of failures, whatever the size of the tenant or the traffic.
 */
import type { TokenStatusReport } from '../auth/tokenStatusReader';
import type { StoredTotals } from './ActivityStore';
import { meaningOf, type FailureMeaning, type FailureRecord, type IndexedAttributes } from './failures';
import { emptyHour, hoursEndingAt, mergeHours, type HourCounts, type HourKey } from './hourlyCounts';
import { OPERATIONS, type Operation } from '../scim/operations';
import { addTotals, OUTCOMES, type Outcome } from './requestActivity';
import type { UnflushedActivity } from './ActivityRecorder';

/** The chart's window: a week of hours. */
export const CHART_HOURS = 7 * 24;
/** Failures listed. */
export const LISTED_FAILURES = 20;

export interface Warning {
    level: 'critical' | 'warning' | 'info';
    title: string;
    text: string;
}

export interface PeriodCounts {
    requests: number;
    operations: Record<Operation, number>;
    outcomes: Record<Outcome, number>;
    clientErrors: Record<string, number>;
}

/** A named tenant as its page and the default page's list show it (docs/activity.md, "Tenants"). */
export interface TenantListing {
    name: string;
    state: 'active' | 'disabled' | 'removing';
}

export interface StatusSummary {
    generatedAt: string;
    /** A named tenant's page: which tenant. Absent on the default tenant's page. */
    tenant?: TenantListing;
    /** The default tenant's page: the named tenants, one page of the registry in name order; `nextAfter` continues it. */
    tenants?: { list: TenantListing[]; nextAfter?: string };
    /** Entra's latest request, if any was recorded in the window. */
    lastContact?: { at: string; status: number };
    warnings: Warning[];
    /** Counted from committed creates, deletes and (de)activations since `since` (docs/activity.md, "Totals"). */
    totals?: StoredTotals;
    /** One entry per hour of the window, oldest first. */
    hours: { hour: HourKey; requests: number; outcomes: Record<Outcome, number> }[];
    last24Hours: PeriodCounts;
    last7Days: PeriodCounts;
    failures: (FailureRecord & FailureMeaning)[];
    token: TokenStatusReport;
}

export interface SummaryInput {
    now: number;
    /** Stored hours of the window. */
    stored: Map<HourKey, HourCounts>;
    storedTotals: StoredTotals | undefined;
    storedFailures: FailureRecord[];
    /** This process's counts not yet in storage. */
    unflushed: UnflushedActivity;
    token: TokenStatusReport;
    /** No request for longer than this is a warning. */
    quietPeriodMs: number;
    /** The app's index configuration, which a tooMany failure's meaning names. */
    indexedAttributes: IndexedAttributes;
    /** A named tenant's summary (its warnings name its own commands). */
    tenant?: TenantListing;
}

export function summarize(input: SummaryInput): StatusSummary {
    const window = hoursEndingAt(input.now, CHART_HOURS);
    const byHour = window.map((hour) => {
        const stored = input.stored.get(hour);
        const unflushed = input.unflushed.hours.get(hour);
        return { hour, counts: mergeHours(stored ?? emptyHour(), unflushed ?? emptyHour()) };
    });

    let lastContact: StatusSummary['lastContact'];
    for (const { counts } of byHour) {
        if (counts.lastAt !== undefined && counts.lastStatus !== undefined && (!lastContact || counts.lastAt > lastContact.at)) {
            lastContact = { at: counts.lastAt, status: counts.lastStatus };
        }
    }

    const summary: StatusSummary = {
        generatedAt: new Date(input.now).toISOString(),
        warnings: [],
        hours: byHour.map(({ hour, counts }) => ({ hour, requests: counts.requests, outcomes: fullRecord(OUTCOMES, counts.outcomes) })),
        last24Hours: periodCounts(byHour.slice(-24).map((h) => h.counts)),
        last7Days: periodCounts(byHour.map((h) => h.counts)),
        failures: newestFailures([...input.unflushed.failures, ...input.storedFailures]).map((failure) => ({ ...failure, ...tenantMeaningOf(failure, input) })),
        token: input.token,
    };
    if (lastContact) summary.lastContact = lastContact;
    if (input.tenant) summary.tenant = input.tenant;
    if (input.storedTotals || input.unflushed.totals.users || input.unflushed.totals.groups || input.unflushed.totals.activeUsers) {
        const stored = input.storedTotals ?? { users: 0, activeUsers: 0, groups: 0, since: summary.generatedAt };
        summary.totals = { ...addTotals(stored, input.unflushed.totals), since: stored.since };
    }
    summary.warnings = warningsOf(summary, input);
    return summary;
}

function warningsOf(summary: StatusSummary, input: SummaryInput): Warning[] {
    const warnings: Warning[] = [];
    const tenant = input.tenant;
    if (tenant?.state === 'disabled') {
        warnings.push({
            level: 'critical',
            title: 'This tenant is disabled',
            text: `Its Secret Token is refused on every request; its data is kept. \`npm run tenant -- enable ${tenant.name}\` accepts it again.`,
        });
    }
    const last = summary.lastContact;
    if (!last) {
        warnings.push({
            level: 'warning',
            title: 'No request from Entra in the last 7 days',
            text: 'Either provisioning is not started, nothing changed in scope, or Entra cannot reach this endpoint. In Entra: Provisioning → check the status, then Provision on demand for one user.',
        });
    } else {
        if (last.status === 401) {
            warnings.push({
                level: 'critical',
                title: 'Entra\'s last request was refused (401)',
                text: 'The Secret Token in Entra is not one the app accepts. Paste the current token into Entra (Provisioning → Admin Credentials) and Test Connection: repeated 401s quarantine the job.',
            });
        }
        const quietMs = input.now - Date.parse(last.at);
        if (quietMs > input.quietPeriodMs) {
            warnings.push({
                level: 'warning',
                title: `No request from Entra for ${formatDuration(quietMs)}`,
                text: `Longer than the quiet period (${formatDuration(input.quietPeriodMs)}). Entra sends nothing when nothing changed, so this can be normal; if users were changed in Entra since, check the provisioning job (quarantine, stopped, scope).`,
            });
        }
    }
    const token = input.token;
    if (token.source === 'none') {
        const why = tenant ? 'The tenant\'s registry row names no token' : 'Neither KEY_VAULT_URL nor SCIM_TOKEN is set';
        warnings.push({ level: 'critical', title: 'No token source', text: `${why}: every request is refused.` });
    } else if (token.unavailable !== undefined) {
        warnings.push({ level: 'warning', title: 'Key Vault could not be read', text: `Listing the token versions failed (${token.unavailable}). Requests still succeed while the app has the token cached.` });
    } else if (token.source === 'keyVault' && !token.versions?.current) {
        const rotate = tenant ? `npm run tenant -- rotate ${tenant.name}` : 'npm run token -- rotate';
        warnings.push({ level: 'critical', title: 'No usable token version', text: `The Key Vault secret has no enabled version: every request is refused. Run \`${rotate}\`.` });
    } else if (token.versions?.previous) {
        warnings.push({
            level: 'info',
            title: 'A token rotation is in its grace window',
            text: `The previous token is accepted until ${token.versions.previous.acceptedUntil.toISOString()}. Paste the current token into Entra before then.`,
        });
    }
    return warnings;
}

/** A failure's meaning; on a named tenant's page the two that name a command or a URL name the tenant's own. */
function tenantMeaningOf(failure: FailureRecord, input: SummaryInput): FailureMeaning {
    const meaning = meaningOf(failure, input.indexedAttributes);
    const tenant = input.tenant?.name;
    if (tenant === undefined) return meaning;
    if (failure.status === 401) {
        return { ...meaning, action: `Run \`npm run tenant -- rotate ${tenant}\` (a tenant's token is shown only once), paste the new token into this customer's Entra (Provisioning → Admin Credentials), then Test Connection. Repeated 401s quarantine the provisioning job.` };
    }
    if (failure.status === 404 && failure.resourceType === undefined) {
        return { ...meaning, action: `Check the Tenant URL in Entra (Provisioning → Admin Credentials): it must be https://<app>/tenants/${tenant}/scim, with nothing after /scim.` };
    }
    return meaning;
}

function periodCounts(hours: HourCounts[]): PeriodCounts {
    const total = hours.reduce(mergeHours, emptyHour());
    return {
        requests: total.requests,
        operations: fullRecord(OPERATIONS, total.operations),
        outcomes: fullRecord(OUTCOMES, total.outcomes),
        clientErrors: total.clientErrors,
    };
}

function fullRecord<K extends string>(keys: readonly K[], counts: Partial<Record<K, number>>): Record<K, number> {
    return Object.fromEntries(keys.map((key) => [key, counts[key] ?? 0])) as Record<K, number>;
}

function newestFailures(failures: FailureRecord[]): FailureRecord[] {
    const seen = new Set<string>();
    return failures
        .filter((failure) => {
            const key = `${failure.invocationId}|${failure.at}`;
            if (seen.has(key)) return false;
            seen.add(key);
            return true;
        })
        .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
        .slice(0, LISTED_FAILURES);
}

/** `3 h 20 min`, `2 days 4 h`, `45 s`. */
export function formatDuration(ms: number): string {
    const seconds = Math.max(0, Math.round(ms / 1000));
    if (seconds < 60) return `${seconds} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
    const days = Math.floor(hours / 24);
    return hours % 24 === 0 ? `${days} days` : `${days} days ${hours % 24} h`;
}
