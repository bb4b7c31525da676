/**
 * Deleting a group (docs/storage.md, "Deletes"): a group of 50,000 members has 100,000 edge rows, more than
 * one request can delete in the time Entra waits, so a group DELETE makes the group invisible first and
 * then spends a bounded time on its edges; the sweep (timer SweepDeletedGroups) finishes what is left.
 * Ordered so that a crash at any point leaves nothing a reader trips over and a retry finishes the job.
 */
import type { TableEntity, TransactionAction } from '@azure/data-tables';
import { deletionEvent } from '../feed/events';
import { statusCodeOf } from '../statusCodeOf';
import type { EntityTable } from './EntityTable';
import { attributesOf, readResourceRow, resourceDeletionActions, versionOfRow, type ResourceRow, type StoredRow } from './entities';
import type { FeedLog } from './FeedLog';
import { DELETION_MARKER_PREFIX, type Partitions, deletionMarkerRowKey, memberEdgePrefix, memberOfEdgePrefix, resourceRowKey } from './keys';
import type { MembershipEdges } from './MembershipEdges';
import { beingChangedConcurrently, MAX_DELETE_ATTEMPTS, versionConflict } from './storageErrors';

/**
 * How long a group DELETE spends on edges before it answers. Entra's request timeout is undocumented
 * (docs/entra-protocol.md §10 advises staying well under ~10 s), while a 50,000-member group has 100,000 edge rows:
 * ~50 s at the ~2,000 entities/s partition target (docs/azure-notes.md §6), 65–86 s on Azurite. The group is invisible
 * from the marking transaction on, so the DELETE can answer 204 with edges left behind its `del:` marker and
 * the sweep (`sweep`, timer function SweepDeletedGroups) finishes them. Transactions in flight at
 * the deadline still complete: at most 4 more, of 100 rows each.
 */
export const GROUP_DELETE_BUDGET_MS = 8_000;

export class GroupDeletion {
    constructor(
        private readonly table: EntityTable,
        private readonly partitions: Partitions,
        private readonly edges: MembershipEdges,
        /** The marking transaction records the group's `prov:delete` event (docs/storage.md, "Change feed"). */
        private readonly feed: FeedLog,
        private readonly budgetMs = GROUP_DELETE_BUDGET_MS,
    ) {}

    /**
     * One transaction marks the group `deleting`, writes its `del:` marker and deletes its dn/ext rows: from
     * then on readers treat the group as gone and its name is free. Then its edges go in batches until the
     * budget runs out; whatever is left the sweep finishes (`finish`).
     *
     * The group's row when this request made the group invisible (the client's 204, RFC 7644 §3.6), edges left or not.
     * A DELETE of a group already `deleting` (marked by an earlier or a concurrent DELETE) continues the
     * cleanup and returns the row only if that finishes it; otherwise undefined (404): the group is already deleted for
     * every reader, and RFC 7644 §3.6 wants 404 for any operation on a deleted resource (Entra's validator
     * expects 404 for a second DELETE, docs/entra-protocol.md §5.7).
     *
     * With `expected` (If-Match, RFC 7644 §3.14) the marking transaction carries If-Match on that version, so
     * the storage request itself is the version check: a group changed since fails with `versionConflict` and
     * nothing is deleted; a group already being deleted is gone (undefined). `expected.current` is the row as last
     * read at that version, if the caller has it (no read then).
     */
    async delete(id: string, expected?: { version: string; current?: StoredRow<ResourceRow> }): Promise<StoredRow<ResourceRow> | undefined> {
        const deadline = Date.now() + this.budgetMs;
        let current = expected?.current ?? (await readResourceRow(this.table, this.partitions, 'Group', id));
        if (expected !== undefined) {
            if (!current || current.row.deleting) return undefined;
            if (versionOfRow(current) !== expected.version) throw versionConflict();
        }
        let markedHere = false;
        for (let attempt = 0; current && !current.row.deleting; attempt++) {
            if (attempt >= MAX_DELETE_ATTEMPTS) throw beingChangedConcurrently();
            const marking: TransactionAction[] = [
                ['update', { partitionKey: this.partitions.groups, rowKey: current.row.rowKey, deleting: true }, 'Merge', { etag: current.etag }],
                // Upsert, not create: a leftover marker must not block the delete.
                ['upsert', this.deletionMarker(id), 'Replace'],
                ...resourceDeletionActions(current.row).slice(1), // its dn and ext rows
            ];
            try {
                const event = deletionEvent('Group', id, attributesOf(current.row));
                const { etags } = await this.feed.append(this.partitions.groups, () => ({ actions: marking, events: [event] }));
                current = { row: { ...current.row, deleting: true }, etag: etags[0]! };
                markedHere = true;
            } catch (error) {
                if (statusCodeOf(error) !== 412 && statusCodeOf(error) !== 404) throw error;
                if (expected !== undefined) throw versionConflict(); // changed, renamed or deleted since that version
                current = await readResourceRow(this.table, this.partitions, 'Group', id); // renamed, deleted or marked meanwhile
            }
        }
        if (!current) {
            // Gone already; sweep edges a crash right after an earlier finish may have left (as for users).
            await this.edges.deleteAll(memberOfEdgePrefix(id), deadline, cascadeOf(id));
            await this.edges.deleteAll(memberEdgePrefix(id), deadline);
            return undefined;
        }
        const finished = await this.finish(id, deadline);
        if (markedHere) return current;
        // A row marked by an interrupted delete of an older version has no marker: give it one, or no sweep finds it.
        if (!finished) await this.ensureMarker(id);
        return finished ? current : undefined;
    }

