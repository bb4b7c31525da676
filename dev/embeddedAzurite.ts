/**
 * Azurite's table service, started in this process: the store behind `npm start` and the tests.
 *
 * Azurite has no public API for this (its package main is the VS Code extension), so this deep-imports
 * `TableServer`, which is why package.json pins azurite to an exact version. The in-process server never
 * initialises Azurite's telemetry client, and it listens on 127.0.0.1 only.
 * Never imported by the functions themselves (dev/ is outside the function build): azurite is a dev dependency.
 */
import path from 'node:path';
import type { AddressInfo } from 'node:net';

/** Azurite's well-known development account (public, documented; not a secret). */
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface EmbeddedAzurite {
    connectionString: string;
    port: number;
    stop(): Promise<void>;
}

/** The parts of Azurite's (untyped, deep-imported) table server module this file uses. */
type TableServerModule = { default: new (configuration: unknown) => AzuriteTableServer };
type TableConfigurationModule = { default: new (...settings: unknown[]) => unknown };

interface AzuriteTableServer {
    start(): Promise<void>;
    close(): Promise<void>;
    clean(): Promise<void>;
    getHttpServerAddress(): string;
    server?: { address(): AddressInfo | string | null };
}

/**
 * Starts the table service on 127.0.0.1. `persistDir` keeps data across restarts (npm start);
 * without it everything lives in memory (tests, SCIM_STORAGE=memory).
 */
export async function startEmbeddedAzurite(options: { port?: number; persistDir?: string } = {}): Promise<EmbeddedAzurite> {
    usePartitionIndependentPointLookups();
    useRowKeyIndexForKeyRanges();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const TableServer = (require('azurite/dist/src/table/TableServer') as TableServerModule).default;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const TableConfiguration = (require('azurite/dist/src/table/TableConfiguration') as TableConfigurationModule).default;
    const inMemory = options.persistDir === undefined;
    const dbPath = inMemory ? ':memory:' : path.join(options.persistDir!, '__azurite_db_table__.json');
    const configuration = new TableConfiguration(
        '127.0.0.1',
        options.port ?? 0,
        5, // keep-alive timeout, seconds
        dbPath,
        false, // debug log
        false, // access log
        undefined,
        undefined,
        false, // loose
        true, // skipApiVersionCheck: the SDK may be newer than the emulator
        '',
        '',
        '',
        undefined,
        false,
        inMemory,
    );
    if (!inMemory) {
        const fs = await import('node:fs');
        fs.mkdirSync(options.persistDir!, { recursive: true });
    }
    const server = new TableServer(configuration);
    await server.start();
    const address = server.getHttpServerAddress(); // "http://127.0.0.1:PORT"
    const port = Number(new URL(address).port);
    return {
        port,
        connectionString: azuriteConnectionString(port),
        stop: async () => {
            await server.close();
        },
    };
}

/**
 * Azurite looks up an entity with LokiJS `findOne({ PartitionKey, RowKey })`, which narrows by the first key's
 * index (PartitionKey) and then filters the whole partition linearly: every insert, update and delete costs
 * O(partition size), so seeding a 50,000-member group (100,000 edge rows in the `groups` partition) would
 * take minutes. Asking for RowKey first is the same conjunction, but LokiJS then narrows by the RowKey index
 * to one row. Idempotent; affects only this process's LokiJS (the emulator), never Azure.
 */
function usePartitionIndependentPointLookups(): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Collection } = require('lokijs') as { Collection: { prototype: { findOne: (this: unknown, query: unknown) => unknown; rowKeyFirst?: true } } };
    const prototype = Collection.prototype;
    if (prototype.rowKeyFirst) return;
    const findOne = prototype.findOne;
    prototype.findOne = function (this: unknown, query: unknown) {
        if (query !== null && typeof query === 'object' && 'PartitionKey' in query && 'RowKey' in query && Object.keys(query).length === 2) {
            return findOne.call(this, { RowKey: query.RowKey, PartitionKey: query.PartitionKey });
        }
        return findOne.call(this, query);
    };
    prototype.rowKeyFirst = true;
}

