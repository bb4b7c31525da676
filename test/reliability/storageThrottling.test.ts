/**
 * Throttling versus outage (issue 17). When Table Storage sheds load (503 `ServerBusy`, or 500
 * `OperationTimedOut`), Entra should pause and retry only the failed requests: 429 with Retry-After. When it is
 * down (503 without `ServerBusy`, connection refused) the answer stays 503 with Retry-After. Either way nothing
 * half-written is left, and the same request succeeds once storage is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsistency } from '../support/consistencyChecker';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { startStorageProxy, type StorageMisbehaviour, type StorageProxy } from '../support/storageProxy';
import { testConnectionString } from '../support/tables';
import { groupBody, patchBody, userBody } from './support/resources';
import { expectScimError } from '../support/scimReplies';
import { summaryLines } from './support/summaryLines';
import { snapshotDifferences, tableSnapshot } from './support/tableSnapshot';

let proxy: StorageProxy;
let server: ScimTestServer;
let userId: string;
let groupId: string;

beforeAll(async () => {
    proxy = await startStorageProxy(testConnectionString());
    server = await startScimServer({ connectionString: proxy.connectionString });
    const user = await server.request('POST', '/Users', userBody('throttled.person@contoso.example'));
    expect(user.status).toBe(201);
    userId = user.body.id;
    const group = await server.request('POST', '/Groups', groupBody('Throttled group'));
    expect(group.status).toBe(201);
    groupId = group.body.id;
});

afterAll(async () => {
    await server?.close();
    await proxy?.close();
});

/** Requests of every kind Entra sends, each of which reads or writes storage. */
function entraRequests(): [string, string, unknown][] {
    return [
        ['GET', `/Users?filter=${encodeURIComponent('userName eq "throttled.person@contoso.example"')}`, undefined],
        ['GET', `/Users/${userId}`, undefined],
        ['POST', '/Users', userBody('created.while.throttled@contoso.example')],
        ['PATCH', `/Users/${userId}`, patchBody({ op: 'replace', path: 'displayName', value: 'Renamed while throttled' })],
        ['PATCH', `/Groups/${groupId}`, patchBody({ op: 'add', path: 'members', value: [{ value: userId }] })],
        ['DELETE', `/Users/${userId}`, undefined],
    ];
}

const CASES: [string, StorageMisbehaviour, number][] = [
    ['503 ServerBusy (throttling) → 429', { kind: 'error', status: 503, code: 'ServerBusy' }, 429],
    ['500 OperationTimedOut (throttling) → 429', { kind: 'error', status: 500, code: 'OperationTimedOut' }, 429],
    ['503 ServiceUnavailable (outage) → 503', { kind: 'error', status: 503, code: 'ServiceUnavailable' }, 503],
    ['refused connections (outage) → 503', { kind: 'refuse' }, 503],
];

describe('storage throttling and outages', () => {
    it.each(CASES)('%s with Retry-After on every request, nothing written, and the retry succeeds', async (_what, misbehaviour, expected) => {
        const before = await tableSnapshot(testConnectionString(), server.tableName);
        const from = server.logs.length;
        proxy.misbehave(misbehaviour);
        try {
            for (const [method, path, body] of entraRequests()) {
                const reply = await server.request(method, path, body);
                expectScimError(reply, expected);
                expect(Number(reply.headers.get('retry-after')), `${method} ${path}`).toBeGreaterThan(0);
            }
        } finally {
            proxy.misbehave(undefined);
        }
        expect(summaryLines(server.logs, from).map((summary) => summary.status)).toEqual(entraRequests().map(() => expected));
        expect(snapshotDifferences(before, await tableSnapshot(testConnectionString(), server.tableName))).toEqual([]);
        expect(proxy.misbehaved).toBeGreaterThan(0);

        // Storage is back: Entra's retry of the same request goes through.
        expect((await server.request('GET', `/Users/${userId}`)).status).toBe(200);
    });

    it('leaves a consistent table', async () => {
        expect(await checkConsistency(testConnectionString(), server.tableName)).toEqual([]);
    });
});
