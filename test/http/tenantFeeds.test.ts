/**
 * A named tenant's change feed over real HTTP on Azurite (docs/feed.md, "Tenants"): `GET /tenants/<tenant>/changes`
 * opens with that tenant's own feed token only, reads only that tenant's streams, refuses every other feed's
 * cursor, and a page costs what the default tenant's page costs. Tenants are onboarded with the admin command.
 */
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor, startOfFeed } from '../../shared/feed/cursor';
import { GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../../shared/scim/schemas';
import { eventRow } from '../../shared/store/FeedLog';
import { FEED_HEAD_ROW_KEY, partitionsOf, USERS_PARTITION } from '../../shared/store/keys';
import { checkConsistency } from '../support/consistencyChecker';
import { requestToken } from '../support/oauth';
import { summaryLines } from '../reliability/support/summaryLines';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { addTenant, runTenant, type AddedTenant } from '../support/tenants';

const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const CLIENT_ID = 'feed-tenants-client';
const CLIENT_SECRET = 'feed-tenants-client-secret-0123456789';

let server: ScimTestServer;
let acme: AddedTenant;
let globex: AddedTenant;
/** The default tenant, described like a named one. */
let plain: AddedTenant;
/** Disabled, being removed, and added before tenant feeds existed (a registry row without a feed token). */
let dormant: AddedTenant;
let leaving: AddedTenant;
let legacy: AddedTenant;
let accessToken: string;

beforeAll(async () => {
    server = await startScimServer({ settings: { SCIM_OAUTH_CLIENT_ID: CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET } });
    plain = { name: 'default', base: server.base, token: server.token, feedUrl: `${server.origin}/changes`, feedToken: server.feedToken };
    acme = await addTenant(server, 'acme');
    globex = await addTenant(server, 'globex-2');
    dormant = await addTenant(server, 'dormant');
    expect((await runTenant(server, ['disable', 'dormant'])).code).toBe(0);
    leaving = await addTenant(server, 'leaving');
    legacy = await addTenant(server, 'legacy');
    const registry = server.currentApp().store.tenantRegistry();
    await registry.put({ ...(await registry.get('leaving'))!, state: 'removing' });
    const { feedTokenDigest: _dropped, ...withoutFeed } = (await registry.get('legacy'))!;
    await registry.put(withoutFeed);
    const token = await requestToken(server.origin, { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    expect(token.status).toBe(200);
    accessToken = token.body.access_token;
});
afterAll(async () => {
    expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    await server.close();
});

interface Reply {
    status: number;
    headers: Headers;
    text: string;
    body: any;
}

async function get(url: string, token: string | undefined): Promise<Reply> {
    const response = await fetch(url, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: text === '' ? undefined : JSON.parse(text) };
}

function page(feed: AddedTenant, query = '', token = feed.feedToken): Promise<Reply> {
    return get(`${feed.feedUrl}${query}`, token);
}

/** Every event of a feed, following nextCursor with small pages. */
async function readAll(feed: AddedTenant): Promise<any[]> {
    const events: any[] = [];
    let cursor = '';
    for (let pages = 0; pages < 200; pages++) {
        const reply = await page(feed, `?count=4&cursor=${encodeURIComponent(cursor)}`);
        expect(reply.status).toBe(200);
        events.push(...reply.body.events);
        cursor = reply.body.nextCursor;
        if (reply.body.events.length === 0) return events;
    }
    throw new Error('the feed did not end');
}

async function scim(as: AddedTenant, method: string, path: string, body?: unknown): Promise<Reply> {
    const reply = await server.request(method, path, body, {}, { as });
    return { status: reply.status, headers: reply.headers, text: reply.text, body: reply.body };
}

describe('who opens a tenant\'s feed', () => {
    it('only the tenant\'s own feed token: every other credential gets the same 401 on every feed', async () => {
        const credentials: [string, string | undefined][] = [
            ['no token', undefined],
            ['garbage', 'not-a-token'],
            ['OAuth access token', accessToken],
            ...[plain, acme, globex, dormant, leaving, legacy].flatMap((tenant): [string, string][] => [
                [`${tenant.name} Secret Token`, tenant.token],
                [`${tenant.name} feed token`, tenant.feedToken],
            ]),
        ];
        const feeds: [string, string, string | undefined][] = [
            ...[plain, acme, globex, dormant, leaving, legacy].map((tenant): [string, string, string | undefined] => [
                tenant.name,
                tenant.feedUrl,
                // Only an active tenant with a feed token has a token that opens its feed.
                [plain, acme, globex].includes(tenant) ? tenant.feedToken : undefined,
            ]),
            ['unknown tenant', `${server.origin}/tenants/nobody/changes`, undefined],
            ['impossible name', `${server.origin}/tenants/No_Such!/changes`, undefined],
        ];
        const refusal = (await get(acme.feedUrl, 'not-a-token')).text;
        expect(JSON.parse(refusal)).toMatchObject({ schemas: [ERROR_SCHEMA], status: '401' });
        let opened = 0;
        let refused = 0;
        for (const [feedName, url, opener] of feeds) {
            for (const [credentialName, token] of credentials) {
                const reply = await get(`${url}?count=1`, token);
                if (token !== undefined && token === opener) {
                    expect(reply.status, `${credentialName} on ${feedName}'s feed`).toBe(200);
                    opened++;
                } else {
                    // An unknown tenant answers exactly as a wrong token does: no tenant-name oracle.
                    expect([reply.status, reply.text, reply.headers.get('www-authenticate')], `${credentialName} on ${feedName}'s feed`).toEqual([401, refusal, 'Bearer']);
                    refused++;
                }
            }
        }
        expect(opened).toBe(3);
        expect(refused).toBe(feeds.length * credentials.length - 3);
        expect(refused).toBeGreaterThanOrEqual(100);
    });

    it('a feed token opens no SCIM route of any tenant; each Secret Token still opens its own', async () => {
        const routes: [string, string, unknown?][] = [
            ['GET', '/Users'],
            ['GET', '/Groups'],
            ['POST', '/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] }],
            ['GET', '/ServiceProviderConfig'],
            ['GET', '/Schemas'],
        ];
        let checked = 0;
        for (const root of [plain, acme, globex]) {
            for (const [method, path, body] of routes) {
                expect((await scim(root, method, path, body)).status, `${root.name} ${method} ${path}`).toBe(200);
                for (const holder of [plain, acme, globex, dormant, legacy]) {
                    const reply = await server.request(method, path, body, {}, { as: { base: root.base, token: holder.feedToken } });
                    expect(reply.status, `${holder.name}'s feed token on ${root.name} ${method} ${path}`).toBe(401);
                    checked++;
                }
            }
        }
        expect(checked).toBe(3 * routes.length * 5);
    });

    it('a tenant added before tenant feeds keeps its SCIM routes; its feed opens once rotate --feed made it a token', async () => {
        expect((await scim(legacy, 'GET', '/Users')).status).toBe(200);
        const rotated = await runTenant(server, ['rotate', 'legacy', '--feed']);
        expect(rotated.code).toBe(0);
        expect(rotated.err.join('\n')).toContain('until now its feed answered 401');
        expect(rotated.out).toEqual([`Feed URL: ${legacy.feedUrl}`, expect.stringMatching(/^Feed Token: [A-Za-z0-9_-]{43}$/)]);
        const feedToken = rotated.out[1]!.slice('Feed Token: '.length);
        // A running instance re-reads a row on a mismatch at most once a minute; another instance (or this one,
        // once its cache expires) sees the new token: forgetting the cached row stands for that.
        server.currentApp().tenants.verifier.forget('legacy');
        expect((await page(legacy, '', feedToken)).status).toBe(200);
        expect((await scim(legacy, 'GET', '/Users')).status).toBe(200);
        expect((await page(legacy, '', legacy.token)).status).toBe(401);
    });
});

describe('what a tenant\'s feed holds', () => {
    it('the tenant\'s creates, patches, deletes and membership changes in order, and nothing of any other tenant', async () => {
        const ids: Record<string, string[]> = { default: [], acme: [], 'globex-2': [] };
        for (const tenant of [plain, acme, globex]) {
            // The same names in every tenant: only the partitions tell them apart.
            const user = await scim(tenant, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'pat@contoso.com', externalId: 'pat', active: true });
            expect(user.status).toBe(201);
            const group = await scim(tenant, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Staff' });
            expect(group.status).toBe(201);
            ids[tenant.name]!.push(user.body.id, group.body.id);
        }
        const [userId, groupId] = ids.acme!;
        expect((await scim(acme, 'PATCH', `/Users/${userId}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'Replace', path: 'displayName', value: 'Pat' }] })).status).toBe(200);
        expect((await scim(acme, 'PATCH', `/Users/${userId}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] })).status).toBe(200);
        expect((await scim(acme, 'PATCH', `/Groups/${groupId}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'Add', path: 'members', value: [{ value: userId }] }] })).status).toBe(204);
        expect((await scim(acme, 'PATCH', `/Groups/${groupId}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'Remove', path: `members[value eq "${userId}"]` }] })).status).toBe(204);
        expect((await scim(acme, 'PATCH', `/Groups/${groupId}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'Add', path: 'members', value: [{ value: userId }] }] })).status).toBe(204);
        expect((await scim(acme, 'DELETE', `/Users/${userId}`)).status).toBe(204);
        expect((await scim(acme, 'DELETE', `/Groups/${groupId}`)).status).toBe(204);

        const events = await readAll(acme);
        expect(events.map((event) => [event.type, event.resourceType, event.resourceId])).toEqual([
            ['prov:create', 'User', userId],
            ['prov:create', 'Group', groupId],
            ['prov:patch', 'User', userId],
            ['prov:deactivate', 'User', userId],
            ['prov:patch', 'Group', groupId],
            ['prov:patch', 'Group', groupId],
            ['prov:patch', 'Group', groupId],
            ['prov:patch', 'Group', groupId],
            ['prov:delete', 'User', userId],
            ['prov:delete', 'Group', groupId],
        ]);
        expect(events[0]).toMatchObject({ externalId: 'pat', attributes: { userName: 'pat@contoso.com' } });
        expect(events[2]).toMatchObject({ attributes: { displayName: 'Pat' } });
        expect(events.slice(4, 8).map((event) => event.members)).toEqual([{ added: [userId] }, { removed: [userId] }, { added: [userId] }, { removed: [userId] }]);
        expect(events[7]).toMatchObject({ cause: { type: 'prov:delete', resourceType: 'User', resourceId: userId } });

        // Each other feed holds its own two creates and nothing of acme's.
        for (const other of [plain, globex]) {
            const theirs = await readAll(other);
            const own = new Set(ids[other.name]);
            const created = theirs.filter((event) => own.has(event.resourceId));
            expect(created.map((event) => event.type), other.name).toEqual(['prov:create', 'prov:create']);
            for (const acmeId of ids.acme!) expect(JSON.stringify(theirs), other.name).not.toContain(acmeId);
        }
        const acmeText = JSON.stringify(events);
        for (const otherId of [...ids.default!, ...ids['globex-2']!]) expect(acmeText).not.toContain(otherId);
    });
});

describe('cursors are bound to their feed', () => {
    it('a cursor of another tenant\'s feed, or of the default feed, is 400 invalidCursor both ways, never its events', async () => {
        const feeds = [plain, acme, globex];
        for (const feed of feeds) {
            expect((await scim(feed, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: `cursor.${feed.name}@contoso.com` })).status).toBe(201);
        }
        const cursors = new Map<AddedTenant, string>();
        for (const feed of feeds) {
            const first = await page(feed, '?count=1');
            expect(first.body.events).toHaveLength(1);
            cursors.set(feed, first.body.nextCursor);
        }
        let refused = 0;
        for (const reader of feeds) {
            for (const [issuer, cursor] of cursors) {
                const reply = await page(reader, `?count=10&cursor=${encodeURIComponent(cursor)}`);
                if (issuer === reader) {
                    expect(reply.status).toBe(200);
                    continue;
                }
                expect(reply.status, `${issuer.name}'s cursor on ${reader.name}'s feed`).toBe(400);
                expect(reply.body).toEqual({ schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidCursor', detail: expect.any(String) });
                refused++;
            }
        }
        expect(refused).toBe(6);
    });

    it('refuses forged cursors: another feed\'s payload under this feed\'s signature, an edited position, a made-up key', async () => {
        const mine = (await page(acme, '?count=1')).body.nextCursor as string;
        const theirs = (await page(globex, '?count=2')).body.nextCursor as string;
        const [minePayload, mineMac] = mine.split('.');
        const [theirPayload] = theirs.split('.');
        const edited = Buffer.from(JSON.stringify([1, [5], [5]])).toString('base64url');
        const forged = [
            `${theirPayload}.${mineMac}`,
            `${edited}.${mineMac}`,
            `${minePayload}.${'A'.repeat(mineMac!.length)}`,
            encodeCursor(startOfFeed(), Buffer.alloc(32)),
            encodeCursor({ users: { position: 1 }, groups: { position: 0 } }, Buffer.alloc(32, 7)),
        ];
        for (const cursor of forged) {
            const reply = await page(acme, `?cursor=${encodeURIComponent(cursor)}`);
            expect([reply.status, reply.body.scimType], cursor.slice(0, 30)).toEqual([400, 'invalidCursor']);
        }
        expect((await page(acme, `?cursor=${encodeURIComponent(mine)}`)).status).toBe(200);
    });

    it('a cursor of a tenant removed and added again under the same name is 400 invalidCursor, never the new tenant\'s events', async () => {
        const before = await addTenant(server, 'reborn');
        expect((await scim(before, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'first.life@contoso.com' })).status).toBe(201);
        const oldCursor = (await page(before, '?count=0')).body.nextCursor as string;
        expect((await runTenant(server, ['remove', 'reborn'])).code).toBe(0);
        server.currentApp().tenants.verifier.forget('reborn');
        const after = await addTenant(server, 'reborn');
        // A new store for the name, as a fresh instance has (this one's cached the removed tenant's stream heads).
        server.reconfigure({});
        expect((await scim(after, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: 'second.life@contoso.com' })).status).toBe(201);
        const reply = await page(after, `?cursor=${encodeURIComponent(oldCursor)}`);
        expect([reply.status, reply.body.scimType]).toEqual([400, 'invalidCursor']);
        const events = await readAll(after);
        expect(events.map((event) => event.attributes?.userName)).toEqual(['second.life@contoso.com']);
        expect((await page(before)).status).toBe(401); // the removed tenant's feed token died with it
    });

    it('answers count and cursor errors like the default feed, and 405 to another method', async () => {
        for (const feed of [plain, acme]) {
            expect((await page(feed, '?count=ten')).body).toMatchObject({ status: '400', scimType: 'invalidCount' });
            expect((await page(feed, '?cursor=garbage')).body).toMatchObject({ status: '400', scimType: 'invalidCursor' });
            const post = await fetch(feed.feedUrl, { method: 'POST', headers: { Authorization: `Bearer ${feed.feedToken}` }, body: '{}' });
            expect(post.status).toBe(405);
        }
    });
});

describe('page cost', () => {
    it('a tenant\'s page costs the storage requests of the same default page: 1 range read per 1,000 events advanced', async () => {
        // A table of its own, seeded before the app's first request: 2,500 user events in the default tenant's
        // stream and in a tenant's, one group event in each.
        const costServer = await startScimServer();
        try {
            const bulk = await addTenant(costServer, 'bulk-feed');
            const raw = TableClient.fromConnectionString(costServer.connectionString, costServer.tableName, { allowInsecureConnection: true });
            for (const partitions of [{ users: USERS_PARTITION, groups: 'groups' }, partitionsOf('bulk-feed')]) {
                await seed(raw, partitions.users, 2_500, 'User');
                await seed(raw, partitions.groups, 1, 'Group');
            }
            const costs: Record<string, number[]> = {};
            for (const feed of [{ ...bulk }, { ...bulk, name: 'default', feedUrl: `${costServer.origin}/changes`, feedToken: costServer.feedToken }]) {
                // The first request of a feed reads the tenant's registry row and the streams' heads: once per instance.
                expect((await get(`${feed.feedUrl}?count=0`, feed.feedToken)).status).toBe(200);
                const counts: number[] = [];
                let cursor = '';
                for (const count of [100, 1000, 1000, 1000, 100]) {
                    const from = costServer.logs.length;
                    const reply = await get(`${feed.feedUrl}?count=${count}&cursor=${encodeURIComponent(cursor)}`, feed.feedToken);
                    expect(reply.status).toBe(200);
                    cursor = reply.body.nextCursor;
                    counts.push(summaryLines(costServer.logs, from)[0]!.storageRequests);
                }
                costs[feed.name] = counts;
            }
            // The first page reads both streams; a page of 1,000 is one range read of the stream it advances.
            expect(costs['bulk-feed']).toEqual(costs.default);
            expect(costs.default!.slice(1, 3)).toEqual([1, 1]);
        } finally {
            await costServer.close();
        }
    }, 120_000);
});

/** Seeds `count` events straight into a stream, as the store would have written them, and its head. */
async function seed(raw: TableClient, partition: string, count: number, resourceType: 'User' | 'Group'): Promise<void> {
    await raw.createTable();
    const actions: TransactionAction[] = [];
    for (let position = 1; position <= count; position++) {
        actions.push(['create', eventRow(partition, position, { type: 'prov:patch', resourceType, resourceId: `seed-${position}`, attributes: { title: 'seeded' } })]);
    }
    for (let start = 0; start < actions.length; start += 100) await raw.submitTransaction(actions.slice(start, start + 100));
    await raw.upsertEntity({ partitionKey: partition, rowKey: FEED_HEAD_ROW_KEY, position: String(count), cursorKey: Buffer.alloc(32, partition.length).toString('base64') }, 'Replace');
}
