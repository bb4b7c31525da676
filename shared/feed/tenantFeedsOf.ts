/**
 * The named tenants' change feeds as the MaintainChangeFeed timer walks them (maintainChangeFeed.ts
 * `maintainEveryChangeFeed`): the registry in name order, each tenant's store (the same one its requests use,
 * shared/app.ts `Tenants`), and the timer's place in the registry.
 */
import type { App, Tenants } from '../app';
import type { TenantFeeds } from './maintainChangeFeed';

export function tenantFeedsOf({ store, tenants }: Pick<App, 'store'> & { tenants: Pick<Tenants, 'store'> }): TenantFeeds {
    const registry = store.tenantRegistry();
    const progress = store.feedMaintenanceProgress();
    return {
        listAfter: (after, limit) => registry.listAfter(after, limit),
        feedOf: (tenant) => tenants.store(tenant).changes,
        readProgress: () => progress.read(),
        saveProgress: (lastTenant) => progress.save(lastTenant),
    };
}
