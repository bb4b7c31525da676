/**
 * Group membership as edges (docs/storage.md, "Membership edges"): the group-specific part of the store.
 *
 * Each membership is two rows in the groups partition, written and deleted together in one transaction:
 * `m:<group>:<member>` (list a group's members) and `mo:<member>:<group>` (list a member's groups). The
 * group row's version bump rides in the first transaction of a change.
 *
 * Concurrency with deletes ("Dekker" ordering, docs/storage.md): an adder writes the edges and then
 * re-reads the members; a deleter marks or deletes the member and then reads its edges. Whichever reads
 * second sees the other's write, so an edge to a deleted member never survives: either the deleter's
 * read finds it, or the adder's re-read finds the member gone and removes the edge again.
 */
import type { TransactionAction } from '@azure/data-tables';
import type { EventDraft, EventType } from '../feed/events';
import { StoreError } from '../scim/storeErrors';
import type { ResourceTypeName } from '../scim/schemas';
import type { GroupMember, MemberDelta } from '../scim/store';
import { EntityTable, MAX_TRANSACTION_OPERATIONS, type Entity } from './EntityTable';
import type { EdgeRow } from './entities';
import { FEED_OPERATIONS_PER_EVENT, type FeedLog } from './FeedLog';
import {
    type Partitions,
    memberEdgePrefix,
    memberEdgeRowKey,
    memberOfEdgePrefix,
    memberOfEdgeRowKey,
    resourceRowKey,
    reverseOfEdgeRowKey,
    versionOfPosition,
} from './keys';
import { statusCodeOf } from '../statusCodeOf';
import { inParallel } from './inParallel';
import { failedOperationIndex } from './storageErrors';

/** Up to this many removes are tried optimistically; more are first checked with batched edge reads. */
const OPTIMISTIC_REMOVE_LIMIT = 4;
/** Transactions in flight at once when deleting many edges. */
const CLEANUP_CONCURRENCY = 4;
/**
 * Memberships a cascade removes per transaction: two edge rows and one event each, plus the stream head:
 * 3 × 33 + 1 = 100 operations.
 */
const CASCADE_PAIRS_PER_TRANSACTION = Math.floor((MAX_TRANSACTION_OPERATIONS - 1) / 3);

/** One membership change: its two operations always travel in the same transaction. */
interface EdgePairChange {
    kind: 'add' | 'remove';
    memberId: string;
    operations: [TransactionAction, TransactionAction];
}

/** How a member change is recorded in the feed: the request's event type, and what its first event carries besides members. */
export interface MemberChangeEvent {
    type: EventType;
    externalId?: string;
    attributes?: Record<string, unknown>;
}

/** A membership to remove because its member is being deleted (the event names the member as the cause). */
interface CascadePair {
    groupId: string;
    memberId: string;
    memberType: ResourceTypeName;
    rowKeys: string[];
}

export class MembershipEdges {
    constructor(
        private readonly table: EntityTable,
        private readonly partitions: Partitions,
        private readonly feed: FeedLog,
    ) {}

