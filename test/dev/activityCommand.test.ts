/**
 * `npm run activity` (dev/activityCommand.ts, docs/activity.md): the status summary in a terminal, from the
 * app `npm start` serves (no sign-in) and from a deployed app (an access token from the admin's Azure CLI,
 * here signed by a local "tenant"). Every `npm run activity` line in docs/ runs as written.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runActivityCommand, type ActivityCommandIo } from '../../dev/activityCommand';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { addTenant } from '../support/tenants';
import { patchBody, userBody } from '../reliability/support/resources';

const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = 'cccccccc-bbbb-cccc-dddd-eeeeeeeeeeee';
const ADMIN = '99999999-0000-0000-0000-000000000001';

let local: ScimTestServer;
let deployed: ScimTestServer;
let sign: (oid: string) => Promise<string>;

beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    sign = (oid) =>
        new SignJWT({ tid: TENANT, oid, scp: 'Status.Read' })
            .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
            .setIssuer(`https://sts.windows.net/${TENANT}/`)
            .setAudience(`api://${CLIENT}`)
            .setIssuedAt()
            .setExpirationTime('1h')
            .sign(privateKey);
    local = await startScimServer({ adminWithoutSignIn: true });
    deployed = await startScimServer({
        settings: { SCIM_ADMIN_TENANT_ID: TENANT, SCIM_ADMIN_CLIENT_ID: CLIENT, SCIM_ADMIN_PRINCIPAL_IDS: ADMIN },
        appOptions: { adminSignIn: { keys: createLocalJWKSet({ keys: [jwk] }) } },
    });
    for (const server of [local, deployed]) {
        const ann = await server.request('POST', '/Users', userBody('cli.ann@contoso.example'));
        await server.request('POST', '/Users', userBody('cli.bo@contoso.example'));
        await server.request('PATCH', `/Users/${ann.body.id}`, patchBody({ op: 'replace', path: 'active', value: false }));
        await server.request('POST', '/Users', userBody('CLI.ANN@contoso.example'));
    }
}, 60_000);
afterAll(async () => {
    await local.close();
    await deployed.close();
});

async function run(argv: string[], options: { port?: number; token?: (scope: string) => Promise<string> } = {}): Promise<{ code: number; out: string[]; err: string[]; scopes: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const scopes: string[] = [];
    const io: ActivityCommandIo = {
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        env: { PORT: String(options.port ?? new URL(local.origin).port) },
        accessToken: async (scope) => {
            scopes.push(scope);
            if (!options.token) throw new Error('no token in this test');
            return options.token(scope);
        },
    };
    return { code: await runActivityCommand(argv, io), out, err, scopes };
}

describe('npm run activity', () => {
    it('prints the summary of the app npm start serves, without a sign-in', async () => {
        const { code, out, scopes } = await run([]);
        expect(code).toBe(0);
        expect(scopes).toEqual([]);
        const text = out.join('\n');
        expect(text).toMatch(/^Provisioning status as of \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
        expect(text).toMatch(/Last contact from Entra: \d+ s ago .* answered 409/);
        expect(text).toContain('Totals: 2 users (1 active), 0 groups');
        expect(text).toMatch(/Creates\s+3\s+3/);
        expect(text).toMatch(/Disables\s+1\s+1/);
        expect(text).toMatch(/409 uniqueness\s+1\s+1/);
        expect(text).toContain('POST User  409 uniqueness');
        expect(text).toContain('What to do:');
        expect(text).toContain('Secret Token: the SCIM_TOKEN setting');
        // One row of hours per day, a week of them.
        expect(out.filter((line) => /^ {2}\d{4}-\d\d-\d\d \d\dh {2}/.test(line))).toHaveLength(7);
        expect(text).not.toContain('cli.ann@contoso.example');
    });

    it('prints the JSON the page serves with --json', async () => {
        const { code, out } = await run(['--json']);
        expect(code).toBe(0);
        const summary = JSON.parse(out.join('\n'));
        expect(summary.hours).toHaveLength(168);
        expect(summary.totals).toMatchObject({ users: 2, activeUsers: 1, groups: 0 });
    });

    it('signs in to a deployed app with the scope the app names, as an allowed admin', async () => {
        const { code, out, scopes } = await run(['--url', `${deployed.origin}/admin`], { token: () => sign(ADMIN) });
        expect(code).toBe(0);
        expect(scopes).toEqual([`api://${CLIENT}/.default`]);
        expect(out.join('\n')).toContain('Totals: 2 users (1 active), 0 groups');
    });

    it('says what to do when the account is not an allowed admin, or the app is not there', async () => {
        const refused = await run(['--url', `${deployed.origin}/admin`], { token: () => sign('99999999-0000-0000-0000-000000000002') });
        expect(refused.code).toBe(1);
        expect(refused.err.join('\n')).toMatch(/answered 403[\s\S]*SCIM_ADMIN_PRINCIPAL_IDS/);
        const nowhere = await run([], { port: 9 });
        expect(nowhere.code).toBe(1);
        expect(nowhere.err.join('\n')).toContain('Is `npm start` running?');
    });

    it('refuses a wrong command line in the words of the other dev commands (dev/commandLine.ts), before any request', async () => {
        const cases: [string[], string][] = [
            [['--colour'], 'Unknown option --colour.'],
            [['--url'], 'Option --url needs a value.'],
            [['--url='], 'Option --url needs a value.'],
            [['--json=yes'], 'Option --json takes no value.'],
            [['--url', 'app.example/admin'], 'Not a URL: app.example/admin'],
            [['status'], "Unexpected argument 'status'."],
            [['--tenant'], 'Option --tenant needs a value.'],
        ];
        for (const [argv, message] of cases) {
            const result = await run(argv, { port: 9 }); // nothing listens there: a request would fail with 1, not 2
            expect(result.code, argv.join(' ')).toBe(2);
            expect(result.err).toEqual([message, 'Usage: npm run activity -- [--url <https://app/admin>] [--tenant <name>] [--json]']);
        }
        const both = await run([`--url=${local.origin}/admin`, '--json']);
        expect(both.code).toBe(0);
        expect(JSON.parse(both.out.join('\n')).hours).toHaveLength(168);
    });

    it('prints a named tenant\'s summary with --tenant, and says so when there is no such tenant', async () => {
        const tenant = await addTenant(local, 'cli-tenant');
        expect((await local.request('POST', '/Users', userBody('cli.ten@tenant.example'), {}, { as: tenant })).status).toBe(201);
        expect((await local.request('GET', '/Users', undefined, {}, { as: { base: tenant.base, token: 'wrong' } })).status).toBe(401);
        const { code, out } = await run(['--tenant', 'cli-tenant']);
        expect(code).toBe(0);
        const text = out.join('\n');
        expect(text).toMatch(/^Provisioning status of tenant cli-tenant as of /);
        expect(text).toContain('Totals: 1 user (1 active), 0 groups');
        expect(text).toMatch(/Last contact from Entra: .* answered 401/);
        expect(text).toContain('npm run tenant -- rotate cli-tenant');
        expect(text).toContain('Secret Token: a SHA-256 digest in the tenant\'s registry row');
        // The default tenant's summary lists the tenant and does not count its requests.
        const defaults = (await run([])).out.join('\n');
        expect(defaults).toContain('Totals: 2 users (1 active), 0 groups');
        expect(defaults).toMatch(/Tenants \(--tenant <name> for one\): .*cli-tenant/);

        const json = await run(['--tenant=cli-tenant', '--json']);
        expect(JSON.parse(json.out.join('\n')).tenant).toEqual({ name: 'cli-tenant', state: 'active' });
        const missing = await run(['--tenant', 'no-such-tenant']);
        expect(missing.code).toBe(1);
        expect(missing.err).toEqual([`${local.origin} answered 404: No such tenant`, "No tenant named 'no-such-tenant' (npm run tenant -- list)."]);
        const bad = await run(['--tenant', 'Not_A_Name'], { port: 9 });
        expect(bad.code).toBe(2);
        expect(bad.err[0]).toBe("Invalid tenant name 'Not_A_Name': use 3–40 lower-case letters, digits and hyphens.");
    });

    it('runs every `npm run activity` line of docs/ as written', async () => {
        const docs = ['activity.md', 'operate.md', 'deploy.md'].map((name) => readFileSync(path.join(__dirname, '..', '..', 'docs', name), 'utf8')).join('\n');
        const lines = [...docs.matchAll(/npm run activity(?: -- ([^`#\n]*))?/g)].map((m) => (m[1] ?? '').trim());
        expect(lines.length).toBeGreaterThanOrEqual(4);
        for (const server of [local, deployed]) await addTenant(server, 'contoso'); // the tenant the docs' --tenant line names
        for (const line of new Set(lines)) {
            const argv = line === '' ? [] : line.split(/\s+/).map((arg) => arg.replace('https://<app>/admin', `${deployed.origin}/admin`));
            const result = await run(argv, { token: () => sign(ADMIN) });
            expect(result.code, `npm run activity -- ${line}: ${result.err.join(' ')}`).toBe(0);
        }
    });
});
