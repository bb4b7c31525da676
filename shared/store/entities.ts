/**
 * The shape of each row kind in the SCIM table (docs/storage.md), and the conversion between a resource
 * row and a `StoredResource`.
 *
 * A resource row keeps its attributes as JSON. A string property holds at most 64 KiB (32K UTF-16 code
 * units) and an entity at most 1 MiB (docs/azure-notes.md §6), so the JSON is split into chunks of 30,000 code units
 * (`attributes0`, `attributes1`, …) and a resource over 450,000 code units (≈ 900 KB as UTF-16) is refused
 * (`tooLarge`, 413) before storage is asked.
 */
import { StoreError } from '../scim/storeErrors';
import type { ResourceTypeName } from '../scim/schemas';
import type { TransactionAction } from '@azure/data-tables';
import type { EqualityIndex, ScimResource, StoredResource } from '../scim/store';
import type { EntityTable } from './EntityTable';
import {
    externalIdRowKey,
    indexRowKey,
    partitionOf,
    type Partitions,
    resourceRowKey,
    uniqueAttributeOf,
    uniqueNameRowKey,
    versionOfEtag,
} from './keys';

const CHUNK_LENGTH = 30_000;
/**
 * Generic index rows a resource may have in all, so that replacing every one of them still fits an
 * entity-group transaction of 100 operations: resource row + 40 deletes + 40 inserts + the built-in
 * name and externalId moves (4) = 85, plus the change feed's head update and event row (FeedLog.ts,
 * `FEED_OPERATIONS_PER_EVENT`) = 87; a member change fills the rest of its first transaction with edges.
 */
export const MAX_INDEX_ROWS_PER_RESOURCE = 40;
export const MAX_ATTRIBUTES_JSON_LENGTH = 450_000;

/** A `u:<id>` / `g:<id>` row. */
export type ResourceRow = {
    partitionKey: string;
    rowKey: string;
    id: string;
    created: string;
    lastModified: string;
    attributesChunks: number;
    /** RowKey of this resource's `un:`/`dn:` row, so a delete or rename removes exactly that row. */
    uniqueNameKey: string;
    /** RowKey of this resource's `ext:` row, absent without externalId. */
    externalIdKey?: string;
    /**
     * Set (once, never cleared) before the first membership edge to this resource is written, so deleting
     * a user that was never in a group needs no edge read (docs/storage.md, "Deletes").
     */
    hasMemberships?: boolean;
    /** Deletion has begun (a group, or a user deleted with If-Match); readers treat the resource as gone. */
    deleting?: boolean;
    /**
     * The SCIM version, set by every write that changes the resource (keys.ts `versionOfPosition`); rows
     * written before the change feed have none and use their ETag's.
     */
    version?: string;
    /**
     * The generic index rows of this resource (docs/storage.md, "Equality indexes"), as JSON
     * `{"<index path>": ["ix:…", …]}`: an entry per index the writer maintained, empty when the resource has
     * no value for it. The entry says the row is covered (a rebuild skips it); the keys let an update or a
     * delete remove exactly these rows, even of an index no longer configured. Absent on rows written
     * before indexes existed: covered by nothing.
     */
    indexKeys?: string;
    /** `attributes0` … `attributes<n-1>`. */
    [chunk: `attributes${number}`]: string;
};

/** A `un:`, `dn:` or `ext:` row: points at the resource that owns the value. */
export type IndexRow = {
    partitionKey: string;
    rowKey: string;
    id: string;
};

/** An `m:<group>:<member>` or `mo:<member>:<group>` row. */
export type EdgeRow = {
    partitionKey: string;
    rowKey: string;
    groupId: string;
    memberId: string;
    memberType: ResourceTypeName;
};

export interface StoredRow<T> {
    row: T;
    etag: string;
}

/** What `indexKeys` says: index path → the RowKeys of that index's rows for this resource. */
export type IndexCoverage = Record<string, string[]>;

export interface ResourceRows {
    resource: ResourceRow;
    uniqueName: IndexRow;
    externalId?: IndexRow;
    /** The generic index rows (one per distinct value per index), all listed in `resource.indexKeys`. */
    indexRows: IndexRow[];
}

