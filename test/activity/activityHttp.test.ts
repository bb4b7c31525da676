/**
 * The activity records through the real HTTP app (docs/activity.md): counting adds no storage request to any
 * SCIM request, a background flush does not show up in a request's count, the totals follow committed
 * creates, deletes, disables and enables, the status page costs the same few storage requests whatever the
 * tenant's size, nothing personal reaches the activity rows, and the activity records and the change feed stay
 * apart (a flush is no SCIM change; the feed reader is not Entra).
 */
import { TableClient, odata } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSummary } from '../../shared/activity/statusSummary';
import { ACTIVITY_PARTITION } from '../../shared/store/keys';
import { onStorageRequest } from '../../shared/store/requestCounter';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { groupBody, patchBody, userBody } from '../reliability/support/resources';
import { summaryLines } from '../reliability/support/summaryLines';

const PERSONAL = ['alice.activity@contoso.example', 'bob.activity@contoso.example', 'carol.activity@contoso.example', 'Activity Admins'];
let server: ScimTestServer;

beforeAll(async () => {
    server = await startScimServer({ adminWithoutSignIn: true, appOptions: { activityFlushIntervalMs: 3_600_000 } });
    expect((await server.request('GET', '/Users?count=1')).status).toBe(200); // the table exists from here on
});
afterAll(async () => {
    await server.close();
});

async function summary(): Promise<StatusSummary> {
    const reply = await fetch(`${server.origin}/admin?format=json`);
    expect(reply.status).toBe(200);
    return (await reply.json()) as StatusSummary;
}

/** The admin page's own log line: what one view cost. */
async function pageCost(): Promise<number> {
    const from = server.logs.length;
    expect((await fetch(`${server.origin}/admin`)).status).toBe(200);
    const line = server.logs.slice(from).find((l) => l.startsWith('admin request '));
    return (JSON.parse(line!.slice('admin request '.length)) as { storageRequests: number }).storageRequests;
}

describe('counting on the request path', () => {
    let aliceId: string;

    it('adds no storage request: the storage traffic of a cycle is exactly what its summary lines report', async () => {
        let seen = 0;
        const stop = onStorageRequest(() => seen++);
        const from = server.logs.length;
        const alice = await server.request('POST', '/Users', userBody(PERSONAL[0]!, { active: true }));
        aliceId = alice.body.id;
        await server.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${PERSONAL[0]}"`)}`);
        await server.request('GET', `/Users/${aliceId}`);
        await server.request('PATCH', `/Users/${aliceId}`, patchBody({ op: 'replace', path: 'displayName', value: 'A' }));
        await server.request('GET', '/Users/no-such-id');
        await server.request('GET', `/Users/${aliceId}`, undefined, { Authorization: 'Bearer wrong' });
        stop();
        const lines = summaryLines(server.logs, from);
        expect(lines.map((l) => [l.method, l.status])).toEqual([['POST', 201], ['GET', 200], ['GET', 200], ['PATCH', 200], ['GET', 404], ['GET', 401]]);
        // Every storage request of the process is one of the requests' own (each attempt counts, retries too, so
        // this holds however loaded the machine is); their budgets are test/store/requestBudgets.test.ts's.
        expect(seen).toBe(lines.reduce((sum, l) => sum + l.storageRequests, 0));
        expect(lines[5]!.storageRequests).toBe(0); // a refused token reads nothing
        // …and all six are counted, in memory.
        expect(server.currentApp().activity.unflushed().hours.size).toBe(1);
        expect([...server.currentApp().activity.unflushed().hours.values()][0]!.requests).toBeGreaterThanOrEqual(6);
    });

    it('keeps a flush running at the same time out of the requests\' counts', async () => {
        const from = server.logs.length;
        const [flushed] = await Promise.all([server.currentApp().activity.flush(), ...Array.from({ length: 8 }, () => server.request('GET', `/Users/${aliceId}`))]);
        expect(flushed).toBeUndefined();
        const lines = summaryLines(server.logs, from);
        expect(lines).toHaveLength(8);
        for (const line of lines) expect(line.storageRequests).toBe(1);
    });
});

