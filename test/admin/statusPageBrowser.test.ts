/**
 * The status page as an admin sees it: the local host serves the app, an Entra-shaped cycle runs against it
 * (with a few failures), and headless Chromium opens `/admin` at a phone's width. The page has no script and
 * its Content-Security-Policy allows none, so what Chromium renders is the page without JavaScript. (Chromium's
 * own switch for turning scripts off also stops --dump-dom and --screenshot, which run through it.)
 * The rendered DOM is checked for the numbers, the chart and the failures; a screenshot is kept as a CI
 * artifact in test-results/admin/ (.ci/run installs Debian's `chromium` when it is missing).
 *
 * Skipped, with the reason printed, only where no Chromium is installed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { addTenant } from '../support/tenants';
import { groupBody, patchBody, userBody } from '../reliability/support/resources';

const run = promisify(execFile);
export const OUTPUT_DIR = path.resolve(__dirname, '..', '..', 'test-results', 'admin');
const BROWSER = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((candidate) => candidate && existsSync(candidate));
if (!BROWSER) {
    console.warn('SKIPPED test/admin/statusPageBrowser.test.ts: no Chromium found (install Debian\'s package: apt-get update && apt-get install -y chromium, or set CHROMIUM_PATH).');
}

let server: ScimTestServer;
let profile: string;

/** Headless Chromium with the flags docs/azure-notes.md gives, and a profile of its own. */
async function chromium(args: string[]): Promise<string> {
    const { stdout } = await run(BROWSER!, [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
        ...args,
    ], { timeout: 90_000, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
}

describe.skipIf(!BROWSER)('the status page in headless Chromium', () => {
    let dom: string;
    let tenantDom: string;

    beforeAll(async () => {
        profile = mkdtempSync(path.join(tmpdir(), 'scim-chromium-'));
        server = await startScimServer({ adminWithoutSignIn: true });
        await entraCycleWithFailures(server);
        const tenant = await addTenant(server, 'browser-co');
        for (const name of ['tenant.one@browser.example', 'tenant.two@browser.example']) {
            expect((await server.request('POST', '/Users', userBody(name), {}, { as: tenant })).status).toBe(201);
        }
        expect((await server.request('GET', '/Users', undefined, {}, { as: { base: tenant.base, token: 'wrong' } })).status).toBe(401);
        dom = await chromium(['--window-size=412,900', '--dump-dom', `${server.origin}/admin`]);
        tenantDom = await chromium(['--window-size=412,900', '--dump-dom', `${server.origin}/admin?tenant=browser-co`]);
    }, 120_000);
    afterAll(async () => {
        await server?.close();
        if (profile) rmSync(profile, { recursive: true, force: true });
    });

    it('shows the totals and the last contact from the cycle', () => {
        expect(textOf(dom, 'total-users')).toBe('3');
        expect(textOf(dom, 'total-active-users')).toBe('2');
        expect(textOf(dom, 'total-groups')).toBe('1');
        expect(textOf(dom, 'last-contact')).toMatch(/^\d+ s ago$/);
        expect(textOf(dom, 'last-status')).toBe('200');
        expect(textOf(dom, 'count-requests')).toMatch(/All requests\s*15\s*15/);
        expect(textOf(dom, 'count-create')).toMatch(/Creates\s*5\s*5/);
        expect(textOf(dom, 'count-disable')).toMatch(/Disables\s*1\s*1/);
        expect(textOf(dom, 'count-memberAdd')).toMatch(/Member adds\s*1\s*1/);
    });

    it('shows a named tenant\'s own page, linked from the default page\'s tenant list', () => {
        expect(textOf(dom, 'tenants')).toBe('browser-co');
        expect(dom).toContain('href="http://127.0.0.1');
        expect(textOf(tenantDom, 'tenant-name')).toBe('browser-co');
        expect(textOf(tenantDom, 'total-users')).toBe('2');
        expect(textOf(tenantDom, 'last-status')).toBe('401');
        expect(textOf(tenantDom, 'count-requests')).toMatch(/All requests\s*3\s*3/);
        expect(textOf(tenantDom, 'warnings')).toContain('Entra\'s last request was refused (401)');
        expect(tenantDom).toContain('<svg id="chart"');
        expect(textOf(dom, 'total-users')).toBe('3'); // the default tenant's page does not count the tenant's users
    });

    it('draws the week as an inline SVG chart with this hour\'s bar stacked by outcome', () => {
        const chart = /<svg id="chart"[\s\S]*?<\/svg>/.exec(dom)?.[0] ?? '';
        expect(chart).toContain('<title id="chart-title">Requests per hour over the last 7 days');
        const bars = chart.match(/<g class="hour">/g) ?? [];
        expect(bars.length).toBe(1); // one hour had traffic
        for (const outcome of ['ok', 'clientError', 'unauthorized']) expect(chart).toContain(`class="bar-${outcome}"`);
    });

    it('needs no JavaScript: the page has no script and its policy allows none', async () => {
        const response = await fetch(`${server.origin}/admin`);
        const csp = response.headers.get('content-security-policy') ?? '';
        expect(csp).toContain("default-src 'none'");
        expect(csp).not.toContain('script-src');
        expect(await response.text()).not.toMatch(/<script|\bon[a-z]+=/i);
    });

    it('lists the failures with what they mean and what to do, and never the token or a userName', () => {
        const failures = /<ol class="failures" id="failures">[\s\S]*?<\/ol>/.exec(dom)?.[0] ?? '';
        const items = failures.match(/<li class="failure">/g) ?? [];
        expect(items).toHaveLength(4);
        for (const code of ['409 uniqueness', '404', '401', '400 invalidFilter']) expect(failures).toContain(`<strong class="code">${code}</strong>`);
        expect(failures).toContain('already exists here');
        expect(failures).toContain('What to do:');
        expect(textOf(dom, 'warnings')).toBeUndefined(); // the last request succeeded: no warning
        expect(dom).not.toContain(server.token);
        expect(dom).not.toContain('browser.ann@contoso.example');
    });

    it('fits a phone screen, and a screenshot is kept for the CI artifact', async () => {
        mkdirSync(OUTPUT_DIR, { recursive: true });
        const phone = path.join(OUTPUT_DIR, 'status-page-phone.png');
        const desktop = path.join(OUTPUT_DIR, 'status-page-desktop.png');
        rmSync(phone, { force: true });
        await chromium(['--window-size=412,2400', '--hide-scrollbars', `--screenshot=${phone}`, `${server.origin}/admin`]);
        await chromium(['--window-size=1280,1800', '--hide-scrollbars', `--screenshot=${desktop}`, `${server.origin}/admin`]);
        for (const file of [phone, desktop]) {
            const png = readFileSync(file);
            expect(png.subarray(1, 4).toString()).toBe('PNG');
            expect(png.length).toBeGreaterThan(20_000); // a rendered page, not a blank one
        }
        expect(dom).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
        console.info(`status page screenshots: ${phone}, ${desktop}`);
    }, 120_000);
});

/**
 * A small Entra cycle (docs/entra-protocol.md §1): Test Connection, matching lookups, creates, a disable, a group
 * with a member — and the failures of a bad day: a duplicate, an unknown id, a refused token, a bad filter.
 */
async function entraCycleWithFailures(scim: ScimTestServer): Promise<void> {
    const ok = async (status: number, reply: Promise<{ status: number; body: any }>) => {
        const answer = await reply;
        expect(answer.status).toBe(status);
        return answer.body;
    };
    await ok(200, scim.request('GET', `/Users?filter=${encodeURIComponent('userName eq "00000000-0000-0000-0000-000000000000"')}`));
    const names = ['browser.ann@contoso.example', 'browser.ben@contoso.example', 'browser.cho@contoso.example'];
    const ids: string[] = [];
    for (const name of names) {
        await ok(200, scim.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`));
        ids.push((await ok(201, scim.request('POST', '/Users', userBody(name, { active: true })))).id);
    }
    await ok(200, scim.request('PATCH', `/Users/${ids[2]}`, patchBody({ op: 'replace', path: 'active', value: 'False' })));
    const groupId = (await ok(201, scim.request('POST', '/Groups', groupBody('Browser Admins')))).id;
    await ok(204, scim.request('PATCH', `/Groups/${groupId}`, patchBody({ op: 'add', path: 'members', value: [{ value: ids[0] }] })));
    await ok(409, scim.request('POST', '/Users', userBody(names[0]!.toUpperCase())));
    await ok(404, scim.request('PATCH', '/Users/8f6d0000-0000-4000-8000-000000000000', patchBody({ op: 'replace', path: 'active', value: false })));
    await ok(401, scim.request('GET', '/Users?count=1', undefined, { Authorization: 'Bearer a-token-entra-should-not-have' }));
    await ok(400, scim.request('GET', `/Users?filter=${encodeURIComponent('userName eq')}`));
    await ok(200, scim.request('GET', `/Users/${ids[0]}`));
}

/** The text of the element with this id (tags removed, whitespace collapsed), or undefined. */
function textOf(html: string, id: string): string | undefined {
    const match = new RegExp(`<(\\w+)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
    return match?.[2]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}
