/**
 * Push (docs/feed.md): the timer's work against Azurite's queue service — every event reaches the queue at
 * least once with its id, a failed send or a crash before the checkpoint resends rather than loses, a second
 * forwarder stops, and retention spares what has not been forwarded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueClient } from '@azure/storage-queue';
import type { ChangeEvent } from '../../shared/feed/events';
import { forwardChanges, queueMessage, type EventQueue } from '../../shared/feed/forwardChanges';
import { maintainChangeFeed } from '../../shared/feed/maintainChangeFeed';
import { startEmbeddedQueueService, type EmbeddedAzurite } from '../../dev/embeddedAzurite';
import { createEventQueue } from '../../shared/store/StorageQueue';
import { NOW, storeOnFreshTable, user } from './storeFixture';

let queueService: EmbeddedAzurite;
beforeAll(async () => {
    queueService = await startEmbeddedQueueService();
});
afterAll(async () => {
    await queueService.stop();
});

/** Every message in the queue, decoded (base64 JSON), removed as they are read. */
async function drain(queueName: string): Promise<ChangeEvent[]> {
    const client = new QueueClient(queueService.connectionString, queueName);
    const events: ChangeEvent[] = [];
    for (;;) {
        const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32 });
        if (receivedMessageItems.length === 0) return events;
        for (const message of receivedMessageItems) {
            events.push(JSON.parse(Buffer.from(message.messageText, 'base64').toString('utf8')) as ChangeEvent);
            await client.deleteMessage(message.messageId, message.popReceipt);
        }
    }
}

function queueOf(name: string): EventQueue {
    return createEventQueue({ queueName: name, queueConnectionString: queueService.connectionString, retentionDays: 30 })!;
}

describe('push to a storage queue', () => {
    it('forwards every event once per run, resumes from its checkpoint, and sends nothing twice when nothing failed', async () => {
        const fixture = storeOnFreshTable();
        for (let index = 0; index < 250; index++) await fixture.store.create('User', `p${index}`, user(`p${index}@example.com`), NOW);
        const queue = queueOf('feed-once');
        const first = await forwardChanges(fixture.store.changes, queue, Date.now() + 60_000);
        expect(first).toEqual({ forwarded: 250, caughtUp: true, superseded: false });
        await fixture.store.create('User', 'p-late', user('late@example.com'), NOW);
        expect(await forwardChanges(fixture.store.changes, queue, Date.now() + 60_000)).toEqual({ forwarded: 1, caughtUp: true, superseded: false });
        const received = await drain('feed-once');
        expect(received).toHaveLength(251);
        expect(new Set(received.map((event) => event.id)).size).toBe(251);
        expect(new Set(received.map((event) => event.resourceId))).toEqual(new Set([...Array.from({ length: 250 }, (_, index) => `p${index}`), 'p-late']));
        expect(received[0]).toMatchObject({ type: 'prov:create', resourceType: 'User', attributes: { userName: expect.any(String) } });
    });

    it('resends a page whose sends failed midway rather than losing it (at least once)', async () => {
        const fixture = storeOnFreshTable();
        for (let index = 0; index < 30; index++) await fixture.store.create('User', `f${index}`, user(`f${index}@example.com`), NOW);
        const real = queueOf('feed-crash');
        let sends = 0;
        const flaky: EventQueue = {
            async send(text) {
                if (++sends === 20) throw new Error('queue unavailable');
                await real.send(text);
            },
        };
        await expect(forwardChanges(fixture.store.changes, flaky, Date.now() + 60_000)).rejects.toThrow('queue unavailable');
        expect((await fixture.store.changes.readCheckpoint()).cursor.users.position).toBe(0); // nothing confirmed
        expect(await forwardChanges(fixture.store.changes, real, Date.now() + 60_000)).toMatchObject({ forwarded: 30, caughtUp: true });
        const received = await drain('feed-crash');
        const ids = new Set(received.map((event) => event.id));
        expect(ids.size).toBe(30); // every event arrived; the ids make the resent ones recognisable
        expect(received.length).toBeGreaterThan(30);
    });

    it('stops when another forwarder moved the checkpoint first', async () => {
        const fixture = storeOnFreshTable();
        for (let index = 0; index < 3; index++) await fixture.store.create('User', `s${index}`, user(`s${index}@example.com`), NOW);
        const stale = await fixture.store.changes.readCheckpoint();
        expect(await forwardChanges(fixture.store.changes, queueOf('feed-twice'), Date.now() + 60_000)).toMatchObject({ forwarded: 3 });
        expect(await fixture.store.changes.saveCheckpoint(stale, (await fixture.store.changes.page(stale.cursor, 10)).next)).toBeUndefined();
    });

    it('keeps a message under the queue limit by leaving out attribute values too large for it', () => {
        const event: ChangeEvent = { id: 'users-1', type: 'prov:patch', resourceType: 'User', resourceId: 'u', time: NOW, attributes: { photos: [{ value: 'x'.repeat(100_000) }], title: 'T' } };
        const decoded = JSON.parse(Buffer.from(queueMessage(event), 'base64').toString('utf8'));
        expect(decoded).toEqual({ id: 'users-1', type: 'prov:patch', resourceType: 'User', resourceId: 'u', time: NOW, attributesOmitted: ['photos', 'title'] });
        expect(queueMessage(event).length).toBeLessThanOrEqual(64 * 1024);
    });

    it('retention spares events not yet forwarded, then removes them once they are', async () => {
        const fixture = storeOnFreshTable();
        for (let index = 0; index < 5; index++) await fixture.store.create('User', `r${index}`, user(`r${index}@example.com`), NOW);
        const queue = queueOf('feed-retention');
        const future = Date.now() + 24 * 60 * 60 * 1000; // "now" a day ahead: everything is a day old
        const failing: EventQueue = { send: () => Promise.reject(new Error('down')) };
        await expect(maintainChangeFeed(fixture.store.changes, failing, 0.5, Date.now() + 60_000, future)).rejects.toThrow('down');
        expect((await fixture.store.changes.readPage('', 100)).events).toHaveLength(5);
        const result = await maintainChangeFeed(fixture.store.changes, queue, 0.5, Date.now() + 60_000, future);
        expect(result).toEqual({ push: { forwarded: 5, caughtUp: true, superseded: false }, removed: 4 });
        expect((await fixture.store.changes.readPage('', 100)).events.map((event) => event.resourceId)).toEqual(['r4']);
        expect(await drain('feed-retention')).toHaveLength(5);
    });
});
