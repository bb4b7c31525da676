/**
 * No lost updates (issue #9): concurrent PATCHes of one group or one user must all take effect. A lost
 * member add is silent data corruption in the customer's app: Entra believes the member is there and
 * never sends it again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsistency } from '../support/consistencyChecker';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { createUsers, groupBody, patchBody, userBody } from './support/resources';

const CLIENTS = 20;
const ADDS_PER_CLIENT = 50;
let server: ScimTestServer;
let requestsTried = 0;
let serverErrors = 0;

beforeAll(async () => {
    server = await startScimServer();
});
afterAll(async () => {
    console.info(`lost-updates suite: ${requestsTried} requests, ${serverErrors} 5xx`);
    await server.close();
});

async function request(method: string, path: string, body?: unknown) {
    requestsTried++;
    const reply = await server.request(method, path, body);
    if (reply.status >= 500) serverErrors++;
    return reply;
}

async function memberIdsOf(groupId: string): Promise<string[]> {
    const reply = await request('GET', `/Groups/${groupId}?attributes=members`);
    expect(reply.status).toBe(200);
    return (reply.body.members ?? []).map((member: { value: string }) => member.value);
}

async function groupIdsOf(userId: string): Promise<string[]> {
    const reply = await request('GET', `/Users/${userId}?attributes=groups`);
    expect(reply.status).toBe(200);
    return (reply.body.groups ?? []).map((group: { value: string }) => group.value);
}

describe('group membership under concurrent PATCHes', () => {
    // 2,000 requests: allow for sharing the two cores with the other suites.
    it(`keeps all ${CLIENTS * ADDS_PER_CLIENT} members added by ${CLIENTS} clients × ${ADDS_PER_CLIENT} concurrent PATCHes`, { timeout: 150_000 }, async () => {
        const total = CLIENTS * ADDS_PER_CLIENT;
        const userIds = await createUsers(server, Array.from({ length: total }, (_, n) => `member-${n}@lost-updates.example`));
        requestsTried += total;
        const group = await request('POST', '/Groups', groupBody('Everyone, added one at a time'));
        expect(group.status).toBe(201);

        // Each client adds its own 50 members one PATCH at a time; the 20 clients race each other.
        const statuses: number[] = [];
        await Promise.all(Array.from({ length: CLIENTS }, async (_, client) => {
            for (let n = 0; n < ADDS_PER_CLIENT; n++) {
                const memberId = userIds[client * ADDS_PER_CLIENT + n]!;
                const reply = await request('PATCH', `/Groups/${group.body.id}`, patchBody({ op: 'add', path: 'members', value: [{ value: memberId }] }));
                statuses.push(reply.status);
            }
        }));

        expect(statuses.filter((status) => status !== 204)).toEqual([]);
        const members = await memberIdsOf(group.body.id);
        expect(members).toHaveLength(total);
        expect(new Set(members)).toEqual(new Set(userIds));
        // The reverse edges, seen from a few users: each is in exactly this group.
        for (const userId of [userIds[0]!, userIds[total / 2]!, userIds[total - 1]!]) {
            expect(await groupIdsOf(userId)).toEqual([group.body.id]);
        }
        const byFilter = await request('GET', `/Groups?filter=${encodeURIComponent(`id eq "${group.body.id}" and members[value eq "${userIds[777]}"]`)}&excludedAttributes=members`);
        expect(byFilter.body.totalResults).toBe(1);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });

    it('settles a member that is added and removed concurrently in one consistent state', async () => {
        const [userId] = await createUsers(server, ['flapping.member@lost-updates.example']);
        requestsTried++;
        const group = await request('POST', '/Groups', groupBody('Flapping membership'));
        const groupId: string = group.body.id;
        const add = patchBody({ op: 'add', path: 'members', value: [{ value: userId }] });
        const remove = patchBody({ op: 'remove', path: `members[value eq "${userId}"]` });

        // 10 rounds of 10 interleaved adds and removes racing each other; after each round both
        // directions of the edge must agree, whichever operation landed last.
        for (let round = 0; round < 10; round++) {
            const replies = await Promise.all(Array.from({ length: 10 }, (_, n) => request('PATCH', `/Groups/${groupId}`, n % 2 === 0 ? add : remove)));
            expect(replies.map((reply) => reply.status).filter((status) => status !== 204)).toEqual([]);

            const isMember = (await memberIdsOf(groupId)).includes(userId!);
            const userSeesGroup = (await groupIdsOf(userId!)).includes(groupId);
            expect(userSeesGroup).toBe(isMember);
            const probe = await request('GET', `/Groups?filter=${encodeURIComponent(`id eq "${groupId}" and members[value eq "${userId}"]`)}`);
            expect(probe.body.totalResults).toBe(isMember ? 1 : 0);
            expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
        }
    });

    it('applies a member add that races the deletion of that member without leaving a dangling edge', async () => {
        const userIds = await createUsers(server, Array.from({ length: 20 }, (_, n) => `deleted-while-added-${n}@lost-updates.example`));
        requestsTried += userIds.length;
        const group = await request('POST', '/Groups', groupBody('Members deleted while added'));
        const groupId: string = group.body.id;

        await Promise.all(userIds.flatMap((userId) => [
            request('PATCH', `/Groups/${groupId}`, patchBody({ op: 'add', path: 'members', value: [{ value: userId }] })),
            request('DELETE', `/Users/${userId}`),
        ]));

        // Every user is gone; whatever order the two requests ran in, no edge may point at a deleted user.
        for (const userId of userIds) expect((await request('GET', `/Users/${userId}`)).status).toBe(404);
        expect(await memberIdsOf(groupId)).toEqual([]);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });
});

describe('user attributes under concurrent PATCHes', () => {
    it('applies 10 concurrent PATCHes of 10 different attributes', async () => {
        const created = await request('POST', '/Users', userBody('many.writers@lost-updates.example'));
        const userId: string = created.body.id;
        const changes: [string, unknown][] = [
            ['displayName', 'Many Writers'],
            ['title', 'Concurrency Tester'],
            ['nickName', 'racer'],
            ['active', false],
            ['preferredLanguage', 'cs-CZ'],
            ['locale', 'cs-CZ'],
            ['timezone', 'Europe/Prague'],
            ['userType', 'Employee'],
            ['name.givenName', 'Many'],
            ['name.familyName', 'Writers'],
        ];

        const replies = await Promise.all(changes.map(([path, value]) => request('PATCH', `/Users/${userId}`, patchBody({ op: 'replace', path, value }))));

        expect(replies.map((reply) => reply.status)).toEqual(changes.map(() => 200));
        const user = (await request('GET', `/Users/${userId}`)).body;
        for (const [path, value] of changes) {
            const [attribute, sub] = path.split('.') as [string, string | undefined];
            expect(sub === undefined ? user[attribute] : user[attribute]?.[sub], path).toEqual(value);
        }
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });

    it('applies 10 concurrent renames-and-changes in some order, leaving one consistent name index', async () => {
        const created = await request('POST', '/Users', userBody('renamed.concurrently@lost-updates.example'));
        const userId: string = created.body.id;

        const replies = await Promise.all(Array.from({ length: 10 }, (_, n) => request('PATCH', `/Users/${userId}`, patchBody(
            { op: 'replace', path: 'userName', value: `renamed.${n}@lost-updates.example` },
            { op: 'replace', path: 'title', value: `title ${n}` },
        ))));

        expect(replies.map((reply) => reply.status)).toEqual(Array(10).fill(200));
        const user = (await request('GET', `/Users/${userId}`)).body;
        // Each PATCH is atomic: the winner's userName and title belong together.
        const winner = /^renamed\.(\d)@/.exec(user.userName)?.[1];
        expect(user.title).toBe(`title ${winner}`);
        for (let n = 0; n < 10; n++) {
            const found = await request('GET', `/Users?filter=${encodeURIComponent(`userName eq "renamed.${n}@lost-updates.example"`)}`);
            expect(found.body.totalResults).toBe(String(n) === winner ? 1 : 0);
        }
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });
});
