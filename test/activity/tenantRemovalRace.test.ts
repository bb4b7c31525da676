/**
 * Removing a named tenant while its activity is being flushed (docs/activity.md, "Tenants"), on Azurite. A flush
 * checks the registry, then writes; a remove can run to completion between the two. What keeps the removed tenant
 * free of rows is storage, not timing: every activity transaction of the tenant merges its marker row, and the
 * remove deletes that row before any other. The flushes here are held at the registry check by a gate the test
 * opens (no sleeps), so each interleaving happens every run.
 */
import { odata, TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTenantCommand } from '../../dev/tenantCommand';
import { ActivityRecorder } from '../../shared/activity/ActivityRecorder';
import { TenantRecordsClosedError } from '../../shared/activity/ActivityStore';
import { addRequest, emptyHour, hourOf } from '../../shared/activity/hourlyCounts';
import type { RequestActivity } from '../../shared/activity/requestActivity';
import { ACTIVITY_TENANT_MARKER_ROW_KEY, partitionsOf } from '../../shared/store/keys';
import { onStorageRequest } from '../../shared/store/requestCounter';
import { statusCodeOf } from '../../shared/statusCodeOf';
import { checkConsistency } from '../support/consistencyChecker';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { addTenant, runTenant } from '../support/tenants';
import { userBody } from '../reliability/support/resources';

let server: ScimTestServer;
let raw: TableClient;

beforeAll(async () => {
    server = await startScimServer({ appOptions: { activityFlushIntervalMs: 3_600_000 } });
    raw = TableClient.fromConnectionString(server.connectionString, server.tableName, { allowInsecureConnection: true });
}, 60_000);
afterAll(async () => {
    await server.close();
});

function request(overrides: Partial<RequestActivity> = {}): RequestActivity {
    return { at: Date.now(), method: 'GET', operation: 'lookup', status: 200, resourceType: 'User', invocationId: crypto.randomUUID(), ...overrides };
}