    /**
     * Continues the edge cleanup of groups whose DELETE answered before it was done, until `budgetMs` has
     * passed (transactions in flight then still finish): one range read of the `del:` markers (no scan), then
     * each group's cleanup in turn. A marker whose group row is live again cannot come from the store (marker
     * and marking share a transaction); it is dropped without touching that group's edges.
     */
    async sweep(budgetMs: number): Promise<{ groupsFinished: number; groupsRemaining: number }> {
        const deadline = Date.now() + budgetMs;
        const groupIds: string[] = [];
        for await (const page of this.table.pages(this.partitions.groups, DELETION_MARKER_PREFIX, { select: ['groupId'] })) {
            groupIds.push(...page.map((marker) => String(marker.groupId)));
        }
        let groupsFinished = 0;
        for (const id of groupIds) {
            if (Date.now() >= deadline) break;
            const current = await readResourceRow(this.table, this.partitions, 'Group', id);
            if (current && !current.row.deleting) await this.edges.deleteRowsIfPresent([deletionMarkerRowKey(id)]);
            else if (!(await this.finish(id, deadline))) continue;
            groupsFinished++;
        }
        return { groupsFinished, groupsRemaining: groupIds.length - groupsFinished };
    }

    /**
     * Continues the cleanup of a `deleting` group until `deadline`: its own memberships first (`mo:<group>:`,
     * usually few), then its members (`m:<group>:`), then the group row and its marker in one transaction.
     * True once both rows are gone, false if the deadline came first.
     *
     * Then one more read of both edge ranges, the deleter's half of the Dekker ordering (MembershipEdges.ts): a
     * member add that read the group before the marking still writes the group row (Merge, If-Match `*`) in its
     * first transaction, so that transaction either committed before the delete above and is found here, or
     * failed with 404.
     */
    private async finish(id: string, deadline: number): Promise<boolean> {
        // Its own memberships are cascades the feed records on each parent group; its members' edges are not
        // (the group's prov:delete says they are gone).
        if (!(await this.edges.deleteAll(memberOfEdgePrefix(id), deadline, cascadeOf(id)))) return false;
        if (!(await this.edges.deleteAll(memberEdgePrefix(id), deadline))) return false;
        const rowKeys = [resourceRowKey('Group', id), deletionMarkerRowKey(id)];
        try {
            await this.table.submit(rowKeys.map((rowKey): TransactionAction => ['delete', { partitionKey: this.partitions.groups, rowKey }]));
        } catch (error) {
            if (statusCodeOf(error) !== 404) throw error;
            // One of the two is gone: a concurrent DELETE or sweep finished first, or the row has no marker.
            const current = await readResourceRow(this.table, this.partitions, 'Group', id);
            if (current && !current.row.deleting) {
                await this.edges.deleteRowsIfPresent([rowKeys[1]!]); // never touch a live group's edges
                return true;
            }
            await this.edges.deleteRowsIfPresent(current ? rowKeys : [rowKeys[1]!]);
        }
        await this.edges.deleteAll(memberEdgePrefix(id));
        await this.edges.deleteAll(memberOfEdgePrefix(id), undefined, cascadeOf(id));
        return true;
    }

    /** Writes the marker of a `deleting` group, with the row in the transaction so nothing is written if the group is gone. */
    private async ensureMarker(id: string): Promise<void> {
        try {
            await this.table.submit([
                ['update', { partitionKey: this.partitions.groups, rowKey: resourceRowKey('Group', id), deleting: true }, 'Merge'],
                ['upsert', this.deletionMarker(id), 'Replace'],
            ]);
        } catch (error) {
            if (statusCodeOf(error) !== 404) throw error; // finished meanwhile
        }
    }

    private deletionMarker(groupId: string): TableEntity<{ groupId: string }> {
        return { partitionKey: this.partitions.groups, rowKey: deletionMarkerRowKey(groupId), groupId };
    }
}

/** Whose deletion a cascade event names: the group's own memberships in other groups go with it. */
function cascadeOf(groupId: string): { resourceType: 'Group'; resourceId: string } {
    return { resourceType: 'Group', resourceId: groupId };
}
