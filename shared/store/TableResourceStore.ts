/**
 * The Azure Table Storage implementation of `ResourceStore` (the key design is in docs/storage.md).
 *
 * One table, two partitions per tenant (`users`/`groups` for the default tenant, `<tenant>~users`/`<tenant>~groups`
 * for a named one, keys.ts `partitionsOf`; the layout below is the same in each):
 *   users   u:<id>  un:<userName key>  ext:<externalId key>:<id>
 *   groups  g:<id>  dn:<displayName key>  ext:<externalId key>:<id>  m:<group>:<member>  mo:<member>:<group>
 *           del:<id> (a group delete whose edge cleanup is pending)
 *   both    ix:<index>:<key>:<id>  ixstate:<index> (equality indexes)  ev:<position>  feed:head  feed:pushed (change feed)
 * A resource and its index rows share a partition, so create, rename and delete are each one
 * entity-group transaction (atomic), and a uniqueness clash is the 409 of inserting the `un`/`dn` row.
 * Users and groups go through the same code; membership edges (MembershipEdges.ts) are the group part.
 *
 * Versions are stored in the row (keys.ts `versionOfPosition`): the position of the change feed event written in
 * the same transaction, so the event carries the version; a conditional write compares it and writes with
 * If-Match on the ETag of the row it compared. Every change's transaction writes its event (FeedLog.ts).
 *
 * Equality indexes (attributeIndexes.ts) beyond the built-in name and externalId rows are `ix:` rows in
 * the same partition, written in the same transactions; the resource row lists them (`indexKeys`), and
 * IndexStates.ts decides when one may be read.
 *
 * Request costs (counted by requestCounter.ts, held to budgets in test/store/requestBudgets.test.ts):
 * get = 1 point read; an indexed eq = 1 (miss) or 1 + k (k hits, 16 point reads in flight);
 * create = 1 transaction; update = read + 1 transaction, or just the transaction when `expectedVersion`
 * names the version this store instance last read or wrote; delete of a user never in a group =
 * read + 1 transaction (UserDeletion.ts); a group delete is bounded by `GROUP_DELETE_BUDGET_MS`,
 * `sweepDeletedGroups` finishes it (GroupDeletion.ts).
 *
 * Besides the `ResourceStore` port the handlers see, it offers what only the timer and tests use:
 * `sweepDeletedGroups` and `existingIds`.
 */
import type { TransactionAction } from '@azure/data-tables';
import { changedAttributes, eventTypeOf, externalIdOf, type EventDraft } from '../feed/events';
import { StoreError } from '../scim/storeErrors';
import type { IndexLookup } from '../scim/queryPlan';
import type { ResourceTypeName } from '../scim/schemas';
import type { EqualityIndex, EqualityIndexes, GroupMember, IndexCatalog, ResourceChange, ResourceStore, ScimResource, StoredResource } from '../scim/store';
import { createEntityTable, EntityTable, MAX_PAGE_SIZE, MAX_TRANSACTION_OPERATIONS, type Entity, type TableOptions } from './EntityTable';
import {
    attributesOf,
    buildResourceRows,
    indexRowKeysOf,
    readResourceRow,
    resourceRowOf,
    toStoredResource,
    versionOfRow,
    type ResourceRow,
    type StoredRow,
} from './entities';
import { FeedLog } from './FeedLog';
import { FeedReader } from './FeedReader';
import { GROUP_DELETE_BUDGET_MS, GroupDeletion } from './GroupDeletion';
import { IndexStates } from './IndexStates';
import {
    externalIdRowPrefix,
    indexRowPrefix,
    isVersion,
    DEFAULT_PARTITIONS,
    partitionOf,
    type Partitions,
    resourceRowKey,
    resourceRowPrefix,
    uniqueAttributeOf,
    uniqueNameRowKey,
    versionOfPosition,
} from './keys';
import { MembershipEdges, type MemberChangeEvent } from './MembershipEdges';
import { RecentRows } from './RecentRows';
import { TenantRegistry } from './TenantRegistry';
import { FeedMaintenanceProgress } from './FeedMaintenanceProgress';
import { UserDeletion } from './UserDeletion';
import { statusCodeOf } from '../statusCodeOf';
import { asStoreError, failedOperationIndex, versionConflict } from './storageErrors';
import { TableChangeFeed } from './TableChangeFeed';

