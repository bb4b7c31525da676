/**
 * The emulator tweak for key ranges (dev/embeddedAzurite.ts): the shared test Azurite runs with it, so every
 * store test reads through it; here the same key-range reads are checked against the rows a plain filter
 * over everything selects, with keys that stress the quoting and the ordering.
 */
import { odata, TableClient, type TransactionAction } from '@azure/data-tables';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowKeyRangeOf } from '../../dev/embeddedAzurite';
import { prefixRange } from '../../shared/store/keys';
import { testConnectionString, testTableName } from '../support/tables';

describe('key-range reads on the embedded Azurite', () => {
    it('reads only the store\'s range filter shape', () => {
        expect(rowKeyRangeOf("PartitionKey eq 'users' and RowKey ge 'ix:a' and RowKey lt 'ix;'")).toEqual(['ix:a', 'ix;']);
        expect(rowKeyRangeOf("PartitionKey eq 'users' and RowKey gt 'u:O''Brien' and RowKey lt 'u;'")).toEqual(["u:O'Brien", 'u;']);
        expect(rowKeyRangeOf("PartitionKey eq 'users' and RowKey ge 'a' and RowKey lt 'b' or RowKey eq 'c'")).toBeUndefined();
        expect(rowKeyRangeOf("PartitionKey eq 'users' and RowKey ge '1' and RowKey lt '2'")).toBeUndefined();
        expect(rowKeyRangeOf("PartitionKey eq 'users'")).toBeUndefined();
    });

    it('answers every prefix range exactly as a filter over all rows does, with counted cases', async () => {
        const client = TableClient.fromConnectionString(testConnectionString(), testTableName('range'), { allowInsecureConnection: true });
        await client.createTable();
        const parts = ['a', 'b', "o'", 'é', '%27', 'x:y', '~', 'A', '0'];
        const keys = new Set<string>();
        for (const kind of ['u', 'ix', 'ixstate', 'ext']) for (const first of parts) for (const second of parts) keys.add(`${kind}:${first}${second}:${second}`);
        const rowKeys = [...keys];
        const actions: TransactionAction[] = rowKeys.map((rowKey) => ['create', { partitionKey: 'p', rowKey }]);
        for (let start = 0; start < actions.length; start += 100) await client.submitTransaction(actions.slice(start, start + 100));
        await client.createEntity({ partitionKey: 'q', rowKey: 'u:a' }); // another partition with a matching key

        let checked = 0;
        await fc.assert(
            fc.asyncProperty(fc.constantFrom(...rowKeys), fc.nat({ max: 12 }), fc.boolean(), async (key, cut, exclusive) => {
                const prefix = key.slice(0, Math.max(2, Math.min(key.length, cut)));
                const { from, to } = prefixRange(prefix.endsWith(':') ? prefix : `${prefix}:`);
                const filter = exclusive
                    ? odata`PartitionKey eq ${'p'} and RowKey gt ${from} and RowKey lt ${to}`
                    : odata`PartitionKey eq ${'p'} and RowKey ge ${from} and RowKey lt ${to}`;
                const read: string[] = [];
                for await (const entity of client.listEntities({ queryOptions: { filter } })) read.push(entity.rowKey!);
                const expected = rowKeys.filter((rowKey) => (exclusive ? rowKey > from : rowKey >= from) && rowKey < to).sort();
                expect(read).toEqual(expected);
                checked++;
            }),
            { numRuns: 120 },
        );
        expect(checked).toBe(120);
    }, 120_000);
});