    /**
     * Applies a member delta. `head(version)` (the group row update carrying that version, maybe index rows)
     * goes first in the first transaction, so a stale If-Match fails the change before any edge is written.
     * Every transaction records one event naming the members it added and removed; the first also carries
     * `event.attributes` and the new version. Returns the group row's new ETag and version, or undefined when
     * there was nothing to write and `headRequired` is false.
     */
    async change(
        groupId: string,
        head: (version: string) => TransactionAction[],
        delta: MemberDelta,
        headRequired: boolean,
        event: MemberChangeEvent,
    ): Promise<{ etag: string; version: string } | undefined> {
        const toAdd = unique(delta.add);
        const adding = new Set(toAdd);
        let toRemove = unique(delta.remove).filter((id) => !adding.has(id)); // remove-then-add: an id in both stays a member
        let newMembers = toAdd;
        if (delta.clear) {
            const current = await this.memberIds(groupId);
            const currentSet = new Set(current);
            toRemove = current.filter((id) => !adding.has(id));
            newMembers = toAdd.filter((id) => !currentSet.has(id));
        } else if (toRemove.length > OPTIMISTIC_REMOVE_LIMIT) {
            toRemove = await this.existingMemberIds(groupId, toRemove);
        }
        if (newMembers.includes(groupId)) throw new StoreError('invalidChange', 'A group cannot be a member of itself');

        const users = await this.claimUsers(newMembers);
        const groups = await this.liveGroupIds(newMembers.filter((id) => !users.has(id)));
        const unknownCount = newMembers.filter((id) => !users.has(id) && !groups.has(id)).length;
        if (unknownCount > 0) throw unknownMembers(unknownCount);

        const changes: EdgePairChange[] = [
            ...toRemove.map((memberId) => this.removal(groupId, memberId)),
            ...newMembers.map((memberId) => this.addition(groupId, memberId, users.has(memberId) ? 'User' : 'Group')),
        ];
        const written = await this.submitChanges(groupId, head, changes, headRequired, event);
        if (newMembers.length > 0) await this.undoAdditionsOfVanishedMembers(groupId, newMembers, users);
        return written;
    }

    /**
     * Every member of a group, read page by page from the forward edges. A member group being deleted is
     * left out: its DELETE may answer before its edges are gone (docs/storage.md, "Deletes"). Only a page
     * with group members costs a read more (Entra provisions no nested groups, so usually none does).
     */
    async *members(groupId: string): AsyncIterable<GroupMember> {
        for await (const page of this.edgePages(groupId)) {
            const memberGroupIds = page.filter((edge) => edge.memberType === 'Group').map((edge) => String(edge.memberId));
            const liveGroups = await this.liveGroupIds(memberGroupIds);
            for (const edge of page) {
                if (edge.memberType === 'Group' && !liveGroups.has(String(edge.memberId))) continue;
                yield { value: String(edge.memberId), type: edge.memberType as ResourceTypeName };
            }
        }
    }

    /** One point read, and one more only when the member is a group (it may be being deleted). */
    async hasMember(groupId: string, memberId: string): Promise<boolean> {
        const edge = await this.table.read(this.partitions.groups, memberEdgeRowKey(groupId, memberId), ['memberType']);
        if (!edge) return false;
        return edge.memberType !== 'Group' || (await this.liveGroupIds([memberId])).has(memberId);
    }

    /**
     * The groups `memberId` is a direct member of: the reverse edges, filtered through a `readMany` of
     * those group rows, so a group being deleted (its edges outlive its DELETE) or gone never shows.
     */
    async groupsOf(memberId: string): Promise<string[]> {
        const groupIds: string[] = [];
        for await (const page of this.table.pages(this.partitions.groups, memberOfEdgePrefix(memberId), { select: ['groupId'] })) {
            for (const edge of page) groupIds.push(String(edge.groupId));
        }
        const liveGroups = await this.liveGroupIds(groupIds);
        return groupIds.filter((id) => liveGroups.has(id));
    }

    /** Which ids exist, with their type: users first (the common case), then groups not being deleted. */
    async resolve(ids: string[]): Promise<Map<string, ResourceTypeName>> {
        const found = new Map<string, ResourceTypeName>();
        const wanted = unique(ids);
        if (wanted.length === 0) return found;
        const users = await this.table.readMany(this.partitions.users, wanted.map((id) => resourceRowKey('User', id)), ['id']);
        for (const user of users) found.set(String(user.id), 'User');
        for (const id of await this.liveGroupIds(wanted.filter((id) => !found.has(id)))) found.set(id, 'Group');
        return found;
    }