export type TableResourceStoreOptions = TableOptions;

/**
 * Writes of an unchanged version whose row's ETag moved meanwhile (a first group membership flags a user, an
 * index rebuild covers the row) before giving up.
 */
const MAX_UPDATE_ATTEMPTS = 3;
/**
 * The most resources one filter's index lookups may name (the union of all of them): each costs a point
 * read, so more is refused with 400 tooMany rather than read. A page of index rows holds 1,000.
 */
export const MAX_LOOKUP_RESOURCES = 1000;

/**
 * `allowInsecureConnection` is for Azurite only (http://127.0.0.1); the SDK refuses http otherwise.
 * Create one store per process: the table is created on its first use.
 */
export function createTableResourceStore(
    options: TableResourceStoreOptions,
    extra: { indexes: EqualityIndexes; allowInsecureConnection?: boolean; /** tests only */ groupDeleteBudgetMs?: number },
): TableResourceStore {
    return new TableResourceStore(createEntityTable(options, extra), extra.indexes, extra.groupDeleteBudgetMs);
}

export class TableResourceStore implements ResourceStore {
    private readonly edges: MembershipEdges;
    private readonly userDeletion: UserDeletion;
    private readonly groupDeletion: GroupDeletion;
    /** The change feed's write side: every change's events go into its transactions (docs/storage.md, "Change feed"). */
    private readonly feed: FeedLog;
    /** The change feed written by this store: the `/changes` route and the MaintainChangeFeed timer read it. */
    readonly changes: TableChangeFeed;
    /** Recently read or written resource rows, to skip the read of a conditional update. */
    private readonly recentRows = new RecentRows();
    private readonly indexStates: IndexStates;
    private prepared: Promise<void> | undefined;

    /** `indexConfiguration`: the equality indexes every write maintains (attributeIndexes.ts builds them from the settings). */
    constructor(
        private readonly table: EntityTable,
        private readonly indexConfiguration: EqualityIndexes,
        private readonly groupDeleteBudgetMs = GROUP_DELETE_BUDGET_MS,
        /** Whose resources this store holds: the default tenant's partitions unless `forTenant` chose others. */
        readonly partitions: Partitions = DEFAULT_PARTITIONS,
    ) {
        this.feed = new FeedLog(table);
        this.edges = new MembershipEdges(table, partitions, this.feed);
        this.userDeletion = new UserDeletion(table, partitions, this.edges, this.feed);
        this.groupDeletion = new GroupDeletion(table, partitions, this.edges, this.feed, groupDeleteBudgetMs);
        this.indexStates = new IndexStates(table, indexConfiguration, partitions);
        this.changes = new TableChangeFeed(table, partitions, new FeedReader(table, partitions, this.feed), () => this.prepare());
    }

    /**
     * The same table seen through another tenant's partitions (keys.ts `partitionsOf`). Shares the table client
     * (and its one table-exists check) with this store; caches nothing across tenants.
     */
    withPartitions(partitions: Partitions): TableResourceStore {
        return new TableResourceStore(this.table, this.indexConfiguration, this.groupDeleteBudgetMs, partitions);
    }