describe('the totals', () => {
    it('follow committed creates, deletes, disables and enables, and only those', async () => {
        const before = (await summary()).totals!;
        const bob = (await server.request('POST', '/Users', userBody(PERSONAL[1]!, { active: false }))).body.id; // +1 user, inactive
        const carol = (await server.request('POST', '/Users', userBody(PERSONAL[2]!))).body.id; // +1 user, active (no `active`)
        expect((await server.request('POST', '/Users', userBody(PERSONAL[1]!.toUpperCase()))).status).toBe(409); // nothing
        expect((await server.request('PATCH', `/Users/${bob}`, patchBody({ op: 'replace', path: 'active', value: 'True' }))).status).toBe(200); // enable
        const alice = (await server.request('GET', `/Users?filter=${encodeURIComponent(`userName eq "${PERSONAL[0]}"`)}`)).body.Resources[0].id;
        expect((await server.request('PATCH', `/Users/${alice}`, patchBody({ op: 'replace', value: { active: false } }))).status).toBe(200); // disable
        expect((await server.request('PATCH', `/Users/${alice}`, patchBody({ op: 'replace', path: 'active', value: false }))).status).toBe(200); // no change
        expect((await server.request('DELETE', `/Users/${carol}`)).status).toBe(204); // an active user goes
        expect((await server.request('DELETE', `/Users/${alice}`)).status).toBe(204); // an inactive user goes
        expect((await server.request('DELETE', `/Users/${alice}`)).status).toBe(404); // nothing
        const g1 = (await server.request('POST', '/Groups', groupBody(PERSONAL[3]!))).body.id;
        const g2 = (await server.request('POST', '/Groups', groupBody('Second activity group'))).body.id;
        expect((await server.request('PATCH', `/Groups/${g2}`, patchBody({ op: 'add', path: 'members', value: [{ value: bob }] }))).status).toBe(204);
        expect((await server.request('PATCH', `/Groups/${g2}`, patchBody({ op: 'remove', path: `members[value eq "${bob}"]` }))).status).toBe(204);
        expect((await server.request('DELETE', `/Groups/${g1}`)).status).toBe(204);

        const expected = { users: before.users + 2 - 2, activeUsers: before.activeUsers + 1 + 1 - 1 - 1, groups: before.groups + 2 - 1 };
        const now = await summary();
        expect(now.totals).toMatchObject(expected);
        expect(now.last24Hours.operations).toMatchObject({ enable: 1, disable: 1, memberAdd: 1, memberRemove: 1 });
        expect(now.last24Hours.clientErrors).toMatchObject({ '409 uniqueness': 1 });

        // A fresh instance (another process) reads the same from storage alone once this one has flushed.
        await server.currentApp().activity.flush();
        server.reconfigure({});
        const fresh = await summary();
        expect(fresh.totals).toMatchObject(expected);
        expect(fresh.last7Days).toEqual(now.last7Days);
    });
});

describe('the activity records and the change feed', () => {
    async function changes(cursor: string, token = server.feedToken): Promise<{ status: number; body: { events: { type: string; resourceId: string }[]; nextCursor: string } }> {
        const reply = await fetch(`${server.origin}/changes?cursor=${encodeURIComponent(cursor)}&count=1000`, { headers: { Authorization: `Bearer ${token}` } });
        return { status: reply.status, body: (await reply.json()) as never };
    }

    /** The cursor after the newest event. */
    async function endOfFeed(): Promise<string> {
        let cursor = '';
        for (let page = 0; page < 100; page++) {
            const { status, body } = await changes(cursor);
            expect(status).toBe(200);
            cursor = body.nextCursor;
            if (body.events.length === 0) return cursor;
        }
        throw new Error('the feed did not end');
    }

    it('stay apart: a flush writes no feed event, and the feed reader\'s requests are not counted as Entra\'s', async () => {
        const recorder = () => server.currentApp().activity;
        await recorder().flush();
        const cursor = await endOfFeed();
        const created = await server.request('POST', '/Users', userBody('dora.activity@feed.example'));
        expect(created.status).toBe(201);
        expect((await changes(cursor)).status).toBe(200);
        expect((await changes(cursor, 'not-the-feed-token')).status).toBe(401);

        // Only the POST is Entra's activity: no /changes request, and no 401 warning from the feed reader's.
        const hours = [...recorder().unflushed().hours.values()];
        expect(hours.reduce((sum, hour) => sum + hour.requests, 0)).toBe(1);
        expect(hours.map((hour) => hour.lastStatus)).toEqual([201]);

        await recorder().flush();
        const { body } = await changes(cursor);
        expect(body.events.map((event) => [event.type, event.resourceId])).toEqual([['prov:create', created.body.id]]);
    });
});

describe('the status page', () => {
    it('costs the same few storage requests with 10 users as with 1,000', async () => {
        const small = await pageCost();
        const store = server.currentApp().store;
        const started = new Date().toISOString();
        for (let batch = 0; batch < 1000; batch += 50) {
            await Promise.all(Array.from({ length: 50 }, (_, i) => store.create('User', `bulk-${batch + i}`, { userName: `bulk${batch + i}@load.example` }, started)));
        }
        const large = await pageCost();
        console.log(`status page storage requests: ${small} with a few users, ${large} with 1,000 more`);
        expect(small).toBeLessThanOrEqual(4); // hours, totals, failures, one page of the tenant list
        expect(large).toBe(small);
    }, 120_000);

    it('keeps ids and counts only: no userName or displayName in any activity row', async () => {
        await server.currentApp().activity.flush();
        const raw = TableClient.fromConnectionString(server.connectionString, server.tableName, { allowInsecureConnection: true });
        const rows: string[] = [];
        for await (const entity of raw.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${ACTIVITY_PARTITION}` } })) rows.push(JSON.stringify(entity));
        expect(rows.length).toBeGreaterThanOrEqual(3); // an hour, the totals, failures
        const text = rows.join('\n').toLowerCase();
        for (const value of PERSONAL) expect(text).not.toContain(value.toLowerCase());
        expect(text).not.toContain(server.token.toLowerCase());
    });
});