/**
 * Builds the resource row and its index rows for the given attributes: the built-in unique-name and
 * externalId rows, and a row per value of each generic index in `indexes` (the built-in ones in the list
 * are skipped). More than `MAX_INDEX_ROWS_PER_RESOURCE` generic rows → 400 invalidValue naming the index
 * with the most values: its rows and the old ones must fit one transaction.
 */
export function buildResourceRows(
    resourceType: ResourceTypeName,
    id: string,
    attributes: ScimResource,
    partitions: Partitions,
    timestamps: { created: string; lastModified: string },
    options: { hasMemberships?: boolean; indexes?: readonly EqualityIndex[] } = {},
): ResourceRows {
    const partitionKey = partitionOf(resourceType, partitions);
    const uniqueValue = attributes[uniqueAttributeOf(resourceType)];
    if (typeof uniqueValue !== 'string' || uniqueValue === '') {
        throw new StoreError('invalidChange', `${uniqueAttributeOf(resourceType)} is required`);
    }
    const externalId = typeof attributes.externalId === 'string' && attributes.externalId !== '' ? attributes.externalId : undefined;
    const coverage: IndexCoverage = {};
    const indexRows: IndexRow[] = [];
    let largest: { path: string; count: number } | undefined;
    for (const index of options.indexes ?? []) {
        if (index.storage !== 'rows') continue;
        const rowKeys = index.keysOf(attributes).map((key) => indexRowKey(index.path, key, id));
        coverage[index.path] = rowKeys;
        indexRows.push(...rowKeys.map((rowKey) => ({ partitionKey, rowKey, id })));
        if (!largest || rowKeys.length > largest.count) largest = { path: index.path, count: rowKeys.length };
    }
    if (indexRows.length > MAX_INDEX_ROWS_PER_RESOURCE) {
        throw new StoreError('invalidChange', `Too many values for indexed attributes (most for ${largest!.path}): at most ${MAX_INDEX_ROWS_PER_RESOURCE} in all`);
    }
    const resource: ResourceRow = {
        partitionKey,
        rowKey: resourceRowKey(resourceType, id),
        id,
        created: timestamps.created,
        lastModified: timestamps.lastModified,
        uniqueNameKey: uniqueNameRowKey(resourceType, uniqueValue),
        ...(externalId === undefined ? {} : { externalIdKey: externalIdRowKey(externalId, id) }),
        ...(options.hasMemberships ? { hasMemberships: true } : {}),
        ...(Object.keys(coverage).length === 0 ? {} : { indexKeys: JSON.stringify(coverage) }),
        ...chunkAttributes(attributes),
    };
    return {
        resource,
        uniqueName: { partitionKey, rowKey: resource.uniqueNameKey, id },
        ...(resource.externalIdKey === undefined ? {} : { externalId: { partitionKey, rowKey: resource.externalIdKey, id } }),
        indexRows,
    };
}

/** The generic index rows a resource row lists; `{}` for a row written before indexes existed. */
export function indexCoverageOf(row: object): IndexCoverage {
    const { indexKeys } = row as { indexKeys?: unknown };
    if (typeof indexKeys !== 'string' || indexKeys === '') return {};
    try {
        const parsed: unknown = JSON.parse(indexKeys);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
        const coverage: IndexCoverage = {};
        for (const [path, keys] of Object.entries(parsed)) {
            if (Array.isArray(keys)) coverage[path] = keys.filter((key): key is string => typeof key === 'string');
        }
        return coverage;
    } catch {
        return {};
    }
}

/** Every generic index RowKey a resource row lists. */
export function indexRowKeysOf(row: object): string[] {
    return Object.values(indexCoverageOf(row)).flat();
}

function chunkAttributes(attributes: ScimResource): { attributesChunks: number } & Record<`attributes${number}`, string> {
    const json = jsonForStorage(attributes);
    if (json.length > MAX_ATTRIBUTES_JSON_LENGTH) {
        throw new StoreError('tooLarge', 'The resource is too large to store');
    }
    return chunkedProperties('attributes', json) as { attributesChunks: number } & Record<`attributes${number}`, string>;
}