    async create(resourceType: ResourceTypeName, id: string, attributes: ScimResource, now: string, members?: string[]): Promise<StoredResource> {
        return this.guarded(async () => {
            const rows = buildResourceRows(resourceType, id, attributes, this.partitions, { created: now, lastModified: now }, { indexes: this.indexConfiguration[resourceType] });
            if (resourceType === 'Group' && members && members.length > 0) await this.requireExisting(members);
            const externalId = externalIdOf(attributes);
            let written: { etags: string[]; firstPosition: number };
            try {
                written = await this.feed.append(rows.resource.partitionKey, (position) => {
                    const version = versionOfPosition(position);
                    const actions: TransactionAction[] = [['create', { ...rows.resource, version }], ['create', rows.uniqueName]];
                    if (rows.externalId) actions.push(['create', rows.externalId]);
                    // Upserts: keyed by the id, so nothing but a leftover of this very resource can be there already.
                    actions.push(...rows.indexRows.map((row): TransactionAction => ['upsert', row, 'Replace']));
                    const event: EventDraft = { type: 'prov:create', resourceType, resourceId: id, ...(externalId === undefined ? {} : { externalId }), version, attributes: changedAttributes({}, attributes) };
                    return { actions, events: [event] };
                });
            } catch (error) {
                if (statusCodeOf(error) === 409) throw this.uniquenessError(resourceType, failedOperationIndex(error));
                throw error;
            }
            let stored: StoredRow<ResourceRow> = { row: { ...rows.resource, version: versionOfPosition(written.firstPosition) }, etag: written.etags[0]! };
            if (resourceType === 'Group' && members && members.length > 0) {
                // Entra creates groups empty and adds members by PATCH (docs/entra-protocol.md §6), so members at
                // create take the ordinary add path rather than widening the create transaction.
                const event: MemberChangeEvent = { type: 'prov:patch', ...(externalId === undefined ? {} : { externalId }) };
                const added = await this.edges.change(id, (version) => [this.versionBump(stored.row, now, version)], { clear: false, add: members, remove: [] }, true, event);
                stored = { row: { ...stored.row, lastModified: now, version: added!.version }, etag: added!.etag };
            }
            return this.remember(resourceType, stored, attributes);
        });
    }

    async get(resourceType: ResourceTypeName, id: string): Promise<StoredResource | undefined> {
        return this.guarded(async () => {
            const stored = await this.readResource(resourceType, id);
            return stored && this.remember(resourceType, stored);
        });
    }

    /**
     * The union of the lookups: index rows first (ids only), then the resources, 16 point reads in flight,
     * in id order. More than `MAX_LOOKUP_RESOURCES` ids → tooMany before any resource is read.
     */
    async lookup(resourceType: ResourceTypeName, lookups: readonly IndexLookup[]): Promise<StoredResource[]> {
        return this.guarded(async () => {
            const ids = new Set<string>();
            for (const lookup of lookups) {
                for (const id of await this.idsFor(resourceType, lookup)) ids.add(id);
                if (ids.size > MAX_LOOKUP_RESOURCES) {
                    throw new StoreError('tooMany', `More than ${MAX_LOOKUP_RESOURCES} ${resourceType}s match the indexed conditions of this filter; add a condition that narrows it`);
                }
            }
            const candidates = await this.readResources(resourceType, [...ids]);
            // Hashed keys could in theory collide, so the stored attributes have the last word.
            return candidates
                .map((stored) => ({ stored, attributes: attributesOf(stored.row) }))
                .filter(({ stored, attributes }) => lookups.some((lookup) => this.matchesLookup(resourceType, stored.row.id, attributes, lookup)))
                .sort((a, b) => (a.stored.row.id < b.stored.row.id ? -1 : a.stored.row.id > b.stored.row.id ? 1 : 0))
                .map(({ stored, attributes }) => this.remember(resourceType, stored, attributes));
        });
    }

    async indexes(resourceType: ResourceTypeName): Promise<IndexCatalog> {
        return this.guarded(() => this.indexStates.catalog(resourceType));
    }

    async *list(resourceType: ResourceTypeName, limit: number, after?: string): AsyncIterable<StoredResource> {
        for await (const entity of this.resourceRows(resourceType, limit, after)) yield toStoredResource(resourceType, resourceRowOf(entity));
    }

    async *listIds(resourceType: ResourceTypeName, limit: number): AsyncIterable<string> {
        for await (const entity of this.resourceRows(resourceType, limit, undefined, ['id', 'deleting'])) yield String(entity.id);
    }

    /** Resource rows in RowKey order after `after` (an id), groups being deleted left out, at most `limit`. */
    private async *resourceRows(resourceType: ResourceTypeName, limit: number, after: string | undefined, select?: string[]): AsyncIterable<Entity> {
        if (limit <= 0) return;
        let listed = 0;
        try {
            await this.prepare();
            const pageSize = Math.min(MAX_PAGE_SIZE, limit);
            const options = { pageSize, ...(select ? { select } : {}), ...(after !== undefined ? { after: resourceRowKey(resourceType, after) } : {}) };
            for await (const page of this.table.pages(partitionOf(resourceType, this.partitions), resourceRowPrefix(resourceType), options)) {
                for (const entity of page) {
                    if (entity.deleting === true) continue;
                    yield entity;
                    if (++listed >= limit) return;
                }
            }
        } catch (error) {
            throw asStoreError(error);
        }
    }

