/**
 * `GET /changes` over HTTP on the real function app (docs/feed.md): the feed's own credential, the page shape,
 * RFC 9865 cursor errors as SCIM errors, and events for what Entra's requests changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summaryLines } from '../reliability/support/summaryLines';
import { startScimServer, type ScimTestServer } from '../support/scimServer';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

let server: ScimTestServer;

beforeAll(async () => {
    server = await startScimServer();
});
afterAll(async () => {
    await server.close();
});

async function feed(query = '', token = server.feedToken, method = 'GET'): Promise<{ status: number; headers: Headers; body: any }> {
    const init: RequestInit = { method, headers: { Authorization: `Bearer ${token}` } };
    if (method !== 'GET') init.body = '{}';
    const response = await fetch(`${server.origin}/changes${query}`, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}

async function readAll(): Promise<any[]> {
    const events: any[] = [];
    let cursor = '';
    for (let page = 0; page < 100; page++) {
        const reply = await feed(`?cursor=${encodeURIComponent(cursor)}&count=3`);
        expect(reply.status).toBe(200);
        events.push(...reply.body.events);
        cursor = reply.body.nextCursor;
        if (reply.body.events.length === 0) return events;
    }
    throw new Error('the feed did not end');
}

describe('the feed credential', () => {
    it('opens /changes and nothing else; Entra\'s token does not open /changes', async () => {
        expect((await feed()).status).toBe(200);
        const withScimToken = await feed('', server.token);
        expect(withScimToken.status).toBe(401);
        expect(withScimToken.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '401' });
        expect(withScimToken.headers.get('www-authenticate')).toBe('Bearer');
        expect((await feed('', 'not-a-token')).status).toBe(401);
        const noToken = await fetch(`${server.origin}/changes`);
        expect(noToken.status).toBe(401);

        const scimWithFeedToken = await server.request('GET', '/Users', undefined, { Authorization: `Bearer ${server.feedToken}` });
        expect(scimWithFeedToken.status).toBe(401);
        expect((await server.request('GET', '/Users')).status).toBe(200);
    });

    it('answers another method with 405, never changing anything', async () => {
        const reply = await feed('', server.feedToken, 'POST');
        expect(reply.status).toBe(405);
        expect(reply.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '405' });
    });
});

describe('GET /changes', () => {
    it('returns the events of Entra\'s requests, oldest first, with versions matching the ETags', async () => {
        const created = await server.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'feed.user@contoso.com', externalId: 'feed-ext', active: true, password: 'Secret#1' });
        expect(created.status).toBe(201);
        const userId = created.body.id;
        const disabled = await server.request('PATCH', `/Users/${userId}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
        expect(disabled.status).toBe(200);
        const groupReply = await server.request('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Feed group' });
        const groupId = groupReply.body.id;
        const added = await server.request('PATCH', `/Groups/${groupId}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: userId }] }] });
        expect(added.status).toBe(204);
        expect((await server.request('DELETE', `/Users/${userId}`)).status).toBe(204);

        const events = await readAll();
        expect(events.map((event) => [event.type, event.resourceType])).toEqual([
            ['prov:create', 'User'],
            ['prov:deactivate', 'User'],
            ['prov:create', 'Group'],
            ['prov:patch', 'Group'],
            ['prov:patch', 'Group'],
            ['prov:delete', 'User'],
        ]);
        expect(events[0]).toMatchObject({ resourceId: userId, externalId: 'feed-ext', version: created.headers.get('etag'), attributes: { userName: 'feed.user@contoso.com', active: true } });
        expect(events[1]).toMatchObject({ version: disabled.headers.get('etag'), attributes: { active: false } });
        expect(events[3]).toMatchObject({ resourceId: groupId, version: added.headers.get('etag'), members: { added: [userId] } });
        expect(events[4]).toMatchObject({ resourceId: groupId, members: { removed: [userId] }, cause: { type: 'prov:delete', resourceType: 'User', resourceId: userId } });
        for (const event of events) {
            expect(Object.keys(event).slice(0, 4)).toEqual(['id', 'type', 'resourceType', 'resourceId']);
            expect(Date.parse(event.time)).not.toBeNaN();
        }
        expect(JSON.stringify(events)).not.toContain('Secret#1');
        expect(JSON.stringify(events)).not.toContain('password');
    });

    it('answers JSON with a nextCursor that resumes where the page ended, and counts its storage requests in the log line', async () => {
        const from = server.logs.length;
        const first = await feed('?count=2');
        expect(first.headers.get('content-type')).toContain('application/json');
        expect(first.headers.get('cache-control')).toBe('no-store');
        expect(first.body.events).toHaveLength(2);
        const second = await feed(`?count=1000&cursor=${first.body.nextCursor}`);
        expect(second.body.events[0].id).not.toBe(first.body.events[1].id);
        expect([...first.body.events, ...second.body.events].map((event: any) => event.id)).toEqual((await readAll()).map((event) => event.id));
        const [summary] = summaryLines(server.logs, from);
        expect(summary).toMatchObject({ method: 'GET', status: 200 });
        expect(summary!.storageRequests).toBeLessThanOrEqual(2);
    });

    it('refuses bad cursors with 400 invalidCursor and a bad count with 400 invalidCount; caps count at 1,000', async () => {
        const good = (await feed('?count=1')).body.nextCursor as string;
        for (const cursor of ['garbage', `${good.slice(0, -2)}AA`, good.split('.')[0]!, '%00', 'a.b.c']) {
            const reply = await feed(`?cursor=${encodeURIComponent(cursor)}`);
            expect(reply.status, cursor).toBe(400);
            expect(reply.body).toEqual({ schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidCursor', detail: expect.any(String) });
        }
        for (const count of ['ten', '1.5', '1e3', '99999999999']) {
            const reply = await feed(`?count=${count}`);
            expect(reply.status, count).toBe(400);
            expect(reply.body).toMatchObject({ status: '400', scimType: 'invalidCount' });
        }
        expect((await feed('?count=5000')).status).toBe(200);
        expect((await feed('?count=-3')).body.events).toEqual([]);
    });
});
