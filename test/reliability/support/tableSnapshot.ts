/**
 * Every entity of a SCIM table, read straight from Table Storage, so a test can prove that a rejected
 * request changed nothing: not a resource, not an index row, not an edge, not even an ETag. The activity
 * partition is left out: counting every request, refused ones included, is its job (docs/activity.md).
 */
import { TableClient } from '@azure/data-tables';
import { ACTIVITY_PARTITION } from '../../../shared/store/keys';

/** `PartitionKey|RowKey` → the entity as JSON, ETag included (a rewrite with equal content still shows). */
export type TableSnapshot = Map<string, string>;

export async function tableSnapshot(connectionString: string, tableName: string): Promise<TableSnapshot> {
    const client = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
    const snapshot: TableSnapshot = new Map();
    try {
        for await (const entity of client.listEntities()) {
            const { partitionKey, rowKey, timestamp: _timestamp, ...rest } = entity;
            if (partitionKey === ACTIVITY_PARTITION) continue;
            snapshot.set(`${partitionKey}|${rowKey}`, JSON.stringify(rest));
        }
    } catch (error) {
        // The store creates its table on first use; before that the table is legitimately empty.
        if ((error as { statusCode?: number }).statusCode === 404) return snapshot;
        throw error;
    }
    return snapshot;
}

/** What changed between two snapshots, as readable lines (empty when nothing did). */
export function snapshotDifferences(before: TableSnapshot, after: TableSnapshot): string[] {
    const differences: string[] = [];
    for (const [key, value] of after) {
        if (!before.has(key)) differences.push(`added ${key}`);
        else if (before.get(key) !== value) differences.push(`changed ${key}`);
    }
    for (const key of before.keys()) if (!after.has(key)) differences.push(`removed ${key}`);
    return differences;
}
