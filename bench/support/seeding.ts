/**
 * Fills a tenant fast for the growth benchmark: users and group memberships go straight into the store
 * (the same `ResourceStore` the endpoint uses, so keys, indexes and edges are exactly what HTTP creates
 * would write) with many writes in flight, instead of one HTTP request per user. The store writes each
 * user as one transaction and a member batch as a few transactions of up to 100 operations.
 * Progress is printed every few seconds; every loop stops at its count or at the deadline.
 */
import { randomUUID } from 'node:crypto';
import { canonicalizeResource } from '../../shared/scim/attributeValues';
import type { ResourceStore, ScimResource } from '../../shared/store/ResourceStore';
import { Deadline } from './deadline';
import * as entra from './entraRequests';
import { formatCount } from './stats';

const WRITES_IN_FLIGHT = 16;
const PROGRESS_EVERY_MS = 5_000;
/**
 * Member ids handed to the store per update call. The store checks that members exist with OR-of-RowKey
 * queries of 14 keys, which Azurite (and Table Storage) answer by scanning the users partition; many of
 * them at once on a large partition exceed the store's 5 s try timeout, so batches stay small.
 */
const MEMBERS_PER_UPDATE = 98;

/** What an HTTP create of this body would store: canonical attributes, no schemas, id or meta. */
function storedUserAttributes(n: number, runId: string): ScimResource {
    const { schemas: _schemas, meta: _meta, ...attributes } = canonicalizeResource(entra.createUser(n, runId).body as ScimResource, 'User');
    return attributes;
}

/**
 * Creates users `from` … `to − 1` (named `entra.userNameOf(n, runId)`); returns their ids, index n − from.
 * Stops early at the deadline; the returned array then ends where seeding stopped.
 */
export async function seedUsers(store: ResourceStore, label: string, from: number, to: number, runId: string, deadline: Deadline): Promise<string[]> {
    const ids: string[] = [];
    let next = from;
    let done = 0;
    const started = Date.now();
    let lastReport = started;
    const report = (final = false) => {
        const seconds = (Date.now() - started) / 1000;
        const rate = done / Math.max(seconds, 0.001);
        const eta = rate > 0 ? Math.round((to - from - done) / rate) : NaN;
        console.log(`  ${label}: ${formatCount(done)} / ${formatCount(to - from)} users in ${seconds.toFixed(0)} s (${rate.toFixed(0)}/s${final ? '' : `, ~${eta} s left`})`);
    };
    const writer = async () => {
        while (next < to && !deadline.expired()) {
            const n = next++;
            const id = randomUUID();
            await store.create('User', id, storedUserAttributes(n, runId), new Date().toISOString());
            ids[n - from] = id;
            done++;
            if (Date.now() - lastReport >= PROGRESS_EVERY_MS) {
                lastReport = Date.now();
                report();
            }
        }
    };
    await Promise.all(Array.from({ length: WRITES_IN_FLIGHT }, writer));
    report(true);
    if (done < to - from) console.log(`  ${label}: seeding stopped at the time budget`);
    // Every started write has finished (a failed one rejects), so the ids have no gaps.
    return ids;
}

/** Creates a group whose members are `memberIds`, adding them in batches through the store. */
export async function seedGroup(store: ResourceStore, displayName: string, memberIds: readonly string[], deadline: Deadline): Promise<string> {
    const id = randomUUID();
    await store.create('Group', id, { displayName }, new Date().toISOString());
    const started = Date.now();
    let lastReport = started;
    for (let offset = 0; offset < memberIds.length && !deadline.expired(); offset += MEMBERS_PER_UPDATE) {
        const add = memberIds.slice(offset, offset + MEMBERS_PER_UPDATE);
        await store.update('Group', id, { members: { clear: false, add, remove: [] } }, new Date().toISOString());
        if (Date.now() - lastReport >= PROGRESS_EVERY_MS || offset + MEMBERS_PER_UPDATE >= memberIds.length) {
            lastReport = Date.now();
            console.log(`  ${displayName}: ${formatCount(Math.min(offset + MEMBERS_PER_UPDATE, memberIds.length))} / ${formatCount(memberIds.length)} members in ${((Date.now() - started) / 1000).toFixed(0)} s`);
        }
    }
    return id;
}
