/**
 * The change feed timer's place in the tenant registry (shared/feed/maintainChangeFeed.ts `maintainEveryChangeFeed`):
 * the name of the last tenant a run finished with, so the next run goes on from there. One row beside the
 * registry's; written unconditionally (timers are singletons: two overlapping runs would at worst maintain a
 * tenant twice, which is harmless).
 */
import type { EntityTable } from './EntityTable';
import { FEED_MAINTENANCE_ROW_KEY, TENANTS_PARTITION } from './keys';

export class FeedMaintenanceProgress {
    constructor(private readonly table: EntityTable) {}

    /** The last tenant finished; '' when none yet or the last run finished the list. */
    async read(): Promise<string> {
        await this.table.ensureExists();
        const row = await this.table.read(TENANTS_PARTITION, FEED_MAINTENANCE_ROW_KEY);
        return typeof row?.lastTenant === 'string' ? row.lastTenant : '';
    }

    async save(lastTenant: string): Promise<void> {
        await this.table.submit([['upsert', { partitionKey: TENANTS_PARTITION, rowKey: FEED_MAINTENANCE_ROW_KEY, lastTenant }, 'Replace']]);
    }
}
