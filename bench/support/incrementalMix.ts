/**
 * Entra's incremental cycle as a load (docs/entra-protocol.md §1): lookups, PATCHes, disables, member adds and
 * removes, group reads, in fixed proportions, planned with a seeded PRNG so every server and every round gets the
 * very same sequence. Used by bench:load (ours vs SCIMMY) and bench:abuse (the mix alone vs alongside abuse).
 */
import * as entra from './entraRequests';
import type { LoadTask } from './loadGenerator';

/** The ids one server handed out, by the workload's user and group numbers. */
export interface Tenant {
    userIds: string[];
    groupIds: string[];
}

/** The shape of the tenant a mix runs on. */
export interface MixShape {
    users: number;
    groups: number;
    /** The users of group `g` from the initial cycle (what `remove member` takes away). */
    initialMembers(g: number): number[];
}

export type MixOperation =
    | { kind: 'user lookup (hit)'; user: number }
    | { kind: 'externalId lookup'; user: number }
    | { kind: 'GET user'; user: number }
    | { kind: 'PATCH user'; user: number; version: number }
    | { kind: 'disable user'; user: number }
    | { kind: 'add member'; group: number; user: number }
    | { kind: 'remove member'; group: number; user: number }
    | { kind: 'group lookup'; group: number }
    | { kind: 'GET group excl. members'; group: number };

/** Weights of the incremental mix (percent): mostly lookups and PATCHes, as an incremental cycle is. */
const MIX_WEIGHTS: [MixOperation['kind'], number][] = [
    ['user lookup (hit)', 25],
    ['externalId lookup', 10],
    ['GET user', 5],
    ['PATCH user', 25],
    ['disable user', 10],
    ['add member', 10],
    ['remove member', 5],
    ['group lookup', 5],
    ['GET group excl. members', 5],
];

/** A small deterministic PRNG (mulberry32), so every server gets the very same mix. */
export function seededRandom(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

export function planMix(shape: MixShape, requests: number, seed: number): MixOperation[] {
    const random = seededRandom(seed);
    const pick = (n: number) => Math.floor(random() * n);
    const total = MIX_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);
    return Array.from({ length: requests }, (_, i): MixOperation => {
        let roll = random() * total;
        const kind = MIX_WEIGHTS.find(([, weight]) => (roll -= weight) < 0)?.[0] ?? 'user lookup (hit)';
        const user = pick(shape.users);
        const group = pick(shape.groups);
        switch (kind) {
            case 'PATCH user':
                return { kind, user, version: i };
            case 'add member':
                return { kind, group, user };
            case 'remove member': {
                const members = shape.initialMembers(group);
                return { kind, group, user: members[pick(members.length)]! };
            }
            case 'group lookup':
            case 'GET group excl. members':
                return { kind, group };
            default:
                return { kind, user };
        }
    });
}

export function need(id: string | undefined): string {
    if (id === undefined) throw new Error('an earlier create failed');
    return id;
}

export function mixTasks(plan: MixOperation[], tenant: Tenant, runId: string): LoadTask[] {
    const user = (n: number) => need(tenant.userIds[n]);
    const group = (n: number) => need(tenant.groupIds[n]);
    return plan.map((op): LoadTask => async (send) => {
        switch (op.kind) {
            case 'user lookup (hit)':
                return void (await send(op.kind, entra.lookupUserName(entra.userNameOf(op.user, runId))));
            case 'externalId lookup':
                return void (await send(op.kind, entra.lookupExternalId(entra.externalIdOf(op.user, runId))));
            case 'GET user':
                return void (await send(op.kind, entra.getUser(user(op.user))));
            case 'PATCH user':
                return void (await send(op.kind, entra.patchUserPortable(user(op.user), op.version)));
            case 'disable user':
                return void (await send(op.kind, entra.disableUser(user(op.user), false)));
            case 'add member':
                return void (await send(op.kind, entra.addMembers(group(op.group), [user(op.user)])));
            case 'remove member':
                return void (await send(op.kind, entra.removeMembers(group(op.group), [user(op.user)])));
            case 'group lookup':
                return void (await send(op.kind, entra.lookupGroup(entra.groupNameOf(op.group, runId))));
            case 'GET group excl. members':
                return void (await send(op.kind, entra.getGroupExcludingMembers(group(op.group))));
        }
    });
}