    /**
     * Deletes every edge (and its reverse) whose RowKey starts with `prefix`: one pass over the range,
     * transactions of 50 pairs, a few in flight. No transaction starts after `deadline` (those in flight
     * finish). True if the pass got through the whole range, false if it stopped at the deadline.
     *
     * With `cascade` (the member being deleted; `prefix` is its `mo:` range) each removed membership is
     * recorded as an event of its group naming the member as the cause, 33 memberships per transaction.
     */
    async deleteAll(prefix: string, deadline = Number.POSITIVE_INFINITY, cascade?: { resourceType: ResourceTypeName; resourceId: string }): Promise<boolean> {
        const select = cascade ? ['groupId', 'memberId', 'memberType'] : [];
        for await (const page of this.table.pages(this.partitions.groups, prefix, { select })) {
            if (cascade) {
                const pairs = page.map((edge): CascadePair => ({
                    groupId: String(edge.groupId),
                    memberId: String(edge.memberId),
                    memberType: edge.memberType as ResourceTypeName,
                    rowKeys: [String(edge.rowKey), reverseOfEdgeRowKey(String(edge.rowKey))],
                }));
                for (let start = 0; start < pairs.length; start += CASCADE_PAIRS_PER_TRANSACTION) {
                    if (Date.now() >= deadline) return false;
                    await this.removeForDeletedMember(pairs.slice(start, start + CASCADE_PAIRS_PER_TRANSACTION));
                }
                continue;
            }
            const rowKeys = page.flatMap((edge) => [String(edge.rowKey), reverseOfEdgeRowKey(String(edge.rowKey))]);
            const batches: string[][] = [];
            for (let start = 0; start < rowKeys.length; start += MAX_TRANSACTION_OPERATIONS) {
                batches.push(rowKeys.slice(start, start + MAX_TRANSACTION_OPERATIONS));
            }
            const started = await inParallel(batches, CLEANUP_CONCURRENCY, (batch) => this.deleteRowsIfPresent(batch), () => Date.now() >= deadline);
            if (started < batches.length) return false;
        }
        return true;
    }

    /** Deletes rows of the groups partition, one transaction per 100; rows already gone are skipped (idempotent cleanup). */
    async deleteRowsIfPresent(rowKeys: string[]): Promise<void> {
        const remaining = [...rowKeys];
        while (remaining.length > 0) {
            const batch = remaining.splice(0, MAX_TRANSACTION_OPERATIONS);
            try {
                await this.table.submit(batch.map((rowKey): TransactionAction => ['delete', { partitionKey: this.partitions.groups, rowKey }]));
            } catch (error) {
                const failedIndex = failedOperationIndex(error);
                if (statusCodeOf(error) !== 404 || failedIndex === undefined) throw error;
                batch.splice(failedIndex, 1);
                remaining.unshift(...batch);
            }
        }
    }

    // ---- writing

    private addition(groupId: string, memberId: string, memberType: ResourceTypeName): EdgePairChange {
        const edge = { partitionKey: this.partitions.groups, groupId, memberId, memberType };
        const forward: EdgeRow = { ...edge, rowKey: memberEdgeRowKey(groupId, memberId) };
        const reverse: EdgeRow = { ...edge, rowKey: memberOfEdgeRowKey(memberId, groupId) };
        // Upsert: adding an existing member is a no-op that cannot conflict with a concurrent add.
        return { kind: 'add', memberId, operations: [['upsert', forward, 'Replace'], ['upsert', reverse, 'Replace']] };
    }

    private removal(groupId: string, memberId: string): EdgePairChange {
        return {
            kind: 'remove',
            memberId,
            operations: [
                ['delete', { partitionKey: this.partitions.groups, rowKey: memberEdgeRowKey(groupId, memberId) }],
                ['delete', { partitionKey: this.partitions.groups, rowKey: memberOfEdgeRowKey(memberId, groupId) }],
            ],
        };
    }

