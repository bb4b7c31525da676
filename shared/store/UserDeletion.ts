/**
 * Deleting a user (docs/storage.md, "Deletes"): its membership edges, its row and its index rows, ordered so
 * that a crash at any point leaves nothing a reader trips over and a retry finishes the job.
 *
 * The last step of every path is one more read of the user's edges after its row is gone: the deleter's half of
 * the Dekker ordering (MembershipEdges.ts). A user never added to a group has no edges and skips both edge passes.
 */
import type { TransactionAction } from '@azure/data-tables';
import { deletionEvent } from '../feed/events';
import { statusCodeOf } from '../statusCodeOf';
import type { EntityTable } from './EntityTable';
import { attributesOf, readResourceRow, resourceDeletionActions, versionOfRow, type ResourceRow, type StoredRow } from './entities';
import type { FeedLog } from './FeedLog';
import { memberOfEdgePrefix, type Partitions } from './keys';
import type { MembershipEdges } from './MembershipEdges';
import { beingChangedConcurrently, MAX_DELETE_ATTEMPTS, versionConflict } from './storageErrors';

export class UserDeletion {
    constructor(
        private readonly table: EntityTable,
        private readonly partitions: Partitions,
        private readonly edges: MembershipEdges,
        /** The transaction that makes the user gone for readers records its `prov:delete` (docs/storage.md, "Change feed"). */
        private readonly feed: FeedLog,
    ) {}

    /**
     * Edges first (both directions per transaction), then the user and its index rows in one transaction. That
     * transaction cannot carry If-Match on the user row (the SDK sends every transactional delete with If-Match
     * `*`), so a concurrent rename shows up as a 404 on the old index row: read again and retry. A user left
     * `deleting` by an interrupted conditional delete is finished, and is already gone for readers (undefined).
     * Returns the row as it was, so the caller knows what it deleted (the activity records' active users).
     *
     * The read happens in the users stream's turn (FeedLog), right before the transaction: waiting for the turn
     * between them would widen the window of the known add-vs-delete gap (docs/storage.md, "Deletes") from one
     * round trip to the whole queue. A user found with memberships not yet cleaned goes back for its edges first.
     * Its memberships are cascades the feed records on each group, before the user's own `prov:delete`.
     */
    async delete(id: string): Promise<StoredRow<ResourceRow> | undefined> {
        let edgesCleaned = false;
        for (let attempt = 0; attempt < MAX_DELETE_ATTEMPTS; attempt++) {
            let found: StoredRow<ResourceRow> | undefined;
            try {
                await this.feed.appendAfterRead(this.partitions.users, async () => {
                    found = await readResourceRow(this.table, this.partitions, 'User', id);
                    if (!found || found.row.deleting || (found.row.hasMemberships && !edgesCleaned)) return undefined;
                    return { actions: resourceDeletionActions(found.row), events: [deletionEvent('User', id, attributesOf(found.row))] };
                });
            } catch (error) {
                if (statusCodeOf(error) === 404) continue; // deleted or renamed meanwhile: look again
                throw error;
            }
            const current: StoredRow<ResourceRow> | undefined = found;
            if (!current || current.row.deleting) {
                if (current) await this.finish(id, current);
                // Gone already; finish an edge cleanup an earlier, interrupted delete may have left.
                else await this.edges.deleteAll(memberOfEdgePrefix(id), undefined, cascadeOf(id));
                return undefined;
            }
            if (current.row.hasMemberships && !edgesCleaned) {
                await this.edges.deleteAll(memberOfEdgePrefix(id), undefined, cascadeOf(id));
                edgesCleaned = true;
                attempt--; // not a conflict: now delete it
                continue;
            }
            if (current.row.hasMemberships) await this.edges.deleteAll(memberOfEdgePrefix(id), undefined, cascadeOf(id));
            return current;
        }
        throw beingChangedConcurrently();
    }

    /**
     * A delete on condition that the user is still at `expectedVersion` (If-Match, RFC 7644 §3.14), checked by the
     * storage request itself: one transaction marks the row `deleting` with If-Match on that version and deletes
     * its index rows, so a concurrent change fails it with 412 (`versionConflict`) and nothing is deleted. From
     * then on readers see no user and its userName is free; `finish` removes edges and row. `current` is the row
     * as last read, if the caller has it at that version (no read then).
     */
    async deleteAtVersion(id: string, expectedVersion: string, current?: StoredRow<ResourceRow>): Promise<StoredRow<ResourceRow> | undefined> {
        current ??= await readResourceRow(this.table, this.partitions, 'User', id);
        if (!current || current.row.deleting) return undefined;
        if (versionOfRow(current) !== expectedVersion) throw versionConflict();
        const marked = current;
        const marking: TransactionAction[] = [
            ['update', { partitionKey: current.row.partitionKey, rowKey: current.row.rowKey, deleting: true }, 'Merge', { etag: current.etag }],
            ...resourceDeletionActions(current.row).slice(1), // its index rows
        ];
        let etag: string;
        try {
            const event = deletionEvent('User', id, attributesOf(marked.row));
            [etag = ''] = (await this.feed.append(this.partitions.users, () => ({ actions: marking, events: [event] }))).etags;
        } catch (error) {
            const status = statusCodeOf(error);
            if (status === 412 || status === 404) throw versionConflict(); // changed, renamed or deleted since that version
            throw error;
        }
        await this.finish(id, { row: { ...current.row, deleting: true }, etag });
        return marked;
    }

    /**
     * Removes the edges and the row of a user marked `deleting`. The row goes with If-Match on the version read:
     * a member add that flagged the user since (`hasMemberships`, MembershipEdges.claimUsers) changed it, so the
     * delete fails with 412 and the next pass removes that add's edges too.
     */
    private async finish(id: string, marked: StoredRow<ResourceRow>): Promise<void> {
        let current: StoredRow<ResourceRow> | undefined = marked;
        let hadMemberships = false;
        for (let attempt = 0; current; attempt++) {
            if (attempt >= MAX_DELETE_ATTEMPTS) throw beingChangedConcurrently();
            hadMemberships ||= current.row.hasMemberships === true;
            if (hadMemberships) await this.edges.deleteAll(memberOfEdgePrefix(id), undefined, cascadeOf(id));
            try {
                await this.table.deleteAtVersion(current.row.partitionKey, current.row.rowKey, current.etag);
                break;
            } catch (error) {
                const status = statusCodeOf(error);
                if (status === 404) break; // finished by a concurrent delete
                if (status !== 412) throw error;
                current = await readResourceRow(this.table, this.partitions, 'User', id);
            }
        }
        if (hadMemberships) await this.edges.deleteAll(memberOfEdgePrefix(id), undefined, cascadeOf(id));
    }
}

/** Whose deletion a cascade event names: the user's memberships go with it. */
function cascadeOf(userId: string): { resourceType: 'User'; resourceId: string } {
    return { resourceType: 'User', resourceId: userId };
}
