/**
 * The Azure Table Storage implementation of `ResourceStore` (the key design is in docs/storage.md).
 *
 * One table, two partitions per tenant (`users`/`groups` for the default tenant, `<tenant>~users`/`<tenant>~groups`
 * for a named one, keys.ts `partitionsOf`; the layout below is the same in each):
 *   users   u:<id>  un:<userName key>  ext:<externalId key>:<id>
 *   groups  g:<id>  dn:<displayName key>  ext:<externalId key>:<id>  m:<group>:<member>  mo:<member>:<group>
 *           del:<id> (a group delete whose edge cleanup is pending)
 * A resource and its index rows share a partition, so create, rename and delete are each one
 * entity-group transaction (atomic), and a uniqueness clash is the 409 of inserting the `un`/`dn` row.
 * Users and groups go through the same code; membership edges (MembershipEdges.ts) are the group part.
 *
 * Versions are the resource row's ETag, encoded (keys.ts), so a conditional write is a plain If-Match.
 *
 * Request costs (counted by requestCounter.ts, held to budgets in test/store/requestBudgets.test.ts):
 * get = 1 point read; userName/displayName eq = 1 (miss) or 2 (hit); externalId eq = 1 range read + 1;
 * create = 1 transaction; update = read + 1 transaction, or just the transaction when `expectedVersion`
 * names the version this store instance last read or wrote; delete of a user never in a group =
 * read + 1 transaction (UserDeletion.ts); a group delete is bounded by `GROUP_DELETE_BUDGET_MS`,
 * `sweepDeletedGroups` finishes it (GroupDeletion.ts).
 *
 * Besides the `ResourceStore` port the handlers see, it offers what only the timer and tests use:
 * `sweepDeletedGroups` and `existingIds`.
 */
import type { TransactionAction } from '@azure/data-tables';
import { StoreError } from '../scim/storeErrors';
import type { IndexLookup } from '../scim/queryPlan';
import type { ResourceTypeName } from '../scim/schemas';
import type { GroupMember, ResourceChange, ResourceStore, ScimResource, StoredResource } from '../scim/store';
import { connectEntityTable, EntityTable, MAX_PAGE_SIZE, MAX_TRANSACTION_OPERATIONS, type Entity, type TableOptions } from './EntityTable';
import {
    attributesOf,
    buildResourceRows,
    readResourceRow,
    resourceRowOf,
    toStoredResource,
    type ResourceRow,
    type StoredRow,
} from './entities';
import { GROUP_DELETE_BUDGET_MS, GroupDeletion } from './GroupDeletion';
import {
    caseFolded,
    etagOfVersion,
    externalIdRowPrefix,
    DEFAULT_PARTITIONS,
    partitionOf,
    type Partitions,
    resourceRowKey,
    resourceRowPrefix,
    uniqueAttributeOf,
    uniqueNameRowKey,
} from './keys';
import { MembershipEdges } from './MembershipEdges';
import { RecentRows } from './RecentRows';
import { TenantRegistry } from './TenantRegistry';
import { UserDeletion } from './UserDeletion';
import { statusCodeOf } from '../statusCodeOf';
import { asStoreError, failedOperationIndex, versionConflict } from './storageErrors';

export type TableResourceStoreOptions = TableOptions;


/**
 * `allowInsecureConnection` is for Azurite only (http://127.0.0.1); the SDK refuses http otherwise.
 * Create one store per process: the table is created on its first use.
 */
export function createTableResourceStore(
    options: TableResourceStoreOptions,
    extra: { allowInsecureConnection?: boolean; /** tests only */ groupDeleteBudgetMs?: number } = {},
): TableResourceStore {
    return new TableResourceStore(connectEntityTable(options, extra), extra.groupDeleteBudgetMs);
}

export class TableResourceStore implements ResourceStore {
    private readonly edges: MembershipEdges;
    private readonly userDeletion: UserDeletion;
    private readonly groupDeletion: GroupDeletion;
    /** Recently read or written resource rows, to skip the read of a conditional update. */
    private readonly recentRows = new RecentRows();

    constructor(
        private readonly table: EntityTable,
        private readonly groupDeleteBudgetMs = GROUP_DELETE_BUDGET_MS,
        /** Whose resources this store holds: the default tenant's partitions unless `forTenant` chose others. */
        readonly partitions: Partitions = DEFAULT_PARTITIONS,
    ) {
        this.edges = new MembershipEdges(table, partitions);
        this.userDeletion = new UserDeletion(table, partitions, this.edges);
        this.groupDeletion = new GroupDeletion(table, partitions, this.edges, groupDeleteBudgetMs);
    }

