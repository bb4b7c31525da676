/**
 * Resource rows this store instance recently read or wrote, so a handler's GET-then-conditional-update costs
 * no second read. Safe because the write carries If-Match with that very ETag: if the row changed since,
 * storage answers 412.
 */
import type { ResourceTypeName } from '../scim/schemas';
import { versionOfRow, type ResourceRow, type StoredRow } from './entities';
import { resourceRowKey } from './keys';

/** Rows remembered for conditional updates without a read. */
const RECENT_ROWS_LIMIT = 500;
/**
 * How long a remembered row may stand in for a read before a members-only change. Such a change writes
 * no attribute (it merges `lastModified` without If-Match), so the row only shapes the returned resource.
 */
const RECENT_ROW_FOR_MEMBERS_MS = 2000;

export class RecentRows {
    /** By RowKey (one store instance serves one tenant's partitions), oldest first (a Map keeps insertion order). */
    private readonly rows = new Map<string, { stored: StoredRow<ResourceRow>; at: number }>();

    remember(stored: StoredRow<ResourceRow>): void {
        const key = stored.row.rowKey;
        this.rows.delete(key);
        this.rows.set(key, { stored, at: Date.now() });
        if (this.rows.size > RECENT_ROWS_LIMIT) this.rows.delete(this.rows.keys().next().value!);
    }

    /**
     * The row last remembered for `id`: with `version`, only if it is that version (the write's If-Match on its
     * ETag then guards it); without, only for a members-only change and only if it is recent.
     */
    recall(resourceType: ResourceTypeName, id: string, version: string | undefined, membersOnly: boolean): StoredRow<ResourceRow> | undefined {
        const recent = this.rows.get(resourceRowKey(resourceType, id));
        if (!recent) return undefined;
        if (version !== undefined) return versionOfRow(recent.stored) === version ? recent.stored : undefined;
        return membersOnly && Date.now() - recent.at <= RECENT_ROW_FOR_MEMBERS_MS ? recent.stored : undefined;
    }

    forget(resourceType: ResourceTypeName, id: string): void {
        this.rows.delete(resourceRowKey(resourceType, id));
    }
}
