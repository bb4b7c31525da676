/**
 * Isolation of tenants as a property (issue 22): random sequences of SCIM operations on three tenants (the
 * default `/scim` and two named ones) with colliding userNames, displayNames and externalIds and with ids
 * borrowed from other tenants. A model per tenant predicts every reply; after each sequence every tenant's
 * listing must equal its model exactly, so nothing of one tenant is ever visible to, or changed by, another.
 * Counts of the cases that matter are asserted at the end, and the table passes the consistency checker.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA } from '../../shared/scim/schemas';
import { checkConsistency } from '../support/consistencyChecker';
import { startScimServer, type ScimReply, type ScimTestServer } from '../support/scimServer';
import { addTenant, type TenantCredentials } from '../support/tenants';

let server: ScimTestServer;
let tenants: TenantCredentials[];

beforeAll(async () => {
    server = await startScimServer();
    tenants = [{ name: 'default', base: server.base, token: server.token }, await addTenant(server, 'prop-a'), await addTenant(server, 'prop-b')];
});
afterAll(async () => {
    await server.close();
});

const NAMES = ['alpha', 'beta', 'gamma'];

type Operation =
    | { kind: 'createUser'; tenant: number; name: number; externalId: number }
    | { kind: 'createGroup'; tenant: number; name: number }
    | { kind: 'renameUser'; tenant: number; pick: number; name: number }
    | { kind: 'deleteUser'; tenant: number; pick: number }
    | { kind: 'addMember'; tenant: number; group: number; memberTenant: number; pick: number }
    | { kind: 'foreignRead'; tenant: number; owner: number; pick: number };

const tenantIndex = fc.integer({ min: 0, max: 2 });
const pick = fc.nat({ max: 20 });
const operation: fc.Arbitrary<Operation> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('createUser' as const), tenant: tenantIndex, name: fc.nat({ max: 2 }), externalId: fc.nat({ max: 2 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('createGroup' as const), tenant: tenantIndex, name: fc.nat({ max: 2 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('renameUser' as const), tenant: tenantIndex, pick, name: fc.nat({ max: 2 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteUser' as const), tenant: tenantIndex, pick }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('addMember' as const), tenant: tenantIndex, group: pick, memberTenant: tenantIndex, pick }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('foreignRead' as const), tenant: tenantIndex, owner: tenantIndex, pick }) },
);

/**
 * One fixed sequence that reaches every floor asserted at the end on its own, run first: the random sequences
 * after it add variety, but a loaded machine that gets through fewer of them (or an unlucky seed) cannot fail
 * the floors. Reading it: same names in all three tenants, then clashes, deletes and renames, memberships of own
 * and foreign users, and reads of foreign ids from every tenant.
 */
const user = (tenant: number, name: number): Operation => ({ kind: 'createUser', tenant, name, externalId: name });
const COVERING_SEQUENCE: Operation[] = [
    ...[0, 1, 2].flatMap((name) => [0, 1, 2].map((tenant) => user(tenant, name))), // 6 same names in two tenants
    user(0, 0), user(1, 0), user(2, 0), user(0, 1), user(1, 1), // 5 clashes in one tenant
    { kind: 'deleteUser', tenant: 0, pick: 0 }, user(0, 0), // delete, then the same name again (7)
    { kind: 'deleteUser', tenant: 1, pick: 0 }, user(1, 0), // (8)
    { kind: 'deleteUser', tenant: 2, pick: 2 }, { kind: 'renameUser', tenant: 2, pick: 0, name: 2 },
    { kind: 'deleteUser', tenant: 2, pick: 0 }, { kind: 'renameUser', tenant: 2, pick: 0, name: 0 }, // 4 deletes, 2 renames
    { kind: 'createGroup', tenant: 0, name: 0 }, { kind: 'createGroup', tenant: 1, name: 0 },
    { kind: 'addMember', tenant: 0, group: 0, memberTenant: 0, pick: 0 }, { kind: 'addMember', tenant: 0, group: 0, memberTenant: 0, pick: 1 },
    { kind: 'addMember', tenant: 0, group: 0, memberTenant: 1, pick: 0 }, { kind: 'addMember', tenant: 0, group: 0, memberTenant: 2, pick: 0 },
    { kind: 'addMember', tenant: 1, group: 0, memberTenant: 0, pick: 1 },
    ...[[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]].flatMap(([tenant, owner]) =>
        [0, 1].map((pick): Operation => ({ kind: 'foreignRead', tenant: tenant!, owner: owner!, pick }))), // up to 12 foreign reads
];

interface TenantModel {
    users: Map<string, { userName: string; externalId: string }>;
    groups: Map<string, { displayName: string; members: Set<string> }>;
}

/** What the run exercised, across all runs. */
const exercised = { sameNameInTwoTenants: 0, clashInOneTenant: 0, foreignMemberRefused: 0, ownMemberAdded: 0, foreignIdNotFound: 0, renames: 0, deletes: 0 };