    /**
     * The same table seen through another tenant's partitions (keys.ts `partitionsOf`). Shares the table client
     * (and its one table-exists check) with this store; caches nothing across tenants.
     */
    withPartitions(partitions: Partitions): TableResourceStore {
        return new TableResourceStore(this.table, this.groupDeleteBudgetMs, partitions);
    }

    async create(resourceType: ResourceTypeName, id: string, attributes: ScimResource, now: string, members?: string[]): Promise<StoredResource> {
        return this.guarded(async () => {
            const rows = buildResourceRows(resourceType, id, attributes, this.partitions, { created: now, lastModified: now });
            if (resourceType === 'Group' && members && members.length > 0) await this.requireExisting(members);
            const actions: TransactionAction[] = [['create', rows.resource], ['create', rows.uniqueName]];
            if (rows.externalId) actions.push(['create', rows.externalId]);
            let etags: string[];
            try {
                etags = await this.table.submit(actions);
            } catch (error) {
                if (statusCodeOf(error) === 409) throw this.uniquenessError(resourceType, failedOperationIndex(error));
                throw error;
            }
            let stored: StoredRow<ResourceRow> = { row: rows.resource, etag: etags[0]! };
            if (resourceType === 'Group' && members && members.length > 0) {
                // Entra creates groups empty and adds members by PATCH (docs/entra-protocol.md §6), so members at
                // create take the ordinary add path rather than widening the create transaction.
                const etag = await this.edges.change(id, [this.versionBump(stored.row, now)], { clear: false, add: members, remove: [] }, true);
                stored = { row: { ...stored.row, lastModified: now }, etag: etag! };
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

    async lookup(resourceType: ResourceTypeName, lookup: IndexLookup): Promise<StoredResource[]> {
        return this.guarded(async () => {
            const partition = partitionOf(resourceType, this.partitions);
            let candidates: StoredRow<ResourceRow>[];
            switch (lookup.kind) {
                case 'id': {
                    const stored = await this.readResource(resourceType, lookup.value);
                    candidates = stored ? [stored] : [];
                    break;
                }
                case 'userName':
                case 'displayName': {
                    if (lookup.kind !== uniqueAttributeOf(resourceType)) return [];
                    const index = await this.table.read(partition, uniqueNameRowKey(resourceType, lookup.value), ['id']);
                    const stored = index && (await this.readResource(resourceType, String(index.id)));
                    candidates = stored ? [stored] : [];
                    break;
                }
                case 'externalId': {
                    const ids: string[] = [];
                    for await (const page of this.table.pages(partition, externalIdRowPrefix(lookup.value), { select: ['id'] })) {
                        ids.push(...page.map((index) => String(index.id)));
                    }
                    candidates = await this.readResources(resourceType, ids);
                    break;
                }
            }
            // Hashed keys could in theory collide, so the stored attribute has the last word.
            return candidates
                .map((stored) => ({ stored, attributes: attributesOf(stored.row) }))
                .filter(({ attributes }) => matchesLookup(attributes, lookup))
                .map(({ stored, attributes }) => this.remember(resourceType, stored, attributes));
        });
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
            await this.table.ensureExists();
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
     * Attribute changes replace the resource row with If-Match (the version read, or `expectedVersion`)
     * and move index rows in the same transaction. Member changes go through MembershipEdges with the group
     * row update at the head of the first transaction: Replace for attribute changes, otherwise Merge of
     * `lastModified` — with If-Match only when `expectedVersion` is given.
     */
    async update(resourceType: ResourceTypeName, id: string, change: ResourceChange, now: string, expectedVersion?: string): Promise<StoredResource> {
        return this.guarded(async () => {
            if (change.members && resourceType !== 'Group') throw new StoreError('invalidChange', 'Only groups have members');
            let expectedEtag: string | undefined;
            if (expectedVersion !== undefined) {
                expectedEtag = etagOfVersion(expectedVersion);
                if (expectedEtag === undefined) throw versionConflict();
            }
            const membersOnly = change.attributes === undefined && change.members !== undefined;
            const current = this.recentRows.recall(resourceType, id, expectedEtag, membersOnly) ?? (await this.readResource(resourceType, id));
            if (!current) throw new StoreError('notFound', 'Resource not found');
            if (expectedEtag !== undefined && current.etag !== expectedEtag) throw versionConflict();

            let head: TransactionAction[];
            let updated: ResourceRow;
            if (change.attributes) {
                const rows = buildResourceRows(resourceType, id, change.attributes, this.partitions, { created: current.row.created, lastModified: now }, current.row);
                updated = rows.resource;
                head = [['update', rows.resource, 'Replace', { etag: current.etag }]];
                if (rows.uniqueName.rowKey !== current.row.uniqueNameKey) {
                    head.push(['delete', { partitionKey: rows.resource.partitionKey, rowKey: current.row.uniqueNameKey }], ['create', rows.uniqueName]);
                }
                if (rows.externalId?.rowKey !== current.row.externalIdKey) {
                    if (current.row.externalIdKey) head.push(['delete', { partitionKey: rows.resource.partitionKey, rowKey: current.row.externalIdKey }]);
                    if (rows.externalId) head.push(['create', rows.externalId]);
                }
            } else if (change.members) {
                updated = { ...current.row, lastModified: now };
                head = [this.versionBump(current.row, now, expectedEtag)];
            } else {
                return this.remember(resourceType, current);
            }

            let etag: string | undefined;
            try {
                etag = change.members
                    ? await this.edges.change(id, head, change.members, change.attributes !== undefined)
                    : (await this.table.submit(head))[0];
            } catch (error) {
                if (statusCodeOf(error) === 409) throw this.uniquenessError(resourceType, undefined);
                throw error;
            }
            if (etag === undefined) return this.remember(resourceType, current); // a members-only change that changed nothing
            return this.remember(resourceType, { row: updated, etag }, change.attributes);
        });
    }

    async delete(resourceType: ResourceTypeName, id: string, expectedVersion?: string): Promise<StoredResource | undefined> {
        return this.guarded(async () => {
            let expected: { etag: string; current?: StoredRow<ResourceRow> } | undefined;
            if (expectedVersion !== undefined) {
                const etag = etagOfVersion(expectedVersion);
                if (etag === undefined) throw versionConflict();
                const current = this.recentRows.recall(resourceType, id, etag, false);
                expected = current ? { etag, current } : { etag };
            }
            this.recentRows.forget(resourceType, id);
            const deleted =
                resourceType === 'Group' ? await this.groupDeletion.delete(id, expected)
                    : expected === undefined ? await this.userDeletion.delete(id)
                        : await this.userDeletion.deleteAtVersion(id, expected.etag, expected.current);
            return deleted && toStoredResource(resourceType, deleted);
        });
    }

    async *members(groupId: string): AsyncIterable<GroupMember> {
        try {
            await this.table.ensureExists();
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

    /** Rows in this store's partitions (a tenant removal's progress total). Reads keys only. */
    async countRows(): Promise<number> {
        return this.guarded(async () => {
            let count = 0;
            for (const partition of [this.partitions.users, this.partitions.groups]) {
                for await (const page of this.table.partitionPages(partition, { select: ['RowKey'] })) count += page.length;
            }
            return count;
        });
    }

    /**
     * Deletes up to `maxRows` rows of this store's partitions (one page read, then transactions of ≤ 100),
     * returning how many it deleted: 0 once both partitions are empty. Removing a tenant calls it until then,
     * so the work is bounded per call and an interrupted removal simply continues.
     */
    async deleteSomeRows(maxRows: number): Promise<number> {
        return this.guarded(async () => {
            for (const partition of [this.partitions.users, this.partitions.groups]) {
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
    private versionBump(row: ResourceRow, now: string, expectedEtag?: string): TransactionAction {
        const bump = { partitionKey: row.partitionKey, rowKey: row.rowKey, lastModified: now };
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

    /** Ensures the table, runs `work`, and reports storage failures as the store's errors (storageErrors.ts). */
    private async guarded<T>(work: () => Promise<T>): Promise<T> {
        try {
            await this.table.ensureExists();
            return await work();
        } catch (error) {
            throw asStoreError(error);
        }
    }
}

function matchesLookup(attributes: ScimResource, lookup: IndexLookup): boolean {
    switch (lookup.kind) {
        case 'id':
            return true;
        case 'userName':
        case 'displayName': {
            const value = attributes[lookup.kind];
            return typeof value === 'string' && caseFolded(value) === caseFolded(lookup.value);
        }
        case 'externalId':
            return attributes.externalId === lookup.value;
    }
}