/**
 * Azurite answers every query by running its filter over the whole table (LokiJS `chain().where(fn)`), so a
 * key-range read — an index lookup, a page of a partition — costs O(rows in the table) there, while Table
 * Storage serves it from its (PartitionKey, RowKey) index (docs/azure-notes.md §6). That made key-range lookups
 * look 16× slower at 100k users than at 1k in `bench:growth`, an artefact of the emulator. For the one query
 * shape the store sends for ranges, `PartitionKey eq 'p' and RowKey ge|gt 'a' and RowKey lt 'b'`, this first
 * narrows the rows with LokiJS's binary index on RowKey (`$between`, a superset) and lets Azurite's own filter
 * decide as before. Any other filter is untouched. Idempotent; affects only this process's emulator.
 */
function useRowKeyIndexForKeyRanges(): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { default: Store } = require('azurite/dist/src/table/persistence/LokiTableMetadataStore') as { default: { prototype: AzuriteStorePrototype } };
    const prototype = Store.prototype;
    if (prototype.rowKeyRanges) return;
    const query = prototype.queryTableEntities;
    prototype.queryTableEntities = function (this: AzuriteStore, context, account, table, queryOptions, ...rest) {
        const range = rowKeyRangeOf(queryOptions?.filter);
        if (!range) return query.call(this, context, account, table, queryOptions, ...rest);
        const collection = this.getEntityCollection(account, table, context);
        const chain = collection.chain;
        // Azurite calls chain() synchronously, before its first await: narrow that one result set.
        collection.chain = function (this: LokiCollection, ...args: unknown[]) {
            collection.chain = chain;
            return chain.apply(this, args).find({ RowKey: { $between: range } });
        };
        try {
            return query.call(this, context, account, table, queryOptions, ...rest);
        } finally {
            collection.chain = chain;
        }
    };
    prototype.rowKeyRanges = true;
}

interface AzuriteStorePrototype {
    queryTableEntities: (this: AzuriteStore, context: unknown, account: string, table: string, queryOptions: { filter?: string } | undefined, ...rest: unknown[]) => Promise<unknown>;
    rowKeyRanges?: true;
}
interface AzuriteStore {
    getEntityCollection(account: string, table: string, context: unknown): LokiCollection;
}
interface LokiResultset {
    find(query: unknown): LokiResultset;
}
interface LokiCollection {
    chain: (this: LokiCollection, ...args: unknown[]) => LokiResultset;
}

const QUOTED = "'((?:[^']|'')*)'";
const KEY_RANGE_FILTER = new RegExp(`^PartitionKey eq ${QUOTED} and RowKey g[et] ${QUOTED} and RowKey lt ${QUOTED}$`);

/** `[from, to]` of the store's key-range filter (inclusive: Azurite's filter applies the exact bounds after). */
export function rowKeyRangeOf(filter: string | undefined): [string, string] | undefined {
    const match = filter === undefined ? null : KEY_RANGE_FILTER.exec(filter.trim());
    if (!match) return undefined;
    const from = match[2]!.replace(/''/g, "'");
    const to = match[3]!.replace(/''/g, "'");
    // LokiJS compares numeric-looking strings as numbers; the store's RowKeys always carry a `prefix:`.
    if (!Number.isNaN(Number(from)) || !Number.isNaN(Number(to))) return undefined;
    return [from, to];
}

export function azuriteConnectionString(port: number): string {
    return (
        `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};` +
        `TableEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`
    );
}

/**
 * Azurite's queue service in this process, in memory: where the change feed is pushed locally and in tests
 * (docs/feed.md, "Push"). Same deep import and pin as the table service; listens on 127.0.0.1 only.
 */
export async function startEmbeddedQueueService(options: { port?: number } = {}): Promise<EmbeddedAzurite> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const QueueServer = (require('azurite/dist/src/queue/QueueServer') as { default: new (configuration: unknown) => AzuriteTableServer }).default;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const QueueConfiguration = (require('azurite/dist/src/queue/QueueConfiguration') as { default: new (...args: unknown[]) => unknown }).default;
    const configuration = new QueueConfiguration(
        '127.0.0.1',
        options.port ?? 0,
        5, // keep-alive timeout, seconds
        ':memory:', // metadata
        ':memory:', // extents
        [],
        false, // access log
        undefined,
        false, // debug log
        undefined,
        false, // loose
        true, // skipApiVersionCheck: the SDK may be newer than the emulator
        '',
        '',
        '',
        undefined,
        false,
        true, // in memory
    );
    const server = new QueueServer(configuration);
    await server.start();
    const port = Number(new URL(server.getHttpServerAddress()).port);
    return {
        port,
        connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};QueueEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`,
        stop: async () => {
            await server.close();
        },
    };
}
