/**
 * Timer: finishes the edge cleanup of groups whose DELETE answered before all their edges were gone
 * (docs/storage.md, "Deletes"). Not an HTTP route, so not in routes.ts: the Functions host loads every
 * `dist/functions/*.js` (docs/azure-notes.md §2.3) and this file's `app.timer` registers it; the local host serves routes only.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { appOfThisProcess, type AppProvider } from '../shared/app';

/**
 * Cleanup time per run: well under the 5-minute interval and the Functions timeout, so a run ends before the
 * next is due (the timer is a singleton anyway). At the ~2,000 entities/s partition target (docs/azure-notes.md §6) that
 * is ~360,000 edge rows, the edges of several 50,000-member groups, per run.
 */
export const SWEEP_BUDGET_MS = 3 * 60_000;

/** Every 5 minutes: an NCRONTAB expression, seconds first (https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#ncrontab-expressions). */
export const SWEEP_SCHEDULE = '0 */5 * * * *';

/** The timer handler, bound to the app whose store it sweeps. */
export function sweepDeletedGroups(getApp: AppProvider): (timer: Timer, context: InvocationContext) => Promise<void> {
    return async (_timer, context) => {
        const started = Date.now();
        const { store, tenants } = await getApp();
        const deadline = started + SWEEP_BUDGET_MS;
        let { groupsFinished, groupsRemaining } = await store.sweepDeletedGroups(SWEEP_BUDGET_MS);
        // Then every named tenant's partitions (a disabled tenant's too: its data is kept consistent), in the time left.
        for (const tenant of await store.tenantRegistry().list()) {
            const left = deadline - Date.now();
            if (left <= 0 || tenant.state === 'removing') continue;
            const swept = await tenants.store(tenant.name).sweepDeletedGroups(left);
            groupsFinished += swept.groupsFinished;
            groupsRemaining += swept.groupsRemaining;
        }
        // One line per run, like `scim request {json}`: groups remaining after several runs mean a stuck cleanup.
        context.log(`group delete sweep ${JSON.stringify({ groupsFinished, groupsRemaining, durationMs: Date.now() - started })}`);
    };
}

app.timer('SweepDeletedGroups', { schedule: SWEEP_SCHEDULE, runOnStartup: false, handler: sweepDeletedGroups(appOfThisProcess) });