    /**
     * Checks `expectedVersion` against the row (recalled or read) and writes the change with If-Match on that
     * row's ETag (`writeChange`). Without `expectedVersion`, a members-only change is written unconditionally.
     */
    async update(resourceType: ResourceTypeName, id: string, change: ResourceChange, now: string, expectedVersion?: string): Promise<StoredResource> {
        return this.guarded(async () => {
            if (change.members && resourceType !== 'Group') throw new StoreError('invalidChange', 'Only groups have members');
            if (expectedVersion !== undefined && !isVersion(expectedVersion)) throw versionConflict();
            const membersOnly = change.attributes === undefined && change.members !== undefined;
            for (let attempt = 1; ; attempt++) {
                const current = (attempt === 1 ? this.recentRows.recall(resourceType, id, expectedVersion, membersOnly) : undefined) ?? (await this.readResource(resourceType, id));
                if (!current) throw new StoreError('notFound', 'Resource not found');
                if (expectedVersion !== undefined && versionOfRow(current) !== expectedVersion) throw versionConflict();
                const ifMatch = expectedVersion === undefined ? undefined : current.etag;
                try {
                    return await this.writeChange(resourceType, id, current, change, now, ifMatch);
                } catch (error) {
                    if (statusCodeOf(error) === 409) throw this.uniquenessError(resourceType, undefined);
                    // 412 on the row itself: it changed since it was read. Still the version the caller expects? Then
                    // only its ETag moved (a first membership flagged a user, an index rebuild covered it): read it again and retry.
                    const rowChanged = statusCodeOf(error) === 412 && failedOperationIndex(error) === 0;
                    if (!rowChanged || expectedVersion === undefined || attempt >= MAX_UPDATE_ATTEMPTS) throw error;
                    this.recentRows.forget(resourceType, id);
                }
            }
        });
    }

    /**
     * Attribute changes replace the resource row (with `ifMatch`) and move index rows in the same transaction.
     * Member changes go through MembershipEdges with the group row update at the head of the first transaction:
     * Replace for attribute changes, otherwise Merge of `lastModified` and the version. Every transaction
     * carries its event (FeedLog).
     */
    private async writeChange(resourceType: ResourceTypeName, id: string, current: StoredRow<ResourceRow>, change: ResourceChange, now: string, ifMatch: string | undefined): Promise<StoredResource> {
        const before = attributesOf(current.row);
        const after = change.attributes ?? before;
        const externalId = externalIdOf(after);
        const event: MemberChangeEvent = { type: eventTypeOf(change.kind ?? 'patch', before, after), ...(externalId === undefined ? {} : { externalId }) };
        let head: (version: string) => TransactionAction[];
        let updated: ResourceRow;
        if (change.attributes) {
            const rows = buildResourceRows(resourceType, id, change.attributes, this.partitions, { created: current.row.created, lastModified: now }, {
                ...(current.row.hasMemberships ? { hasMemberships: true } : {}),
                indexes: this.indexConfiguration[resourceType],
            });
            updated = rows.resource;
            event.attributes = changedAttributes(before, change.attributes);
            const indexMoves: TransactionAction[] = [];
            if (rows.uniqueName.rowKey !== current.row.uniqueNameKey) {
                indexMoves.push(['delete', { partitionKey: rows.resource.partitionKey, rowKey: current.row.uniqueNameKey }], ['create', rows.uniqueName]);
            }
            if (rows.externalId?.rowKey !== current.row.externalIdKey) {
                if (current.row.externalIdKey) indexMoves.push(['delete', { partitionKey: rows.resource.partitionKey, rowKey: current.row.externalIdKey }]);
                if (rows.externalId) indexMoves.push(['create', rows.externalId]);
            }
            // Generic index rows: the old ones the row lists (of any index, configured or not any more) go,
            // the new ones come, the unchanged ones stay — all in this transaction.
            const oldKeys = new Set(indexRowKeysOf(current.row));
            const newKeys = new Set(rows.indexRows.map((row) => row.rowKey));
            for (const rowKey of oldKeys) if (!newKeys.has(rowKey)) indexMoves.push(['delete', { partitionKey: rows.resource.partitionKey, rowKey }]);
            for (const row of rows.indexRows) if (!oldKeys.has(row.rowKey)) indexMoves.push(['upsert', row, 'Replace']);
            head = (version) => [['update', { ...rows.resource, version }, 'Replace', { etag: ifMatch ?? current.etag }], ...indexMoves];
        } else if (change.members) {
            updated = { ...current.row, lastModified: now };
            head = (version) => [this.versionBump(current.row, now, version, ifMatch)];
        } else {
            return this.remember(resourceType, current);
        }

        let written: { etag: string; version: string } | undefined;
        if (change.members) {
            written = await this.edges.change(id, head, change.members, change.attributes !== undefined, event);
        } else {
            const { etags, firstPosition } = await this.feed.append(current.row.partitionKey, (position) => {
                const version = versionOfPosition(position);
                return { actions: head(version), events: [{ ...event, resourceType, resourceId: id, version }] };
            });
            written = { etag: etags[0]!, version: versionOfPosition(firstPosition) };
        }
        if (written === undefined) return this.remember(resourceType, current); // a members-only change that changed nothing
        return this.remember(resourceType, { row: { ...updated, version: written.version }, etag: written.etag }, change.attributes);
    }

