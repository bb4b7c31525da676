/**
 * Timer: the change feed's push to a queue (when SCIM_FEED_QUEUE is set) and its retention (docs/feed.md), for the
 * default tenant and every named tenant (docs/feed.md, "Tenants"). Not an HTTP route, so not in routes.ts:
 * registered by this file's `app.timer` when the host loads it, like SweepDeletedGroups.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { appOfThisProcess, type AppProvider } from '../shared/app';
import { maintainEveryChangeFeed } from '../shared/feed/maintainChangeFeed';
import { tenantFeedsOf } from '../shared/feed/tenantFeedsOf';

/** Work per run: well inside the one-minute interval, so runs do not overlap (timers are singletons anyway). */
export const MAINTENANCE_BUDGET_MS = 45_000;

/** The timer handler, bound to the app whose change feeds it maintains. */
export function runChangeFeedMaintenance(getApp: AppProvider): (timer: Timer, context: InvocationContext) => Promise<void> {
    return async (_timer, context) => {
        const started = Date.now();
        const built = await getApp();
        const result = await maintainEveryChangeFeed({
            defaultFeed: built.store.changes,
            tenants: tenantFeedsOf(built),
            queue: built.eventQueue,
            retentionDays: built.settings.feed.retentionDays,
            deadline: started + MAINTENANCE_BUDGET_MS,
        });
        // One line per run, like the sweep's: a push that never catches up shows as caughtUp false (or tenants
        // behind) run after run.
        context.log(`change feed maintenance ${JSON.stringify({ ...result, durationMs: Date.now() - started })}`);
    };
}

app.timer('MaintainChangeFeed', { schedule: '0 */1 * * * *', runOnStartup: false, handler: runChangeFeedMaintenance(appOfThisProcess) });
