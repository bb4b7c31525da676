/**
 * A named tenant's activity marker (keys.ts `ACTIVITY_TENANT_MARKER_ROW_KEY`, docs/activity.md "Tenants"): the
 * row whose presence lets activity rows be written to the tenant's `<tenant>~activity` partition.
 *
 * Why a row and not a check of the registry: the registry row is in another partition, and a transaction covers
 * one partition only (docs/azure-notes.md §6). A Merge of an absent entity fails with 404, and with it the whole
 * transaction, so a batch that carries `activityMarkerCheck` is written only while the marker exists — whatever
 * the flush read in the registry before. `remove` deletes the marker first; from then on no batch gets in.
 */
import type { TransactionAction } from '@azure/data-tables';
import type { EntityTable } from './EntityTable';
import { ACTIVITY_TENANT_MARKER_ROW_KEY } from './keys';
import { statusCodeOf } from '../statusCodeOf';

/** The operation each activity transaction of a named tenant carries: a Merge (If-Match `*`) of nothing into the marker. */
export function activityMarkerCheck(partition: string): TransactionAction {
    return ['update', { partitionKey: partition, rowKey: ACTIVITY_TENANT_MARKER_ROW_KEY }, 'Merge'];
}

/** Creates the marker; one that is already there (an `add` that crashed before its registry row) is kept. */
export async function insertActivityMarker(table: EntityTable, partition: string): Promise<void> {
    await table.ensureExists();
    try {
        await table.submit([['create', { partitionKey: partition, rowKey: ACTIVITY_TENANT_MARKER_ROW_KEY }]]);
    } catch (error) {
        if (statusCodeOf(error) !== 409) throw error;
    }
}

/** Deletes the marker; gone already (a resumed `remove`, a tenant from before markers) is fine. */
export async function deleteActivityMarker(table: EntityTable, partition: string): Promise<void> {
    try {
        await table.submit([['delete', { partitionKey: partition, rowKey: ACTIVITY_TENANT_MARKER_ROW_KEY }]]);
    } catch (error) {
        if (statusCodeOf(error) !== 404) throw error;
    }
}

export async function activityMarkerExists(table: EntityTable, partition: string): Promise<boolean> {
    return (await table.read(partition, ACTIVITY_TENANT_MARKER_ROW_KEY, ['RowKey'])) !== undefined;
}