/**
 * JSON text as the properties of a row: `<name>Chunks` (how many) and `<name>0`, `<name>1`, … (resource
 * attributes, event drafts); `joinedProperties` reads it back.
 */
export function chunkedProperties(name: string, json: string): Record<string, string | number> {
    const parts = jsonChunks(json);
    const properties: Record<string, string | number> = { [`${name}Chunks`]: parts.length };
    parts.forEach((part, index) => (properties[`${name}${index}`] = part));
    return properties;
}

export function joinedProperties(row: Record<string, unknown>, name: string): string {
    const count = Number(row[`${name}Chunks`] ?? 0);
    let json = '';
    for (let index = 0; index < count; index++) {
        const chunk = row[`${name}${index}`];
        json += typeof chunk === 'string' ? chunk : '';
    }
    return json;
}

/**
 * JSON as the table stores it. U+2028/U+2029 are written as JSON escapes (same value after parsing): Azurite's
 * transaction parser fails a batch holding them raw with 500 "Transaction Failed", which became a 503 retried forever.
 */
export function jsonForStorage(value: unknown): string {
    return JSON.stringify(value).replace(/[\u2028\u2029]/g, (separator) => `\\u${separator.charCodeAt(0).toString(16)}`);
}

/** Splits JSON text into string properties of at most 30,000 UTF-16 units, never inside a surrogate pair; at least one. */
function jsonChunks(json: string): string[] {
    const chunks: string[] = [];
    for (let start = 0; start < json.length || chunks.length === 0; ) {
        let end = Math.min(start + CHUNK_LENGTH, json.length);
        // Never split a surrogate pair: a lone surrogate is not valid UTF-16 text for the service.
        if (end < json.length && isHighSurrogate(json.charCodeAt(end - 1))) end--;
        chunks.push(json.slice(start, end));
        start = end;
    }
    return chunks;
}

function isHighSurrogate(code: number): boolean {
    return code >= 0xd800 && code <= 0xdbff;
}

/** The attributes JSON of a resource row, joined from its chunks. */
export function attributesOf(row: Record<string, unknown>): ScimResource {
    return JSON.parse(joinedProperties(row, 'attributes')) as ScimResource;
}

/** `attributes`: the row's attributes when the caller has them (it just built the row from them), else read from the row. */
export function toStoredResource(resourceType: ResourceTypeName, stored: StoredRow<ResourceRow>, attributes: ScimResource = attributesOf(stored.row)): StoredResource {
    return {
        resourceType,
        id: stored.row.id,
        attributes,
        created: stored.row.created,
        lastModified: stored.row.lastModified,
        version: versionOfRow(stored),
    };
}

/** The SCIM version of a resource row: the one it stores, else (a row older than the change feed) its ETag's. */
export function versionOfRow(stored: StoredRow<ResourceRow>): string {
    return stored.row.version ?? versionOfEtag(stored.etag);
}

/** Reads a resource row out of an SDK entity (which also carries `etag` and `timestamp`). */
export function resourceRowOf(entity: Record<string, unknown>): StoredRow<ResourceRow> {
    const { etag, timestamp: _timestamp, ...row } = entity;
    return { row: row as unknown as ResourceRow, etag: String(etag) };
}

/** The resource row by id, including a group in the `deleting` state; undefined if there is none. */
export async function readResourceRow(table: EntityTable, partitions: Partitions, resourceType: ResourceTypeName, id: string): Promise<StoredRow<ResourceRow> | undefined> {
    const entity = await table.read(partitionOf(resourceType, partitions), resourceRowKey(resourceType, id));
    return entity && resourceRowOf(entity);
}

/** The transaction actions that delete a resource row and its index rows (the row first). */
export function resourceDeletionActions(row: ResourceRow): TransactionAction[] {
    const { partitionKey } = row;
    const actions: TransactionAction[] = [
        ['delete', { partitionKey, rowKey: row.rowKey }],
        ['delete', { partitionKey, rowKey: row.uniqueNameKey }],
    ];
    if (row.externalIdKey) actions.push(['delete', { partitionKey, rowKey: row.externalIdKey }]);
    for (const rowKey of indexRowKeysOf(row)) actions.push(['delete', { partitionKey, rowKey }]);
    return actions;
}
