/**
 * The recorder and its Table Storage store, on Azurite (docs/activity.md): counting costs no storage request,
 * a flush is one transaction, nothing is counted twice or lost between instances, a clean close loses
 * nothing, a crash loses only what was not flushed, and old rows are pruned.
 */
import { describe, expect, it } from 'vitest';
import { ActivityRecorder } from '../../shared/activity/ActivityRecorder';
import type { ActivityBatch, ActivityStore } from '../../shared/activity/ActivityStore';
import { emptyHour, hourOf } from '../../shared/activity/hourlyCounts';
import type { RequestActivity } from '../../shared/activity/requestActivity';
import { countStorageRequests, onStorageRequest } from '../../shared/store/requestCounter';
import { createTableActivityStore } from '../../shared/store/TableActivityStore';
import { testConnectionString, testTableName } from '../support/tables';

const NOW = Date.now();
const HOUR = hourOf(NOW);

function freshStore(): ActivityStore {
    return createTableActivityStore({ tableName: testTableName('act'), connectionString: testConnectionString() }, { allowInsecureConnection: true });
}

function request(overrides: Partial<RequestActivity> = {}): RequestActivity {
    return { at: NOW, method: 'GET', operation: 'lookup', status: 200, resourceType: 'User', invocationId: crypto.randomUUID(), ...overrides };
}

/** A recorder that never flushes by itself (the tests flush), logging into `logs`. */
function recorderOn(store: ActivityStore, instanceId: string, logs: string[] = []): ActivityRecorder {
    return new ActivityRecorder(store, { instanceId, flushIntervalMs: 3_600_000, log: (line) => logs.push(line) });
}

async function storedRequests(store: ActivityStore): Promise<number> {
    return (await store.hours(HOUR, HOUR)).get(HOUR)?.requests ?? 0;
}

