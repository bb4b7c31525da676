/**
 * The change feed timer over named tenants (docs/feed.md, "Tenants"): push of every tenant's events to the one
 * queue, each message naming its tenant; retention in every tenant's streams; bounded work per run that resumes
 * where the last run stopped, with the registry and the stores on Azurite and the queue on Azurite's queue service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueClient } from '@azure/storage-queue';
import { startEmbeddedQueueService, type EmbeddedAzurite } from '../../dev/embeddedAzurite';
import type { ForwardableFeed } from '../../shared/feed/ChangeFeed';
import { maintainEveryChangeFeed, type TenantFeeds } from '../../shared/feed/maintainChangeFeed';
import { tenantFeedsOf } from '../../shared/feed/tenantFeedsOf';
import { partitionsOf } from '../../shared/store/keys';
import { createEventQueue } from '../../shared/store/StorageQueue';
import type { TableResourceStore } from '../../shared/store/TableResourceStore';
import type { TenantState } from '../../shared/store/TenantRegistry';
import { checkConsistency } from '../support/consistencyChecker';
import { NOW, storeOnFreshTable, user, type StoreFixture } from './storeFixture';

let queueService: EmbeddedAzurite;
beforeAll(async () => {
    queueService = await startEmbeddedQueueService();
});
afterAll(async () => {
    await queueService.stop();
});

/** Every message in the queue, decoded (base64 JSON), removed as they are read. */
async function drain(queueName: string): Promise<Record<string, unknown>[]> {
    const client = new QueueClient(queueService.connectionString, queueName);
    const messages: Record<string, unknown>[] = [];
    for (;;) {
        const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32 });
        if (receivedMessageItems.length === 0) return messages;
        for (const message of receivedMessageItems) {
            messages.push(JSON.parse(Buffer.from(message.messageText, 'base64').toString('utf8')) as Record<string, unknown>);
            await client.deleteMessage(message.messageId, message.popReceipt);
        }
    }
}

/** A registry row as `npm run tenant -- add` writes it (a digest of some token), in the given state. */
async function register(fixture: StoreFixture, name: string, state: TenantState = 'active'): Promise<TableResourceStore> {
    await fixture.store.tenantRegistry().add({ name, state, created: NOW, tokenDigest: '0'.repeat(64), feedTokenDigest: '1'.repeat(64) });
    return fixture.store.withPartitions(partitionsOf(name));
}

/** The timer's view of the tenants, with each tenant's store built the way the app builds it. */
function tenantsOf(fixture: StoreFixture, visited: string[] = []): TenantFeeds {
    const stores = new Map<string, TableResourceStore>();
    const feeds = tenantFeedsOf({
        store: fixture.store,
        tenants: {
            store: (name) => {
                if (!stores.has(name)) stores.set(name, fixture.store.withPartitions(partitionsOf(name)));
                return stores.get(name)!;
            },
        },
    });
    return {
        ...feeds,
        feedOf: (name): ForwardableFeed => {
            visited.push(name);
            return feeds.feedOf(name);
        },
    };
}