    /**
     * Submits `head` and the pair changes in transactions of ≤ 100 operations, each with its event and the
     * stream head (FeedLog): head + 48 pairs, then 49 pairs each. Removing a non-member fails its transaction
     * with 404 at that operation's index: the pair is dropped (a remove of a non-member is a no-op) and the
     * transaction retried.
     */
    private async submitChanges(
        groupId: string,
        head: (version: string) => TransactionAction[],
        changes: EdgePairChange[],
        headRequired: boolean,
        event: MemberChangeEvent,
    ): Promise<{ etag: string; version: string } | undefined> {
        const queue = [...changes];
        const headLength = head('').length;
        let written: { etag: string; version: string } | undefined;
        while (queue.length > 0 || written === undefined) {
            const headPending = written === undefined;
            const headOperations = headPending ? headLength : 0;
            const batch = queue.splice(0, Math.floor((MAX_TRANSACTION_OPERATIONS - FEED_OPERATIONS_PER_EVENT - headOperations) / 2));
            if (headPending && batch.length === 0 && !headRequired) break; // nothing changes: no version bump, no event
            try {
                const { etags, firstPosition } = await this.feed.append(this.partitions.groups, (position) => {
                    const version = versionOfPosition(position);
                    const draft: EventDraft = { type: event.type, resourceType: 'Group', resourceId: groupId };
                    if (event.externalId !== undefined) draft.externalId = event.externalId;
                    if (headPending) {
                        draft.version = version;
                        if (event.attributes && Object.keys(event.attributes).length > 0) draft.attributes = event.attributes;
                    }
                    const added = batch.filter((change) => change.kind === 'add').map((change) => change.memberId);
                    const removed = batch.filter((change) => change.kind === 'remove').map((change) => change.memberId);
                    if (added.length > 0 || removed.length > 0) {
                        draft.members = { ...(added.length > 0 ? { added } : {}), ...(removed.length > 0 ? { removed } : {}) };
                    }
                    return { actions: [...(headPending ? head(version) : []), ...batch.flatMap((change) => change.operations)], events: [draft] };
                });
                if (headPending) written = { etag: etags[0]!, version: versionOfPosition(firstPosition) };
            } catch (error) {
                const failedIndex = failedOperationIndex(error);
                const failedChange = failedIndex === undefined ? undefined : batch[Math.floor((failedIndex - headOperations) / 2)];
                if (statusCodeOf(error) !== 404 || failedIndex! < headOperations || failedChange?.kind !== 'remove') throw error;
                batch.splice(batch.indexOf(failedChange), 1);
                queue.unshift(...batch);
            }
        }
        return written;
    }

    /**
     * Removes memberships of a member being deleted, with one event per membership on its group (the cause:
     * the member's deletion). Rows already gone are dropped and the transaction retried; a membership with
     * neither row left records no event (whoever removed it recorded one).
     */
    private async removeForDeletedMember(pairs: CascadePair[]): Promise<void> {
        let remaining = pairs.map((pair) => ({ ...pair, rowKeys: [...pair.rowKeys] }));
        while (remaining.length > 0) {
            const rowKeys = remaining.flatMap((pair) => pair.rowKeys);
            try {
                await this.feed.append(this.partitions.groups, () => ({
                    actions: rowKeys.map((rowKey): TransactionAction => ['delete', { partitionKey: this.partitions.groups, rowKey }]),
                    events: remaining.map((pair): EventDraft => ({
                        type: 'prov:patch',
                        resourceType: 'Group',
                        resourceId: pair.groupId,
                        members: { removed: [pair.memberId] },
                        cause: { type: 'prov:delete', resourceType: pair.memberType, resourceId: pair.memberId },
                    })),
                }));
                return;
            } catch (error) {
                const failedIndex = failedOperationIndex(error);
                if (statusCodeOf(error) !== 404 || failedIndex === undefined || failedIndex >= rowKeys.length) throw error;
                const gone = rowKeys[failedIndex]!;
                remaining = remaining
                    .map((pair) => ({ ...pair, rowKeys: pair.rowKeys.filter((rowKey) => rowKey !== gone) }))
                    .filter((pair) => pair.rowKeys.length > 0);
            }
        }
    }