    async delete(resourceType: ResourceTypeName, id: string, expectedVersion?: string): Promise<StoredResource | undefined> {
        return this.guarded(async () => {
            let expected: { version: string; current?: StoredRow<ResourceRow> } | undefined;
            if (expectedVersion !== undefined) {
                if (!isVersion(expectedVersion)) throw versionConflict();
                const current = this.recentRows.recall(resourceType, id, expectedVersion, false);
                expected = current ? { version: expectedVersion, current } : { version: expectedVersion };
            }
            this.recentRows.forget(resourceType, id);
            const deleted =
                resourceType === 'Group' ? await this.groupDeletion.delete(id, expected)
                    : expected === undefined ? await this.userDeletion.delete(id)
                        : await this.userDeletion.deleteAtVersion(id, expected.version, expected.current);
            return deleted && toStoredResource(resourceType, deleted);
        });
    }

    async *members(groupId: string): AsyncIterable<GroupMember> {
        try {
            await this.prepare();
            yield* this.edges.members(groupId);
        } catch (error) {
            throw asStoreError(error);
        }
    }

    async hasMember(groupId: string, memberId: string): Promise<boolean> {
        return this.guarded(() => this.edges.hasMember(groupId, memberId));
    }

    async groupsOf(memberId: string): Promise<string[]> {
        return this.guarded(() => this.edges.groupsOf(memberId));
    }

    /** Which of these ids exist, and as what: batched reads, not one read per id (tests check edges with it). */
    async existingIds(ids: string[]): Promise<Map<string, ResourceTypeName>> {
        return this.guarded(() => this.edges.resolve(ids));
    }

    /**
     * Continues the edge cleanup of groups whose DELETE answered before it was done, until `budgetMs` has
     * passed (GroupDeletion.ts). Returns how many groups it finished and how many are still pending.
     */
    async sweepDeletedGroups(budgetMs: number): Promise<{ groupsFinished: number; groupsRemaining: number }> {
        return this.guarded(() => this.groupDeletion.sweep(budgetMs));
    }

    /** The tenant registry, in the same table (TenantRegistry.ts). */
    tenantRegistry(): TenantRegistry {
        return new TenantRegistry(this.table);
    }

    /** Where the change feed timer's walk over the tenants stopped (FeedMaintenanceProgress.ts). */
    feedMaintenanceProgress(): FeedMaintenanceProgress {
        return new FeedMaintenanceProgress(this.table);
    }

