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
/** Unknown member ids a 400 names, at most. */
export const MAX_NAMED_UNKNOWN_IDS = 10;
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

        const types = await this.requireMembers(newMembers);
        const changes: EdgePairChange[] = [
            ...toRemove.map((memberId) => this.removal(groupId, memberId)),
            ...newMembers.map((memberId) => this.addition(groupId, memberId, types.get(memberId)!)),
        ];
        const written = await this.submitChanges(groupId, head, changes, headRequired, event);
        if (newMembers.length > 0) await this.undoAdditionsOfVanishedMembers(groupId, types);
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

    /**
     * Which ids exist, with their type: users first (the common case), then groups not being deleted. Read-only
     * probes (EntityTable.probe): ⌈k/99⌉ transactions for k users, one more for any number of unknown ids, and a
     * point read per member that is a group (Entra provisions no nested groups).
     */
    async resolve(ids: string[]): Promise<Map<string, ResourceTypeName>> {
        return (await this.classify(unique(ids), true, Number.POSITIVE_INFINITY)).found;
    }

    /**
     * The type of each id, with every user among them flagged as a member (`hasMemberships`, see deleteUser), or
     * `invalidChange` (400 `invalidValue`) naming up to `MAX_NAMED_UNKNOWN_IDS` ids that are neither a user nor a live group.
     * Batch by batch, before any edge is written, stopping at the first batch that holds an unknown id:
     *
     * - one transaction per 100 ids merges the flag into the user rows; when they are all users (Entra's case),
     *   that is the whole check: ⌈k/100⌉ requests;
     * - a batch whose transaction fails (it names the first id that is no user, and wrote nothing) is settled
     *   with read-only probes — the rest of its ids against user rows, the non-users against group rows — then
     *   its users are flagged: a few requests for the batch, however many of its ids are unknown, never one each.
     */
    async requireMembers(ids: string[]): Promise<Map<string, ResourceTypeName>> {
        const found = new Map<string, ResourceTypeName>();
        const wanted = unique(ids);
        for (let start = 0; start < wanted.length; start += MAX_TRANSACTION_OPERATIONS) {
            const batch = wanted.slice(start, start + MAX_TRANSACTION_OPERATIONS);
            const firstNonUser = await this.flagUsers(batch);
            if (firstNonUser === undefined) {
                for (const id of batch) found.set(id, 'User');
                continue;
            }
            const settled = await this.classify(batch.slice(firstNonUser + 1), false, MAX_NAMED_UNKNOWN_IDS, batch.slice(0, firstNonUser), batch[firstNonUser]);
            const users = [...settled.found].filter(([, type]) => type === 'User').map(([id]) => id);
            const flagged = await this.claimUsers(users);
            const unknown = [...settled.unknown, ...users.filter((id) => !flagged.has(id))]; // a user deleted meanwhile is unknown now
            if (unknown.length > 0) {
                const named = unknown.slice(0, MAX_NAMED_UNKNOWN_IDS).map((id) => JSON.stringify(cut(id, 64)));
                const more = unknown.length > named.length || start + batch.length < wanted.length;
                throw new StoreError('invalidChange', `Members must be existing Users or Groups; these are not: ${named.join(', ')}${more ? ' (maybe more)' : ''}`);
            }
            for (const [id, type] of settled.found) found.set(id, type);
        }
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

    /**
     * Read-only: which of `ids` are users (a probe of user rows, first guessing `guessUsers`), and which of the
     * others are live groups (a probe of group rows guessing absent, as such ids are usually unknown; then a read
     * of each group found, for `deleting`). `knownUsers` and `knownNonUser` come settled already. Stops once
     * `stopAfterUnknown` unknown ids are known.
     */
    private async classify(
        ids: string[],
        guessUsers: boolean,
        stopAfterUnknown: number,
        knownUsers: string[] = [],
        knownNonUser?: string,
    ): Promise<{ found: Map<string, ResourceTypeName>; unknown: string[] }> {
        const found = new Map<string, ResourceTypeName>();
        for (const id of knownUsers) found.set(id, 'User');
        const userRows = new Set(ids.length === 0 ? [] : (await this.table.probe(this.partitions.users, ids.map((id) => resourceRowKey('User', id)), { expectPresent: guessUsers })).present);
        for (const id of ids) if (userRows.has(resourceRowKey('User', id))) found.set(id, 'User');
        const nonUsers = [...(knownNonUser === undefined ? [] : [knownNonUser]), ...ids.filter((id) => !found.has(id))];
        if (nonUsers.length === 0) return { found, unknown: [] };

        const groupRows = await this.table.probe(this.partitions.groups, nonUsers.map((id) => resourceRowKey('Group', id)), { expectPresent: false, stopAfterAbsent: stopAfterUnknown });
        const present = new Set(groupRows.present);
        const absent = new Set(groupRows.absent);
        const liveGroups = await this.liveGroupIds(nonUsers.filter((id) => present.has(resourceRowKey('Group', id))));
        for (const id of liveGroups) found.set(id, 'Group');
        const unknown = nonUsers.filter((id) => absent.has(resourceRowKey('Group', id)) || (present.has(resourceRowKey('Group', id)) && !liveGroups.has(id)));
        return { found, unknown };
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
     * One transaction merging the member flag into the user rows of `ids` (≤ 100): undefined when all are users
     * (and now flagged), else the index of the first id that is not (the transaction wrote nothing).
     */
    private async flagUsers(ids: string[]): Promise<number | undefined> {
        if (ids.length === 0) return undefined;
        try {
            await this.table.submit(ids.map((id): TransactionAction => ['update', { partitionKey: this.partitions.users, rowKey: resourceRowKey('User', id), hasMemberships: true }, 'Merge']));
            return undefined;
        } catch (error) {
            const failed = failedOperationIndex(error);
            if (statusCodeOf(error) !== 404 || failed === undefined || failed >= ids.length) throw error;
            return failed;
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
            for (let failed = await this.flagUsers(batch); failed !== undefined; failed = await this.flagUsers(batch)) {
                batch = batch.filter((_, index) => index !== failed);
            }
            for (const id of batch) users.add(id);
        }
        return users;
    }

    /**
     * The adder's half of the Dekker ordering: after writing edges, re-check the members and undo edges to any
     * that vanished (recorded as removals caused by the member's deletion). For users this is also where they are flagged as members (`claimUsers`), so the flag is
     * written only for edges that were written.
     */
    private async undoAdditionsOfVanishedMembers(groupId: string, added: Map<string, ResourceTypeName>): Promise<void> {
        const addedUsers = [...added].filter(([, type]) => type === 'User').map(([id]) => id);
        const addedGroups = [...added].filter(([, type]) => type === 'Group').map(([id]) => id);
        const users = await this.claimUsers(addedUsers);
        const groups = await this.liveGroupIds(addedGroups);
        const vanished = [...addedUsers.filter((id) => !users.has(id)), ...addedGroups.filter((id) => !groups.has(id))];
        if (vanished.length === 0) return;
        const pairs = vanished.map((memberId): CascadePair => ({
            groupId,
            memberId,
            memberType: added.get(memberId) ?? 'User',
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

    /** Which of these ids are members: a probe of their edge rows (a few transactions, not a read per id). */
    private async existingMemberIds(groupId: string, memberIds: string[]): Promise<string[]> {
        const present = new Set((await this.table.probe(this.partitions.groups, memberIds.map((id) => memberEdgeRowKey(groupId, id)), { expectPresent: true })).present);
        return memberIds.filter((id) => present.has(memberEdgeRowKey(groupId, id)));
    }
}

/** Member ids that name no User or Group (nor a group being deleted). */

function unique(ids: string[]): string[] {
    return [...new Set(ids)];
}

function cut(text: string, length: number): string {
    return text.length <= length ? text : `${text.slice(0, length)}…`;
}