    /**
     * Which of `ids` are users, flagging each as a member on the way (`hasMemberships`, see deleteUser),
     * in batches: one transaction per 100 ids merges the flag into each user row. A merge of a missing
     * row fails the transaction and names the failing operation: that id is no user (maybe a group), so
     * it leaves the batch and the batch goes again. k users cost ⌈k/100⌉ requests rather than k reads.
     */
    private async claimUsers(ids: string[]): Promise<Set<string>> {
        const users = new Set<string>();
        for (let start = 0; start < ids.length; start += MAX_TRANSACTION_OPERATIONS) {
            let batch = ids.slice(start, start + MAX_TRANSACTION_OPERATIONS);
            while (batch.length > 0) {
                try {
                    await this.table.submit(
                        batch.map((id): TransactionAction => ['update', { partitionKey: this.partitions.users, rowKey: resourceRowKey('User', id), hasMemberships: true }, 'Merge']),
                    );
                    for (const id of batch) users.add(id);
                    break;
                } catch (error) {
                    const failed = failedOperationIndex(error);
                    if (statusCodeOf(error) !== 404 || failed === undefined || failed >= batch.length) throw error;
                    batch = batch.filter((_, index) => index !== failed);
                }
            }
        }
        return users;
    }

    /**
     * The adder's half of the Dekker ordering: after writing edges, re-check the members and undo edges to any
     * that vanished (recorded as removals caused by the member's deletion).
     */
    private async undoAdditionsOfVanishedMembers(groupId: string, addedIds: string[], usersBefore: Set<string>): Promise<void> {
        const users = await this.claimUsers(addedIds);
        const groups = await this.liveGroupIds(addedIds.filter((id) => !users.has(id)));
        const vanished = addedIds.filter((id) => !users.has(id) && !groups.has(id));
        if (vanished.length === 0) return;
        const pairs = vanished.map((memberId): CascadePair => ({
            groupId,
            memberId,
            memberType: usersBefore.has(memberId) ? 'User' : 'Group',
            rowKeys: [memberEdgeRowKey(groupId, memberId), memberOfEdgeRowKey(memberId, groupId)],
        }));
        for (let start = 0; start < pairs.length; start += CASCADE_PAIRS_PER_TRANSACTION) {
            await this.removeForDeletedMember(pairs.slice(start, start + CASCADE_PAIRS_PER_TRANSACTION));
        }
    }

    // ---- reading

    /** The forward edges of a group as stored (a clear removes edges to groups being deleted too). */
    private edgePages(groupId: string): AsyncIterable<Entity[]> {
        return this.table.pages(this.partitions.groups, memberEdgePrefix(groupId), { select: ['memberId', 'memberType'] });
    }

    private async memberIds(groupId: string): Promise<string[]> {
        const ids: string[] = [];
        for await (const page of this.edgePages(groupId)) ids.push(...page.map((edge) => String(edge.memberId)));
        return ids;
    }

    /** Which of these groups exist and are not being deleted: a `readMany` of their rows, none for no ids. */
    private async liveGroupIds(groupIds: string[]): Promise<Set<string>> {
        const wanted = unique(groupIds);
        if (wanted.length === 0) return new Set();
        const groups = await this.table.readMany(this.partitions.groups, wanted.map((id) => resourceRowKey('Group', id)), ['id', 'deleting']);
        return new Set(groups.filter((group) => group.deleting !== true).map((group) => String(group.id)));
    }

    private async existingMemberIds(groupId: string, memberIds: string[]): Promise<string[]> {
        const edges: Entity[] = await this.table.readMany(this.partitions.groups, memberIds.map((id) => memberEdgeRowKey(groupId, id)), ['memberId']);
        return edges.map((edge) => String(edge.memberId));
    }
}

/** Member ids that name no User or Group (nor a group being deleted). */
export function unknownMembers(count: number): StoreError {
    return new StoreError('invalidChange', `${count} member value(s) do not refer to an existing User or Group`);
}

function unique(ids: string[]): string[] {
    return [...new Set(ids)];
}
