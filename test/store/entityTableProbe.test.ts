/**
 * EntityTable.probe: which rows exist, settled by transactions that always roll back (issue 17: unknown member
 * ids cost a few requests, not one or two each). Checked against rows planted on Azurite: the answer, the
 * number of transactions (⌈k/99⌉ + one per switch between present and absent), and that nothing was written.
 */
import { TableClient } from '@azure/data-tables';
import { beforeAll, describe, expect, it } from 'vitest';
import { EntityTable } from '../../shared/store/EntityTable';
import { addStorageRequestCounter, countStorageRequests } from '../../shared/store/requestCounter';
import { testConnectionString, testTableName } from '../support/tables';
import { tableSnapshot } from '../reliability/support/tableSnapshot';
import { submitInTransactions } from './storeFixture';

const tableName = testTableName('probe');
const client = TableClient.fromConnectionString(testConnectionString(), tableName, { allowInsecureConnection: true });
addStorageRequestCounter(client.pipeline);
const table = new EntityTable(client);
const PARTITION = 'p';
/** Rows `k:000` … `k:299` exist for even numbers only below 100, for all from 100 to 199, for none from 200 on. */
const exists = (n: number): boolean => (n < 100 ? n % 2 === 0 : n < 200);
const key = (n: number): string => `k:${String(n).padStart(3, '0')}`;

beforeAll(async () => {
    const raw = TableClient.fromConnectionString(testConnectionString(), tableName, { allowInsecureConnection: true });
    const rows = Array.from({ length: 300 }, (_, n) => n).filter(exists);
    await submitInTransactions(raw, rows.map((n) => ['create', { partitionKey: PARTITION, rowKey: key(n) }]));
});

/** Switches between present and absent along `numbers`, counting the first key against `expectPresent`. */
function switches(numbers: number[], expectPresent: boolean): number {
    let count = 0;
    let previous = expectPresent;
    for (const n of numbers) {
        if (exists(n) !== previous) count++;
        previous = exists(n);
    }
    return count;
}

describe('EntityTable.probe', () => {
    it.each([
        ['all present', Array.from({ length: 100 }, (_, n) => 100 + n), true],
        ['all absent, guessed absent', Array.from({ length: 100 }, (_, n) => 200 + n), false],
        ['all absent, guessed present', Array.from({ length: 100 }, (_, n) => 200 + n), true],
        ['present then absent', Array.from({ length: 200 }, (_, n) => 100 + n), true],
        ['alternating', Array.from({ length: 40 }, (_, n) => n), true],
        ['alternating over several batches', Array.from({ length: 250 }, (_, n) => n), true],
        ['none', [], true],
    ] as const)('%s: right answer, a bounded number of transactions, nothing written', async (_what, numbers, expectPresent) => {
        const before = await tableSnapshot(testConnectionString(), tableName);
        const { result, requests } = await countStorageRequests(() => table.probe(PARTITION, numbers.map(key), { expectPresent }));
        expect(result.present.sort()).toEqual(numbers.filter(exists).map(key).sort());
        expect(result.absent.sort()).toEqual(numbers.filter((n) => !exists(n)).map(key).sort());
        expect(requests.transaction).toBe(requests.total);
        // Batches after the first go several at a time, each guessing as the one before it ended: one may start wrong.
        const batches = Math.ceil(numbers.length / 99);
        expect(requests.total).toBeLessThanOrEqual(batches + Math.max(0, batches - 1) + switches([...numbers], expectPresent));
        expect(await tableSnapshot(testConnectionString(), tableName)).toEqual(before);
    });

    it('settles 1,000 absent keys guessed present in 1 + ⌈1000/99⌉ transactions (the unknown-ids case)', async () => {
        const numbers = Array.from({ length: 1000 }, (_, n) => 300 + n);
        const { result, requests } = await countStorageRequests(() => table.probe(PARTITION, numbers.map((n) => `k:${n}`), { expectPresent: true }));
        expect(result.absent).toHaveLength(1000);
        expect(requests.total).toBe(1 + Math.ceil(1000 / 99));
    });

    it('stops once enough absent keys are known', async () => {
        const numbers = Array.from({ length: 300 }, (_, n) => 299 - n); // 100 absent first
        const { result, requests } = await countStorageRequests(() => table.probe(PARTITION, numbers.map(key), { expectPresent: false, stopAfterAbsent: 10 }));
        expect(result.absent.length).toBeGreaterThanOrEqual(10);
        expect(result.absent.every((rowKey) => !exists(Number(rowKey.slice(2))))).toBe(true);
        expect(requests.total).toBe(1);
    });
});