    /** Rows in this store's partitions, its activity records included (a tenant removal's progress total). Reads keys only. */
    async countRows(): Promise<number> {
        return this.guardedRows(async () => {
            let count = 0;
            for (const partition of [this.partitions.users, this.partitions.groups, this.partitions.activity]) {
                for await (const page of this.table.partitionPages(partition, { select: ['RowKey'] })) count += page.length;
            }
            return count;
        });
    }

    /**
     * Deletes up to `maxRows` rows of this store's partitions (one page read, then transactions of ≤ 100),
     * returning how many it deleted: 0 once all three (users, groups, activity) are empty. Removing a tenant calls it until then,
     * so the work is bounded per call and an interrupted removal simply continues.
     */
    async deleteSomeRows(maxRows: number): Promise<number> {
        return this.guardedRows(async () => {
            for (const partition of [this.partitions.users, this.partitions.groups, this.partitions.activity]) {
                for await (const page of this.table.partitionPages(partition, { select: ['RowKey'], pageSize: Math.min(maxRows, MAX_PAGE_SIZE) })) {
                    const rowKeys = page.slice(0, maxRows).map((entity) => String(entity.rowKey));
                    for (let start = 0; start < rowKeys.length; start += MAX_TRANSACTION_OPERATIONS) {
                        const batch = rowKeys.slice(start, start + MAX_TRANSACTION_OPERATIONS);
                        await this.table.submit(batch.map((rowKey): TransactionAction => ['delete', { partitionKey: partition, rowKey }]));
                    }
                    return rowKeys.length;
                }
            }
            return 0;
        });
    }

    // ---- index lookups

    /**
     * The ids one lookup names: none read for an id, one point read for the unique name, else a key range.
     * The built-in unique name and externalId rows are keyed here as they always were (`un:`/`dn:` folded,
     * `ext:` exact); any other index by its own `keyOf`.
     */
    private async idsFor(resourceType: ResourceTypeName, lookup: IndexLookup): Promise<string[]> {
        if (lookup.kind === 'id') return [lookup.value];
        const partition = partitionOf(resourceType, this.partitions);
        const builtIn = builtInIndex(resourceType, lookup.attribute);
        if (builtIn === 'uniqueName') {
            if (lookup.value === '') return [];
            const row = await this.table.read(partition, uniqueNameRowKey(resourceType, lookup.value), ['id']);
            return row ? [String(row.id)] : [];
        }
        let prefix: string;
        if (builtIn === 'externalId') {
            if (lookup.value === '') return [];
            prefix = externalIdRowPrefix(lookup.value);
        } else {
            const index = this.configuredIndex(resourceType, lookup.attribute);
            const key = index.keyOf(lookup.value);
            if (key === undefined) return [];
            prefix = indexRowPrefix(index.path, key);
        }
        const ids: string[] = [];
        for await (const page of this.table.pages(partition, prefix, { select: ['id'] })) {
            ids.push(...page.map((row) => String(row.id)));
            if (ids.length > MAX_LOOKUP_RESOURCES) break;
        }
        return ids;
    }

    /** Does the resource hold the looked-up value? Hashed keys could in theory collide: the attributes decide. */
    private matchesLookup(resourceType: ResourceTypeName, id: string, attributes: ScimResource, lookup: IndexLookup): boolean {
        if (lookup.kind === 'id') return id === lookup.value;
        const builtIn = builtInIndex(resourceType, lookup.attribute);
        if (builtIn === 'uniqueName') {
            const value = attributes[uniqueAttributeOf(resourceType)];
            return typeof value === 'string' && uniqueNameRowKey(resourceType, value) === uniqueNameRowKey(resourceType, lookup.value);
        }
        if (builtIn === 'externalId') return attributes.externalId === lookup.value;
        const index = this.configuredIndex(resourceType, lookup.attribute);
        const key = index.keyOf(lookup.value);
        return key !== undefined && index.keysOf(attributes).includes(key);
    }

    /** A lookup names an index of this store's configuration; anything else is a programming error. */
    private configuredIndex(resourceType: ResourceTypeName, path: string): EqualityIndex {
        const index = this.indexConfiguration[resourceType].find((candidate) => candidate.path === path && candidate.storage === 'rows');
        if (!index) throw new Error(`no ${resourceType} index on ${path}`);
        return index;
    }

