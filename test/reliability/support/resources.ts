/** Request bodies and small request helpers shared by the reliability suites. */
import { GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../../../shared/scim/schemas';
import type { ScimTestServer } from '../../support/scimServer';

export function userBody(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { schemas: [USER_SCHEMA], userName, ...extra };
}

export function groupBody(displayName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { schemas: [GROUP_SCHEMA], displayName, ...extra };
}

export function patchBody(...operations: Record<string, unknown>[]): Record<string, unknown> {
    return { schemas: [PATCH_OP_SCHEMA], Operations: operations };
}

/** A SCIM filter string literal: a JSON string (RFC 7644 §3.4.2.2), so quotes and control characters are escaped. */
export function filterLiteral(value: string): string {
    return JSON.stringify(value);
}

/** Creates users through the API, `concurrency` at a time; returns their ids in the order of `userNames`. */
export async function createUsers(server: ScimTestServer, userNames: string[], concurrency = 16): Promise<string[]> {
    const ids: string[] = new Array(userNames.length);
    await forEachConcurrently(userNames, concurrency, async (userName, index) => {
        const reply = await server.request('POST', '/Users', userBody(userName));
        if (reply.status !== 201) throw new Error(`creating a user failed with ${reply.status}: ${reply.text}`);
        ids[index] = reply.body.id;
    });
    return ids;
}

/** Runs `work` on every item, at most `concurrency` at once (a bounded pool, not 1,000 sockets). */
export async function forEachConcurrently<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < items.length) {
            const index = next++;
            await work(items[index]!, index);
        }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
