/**
 * Named tenants' activity records through the real HTTP app (docs/activity.md, "Tenants"): a tenant's requests
 * land in its own `<tenant>~activity` partition and nowhere else, a made-up tenant name creates no row anywhere,
 * an existing tenant's 401s are counted for it, recording adds no storage request to a tenant's requests, the
 * tenant's page shows its own numbers at a bounded cost, an unknown tenant is a 404 that echoes nothing, and
 * removing a tenant removes its records.
 */
import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSummary } from '../../shared/activity/statusSummary';
import { LISTED_TENANTS } from '../../shared/admin/adminEndpoint';
import { partitionsOf } from '../../shared/store/keys';
import { onStorageRequest } from '../../shared/store/requestCounter';
import { checkConsistency } from '../support/consistencyChecker';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { addTenant, runTenant, type TenantCredentials } from '../support/tenants';
import { patchBody, userBody } from '../reliability/support/resources';
import { summaryLines } from '../reliability/support/summaryLines';

let server: ScimTestServer;
let acme: TenantCredentials;
let beta: TenantCredentials;

beforeAll(async () => {
    server = await startScimServer({ adminWithoutSignIn: true, appOptions: { activityFlushIntervalMs: 3_600_000 } });
    acme = await addTenant(server, 'acme-act');
    beta = await addTenant(server, 'beta-act');
}, 60_000);
afterAll(async () => {
    await server.close();
});

const recorder = () => server.currentApp().activity;

async function partitionKeys(): Promise<Map<string, number>> {
    const raw = TableClient.fromConnectionString(server.connectionString, server.tableName, { allowInsecureConnection: true });
    const counts = new Map<string, number>();
    for await (const entity of raw.listEntities({ queryOptions: { select: ['PartitionKey'] } })) counts.set(entity.partitionKey!, (counts.get(entity.partitionKey!) ?? 0) + 1);
    return counts;
}

async function summary(query = ''): Promise<{ status: number; body: StatusSummary }> {
    const reply = await fetch(`${server.origin}/admin?format=json${query}`);
    return { status: reply.status, body: (await reply.json()) as StatusSummary };
}

/** What one view of a page cost, from its own log line. */
async function pageCost(query = ''): Promise<number> {
    const from = server.logs.length;
    expect((await fetch(`${server.origin}/admin${query}`)).status).toBe(200);
    const line = server.logs.slice(from).find((l) => l.startsWith('admin request '));
    return (JSON.parse(line!.slice('admin request '.length)) as { storageRequests: number }).storageRequests;
}

async function storedRequests(tenant: string | undefined): Promise<number> {
    const store = tenant === undefined ? server.currentApp().activityStore : server.currentApp().activityStore.forTenant(tenant);
    const hours = await store.hours('2000-01-01T00', '2100-01-01T00');
    return [...hours.values()].reduce((sum, hour) => sum + hour.requests, 0);
}