    /** Refuses unknown member ids before anything is written (the add path checks again, race-safe). */
    private async requireExisting(memberIds: string[]): Promise<void> {
        await this.edges.requireMembers(memberIds);
    }

    // ---- reading resource rows

    /** The resource as readers see it: one being deleted is already gone. */
    private async readResource(resourceType: ResourceTypeName, id: string): Promise<StoredRow<ResourceRow> | undefined> {
        const stored = await readResourceRow(this.table, this.partitions, resourceType, id);
        return stored && !stored.row.deleting ? stored : undefined;
    }

    private async readResources(resourceType: ResourceTypeName, ids: string[]): Promise<StoredRow<ResourceRow>[]> {
        if (ids.length <= 1) {
            const stored = ids[0] === undefined ? undefined : await this.readResource(resourceType, ids[0]);
            return stored ? [stored] : [];
        }
        const entities: Entity[] = await this.table.readMany(partitionOf(resourceType, this.partitions), ids.map((id) => resourceRowKey(resourceType, id)));
        return entities.map(resourceRowOf).filter((stored) => !stored.row.deleting);
    }

    /** The group row update that makes a members-only change visible as a new version. */
    private versionBump(row: ResourceRow, now: string, version: string, expectedEtag?: string): TransactionAction {
        const bump = { partitionKey: row.partitionKey, rowKey: row.rowKey, lastModified: now, version };
        return expectedEtag === undefined ? ['update', bump, 'Merge'] : ['update', bump, 'Merge', { etag: expectedEtag }];
    }

    /** Remembers a row this store read or wrote; `attributes` are the row's, when the caller has them unparsed. */
    private remember(resourceType: ResourceTypeName, stored: StoredRow<ResourceRow>, attributes?: ScimResource): StoredResource {
        this.recentRows.remember(stored);
        return toStoredResource(resourceType, stored, attributes);
    }

    // ---- errors

    /** A 409 from a write: the failing operation tells which row clashed (0 = the resource row itself). */
    private uniquenessError(resourceType: ResourceTypeName, failedIndex: number | undefined): StoreError {
        if (failedIndex === 0) return new StoreError('uniqueness', `A ${resourceType} with this id already exists`);
        return new StoreError('uniqueness', `A ${resourceType} with this ${uniqueAttributeOf(resourceType)} already exists`);
    }

    /**
     * The one-time work before a store's first operation: the table exists, the index state rows this app's
     * configuration implies are written (IndexStates.ts) — before the first write, so a new table's indexes
     * start out complete — and this store knows both feed streams' heads (FeedLog.ts), so a write costs no
     * read of them. A failure is forgotten so the next operation tries again.
     */
    private prepare(): Promise<void> {
        this.prepared ??= (async () => {
            await this.table.ensureExists();
            await Promise.all([
                this.indexStates.declare(new Date().toISOString()),
                this.feed.head(this.partitions.users),
                this.feed.head(this.partitions.groups),
            ]);
        })().catch((error: unknown) => {
            this.prepared = undefined;
            throw error;
        });
        return this.prepared;
    }

    /** Prepares the store, runs `work`, and reports storage failures as the store's errors (storageErrors.ts). */
    private async guarded<T>(work: () => Promise<T>): Promise<T> {
        try {
            await this.prepare();
            return await work();
        } catch (error) {
            throw asStoreError(error);
        }
    }

    /** As `guarded`, for work on the rows as such (a tenant's removal): the table only, no index state or feed head rows written. */
    private async guardedRows<T>(work: () => Promise<T>): Promise<T> {
        try {
            await this.table.ensureExists();
            return await work();
        } catch (error) {
            throw asStoreError(error);
        }
    }
}

/** The built-in index a lookup path names: `userName` (User) or `displayName` (Group), or `externalId`. */
function builtInIndex(resourceType: ResourceTypeName, path: string): 'uniqueName' | 'externalId' | undefined {
    if (path === uniqueAttributeOf(resourceType)) return 'uniqueName';
    if (path === 'externalId') return 'externalId';
    return undefined;
}