describe('tenant isolation (property)', () => {
    it('keeps every tenant\'s data to itself under random operations on three tenants', async () => {
        let run = 0;
        await fc.assert(
            fc.asyncProperty(fc.array(operation, { minLength: 6, maxLength: 20 }), async (operations) => {
                const prefix = `r${run++}-${Date.now().toString(36)}`; // this sequence's names, in every tenant
                const models: TenantModel[] = tenants.map(() => ({ users: new Map(), groups: new Map() }));
                const send = (tenant: number, method: string, path: string, body?: unknown): Promise<ScimReply> =>
                    server.request(method, path, body, {}, { as: tenants[tenant]! });
                const userName = (name: number) => `${prefix}-${NAMES[name]}@example.com`;
                const pickFrom = <T>(map: Map<string, T>, index: number) => [...map.keys()][index % Math.max(1, map.size)];

                for (const op of operations) {
                    const model = models[op.tenant]!;
                    switch (op.kind) {
                        case 'createUser': {
                            const wanted = userName(op.name);
                            const clash = [...model.users.values()].some((u) => u.userName === wanted);
                            const elsewhere = models.some((m, i) => i !== op.tenant && [...m.users.values()].some((u) => u.userName === wanted));
                            const reply = await send(op.tenant, 'POST', '/Users', { schemas: [USER_SCHEMA], userName: wanted, externalId: `${prefix}-ext-${op.externalId}` });
                            expect(reply.status).toBe(clash ? 409 : 201);
                            if (clash) exercised.clashInOneTenant++;
                            else {
                                if (elsewhere) exercised.sameNameInTwoTenants++;
                                model.users.set(reply.body.id, { userName: wanted, externalId: `${prefix}-ext-${op.externalId}` });
                            }
                            break;
                        }
                        case 'createGroup': {
                            const wanted = `${prefix} ${NAMES[op.name]}`;
                            const clash = [...model.groups.values()].some((g) => g.displayName === wanted);
                            const reply = await send(op.tenant, 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: wanted });
                            expect(reply.status).toBe(clash ? 409 : 201);
                            if (!clash) model.groups.set(reply.body.id, { displayName: wanted, members: new Set() });
                            break;
                        }
                        case 'renameUser': {
                            const id = pickFrom(model.users, op.pick);
                            if (id === undefined) break;
                            const wanted = userName(op.name);
                            const clash = [...model.users.entries()].some(([other, u]) => other !== id && u.userName === wanted);
                            const reply = await send(op.tenant, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'replace', path: 'userName', value: wanted }] });
                            expect(reply.status).toBe(clash ? 409 : 200);
                            if (!clash) {
                                model.users.get(id)!.userName = wanted;
                                exercised.renames++;
                            }
                            break;
                        }
                        case 'deleteUser': {
                            const id = pickFrom(model.users, op.pick);
                            if (id === undefined) break;
                            expect((await send(op.tenant, 'DELETE', `/Users/${id}`)).status).toBe(204);
                            model.users.delete(id);
                            for (const group of model.groups.values()) group.members.delete(id);
                            exercised.deletes++;
                            break;
                        }
                        case 'addMember': {
                            const groupId = pickFrom(model.groups, op.group);
                            const memberId = pickFrom(models[op.memberTenant]!.users, op.pick);
                            if (groupId === undefined || memberId === undefined) break;
                            const own = model.users.has(memberId);
                            const reply = await send(op.tenant, 'PATCH', `/Groups/${groupId}`, { schemas: [PATCH_OP_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [{ value: memberId }] }] });
                            if (own) {
                                expect([200, 204]).toContain(reply.status);
                                model.groups.get(groupId)!.members.add(memberId);
                                exercised.ownMemberAdded++;
                            } else {
                                expect(reply.status).toBe(400);
                                expect(reply.body.scimType).toBe('invalidValue');
                                exercised.foreignMemberRefused++;
                            }
                            break;
                        }
                        case 'foreignRead': {
                            if (op.owner === op.tenant) break;
                            const id = pickFrom(models[op.owner]!.users, op.pick) ?? pickFrom(models[op.owner]!.groups, op.pick);
                            if (id === undefined || model.users.has(id) || model.groups.has(id)) break;
                            for (const collection of ['Users', 'Groups']) expect((await send(op.tenant, 'GET', `/${collection}/${id}`)).status).toBe(404);
                            expect((await send(op.tenant, 'DELETE', `/Users/${id}`)).status).toBe(404);
                            exercised.foreignIdNotFound++;
                            break;
                        }
                    }
                }

                // Each tenant sees exactly its model: by listing, by filter, and with the members it holds.
                for (const [index, model] of models.entries()) {
                    const users = await send(index, 'GET', `/Users?count=1000&filter=${encodeURIComponent(`userName sw "${prefix}-"`)}`);
                    const seenUsers = Object.fromEntries(users.body.Resources.map((u: { id: string; userName: string; externalId: string }) => [u.id, { userName: u.userName, externalId: u.externalId }]));
                    expect(seenUsers).toEqual(Object.fromEntries(model.users));
                    const groups = await send(index, 'GET', `/Groups?count=1000&filter=${encodeURIComponent(`displayName sw "${prefix} "`)}`);
                    const seenGroups = Object.fromEntries(groups.body.Resources.map((g: { id: string; displayName: string; members?: { value: string }[] }) =>
                        [g.id, { displayName: g.displayName, members: (g.members ?? []).map((m) => m.value).sort() }]));
                    expect(seenGroups).toEqual(Object.fromEntries([...model.groups].map(([id, g]) => [id, { displayName: g.displayName, members: [...g.members].sort() }])));
                }
            }),
            // Bounded in runs and in time (a loaded machine runs fewer; the covering sequence alone meets the floors below), reproducible from the seed.
            { numRuns: 30, examples: [[COVERING_SEQUENCE]], endOnFailure: true, interruptAfterTimeLimit: 150_000, markInterruptAsFailure: false },
        );

        console.log(`tenant isolation cases: ${JSON.stringify(exercised)}`);
        expect(exercised.sameNameInTwoTenants).toBeGreaterThanOrEqual(8);
        expect(exercised.clashInOneTenant).toBeGreaterThanOrEqual(5);
        expect(exercised.foreignMemberRefused).toBeGreaterThanOrEqual(3);
        expect(exercised.ownMemberAdded).toBeGreaterThanOrEqual(2);
        expect(exercised.foreignIdNotFound).toBeGreaterThanOrEqual(8);
        expect(exercised.renames + exercised.deletes).toBeGreaterThanOrEqual(6);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    }, 300_000);
});