/** Every row of the tenant's partitions (users, groups, activity), as `partition rowKey`. */
async function rowsOf(tenant: string): Promise<string[]> {
    const rows: string[] = [];
    for (const partition of Object.values(partitionsOf(tenant))) {
        for await (const entity of raw.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${partition}`, select: ['RowKey'] } })) rows.push(`${partition} ${entity.rowKey}`);
    }
    return rows.sort();
}

async function markerExists(tenant: string): Promise<boolean> {
    try {
        await raw.getEntity(partitionsOf(tenant).activity, ACTIVITY_TENANT_MARKER_ROW_KEY);
        return true;
    } catch (error) {
        if (statusCodeOf(error) === 404) return false;
        throw error;
    }
}

/**
 * The app's registry check (shared/app.ts), with a gate: its call number `holdAt` reads the registry, then waits
 * until the test calls `release`; `reached` settles when it is waiting. `answers` lists what every call found.
 */
function gatedRegistryCheck(holdAt: number) {
    let calls = 0;
    let arrive!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const answers: boolean[] = [];
    const tenantExists = async (name: string): Promise<boolean> => {
        const exists = await server.currentApp().store.tenantRegistry().acceptsActivity(name);
        answers.push(exists);
        if (++calls === holdAt) {
            arrive();
            await released;
        }
        return exists;
    };
    return { tenantExists, reached, release, answers };
}

/** Waits until `flushing` is held at the gate; fails at once if it finished without getting there. */
async function heldAtGate(gate: { reached: Promise<void> }, flushing: Promise<void>): Promise<void> {
    await Promise.race([gate.reached, flushing.then(() => Promise.reject(new Error('the flush never reached the gate')))]);
}

/** A recorder like the app's (same store, same check), but gated, logging into `logs`, flushed only by the test. */
function gatedRecorder(holdAt: number, logs: string[]) {
    const gate = gatedRegistryCheck(holdAt);
    const recorder = new ActivityRecorder(server.currentApp().activityStore, { instanceId: crypto.randomUUID(), flushIntervalMs: 3_600_000, tenantExists: gate.tenantExists, log: (line) => logs.push(line) });
    return { recorder, gate };
}

/** `npm run tenant -- remove <name>`, stopped by an error from its first progress line (after its first steps, before any row batch). */
async function interruptedRemove(name: string, atFirstProgress: () => Promise<void>): Promise<{ code: number; err: string[] }> {
    const err: string[] = [];
    let progressLines = 0;
    let observed: Promise<void> = Promise.resolve();
    const code = await runTenantCommand(['remove', name], {
        env: { TABLES_CONNECTION_STRING: server.connectionString, SCIM_TABLE_NAME: server.tableName },
        out: () => undefined,
        err: (line) => err.push(line),
        progress: () => {
            if (progressLines++ > 0) return;
            observed = atFirstProgress();
            throw new Error('interrupted by the test');
        },
        createSecretClient: () => {
            throw new Error('no Key Vault in this test');
        },
    });
    await observed;
    return { code, err };
}

describe('a tenant\'s activity marker', () => {
    it('is created by add, before the tenant is used, and kept when an add crashed after it', async () => {
        const added = await addTenant(server, 'marked-rr');
        expect(await markerExists(added.name)).toBe(true);
        expect(await rowsOf(added.name)).toEqual([`${partitionsOf(added.name).activity} ${ACTIVITY_TENANT_MARKER_ROW_KEY}`]);

        // An add that crashed between the marker and the registry row left a marker only: the next add keeps it.
        await raw.createEntity({ partitionKey: partitionsOf('crashed-rr').activity, rowKey: ACTIVITY_TENANT_MARKER_ROW_KEY });
        await addTenant(server, 'crashed-rr');
        expect(await markerExists('crashed-rr')).toBe(true);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });

    it('is the first row remove deletes: after remove\'s first steps it is gone, every other row still there, and no batch gets in', async () => {
        const tenant = await addTenant(server, 'order-rr');
        expect((await server.request('POST', '/Users', userBody('ann@order.example'), {}, { as: tenant })).status).toBe(201);
        const logs: string[] = [];
        const { recorder } = gatedRecorder(0, logs);
        recorder.record(request(), tenant.name);
        await recorder.flush();
        const before = await rowsOf(tenant.name);
        expect(before).toContain(`${partitionsOf(tenant.name).activity} totals`);
        expect(before.filter((row) => row.startsWith(partitionsOf(tenant.name).users)).length).toBeGreaterThan(2);

        let during: string[] = [];
        const stopped = await interruptedRemove(tenant.name, async () => {
            during = await rowsOf(tenant.name);
        });
        expect(stopped.code).toBe(1);
        expect(stopped.err.at(-1)).toBe('Failed: Error'); // the error's name only (describeError)
        expect(during).toEqual(before.filter((row) => row !== `${partitionsOf(tenant.name).activity} ${ACTIVITY_TENANT_MARKER_ROW_KEY}`));
        expect(await server.currentApp().store.tenantRegistry().get(tenant.name)).toMatchObject({ state: 'removing' });

        // A batch of a flush that had found the tenant active before the remove began: its transaction is refused whole.
        const hour = emptyHour();
        addRequest(hour, request());
        const batch = { instanceId: 'stale', sequence: 1, hours: new Map([[hourOf(Date.now()), hour]]), totals: { users: 1, activeUsers: 1, groups: 0 }, failures: [] };
        await expect(server.currentApp().activityStore.forTenant(tenant.name).append(batch)).rejects.toBeInstanceOf(TenantRecordsClosedError);
        expect(await rowsOf(tenant.name)).toEqual(during);

        expect((await runTenant(server, ['remove', tenant.name])).code).toBe(0); // resumes and finishes
        expect(await rowsOf(tenant.name)).toEqual([]);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });
});

describe('a flush that passed its registry check before a remove', () => {
    it('writes nothing once the remove has finished: no row of the tenant, nothing for the checker, one log line, no retry', async () => {
        const tenant = await addTenant(server, 'race-rr');
        expect((await server.request('POST', '/Users', userBody('bob@race.example'), {}, { as: tenant })).status).toBe(201);
        const logs: string[] = [];
        const { recorder, gate } = gatedRecorder(1, logs);
        recorder.record(request(), tenant.name);
        recorder.record(request({ method: 'POST', operation: 'create', status: 201, totalsChange: { users: 1, activeUsers: 1, groups: 0 } }), tenant.name);

        const flushing = recorder.flush();
        await heldAtGate(gate, flushing); // the registry said: active
        expect(gate.answers).toEqual([true]);
        expect((await runTenant(server, ['remove', tenant.name])).code).toBe(0);
        expect(await rowsOf(tenant.name)).toEqual([]);
        gate.release();
        await flushing;

        expect(await rowsOf(tenant.name)).toEqual([]);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
        expect(gate.answers).toEqual([true, false]); // the refused write asked again: gone, so no marker is made
        expect(logs).toEqual([`activity records: tenant '${tenant.name}' is being removed or gone; 2 of its requests not stored.`]);
        expect(recorder.namedTenantsHeld()).toBe(0);

        // Dropped, not retried: the next flushes touch no storage for it.
        let requests = 0;
        const stop = onStorageRequest(() => requests++);
        await recorder.flush();
        await recorder.close();
        stop();
        expect(requests).toBe(0);
        expect(await rowsOf(tenant.name)).toEqual([]);
    });

    it('costs what it cost before the marker: the registry read, two point reads and one transaction', async () => {
        const tenant = await addTenant(server, 'cost-rr');
        const { recorder } = gatedRecorder(0, []);
        recorder.record(request(), tenant.name);
        await recorder.flush(); // the first batch creates the hour row
        recorder.record(request(), tenant.name);
        const kinds: string[] = [];
        const stop = onStorageRequest((event) => kinds.push(event.kind));
        await recorder.flush();
        stop();
        expect(kinds.sort()).toEqual(['pointRead', 'pointRead', 'pointRead', 'transaction']); // registry row, totals, hour row; the batch
        expect((await server.currentApp().activityStore.forTenant(tenant.name).hours('2000-01-01T00', '2100-01-01T00')).size).toBe(1);
    });
});

describe('a tenant added before markers (a registry row, no marker)', () => {
    async function legacyTenant(name: string): Promise<void> {
        await server.currentApp().store.tenantRegistry().put({ name, state: 'active', created: new Date().toISOString(), tokenDigest: '00'.repeat(32) });
        expect(await markerExists(name)).toBe(false);
    }

    it('gets its marker on its first flush, after the registry says it is there, and its counts are stored', async () => {
        await legacyTenant('legacy-rr');
        const logs: string[] = [];
        const { recorder, gate } = gatedRecorder(0, logs);
        recorder.record(request(), 'legacy-rr');
        let firstFlush = 0;
        const stopFirst = onStorageRequest(() => firstFlush++);
        await recorder.flush();
        stopFirst();
        expect(firstFlush).toBe(4 + 7); // docs/activity.md "Tenants": 7 more than a flush, once
        expect(gate.answers).toEqual([true, true, true]); // the flush's check, then before and after the marker's insert
        expect(await markerExists('legacy-rr')).toBe(true);
        expect((await server.currentApp().activityStore.forTenant('legacy-rr').hours('2000-01-01T00', '2100-01-01T00')).size).toBe(1);
        expect(logs).toEqual([]);

        recorder.record(request(), 'legacy-rr');
        const kinds: string[] = [];
        const stop = onStorageRequest((event) => kinds.push(event.kind));
        await recorder.flush();
        stop();
        expect(kinds.filter((kind) => kind === 'transaction')).toHaveLength(1); // from now on like any other tenant
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });

    it('gets no rows when a remove runs while its marker is being made: the flush takes the marker back', async () => {
        await legacyTenant('legacy-race-rr');
        const logs: string[] = [];
        const { recorder, gate } = gatedRecorder(2, logs); // held after the second check, before the marker's insert
        recorder.record(request(), 'legacy-race-rr');
        const flushing = recorder.flush();
        await heldAtGate(gate, flushing);
        expect((await runTenant(server, ['remove', 'legacy-race-rr'])).code).toBe(0);
        gate.release();
        await flushing;
        expect(gate.answers).toEqual([true, true, false]);
        expect(await rowsOf('legacy-race-rr')).toEqual([]);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
        expect(logs).toEqual([`activity records: tenant 'legacy-race-rr' is being removed or gone; 1 of its requests not stored.`]);
    });
});
