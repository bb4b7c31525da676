/**
 * `/admin`: the provisioning status page (docs/activity.md), and its sign-in (docs/operate.md, "Status page").
 *
 *   GET  /admin              the default tenant's page (HTML), or the same summary as JSON (`?format=json`, or Accept: application/json)
 *   GET  /admin?tenant=<n>   a named tenant's page (docs/activity.md, "Tenants"); an unknown name is a 404 that says nothing more
 *   POST /admin/signin       where Entra posts the ID token after sign-in (OpenID Connect form_post)
 *   GET  /admin/signout      forgets the session
 *
 * Who gets in: through the local host from this machine, anyone (`npm start`); everywhere else an allowed
 * admin signed in with Entra ID (shared/auth/adminSignIn.ts), by session cookie or bearer token, for every tenant's
 * page alike. Rendering costs four storage requests at any tenant size and any number of tenants — hours, totals,
 * failures, plus one page of the tenant list (default page) or the tenant's registry row (a tenant's page) — and
 * a Key Vault version listing at most once a minute per secret.
 */
import type { Cookie, HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import { hoursEndingAt } from '../activity/hourlyCounts';
import { indexedAttributesOf } from '../activity/failures';
import { CHART_HOURS, LISTED_FAILURES, summarize, type StatusSummary, type TenantListing } from '../activity/statusSummary';
import { AdminSignInError, randomValue, type AdminPrincipal, type AdminSignIn } from '../auth/adminSignIn';
import { bearerToken } from '../auth/bearerToken';
import type { App, AppProvider } from '../app';
import type { Settings } from '../config';
import { countStorageRequests } from '../store/requestCounter';
import { isTrustedLocalAdmin } from '../http/localCaller';
import { isTenantName } from '../store/keys';
import type { TenantRecord } from '../store/TenantRegistry';
import type { RouteDefinition } from '../http/scimEndpoint';
import { escapeHtml, renderStatusPage } from './statusPage';

export const SESSION_COOKIE = 'scim_admin';
const SIGN_IN_COOKIE = 'scim_admin_signin';
/** Entra's form post is small (an ID token and a state); anything larger is not one. */
const MAX_FORM_BYTES = 16 * 1024;
/** A sign-in must come back within this time. */
const SIGN_IN_SECONDS = 600;
/** Named tenants listed on the default page; a "more" link continues after the last one. */
export const LISTED_TENANTS = 50;

const SECURITY_HEADERS: Record<string, string> = {
    'Cache-Control': 'no-store',
    // No script at all; inline CSS only; forms may post only back here (sign-in goes by redirect).
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
};

export function adminEndpoint(): RouteDefinition {
    return { name: 'Admin', route: 'admin/{action?}', methods: ['GET', 'HEAD', 'POST'], handlerFor: adminHandler };
}

const adminHandler = (appOf: AppProvider): HttpHandler => async (request, context) => {
    const started = Date.now();
    const { result, requests } = await countStorageRequests(() => handle(appOf, request));
    // One line per view, like `scim request`: no principal, no token, just what it cost.
    context.log(`admin request ${JSON.stringify({ invocationId: context.invocationId, method: request.method, action: request.params.action ?? '', status: result.status, storageRequests: requests.total, durationMs: Date.now() - started })}`);
    return result;
};

async function handle(appOf: AppProvider, request: HttpRequest): Promise<HttpResponseInit> {
    let app: App;
    try {
        app = await appOf();
    } catch {
        return page(503, 'Unavailable', '<p>The app could not start: check its settings and its log.</p>');
    }
    const base = adminBaseUrl(app.settings, request.url);
    const method = request.method.toUpperCase();
    switch (request.params.action ?? '') {
        case 'signin':
            return method === 'POST' ? completeSignIn(request, app.adminSignIn, base) : redirect(base);
        case 'signout':
            return page(200, 'Signed out', `<p>Signed out of the status page.</p><p><a href="${escapeHtml(base)}">Sign in again</a></p>`, [expiredCookie(SESSION_COOKIE)]);
        case '':
            break;
        default:
            return page(404, 'Not found', `<p>No such page. <a href="${escapeHtml(base)}">Status page</a></p>`);
    }
    if (method !== 'GET' && method !== 'HEAD') return page(405, 'Method not allowed', '<p>Only GET.</p>', [], { Allow: 'GET, HEAD' });

    const asJson = wantsJson(request);
    // Who may look comes first: a caller who is not a signed-in admin learns nothing, not even which tenants exist.
    const tenantName = request.query.get('tenant') ?? undefined;
    const access = await authorize(request, app.adminSignIn, base, asJson, tenantName);
    if ('response' in access) return access.response;

    let summary: StatusSummary;
    try {
        if (tenantName === undefined) {
            summary = await readSummary(app, Date.now(), request.query.get('tenantsAfter') ?? undefined);
        } else {
            const tenant = isTenantName(tenantName) ? await app.store.tenantRegistry().get(tenantName) : undefined;
            // Unknown, malformed and being-removed names look the same: the page does not echo the name.
            if (!tenant || tenant.state === 'removing') return notFound(asJson, base);
            summary = await readTenantSummary(app, Date.now(), tenant);
        }
    } catch {
        return page(503, 'Unavailable', '<p>The activity records could not be read from storage. Try again in a minute.</p>', [], { 'Retry-After': '30' });
    }
    if (asJson) return { status: 200, headers: { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(summary) };
    const self = summary.tenant ? `${base}?tenant=${summary.tenant.name}` : base;
    const html = renderStatusPage(summary, {
        jsonUrl: `${self}${summary.tenant ? '&' : '?'}format=json`,
        defaultPageUrl: base,
        tenantPageUrl: (name) => `${base}?tenant=${encodeURIComponent(name)}`,
        ...(summary.tenants?.nextAfter ? { moreTenantsUrl: `${base}?tenantsAfter=${encodeURIComponent(summary.tenants.nextAfter)}` } : {}),
        ...(access.principal ? { signOutUrl: `${base}/signout` } : {}),
    });
    return { status: 200, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' }, body: html };
}

/**
 * The default tenant's summary: its stored activity of the chart's window, this process's unflushed counts, the
 * token status and the configured indexes (no storage read), and one page of the named tenants (after `tenantsAfter`).
 */
export async function readSummary(app: App, now: number, tenantsAfter?: string): Promise<StatusSummary> {
    const [summary, tenants] = await Promise.all([
        summaryOf(app, now, app.activityStore, app.tokenStatus()),
        app.store.tenantRegistry().page(tenantsAfter !== undefined && isTenantName(tenantsAfter) ? tenantsAfter : undefined, LISTED_TENANTS),
    ]);
    summary.tenants = { list: tenants.tenants.map(listingOf), ...(tenants.nextAfter !== undefined ? { nextAfter: tenants.nextAfter } : {}) };
    return summary;
}

/** A named tenant's summary, from its own activity partition, unflushed counts and token (its registry row was just read). */
function readTenantSummary(app: App, now: number, tenant: TenantRecord): Promise<StatusSummary> {
    return summaryOf(app, now, app.activityStore.forTenant(tenant.name), app.tenants.tokenStatus(tenant), listingOf(tenant));
}

async function summaryOf(app: App, now: number, store: App['activityStore'], tokenStatus: Promise<StatusSummary['token']>, tenant?: TenantListing): Promise<StatusSummary> {
    const window = hoursEndingAt(now, CHART_HOURS);
    const [stored, storedTotals, storedFailures, token] = await Promise.all([
        store.hours(window[0]!, window[window.length - 1]!),
        store.totals(),
        store.recentFailures(LISTED_FAILURES),
        tokenStatus,
    ]);
    return summarize({
        now,
        stored,
        storedTotals,
        storedFailures,
        unflushed: app.activity.unflushed(tenant?.name),
        token,
        quietPeriodMs: app.settings.quietPeriodMs,
        indexedAttributes: indexedAttributesOf(app.settings.indexes),
        ...(tenant ? { tenant } : {}),
    });
}

function listingOf(tenant: TenantRecord): TenantListing {
    return { name: tenant.name, state: tenant.state };
}

function notFound(asJson: boolean, base: string): HttpResponseInit {
    if (asJson) return { status: 404, headers: { ...SECURITY_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify({ error: 'No such tenant' }) };
    return page(404, 'Not found', `<p>No such tenant. <a href="${escapeHtml(base)}">Status page</a></p>`);
}

type Access = { principal: AdminPrincipal | undefined } | { response: HttpResponseInit };

async function authorize(request: HttpRequest, signIn: AdminSignIn | undefined, base: string, asJson: boolean, tenant?: string): Promise<Access> {
    if (isTrustedLocalAdmin()) return { principal: undefined };
    if (!signIn) {
        return {
            response: page(403, 'Closed', '<p>The status page is closed: admin sign-in is not configured (SCIM_ADMIN_TENANT_ID, SCIM_ADMIN_CLIENT_ID, SCIM_ADMIN_PRINCIPAL_IDS; see docs/operate.md).</p>'),
        };
    }
    const bearer = bearerToken(request.headers.get('authorization'));
    if (bearer !== undefined) {
        try {
            return { principal: await signIn.verify(bearer) };
        } catch (error) {
            return { response: refusal(error, asJson, signIn, base) };
        }
    }
    const session = cookiesOf(request).get(SESSION_COOKIE);
    if (session !== undefined) {
        try {
            return { principal: await signIn.verify(session) };
        } catch (error) {
            // An expired or unreadable session just signs in again; an account that is not allowed is told so.
            if (!(error instanceof AdminSignInError) || error.reason === 'notAllowed' || error.reason === 'keysUnavailable') {
                return { response: refusal(error, asJson, signIn, base) };
            }
        }
    }
    if (asJson) return { response: unauthorizedJson(signIn, 'A bearer token is required') };
    const nonce = randomValue();
    const state = randomValue();
    return {
        response: {
            status: 302,
            headers: { ...SECURITY_HEADERS, Location: signIn.authorizeUrl(`${base}/signin`, nonce, state) },
            // SameSite=None: Entra's form post back to us is a cross-site POST, which Lax cookies would not join.
            // The tenant page asked for (a valid name only) comes back with the sign-in, so the admin lands on it.
            cookies: [{ name: SIGN_IN_COOKIE, value: [nonce, state, ...(tenant !== undefined && isTenantName(tenant) ? [tenant] : [])].join('.'), path: '/admin', maxAge: SIGN_IN_SECONDS, secure: true, httpOnly: true, sameSite: 'None' }],
        },
    };
}

/** POST /admin/signin: Entra's form post (`id_token`, `state`, or `error`). */
async function completeSignIn(request: HttpRequest, signIn: AdminSignIn | undefined, base: string): Promise<HttpResponseInit> {
    if (!signIn || isTrustedLocalAdmin()) return redirect(base);
    const form = await readForm(request);
    const clearSignIn = expiredCookie(SIGN_IN_COOKIE);
    const again = `<p><a href="${escapeHtml(base)}">Sign in again</a></p>`;
    if (!form) return page(400, 'Sign-in failed', `<p>The sign-in answer could not be read.</p>${again}`, [clearSignIn]);
    const error = form.get('error');
    if (error !== null) {
        // Entra's error code is a short token (access_denied, …); its description may quote the account: not shown.
        return page(403, 'Sign-in failed', `<p>Entra ID did not sign you in (<code>${escapeHtml(error.slice(0, 64))}</code>).</p>${again}`, [clearSignIn]);
    }
    const [nonce, state, tenant] = (cookiesOf(request).get(SIGN_IN_COOKIE) ?? '').split('.');
    const idToken = form.get('id_token');
    if (!nonce || !state || form.get('state') !== state || !idToken) {
        return page(400, 'Sign-in expired', `<p>This sign-in was not started here, or took longer than ${SIGN_IN_SECONDS / 60} minutes.</p>${again}`, [clearSignIn]);
    }
    let principal: AdminPrincipal;
    try {
        principal = await signIn.verify(idToken, { nonce });
    } catch (caught) {
        const refused = refusal(caught, false, signIn, base);
        return { ...refused, cookies: [clearSignIn, ...(refused.cookies ?? [])] };
    }
    const maxAge = Math.max(0, principal.expiresAt - Math.floor(Date.now() / 1000));
    return {
        status: 303,
        headers: { ...SECURITY_HEADERS, Location: tenant !== undefined && isTenantName(tenant) ? `${base}?tenant=${tenant}` : base },
        cookies: [clearSignIn, { name: SESSION_COOKIE, value: idToken, path: '/admin', maxAge, secure: true, httpOnly: true, sameSite: 'Lax' }],
    };
}

function refusal(error: unknown, asJson: boolean, signIn: AdminSignIn, base: string): HttpResponseInit {
    const reason = error instanceof AdminSignInError ? error.reason : 'invalid';
    const message = error instanceof AdminSignInError ? error.message : 'The sign-in could not be checked';
    if (reason === 'keysUnavailable') {
        return asJson
            ? { status: 503, headers: { ...SECURITY_HEADERS, 'Retry-After': '30', 'Content-Type': 'application/json' }, body: JSON.stringify({ error: message }) }
            : page(503, 'Unavailable', `<p>${escapeHtml(message)}. Try again in a minute.</p>`, [], { 'Retry-After': '30' });
    }
    if (reason === 'notAllowed') {
        return asJson
            ? { status: 403, headers: { ...SECURITY_HEADERS, 'Content-Type': 'application/json' }, body: JSON.stringify({ error: message }) }
            : page(403, 'Not allowed', `<p>${escapeHtml(message)}.</p><p><a href="${escapeHtml(base)}/signout">Sign out</a></p>`, [expiredCookie(SESSION_COOKIE)]);
    }
    return asJson ? unauthorizedJson(signIn, message, 'invalid_token') : page(401, 'Sign-in failed', `<p>${escapeHtml(message)}.</p>`, [expiredCookie(SESSION_COOKIE)]);
}

/** RFC 6750 §3: the scope names the app registration, so `npm run activity` knows what to ask Azure CLI for. */
function unauthorizedJson(signIn: AdminSignIn, message: string, error?: string): HttpResponseInit {
    const challenge = `Bearer scope="${signIn.accessTokenScope}"${error ? `, error="${error}"` : ''}`;
    return { status: 401, headers: { ...SECURITY_HEADERS, 'WWW-Authenticate': challenge, 'Content-Type': 'application/json' }, body: JSON.stringify({ error: message }) };
}

/** `https://<host>/admin`, from SCIM_PUBLIC_BASE_URL (`…/scim` → `…/admin`) or the request. */
export function adminBaseUrl(settings: Settings, requestUrl: string): string {
    if (settings.publicBaseUrl) return settings.publicBaseUrl.replace(/\/scim$/i, '') + '/admin';
    return `${new URL(requestUrl).origin}/admin`;
}

function wantsJson(request: HttpRequest): boolean {
    if (request.query.get('format') === 'json') return true;
    const accept = request.headers.get('accept') ?? '';
    return accept.includes('application/json') && !accept.includes('text/html');
}

function cookiesOf(request: HttpRequest): Map<string, string> {
    const cookies = new Map<string, string>();
    for (const part of (request.headers.get('cookie') ?? '').split(';')) {
        const index = part.indexOf('=');
        if (index > 0) cookies.set(part.slice(0, index).trim(), part.slice(index + 1).trim());
    }
    return cookies;
}

async function readForm(request: HttpRequest): Promise<URLSearchParams | undefined> {
    if (Number(request.headers.get('content-length') ?? '0') > MAX_FORM_BYTES) return undefined;
    const bytes = await request.arrayBuffer();
    if (bytes.byteLength > MAX_FORM_BYTES) return undefined;
    return new URLSearchParams(new TextDecoder().decode(bytes));
}

function expiredCookie(name: string): Cookie {
    return { name, value: '', path: '/admin', maxAge: 0, secure: true, httpOnly: true, sameSite: name === SIGN_IN_COOKIE ? 'None' : 'Lax' };
}

function redirect(location: string): HttpResponseInit {
    return { status: 303, headers: { ...SECURITY_HEADERS, Location: location } };
}

function page(status: number, title: string, body: string, cookies: Cookie[] = [], headers: Record<string, string> = {}): HttpResponseInit {
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
    return { status, headers: { ...SECURITY_HEADERS, ...headers, 'Content-Type': 'text/html; charset=utf-8' }, body: html, cookies };
}