describe('a named tenant\'s requests', () => {
    it('land in its own records, not the default\'s nor another tenant\'s, and the default\'s stay the default\'s', async () => {
        await recorder().flush();
        const before = { default: await storedRequests(undefined), acme: await storedRequests(acme.name), beta: await storedRequests(beta.name) };
        const created = await server.request('POST', '/Users', userBody('ann@acme.example'), {}, { as: acme });
        expect(created.status).toBe(201);
        expect((await server.request('GET', `/Users/${created.body.id}`, undefined, {}, { as: acme })).status).toBe(200);
        expect((await server.request('GET', '/Users/no-such-id', undefined, {}, { as: acme })).status).toBe(404);
        expect((await server.request('POST', '/Users', userBody('dee@default.example'))).status).toBe(201);
        expect(recorder().unflushed(acme.name).hours.size).toBe(1);
        await recorder().flush();
        expect(await storedRequests(acme.name)).toBe(before.acme + 3);
        expect(await storedRequests(undefined)).toBe(before.default + 1);
        expect(await storedRequests(beta.name)).toBe(before.beta);
        expect(await server.currentApp().activityStore.forTenant(acme.name).totals()).toMatchObject({ users: 1, activeUsers: 1, groups: 0 });
        expect(await server.currentApp().activityStore.forTenant(beta.name).totals()).toBeUndefined();
        expect((await server.currentApp().activityStore.forTenant(acme.name).recentFailures(20)).map((f) => f.status)).toEqual([404]);
        expect((await partitionKeys()).get(partitionsOf(acme.name).activity)).toBeGreaterThanOrEqual(3); // an hour, the totals, a failure
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });

    it('add no storage request: a tenant\'s cycle costs what its summary lines say, the same as the default tenant\'s', async () => {
        // Both tenants' rows are cached (a request each above), so neither pays a registry read here.
        const cycle = async (as?: TenantCredentials) => {
            const from = server.logs.length;
            const name = `budget.${as?.name ?? 'default'}@example.com`;
            const user = await server.request('POST', '/Users', userBody(name), {}, as ? { as } : {});
            await server.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`, undefined, {}, as ? { as } : {});
            await server.request('GET', `/Users/${user.body.id}`, undefined, {}, as ? { as } : {});
            await server.request('PATCH', `/Users/${user.body.id}`, patchBody({ op: 'replace', path: 'active', value: false }), {}, as ? { as } : {});
            await server.request('GET', '/Users/no-such-id', undefined, {}, as ? { as } : {});
            await server.request('GET', '/Users', undefined, { Authorization: 'Bearer wrong' }, as ? { as } : {});
            return summaryLines(server.logs, from);
        };
        let seen = 0;
        const stop = onStorageRequest(() => seen++);
        const tenantLines = await cycle(acme);
        stop();
        expect(tenantLines.map((l) => l.status)).toEqual([201, 200, 200, 200, 404, 401]);
        expect(seen).toBe(tenantLines.reduce((sum, l) => sum + l.storageRequests, 0));
        const defaultLines = await cycle();
        expect(tenantLines.map((l) => l.storageRequests)).toEqual(defaultLines.map((l) => l.storageRequests));
        expect(recorder().unflushed(acme.name).hours.size).toBe(1); // all counted, in memory
    });

    it('with a wrong token on an existing tenant are counted for that tenant: a 401 and the warning', async () => {
        await recorder().flush();
        const before = await storedRequests(beta.name);
        expect((await server.request('GET', '/Users', undefined, {}, { as: { base: beta.base, token: acme.token } })).status).toBe(401);
        expect((await server.request('GET', '/Users', undefined, {}, { as: { base: beta.base, token: 'x'.repeat(43) } })).status).toBe(401);
        await recorder().flush();
        expect(await storedRequests(beta.name)).toBe(before + 2);
        const { body } = await summary(`&tenant=${beta.name}`);
        expect(body.lastContact?.status).toBe(401);
        expect(body.last24Hours.outcomes.unauthorized).toBe(2);
        expect(body.warnings.map((w) => w.title)).toContain('Entra\'s last request was refused (401)');
        expect(body.failures[0]!.action).toContain(`npm run tenant -- rotate ${beta.name}`);
    });

    it('to a disabled tenant are counted for it, with a warning saying it is disabled', async () => {
        const gamma = await addTenant(server, 'gamma-act');
        expect((await runTenant(server, ['disable', gamma.name])).code).toBe(0);
        server.currentApp().tenants.verifier.forget(gamma.name); // this instance sees the disable at once
        expect((await server.request('GET', '/Users', undefined, {}, { as: gamma })).status).toBe(401);
        const { body } = await summary(`&tenant=${gamma.name}`);
        expect(body.tenant).toEqual({ name: gamma.name, state: 'disabled' });
        expect(body.last24Hours.outcomes.unauthorized).toBe(1);
        expect(body.warnings.map((w) => w.title)).toContain('This tenant is disabled');
    });
});

describe('a made-up tenant name', () => {
    it('creates no row anywhere and is counted nowhere, whatever token comes with it', async () => {
        await recorder().flush();
        const before = await partitionKeys();
        const held = recorder().namedTenantsHeld();
        const defaultBefore = JSON.stringify(recorder().unflushed());
        for (const name of ['no-such-co', 'made-up-tenant-name', 'ab', 'UPPER-CASE', 'x'.repeat(41)]) {
            const base = `${server.origin}/tenants/${name}/scim`;
            for (const token of [acme.token, server.token, 'guessed-token']) {
                expect((await server.request('GET', '/Users', undefined, {}, { as: { base, token } })).status, `${name}`).toBe(401);
                expect((await server.request('POST', '/Users', userBody('x@y.example'), {}, { as: { base, token } })).status, `${name}`).toBe(401);
            }
        }
        expect(recorder().namedTenantsHeld()).toBe(held);
        expect(JSON.stringify(recorder().unflushed())).toBe(defaultBefore); // not in the default tenant's counts either
        await recorder().flush();
        expect(await partitionKeys()).toEqual(before);
    });
});

describe('a tenant\'s status page', () => {
    it('shows that tenant\'s numbers, and the default page lists the tenants with links to theirs', async () => {
        const { status, body } = await summary(`&tenant=${acme.name}`);
        expect(status).toBe(200);
        expect(body.tenant).toEqual({ name: acme.name, state: 'active' });
        expect(body.totals).toMatchObject({ users: 2, activeUsers: 1, groups: 0 }); // ann, and the budget user disabled
        expect(body.last24Hours.operations).toMatchObject({ create: 2, disable: 1, lookup: 1 });
        expect(body.last24Hours.clientErrors).toMatchObject({ '404': 2 });
        expect(body.token).toEqual({ source: 'registry' });
        expect(body.tenants).toBeUndefined();

        const html = await (await fetch(`${server.origin}/admin?tenant=${acme.name}`)).text();
        expect(html).toContain(`<span id="tenant-name">${acme.name}</span>`);
        expect(html).toMatch(/<dd id="total-users">2<\/dd>/);
        expect(html).toContain("SHA-256 digest in the tenant's registry row");

        const defaultPage = await summary();
        expect(defaultPage.body.tenant).toBeUndefined();
        expect(defaultPage.body.tenants?.list.map((t) => t.name)).toEqual(expect.arrayContaining([acme.name, beta.name]));
        expect(defaultPage.body.totals?.users).toBe(2); // dee, and the default tenant's budget user
        const defaultHtml = await (await fetch(`${server.origin}/admin`)).text();
        expect(defaultHtml).toContain(`<a href="${server.origin}/admin?tenant=${acme.name}">${acme.name}</a>`);
    });

    it('is a 404 for an unknown, malformed or removed name, without echoing it', async () => {
        for (const name of ['no-such-co', '<script>alert(1)</script>', 'A', '']) {
            const reply = await fetch(`${server.origin}/admin?tenant=${encodeURIComponent(name)}`);
            expect(reply.status, name).toBe(404);
            const text = await reply.text();
            expect(text).toContain('No such tenant');
            if (name !== '') expect(text).not.toContain(name);
            expect((await fetch(`${server.origin}/admin?format=json&tenant=${encodeURIComponent(name)}`)).status).toBe(404);
        }
    });

    it('costs four storage requests, with few or many users, tenants and hours', async () => {
        const small = { default: await pageCost(), tenant: await pageCost(`?tenant=${acme.name}`) };
        const store = server.currentApp().tenants.store(acme.name);
        const started = new Date().toISOString();
        for (let batch = 0; batch < 1000; batch += 50) {
            await Promise.all(Array.from({ length: 50 }, (_, i) => store.create('User', `bulk-${batch + i}`, { userName: `bulk${batch + i}@acme.example` }, started)));
        }
        const registry = server.currentApp().store.tenantRegistry();
        for (let i = 0; i < LISTED_TENANTS + 10; i++) {
            await registry.add({ name: `many-${String(i).padStart(3, '0')}`, state: 'active', created: started, tokenDigest: '00'.repeat(32) });
        }
        // A week of hours in the tenant's records: the chart reads one row per hour, one page.
        const activity = server.currentApp().activityStore.forTenant(acme.name);
        const hours = new Map(Array.from({ length: 168 }, (_, i) => [new Date(Date.now() - i * 3_600_000).toISOString().slice(0, 13), { requests: 1, operations: { read: 1 }, outcomes: { ok: 1 }, clientErrors: {} }]));
        for (let i = 0; i < 168; i += 90) await activity.append({ instanceId: 'seeded', sequence: i + 1, hours: new Map([...hours].slice(i, i + 90)), totals: { users: 0, activeUsers: 0, groups: 0 }, failures: [] });
        const large = { default: await pageCost(), tenant: await pageCost(`?tenant=${acme.name}`) };
        console.log(`status page storage requests: default ${small.default} → ${large.default}, tenant ${small.tenant} → ${large.tenant}`);
        expect(small).toEqual({ default: 4, tenant: 4 }); // hours, totals, failures + the tenant list's page / the tenant's row
        expect(large).toEqual(small);

        const listed = (await summary()).body.tenants!;
        expect(listed.list).toHaveLength(LISTED_TENANTS);
        expect(listed.nextAfter).toBe(listed.list.at(-1)!.name);
        const next = (await summary(`&tenantsAfter=${listed.nextAfter}`)).body.tenants!;
        expect(next.list[0]!.name > listed.nextAfter!).toBe(true);
        expect(next.nextAfter).toBeUndefined();
        expect(listed.list.length + next.list.length).toBe(3 + LISTED_TENANTS + 10); // acme, beta, gamma and the many
        expect(await (await fetch(`${server.origin}/admin`)).text()).toContain('id="more-tenants"');
    }, 120_000);
});

describe('removing a tenant', () => {
    it('deletes its activity partition, and a flush afterwards does not bring it back', async () => {
        const doomed = await addTenant(server, 'doomed-act');
        expect((await server.request('POST', '/Users', userBody('gone@doomed.example'), {}, { as: doomed })).status).toBe(201);
        await recorder().flush();
        expect((await partitionKeys()).get(partitionsOf(doomed.name).activity)).toBeGreaterThanOrEqual(2);
        expect((await server.request('GET', '/Users', undefined, {}, { as: doomed })).status).toBe(200); // counted, not flushed yet
        expect(recorder().unflushed(doomed.name).hours.size).toBe(1);

        const removed = await runTenant(server, ['remove', doomed.name]);
        expect(removed.code).toBe(0);
        await recorder().flush(); // the tenant is gone: its counts are dropped, not written back
        const partitions = await partitionKeys();
        for (const partition of Object.values(partitionsOf(doomed.name))) expect(partitions.get(partition), partition).toBeUndefined();
        expect(recorder().unflushed(doomed.name).hours.size).toBe(0);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });
});
