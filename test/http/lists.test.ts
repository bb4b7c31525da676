/**
 * Bounded lists and cursor paging (issue 17, RFC 9865). A list request reads a fixed number of rows whatever the
 * table holds: index paging counts at most 10,000 ids with a key-only read and reads only its page in full; cursor
 * paging walks any table at a constant cost per page, a filter no index answers included; members in one list
 * are capped. The table is seeded straight with resource rows and edges (no index rows: lists never read them).
 */
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildResourceRows } from '../../shared/store/entities';
import { DEFAULT_PARTITIONS, GROUPS_PARTITION, memberEdgeRowKey, memberOfEdgeRowKey } from '../../shared/store/keys';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { submitInTransactions } from '../store/storeFixture';

const NOW = '2026-11-28T10:00:00.000Z';
const USERS = 10_050;
const MEMBERS = 10_001;
let server: ScimTestServer;
let raw: TableClient;

/** The summary line of the last request: status and storage requests. */
function lastSummary(): { status: number; storageRequests: number } {
    const line = [...server.logs].reverse().find((l) => l.startsWith('scim request '));
    return JSON.parse(line!.slice('scim request '.length));
}

beforeAll(async () => {
    server = await startScimServer();
    expect((await server.request('GET', '/Users?count=1')).status).toBe(200); // creates the table
    raw = TableClient.fromConnectionString(server.connectionString, server.tableName, { allowInsecureConnection: true });
    const actions: TransactionAction[] = [];
    for (let n = 0; n < USERS; n++) {
        const id = `user-${String(n).padStart(5, '0')}`;
        const active = n % 1000 === 7; // 11 active users, spread over the table
        actions.push(['create', buildResourceRows('User', id, { userName: `${id}@example.com`, active }, DEFAULT_PARTITIONS, { created: NOW, lastModified: NOW }).resource]);
    }
    const group = buildResourceRows('Group', 'big-group', { displayName: 'Big group' }, DEFAULT_PARTITIONS, { created: NOW, lastModified: NOW });
    const groupActions: TransactionAction[] = [['create', group.resource]];
    for (let n = 0; n < MEMBERS; n++) {
        const memberId = `user-${String(n).padStart(5, '0')}`;
        const edge = { partitionKey: GROUPS_PARTITION, groupId: 'big-group', memberId, memberType: 'User' };
        groupActions.push(['create', { ...edge, rowKey: memberEdgeRowKey('big-group', memberId) }], ['create', { ...edge, rowKey: memberOfEdgeRowKey(memberId, 'big-group') }]);
    }
    await submitInTransactions(raw, actions);
    await submitInTransactions(raw, groupActions);
}, 300_000);

afterAll(async () => {
    await server.close();
});

describe('index paging reads a bounded number of rows', () => {
    it('counts with a key-only read and refuses a table over 10,000 with 400 tooMany pointing at cursor paging', async () => {
        // Before: every user row was read and parsed to compute totalResults.
        const reply = await server.request('GET', '/Users?count=0&startIndex=100000');
        expect(reply.status).toBe(400);
        expect(reply.body).toMatchObject({ status: '400', scimType: 'tooMany' });
        expect(reply.body.detail).toContain('cursor');
        expect(lastSummary().storageRequests).toBeLessThanOrEqual(Math.ceil(10_001 / 1000) + 1);
    });
});

describe('cursor paging (RFC 9865)', () => {
    it('walks every user at a constant cost per page, each exactly once, with no nextCursor on the last page', async () => {
        const seen = new Set<string>();
        let cursor = '';
        let pages = 0;
        for (; pages < 100; pages++) {
            const reply = await server.request('GET', `/Users?cursor=${cursor}&count=500&attributes=id`);
            expect(reply.status).toBe(200);
            expect(reply.body.totalResults).toBeUndefined();
            expect(reply.body.itemsPerPage).toBe(reply.body.Resources.length);
            expect(lastSummary().storageRequests).toBeLessThanOrEqual(2);
            for (const resource of reply.body.Resources as { id: string }[]) {
                expect(seen.has(resource.id), resource.id).toBe(false);
                seen.add(resource.id);
            }
            if (reply.body.nextCursor === undefined) break;
            expect(reply.body.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/); // unreserved characters only
            cursor = reply.body.nextCursor;
        }
        expect(seen.size).toBe(USERS);
        expect(pages).toBe(Math.ceil(USERS / 500) - 1);
    });

    it('walks a filter no index answers, a window of the table per page, instead of refusing it', async () => {
        // Before: `active eq true` needed a scan of the whole table and was refused past 10,000 users.
        const filter = encodeURIComponent('active eq true');
        const found: string[] = [];
        let cursor = '';
        for (let pages = 0; pages < 50; pages++) {
            const reply = await server.request('GET', `/Users?filter=${filter}&cursor=${cursor}&count=5`);
            expect(reply.status).toBe(200);
            expect(lastSummary().storageRequests).toBeLessThanOrEqual(2);
            found.push(...reply.body.Resources.map((resource: { id: string }) => resource.id));
            if (reply.body.nextCursor === undefined) break;
            cursor = reply.body.nextCursor;
        }
        expect(found).toHaveLength(11);
        expect(new Set(found).size).toBe(11);
    });

    it('refuses a cursor it did not issue, a count below 1 and a mix of cursor and startIndex', async () => {
        for (const [query, scimType] of [
            ['cursor=not-ours', 'invalidCursor'],
            ['cursor=%2F%2F', 'invalidCursor'],
            [`cursor=${Buffer.from('c2:user-00001').toString('base64url')}`, 'invalidCursor'],
            ['cursor=&count=0', 'invalidCount'],
            ['cursor=&count=x', 'invalidCount'],
            ['cursor=&startIndex=1', 'invalidValue'],
        ]) {
            const reply = await server.request('GET', `/Users?${query}`);
            expect(reply.status, query).toBe(400);
            expect(reply.body.scimType, query).toBe(scimType);
        }
    });

    it('is advertised in ServiceProviderConfig, with index paging as the default', async () => {
        const reply = await server.request('GET', '/ServiceProviderConfig');
        expect(reply.body.pagination).toEqual({ cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: 100, maxPageSize: 500, cursorTimeout: 86_400 });
    });
});

describe('members in a list', () => {
    it('refuses a list that would carry more than 10,000 members with 400 tooMany naming excludedAttributes=members', async () => {
        // Before: every member of every group on the page was read into the response.
        const reply = await server.request('GET', '/Groups');
        expect(reply.status).toBe(400);
        expect(reply.body).toMatchObject({ scimType: 'tooMany' });
        expect(reply.body.detail).toContain('excludedAttributes=members');
        expect(lastSummary().storageRequests).toBeLessThanOrEqual(Math.ceil(10_001 / 1000) + 2);

        const without = await server.request('GET', '/Groups?excludedAttributes=members');
        expect(without.status).toBe(200);
        expect(without.body.Resources).toHaveLength(1);
    });
});
