/** Shared set-up for the store suites: a store on a fresh table of the shared Azurite, plus seeding helpers. */
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { expect } from 'vitest';
import { readIndexConfiguration } from '../../shared/scim/attributeIndexes';
import { StoreError } from '../../shared/scim/storeErrors';
import { createTableResourceStore, type TableResourceStore } from '../../shared/store/TableResourceStore';
import { testConnectionString, testTableName } from '../support/tables';

export interface StoreFixture {
    store: TableResourceStore;
    tableName: string;
    connectionString: string;
    /** A raw client on the same table, for planting rows and seeding. */
    raw: TableClient;
}

export function storeOnFreshTable(): StoreFixture {
    const tableName = testTableName('store');
    const connectionString = testConnectionString();
    const store = createTableResourceStore({ tableName, connectionString }, { allowInsecureConnection: true, indexes: readIndexConfiguration(undefined) });
    const raw = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
    return { store, tableName, connectionString, raw };
}

export const NOW = '2026-11-28T10:00:00.000Z';
export const LATER = '2026-11-28T11:00:00.000Z';

export function user(userName: string, externalId?: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName,
        ...(externalId === undefined ? {} : { externalId }),
        active: true,
        ...extra,
    };
}

export function group(displayName: string, externalId?: string): Record<string, unknown> {
    return {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName,
        ...(externalId === undefined ? {} : { externalId }),
    };
}

/** Awaits a rejection and returns it as the store's error value (fails the test if it is anything else). */
export async function storeErrorOf(promise: Promise<unknown>): Promise<StoreError> {
    const error = await promise.then(
        () => undefined,
        (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
}

/** Submits actions in transactions of ≤ 100 (all in one partition), a few at a time. Creates the table if needed. */
export async function submitInTransactions(raw: TableClient, actions: TransactionAction[], concurrency = 4): Promise<void> {
    await raw.createTable();
    const batches: TransactionAction[][] = [];
    for (let start = 0; start < actions.length; start += 100) batches.push(actions.slice(start, start + 100));
    let next = 0;
    await Promise.all(
        Array.from({ length: concurrency }, async () => {
            while (next < batches.length) await raw.submitTransaction(batches[next++]!);
        }),
    );
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
    const collected: T[] = [];
    for await (const item of items) collected.push(item);
    return collected;
}
