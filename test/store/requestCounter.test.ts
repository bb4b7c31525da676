import { describe, expect, it } from 'vitest';
import { classifyStorageRequest, countStorageRequests, onStorageRequest, type StorageRequestEvent } from '../../shared/store/requestCounter';
import { NOW, storeOnFreshTable, user } from './storeFixture';

const base = 'http://127.0.0.1:10002/devstoreaccount1';

describe('classifyStorageRequest', () => {
    it.each([
        ['GET', `${base}/scim(PartitionKey='users',RowKey='u%3Aabc')`, 'pointRead'],
        ['GET', `${base}/scim(PartitionKey=%27users%27,RowKey=%27un%3Ax%27)?$select=id`, 'pointRead'],
        ['GET', `${base}/scim()?$filter=PartitionKey%20eq%20'groups'%20and%20RowKey%20ge%20'm%3Ag%3A'%20and%20RowKey%20lt%20'm%3Ag%3B'`, 'rangeRead'],
        ['GET', `${base}/scim()?$filter=PartitionKey eq 'users' and (RowKey eq 'u:a' or RowKey eq 'u:b')`, 'rangeRead'],
        ['GET', `${base}/scim()?$filter=PartitionKey eq 'users'`, 'scan'],
        ['GET', `${base}/scim()`, 'scan'],
        ['POST', `${base}/$batch`, 'transaction'],
        ['POST', `${base}/Tables`, 'tableCreate'],
        ['POST', `${base}/scim`, 'write'],
        ['PUT', `${base}/scim(PartitionKey='users',RowKey='u%3Aa')`, 'write'],
        ['PATCH', `${base}/scim(PartitionKey='users',RowKey='u%3Aa')`, 'write'],
        ['DELETE', `${base}/scim(PartitionKey='users',RowKey='u%3Aa')`, 'write'],
    ])('%s %s → %s', (method, url, kind) => {
        expect(classifyStorageRequest(method, url)).toBe(kind);
    });
});

describe('countStorageRequests', () => {
    it('counts per async context, nested scopes into their parents, and reports to listeners', async () => {
        const { store } = storeOnFreshTable();
        await store.get('User', 'warm-up'); // creates the table
        const events: StorageRequestEvent[] = [];
        const stop = onStorageRequest((event) => events.push(event));
        const outer = await countStorageRequests(async () => {
            const [first, second] = await Promise.all([
                countStorageRequests(() => store.create('User', 'c1', user('c1@example.com'), NOW)),
                countStorageRequests(() => store.get('User', 'c1-missing')),
            ]);
            return { first: first.requests, second: second.requests };
        });
        stop();
        expect(outer.result.first).toMatchObject({ transaction: 1, total: 1 });
        expect(outer.result.second).toMatchObject({ pointRead: 1, total: 1 });
        expect(outer.requests).toMatchObject({ transaction: 1, pointRead: 1, total: 2 });
        expect(events.map((event) => event.kind).sort()).toEqual(['pointRead', 'transaction']);
        expect(events.find((event) => event.kind === 'pointRead')?.status).toBe(404);
        await store.get('User', 'c1');
        expect(events).toHaveLength(2); // removed listeners hear nothing
    });

    it('keeps counting into a caller-supplied object when the work throws', async () => {
        const { store } = storeOnFreshTable();
        await store.create('User', 'dup', user('dup@example.com'), NOW);
        const counts = { pointRead: 0, rangeRead: 0, scan: 0, transaction: 0, write: 0, tableCreate: 0, other: 0, total: 0 };
        await expect(countStorageRequests(() => store.create('User', 'dup2', user('DUP@example.com'), NOW), counts)).rejects.toMatchObject({ kind: 'uniqueness' });
        expect(counts).toMatchObject({ transaction: 1, total: 1 });
    });
});