describe('the activity recorder', () => {
    it('counts in memory (no storage request) and stores a batch with two point reads and one transaction, outside any request\'s count', async () => {
        const store = freshStore();
        const recorder = recorderOn(store, 'a');
        const recording = await countStorageRequests(() => {
            recorder.record(request());
            recorder.record(request({ method: 'POST', operation: 'create', status: 201, totalsChange: { users: 1, activeUsers: 1, groups: 0 } }));
            recorder.record(request({ method: 'PATCH', operation: 'update', status: 404 }));
            return Promise.resolve();
        });
        expect(recording.requests.total).toBe(0);
        expect(recorder.unflushed().hours.get(HOUR)?.requests).toBe(3);

        await recorder.flush(); // creates the table on first use
        recorder.record(request());
        // A flush counts against no request's scope (it runs in the background), so it is seen by a listener.
        const kinds: string[] = [];
        const stop = onStorageRequest((event) => kinds.push(event.kind));
        const inScope = await countStorageRequests(() => recorder.flush());
        stop();
        expect(inScope.requests.total).toBe(0);
        expect(kinds.sort()).toEqual(['pointRead', 'pointRead', 'transaction']); // the totals row, the hour row, the transaction

        const hour = (await store.hours(HOUR, HOUR)).get(HOUR)!;
        expect(hour.requests).toBe(4);
        expect(hour.operations).toEqual({ lookup: 2, create: 1, update: 1 });
        expect(hour.clientErrors).toEqual({ '404': 1 });
        expect(await store.totals()).toMatchObject({ users: 1, activeUsers: 1, groups: 0 });
        expect((await store.recentFailures(20)).map((f) => f.status)).toEqual([404]);
        expect(recorder.unflushed().hours.size).toBe(0);
    });

    it('never adds a batch twice: a retry after a lost reply is a no-op', async () => {
        const store = freshStore();
        const hour = emptyHour();
        hour.requests = 5;
        hour.outcomes = { ok: 5 };
        const batch: ActivityBatch = { instanceId: 'i', sequence: 1, hours: new Map([[HOUR, hour]]), totals: { users: 2, activeUsers: 2, groups: 1 }, failures: [] };
        await store.append(batch);
        await store.append(batch);
        expect(await storedRequests(store)).toBe(5);
        expect(await store.totals()).toMatchObject({ users: 2, activeUsers: 2, groups: 1 });
        await store.append({ ...batch, sequence: 2 });
        expect(await storedRequests(store)).toBe(10);
    });

    it('keeps a batch whose flush failed (even after storage took it) and stores it exactly once later', async () => {
        const real = freshStore();
        let failNext: 'before' | 'after' | undefined;
        const flaky: ActivityStore = {
            ...real,
            hours: (from, to) => real.hours(from, to),
            totals: () => real.totals(),
            recentFailures: (limit) => real.recentFailures(limit),
            prune: (before) => real.prune(before),
            append: async (batch) => {
                const mode = failNext;
                failNext = undefined;
                if (mode === 'before') throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
                await real.append(batch);
                if (mode === 'after') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }); // the reply was lost
            },
        };
        const logs: string[] = [];
        const recorder = recorderOn(flaky, 'flaky', logs);
        for (let i = 0; i < 3; i++) recorder.record(request());
        failNext = 'before';
        await recorder.flush();
        expect(await storedRequests(real)).toBe(0);
        expect(recorder.unflushed().hours.get(HOUR)?.requests).toBe(3);
        recorder.record(request());
        failNext = 'after';
        await recorder.flush(); // the old batch goes in, the reply is "lost"
        expect(await storedRequests(real)).toBe(3);
        await recorder.flush(); // the same batch again (a no-op), then the newer one
        expect(await storedRequests(real)).toBe(4);
        expect(recorder.unflushed().hours.size).toBe(0);
        expect(logs.filter((line) => line.includes('flush failed'))).toHaveLength(1); // said once, not per retry
        expect(logs.join('\n')).not.toMatch(/connect ECONNREFUSED|socket hang up/); // never the error's message
    });

    it('loses nothing when instances flush the same hour at the same time', async () => {
        const store = freshStore();
        const recorders = ['a', 'b', 'c'].map((id) => recorderOn(store, id));
        for (let round = 0; round < 3; round++) {
            recorders.forEach((recorder, index) => {
                for (let i = 0; i <= index; i++) recorder.record(request({ totalsChange: { users: 1, activeUsers: 0, groups: 0 } }));
            });
            await Promise.all(recorders.map((recorder) => recorder.flush()));
        }
        expect(await storedRequests(store)).toBe(3 * (1 + 2 + 3));
        expect((await store.totals())?.users).toBe(18);
    });

    it('loses nothing on a clean close, and on a crash only what was counted since the last flush', async () => {
        const store = freshStore();
        const crashing = recorderOn(store, 'crashing');
        for (let i = 0; i < 5; i++) crashing.record(request());
        await crashing.flush();
        for (let i = 0; i < 3; i++) crashing.record(request()); // never flushed: the process "dies"
        const closing = recorderOn(store, 'closing');
        for (let i = 0; i < 7; i++) closing.record(request());
        await closing.close();
        expect(await storedRequests(store)).toBe(5 + 7);
    });

    it('keeps the newest 20 failures per batch and reads them back newest first', async () => {
        const store = freshStore();
        const recorder = recorderOn(store, 'f');
        for (let i = 0; i < 30; i++) recorder.record(request({ status: 404, at: NOW + i, invocationId: `inv-${String(i).padStart(2, '0')}` }));
        await recorder.flush();
        const read = await countStorageRequests(() => store.recentFailures(20));
        expect(read.result.map((f) => f.invocationId)).toEqual(Array.from({ length: 20 }, (_, i) => `inv-${29 - i}`));
        expect(read.requests.total).toBe(1);
    });

    it('prunes hours and failures older than the retention, and leaves newer ones', async () => {
        const store = freshStore();
        const recorder = recorderOn(store, 'p');
        const old = NOW - 10 * 86_400_000;
        recorder.record(request({ at: old, status: 500 }));
        recorder.record(request({ at: NOW, status: 500 }));
        await recorder.flush();
        expect((await store.hours(hourOf(old), HOUR)).size).toBe(2);
        expect(await store.prune(NOW - 8 * 86_400_000)).toBe(2); // the old hour and the old failure
        expect([...(await store.hours(hourOf(old), HOUR)).keys()]).toEqual([HOUR]);
        expect((await store.recentFailures(20)).map((f) => f.at)).toEqual([new Date(NOW).toISOString()]);
        expect(await store.prune(NOW - 8 * 86_400_000)).toBe(0);
    });

    it('keeps each named tenant apart: one batch per tenant partition, none in the default\'s', async () => {
        const store = freshStore();
        const recorder = recorderOn(store, 't');
        recorder.record(request());
        recorder.record(request({ method: 'POST', operation: 'create', status: 201, totalsChange: { users: 1, activeUsers: 1, groups: 0 } }), 'acme');
        recorder.record(request({ status: 401 }), 'acme');
        recorder.record(request({ status: 404 }), 'globex');
        expect(recorder.unflushed('acme').hours.get(HOUR)?.requests).toBe(2);
        expect(recorder.unflushed().hours.get(HOUR)?.requests).toBe(1);
        expect(recorder.namedTenantsHeld()).toBe(2);

        await recorder.flush(); // creates the table
        recorder.record(request(), 'acme');
        recorder.record(request(), 'globex');
        const kinds: string[] = [];
        const stop = onStorageRequest((event) => kinds.push(event.kind));
        await recorder.flush();
        stop();
        expect(kinds.filter((kind) => kind === 'transaction')).toHaveLength(2); // one batch per tenant with counts, none for the idle default

        expect(await storedRequests(store)).toBe(1);
        expect(await store.totals()).toMatchObject({ users: 0 });
        expect(await storedRequests(store.forTenant('acme'))).toBe(3);
        expect(await store.forTenant('acme').totals()).toMatchObject({ users: 1, activeUsers: 1 });
        expect((await store.forTenant('acme').recentFailures(20)).map((f) => f.status)).toEqual([401]);
        expect(await storedRequests(store.forTenant('globex'))).toBe(2);
        expect(await store.forTenant('initech').totals()).toBeUndefined();
        expect(recorder.namedTenantsHeld()).toBe(0); // flushed tenants are forgotten
    });

    it('holds at most maxTenants named tenants between flushes, and says how many requests it could not record', async () => {
        const store = freshStore();
        const logs: string[] = [];
        const recorder = new ActivityRecorder(store, { instanceId: 'cap', flushIntervalMs: 3_600_000, maxTenants: 5, log: (line) => logs.push(line) });
        const tenants = Array.from({ length: 8 }, (_, i) => `cap-${i}`);
        for (const tenant of tenants) for (let i = 0; i < 3; i++) recorder.record(request(), tenant);
        recorder.record(request()); // the default tenant is never refused
        expect(recorder.namedTenantsHeld()).toBe(5);
        expect(recorder.unflushed('cap-5').hours.size).toBe(0);
        await recorder.flush();
        expect(logs).toContain('activity records: 9 requests not recorded: more than 5 tenants between two flushes.');
        for (const [index, tenant] of tenants.entries()) expect(await storedRequests(store.forTenant(tenant)), tenant).toBe(index < 5 ? 3 : 0);
        expect(await storedRequests(store)).toBe(1);
        recorder.record(request(), 'cap-7'); // room again after the flush
        await recorder.flush();
        expect(await storedRequests(store.forTenant('cap-7'))).toBe(1);
    });

    it('drops the counts of a tenant removed before the flush, and stores nothing for it', async () => {
        const store = freshStore();
        const existing = new Set(['kept']);
        const recorder = new ActivityRecorder(store, { instanceId: 'rm', flushIntervalMs: 3_600_000, tenantExists: (name) => Promise.resolve(existing.has(name)) });
        recorder.record(request(), 'kept');
        recorder.record(request(), 'gone');
        await recorder.flush();
        expect(await storedRequests(store.forTenant('kept'))).toBe(1);
        expect(await store.forTenant('gone').totals()).toBeUndefined();
        expect(recorder.namedTenantsHeld()).toBe(0);
    });

    it('reads nothing, without failing, before anything was stored', async () => {
        const store = freshStore();
        expect((await store.hours(HOUR, HOUR)).size).toBe(0);
        expect(await store.totals()).toBeUndefined();
        expect(await store.recentFailures(20)).toEqual([]);
    });
});