describe('the change feed timer over named tenants', () => {
    it('pushes every tenant\'s events to the one queue, each message naming its tenant (none for the default), once', async () => {
        const fixture = storeOnFreshTable();
        const acme = await register(fixture, 'acme');
        const globex = await register(fixture, 'globex-2');
        const leaving = await register(fixture, 'leaving', 'removing');
        for (const index of [0, 1]) await fixture.store.create('User', `d${index}`, user(`d${index}@example.com`), NOW);
        for (const index of [0, 1, 2]) await acme.create('User', `a${index}`, user(`a${index}@example.com`), NOW);
        await globex.create('User', 'g0', user('g0@example.com'), NOW);
        await leaving.create('User', 'l0', user('l0@example.com'), NOW);
        const queue = createEventQueue({ queueName: 'tenant-feeds', queueConnectionString: queueService.connectionString, retentionDays: 30 })!;

        const first = await maintainEveryChangeFeed({ defaultFeed: fixture.store.changes, tenants: tenantsOf(fixture), queue, retentionDays: 30, deadline: Date.now() + 60_000 });
        expect(first).toEqual({
            push: { forwarded: 2, caughtUp: true, superseded: false },
            removed: 0,
            tenants: { maintained: 2, forwarded: 4, removed: 0, behind: 0, failed: 0 },
        });
        const messages = await drain('tenant-feeds');
        const byTenant = (tenant: string | undefined) => messages.filter((message) => message.tenant === tenant).map((message) => message.resourceId).sort();
        expect(byTenant(undefined)).toEqual(['d0', 'd1']);
        expect(byTenant('acme')).toEqual(['a0', 'a1', 'a2']);
        expect(byTenant('globex-2')).toEqual(['g0']);
        expect(messages).toHaveLength(6); // nothing of the tenant being removed
        // The default tenant's messages are what they were before tenants: no `tenant` member at all.
        for (const message of messages.filter((each) => each.tenant === undefined)) expect(Object.keys(message)).not.toContain('tenant');
        // Event ids are per tenant: `users-1` exists in several, so a consumer de-duplicates by (tenant, id).
        expect(messages.filter((message) => message.id === 'users-1').map((message) => message.tenant ?? '').sort()).toEqual(['', 'acme', 'globex-2']);
        expect(Object.keys(messages.find((message) => message.tenant === 'acme')!)[0]).toBe('tenant');

        await acme.create('User', 'a3', user('a3@example.com'), NOW);
        const second = await maintainEveryChangeFeed({ defaultFeed: fixture.store.changes, tenants: tenantsOf(fixture), queue, retentionDays: 30, deadline: Date.now() + 60_000 });
        expect(second.tenants).toMatchObject({ maintained: 2, forwarded: 1 });
        expect(await drain('tenant-feeds')).toEqual([expect.objectContaining({ tenant: 'acme', resourceId: 'a3' })]);
        expect(await checkConsistency(fixture.connectionString, fixture.tableName)).toEqual([]);
    });

    it('removes expired events from every tenant\'s streams, keeping each stream\'s newest, never another tenant\'s', async () => {
        const fixture = storeOnFreshTable();
        const acme = await register(fixture, 'acme');
        const globex = await register(fixture, 'globex-2');
        for (let index = 0; index < 4; index++) {
            await fixture.store.create('User', `d${index}`, user(`d${index}@example.com`), NOW);
            await acme.create('User', `a${index}`, user(`a${index}@example.com`), NOW);
        }
        await globex.create('User', 'g0', user('g0@example.com'), NOW);
        const dayAhead = Date.now() + 24 * 60 * 60 * 1000; // everything is a day old
        const result = await maintainEveryChangeFeed({ defaultFeed: fixture.store.changes, tenants: tenantsOf(fixture), queue: undefined, retentionDays: 0.5, deadline: Date.now() + 60_000, now: dayAhead });
        expect(result).toEqual({ removed: 3, tenants: { maintained: 2, forwarded: 0, removed: 3, behind: 0, failed: 0 } });
        expect((await fixture.store.changes.readPage('', 100)).events.map((event) => event.resourceId)).toEqual(['d3']);
        expect((await acme.changes.readPage('', 100)).events.map((event) => event.resourceId)).toEqual(['a3']);
        expect((await globex.changes.readPage('', 100)).events.map((event) => event.resourceId)).toEqual(['g0']);
        expect(await checkConsistency(fixture.connectionString, fixture.tableName)).toEqual([]);
    });

    it('does bounded work per run and resumes where the last run stopped: every tenant has its turn, in name order', async () => {
        const fixture = storeOnFreshTable();
        for (const name of ['t-a', 't-b', 't-c']) await register(fixture, name);
        await register(fixture, 't-cc', 'removing');
        for (const name of ['t-d', 't-e']) await register(fixture, name);
        const progress = fixture.store.feedMaintenanceProgress();

        // With time to spare: one lap, each tenant once (the one being removed skipped), and the next run starts over.
        const lap: string[] = [];
        const full = await maintainEveryChangeFeed({ defaultFeed: fixture.store.changes, tenants: tenantsOf(fixture, lap), queue: undefined, retentionDays: 30, deadline: Date.now() + 60_000, tenantsPerRead: 2 });
        expect(lap).toEqual(['t-a', 't-b', 't-c', 't-d', 't-e']);
        expect(full.tenants?.maintained).toBe(5);
        expect(await progress.read()).toBe('');

        // A clock that jumps an hour per tenant and a run of two and a half hours: each run gets to three tenants,
        // the third cut short by the end of the run, so the next run starts with it.
        const HOUR = 3_600_000;
        const runs: string[][] = [];
        for (let run = 0; run < 3; run++) {
            const visited: string[] = [];
            let skew = 0;
            const tenants = tenantsOf(fixture, visited);
            const jumping: TenantFeeds = { ...tenants, feedOf: (name) => ((skew += HOUR), tenants.feedOf(name)) };
            await maintainEveryChangeFeed({
                defaultFeed: fixture.store.changes,
                tenants: jumping,
                queue: undefined,
                retentionDays: 30,
                deadline: Date.now() + 2.5 * HOUR,
                clock: () => Date.now() + skew,
                tenantsPerRead: 2,
            });
            runs.push(visited);
        }
        expect(runs).toEqual([
            ['t-a', 't-b', 't-c'],
            ['t-c', 't-d', 't-e'],
            ['t-e', 't-a', 't-b'],
        ]);
        expect(await progress.read()).toBe('t-a');
        expect(await checkConsistency(fixture.connectionString, fixture.tableName)).toEqual([]);
    });

    it('maintains the named tenants when the default feed fails, then fails the run with the default\'s error', async () => {
        const fixture = storeOnFreshTable();
        const acme = await register(fixture, 'acme');
        await acme.create('User', 'a0', user('a0@example.com'), NOW);
        const outage = new Error('the default feed is unavailable');
        const failing: ForwardableFeed = {
            page: () => Promise.reject(outage),
            readCheckpoint: () => Promise.reject(outage),
            saveCheckpoint: () => Promise.reject(outage),
            removeExpired: () => Promise.reject(outage),
        };
        const visited: string[] = [];
        const dayAhead = Date.now() + 24 * 60 * 60 * 1000;
        await expect(maintainEveryChangeFeed({ defaultFeed: failing, tenants: tenantsOf(fixture, visited), queue: undefined, retentionDays: 0.5, deadline: Date.now() + 60_000, now: dayAhead }))
            .rejects.toBe(outage);
        expect(visited).toEqual(['acme']);
        expect((await acme.changes.readPage('', 100)).events.map((event) => event.resourceId)).toEqual(['a0']); // its newest is kept
        expect(await fixture.store.feedMaintenanceProgress().read()).toBe('');
        // Without named tenants the failure is the run's at once, as before tenants.
        const alone = storeOnFreshTable();
        await expect(maintainEveryChangeFeed({ defaultFeed: failing, tenants: tenantsOf(alone), queue: undefined, retentionDays: 30, deadline: Date.now() + 60_000 })).rejects.toBe(outage);
    });

    it('with no named tenants, maintains the default feed exactly as before (no tenants in the result)', async () => {
        const fixture = storeOnFreshTable();
        await fixture.store.create('User', 'solo', user('solo@example.com'), NOW);
        const result = await maintainEveryChangeFeed({ defaultFeed: fixture.store.changes, tenants: tenantsOf(fixture), queue: undefined, retentionDays: 30, deadline: Date.now() + 60_000 });
        expect(result).toEqual({ removed: 0 });
    });
});
