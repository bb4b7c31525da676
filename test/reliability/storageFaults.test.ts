/**
 * Storage faults (issue #9): Table Storage goes away in the middle of a load and comes back. During the
 * outage every request must be a 503 with `Retry-After` (Entra retries those later) and never a 500 (which
 * Entra counts towards quarantine); afterwards the table must hold no orphan index rows, no one-sided
 * edges and no half-written resources, and Entra's retries of the failed requests must converge on the
 * intended state.
 *
 * The suite runs its own persisted Azurite (the shared one cannot be stopped), restarted on the same port
 * from the same directory, so what was written before the outage is still there after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedAzurite, type EmbeddedAzurite } from '../../dev/embeddedAzurite';
import { checkConsistency } from '../support/consistencyChecker';
import { startScimServer, type ScimReply, type ScimTestServer } from '../support/scimServer';
import { createUsers, filterLiteral, forEachConcurrently, groupBody, patchBody, userBody } from './support/resources';
import { summaryLines } from './support/summaryLines';

let persistDir: string;
let azurite: EmbeddedAzurite;
let server: ScimTestServer;
let requestsTried = 0;
/** Every answer of the suite, for the final no-500 check. */
const replies: { what: string; status: number; retryAfter: string | null }[] = [];

beforeAll(async () => {
    persistDir = mkdtempSync(path.join(tmpdir(), 'scim-storage-faults-'));
    azurite = await startEmbeddedAzurite({ persistDir });
    server = await startScimServer({ connectionString: azurite.connectionString });
});

afterAll(async () => {
    const serverErrors = replies.filter((reply) => reply.status >= 500);
    console.info(`storage-faults suite: ${requestsTried} requests, ${serverErrors.length} 5xx (${serverErrors.filter((r) => r.status === 503).length} × 503 during outages)`);
    await server?.close();
    await azurite?.stop().catch(() => undefined);
    rmSync(persistDir, { recursive: true, force: true });
});

/** One SCIM request Entra would send, and how to tell it reached its goal (for the retry after the outage). */
interface Intent {
    what: string;
    method: string;
    path: string;
    body?: unknown;
}

async function send(intent: Intent): Promise<ScimReply> {
    requestsTried++;
    const reply = await server.request(intent.method, intent.path, intent.body);
    replies.push({ what: `${intent.method} ${intent.what}`, status: reply.status, retryAfter: reply.headers.get('retry-after') });
    return reply;
}

/** Stops storage and starts it again on the same port from the same files after `outageMs`. */
async function outage(outageMs: number): Promise<void> {
    const port = azurite.port;
    await azurite.stop();
    await new Promise((resolve) => setTimeout(resolve, outageMs));
    azurite = await startEmbeddedAzurite({ port, persistDir });
}

/** The answers the outage may produce; anything else (a 500 above all) is a bug. */
function expectOnlyExpectedStatuses(batch: { intent: Intent; reply: ScimReply }[], allowed: number[]): void {
    for (const { intent, reply } of batch) {
        expect([...allowed, 503], `${intent.method} ${intent.what}: ${reply.status} ${reply.text.slice(0, 200)}`).toContain(reply.status);
        expect(reply.headers.get('content-type')).toMatch(/^application\/scim\+json/);
        if (reply.status === 503) {
            expect(Number(reply.headers.get('retry-after')), 'Retry-After on a 503').toBeGreaterThan(0);
            expect(reply.body?.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
        }
    }
}

describe('storage stopped in the middle of a load', () => {
    it('answers 503 with Retry-After during the outage, no 500, and leaves a consistent table that retries complete', async () => {
        const memberIds = await createUsers(server, Array.from({ length: 40 }, (_, n) => `member-${n}@faults.example`), 8);
        requestsTried += memberIds.length;
        const group = await send({ what: 'group', method: 'POST', path: '/Groups', body: groupBody('Outage group', { members: memberIds.slice(0, 10).map((value) => ({ value })) }) });
        expect(group.status).toBe(201);
        const groupId: string = group.body.id;

        // A mixed load like a provisioning cycle: creates, attribute PATCHes, member adds and removes, deletes.
        const intents: Intent[] = [];
        // Users 0–4 leave the group, 10–29 join it, 30–39 are deleted; 0–29 are renamed.
        for (let n = 0; n < 40; n++) {
            intents.push({ what: `create ${n}`, method: 'POST', path: '/Users', body: userBody(`created-during-load-${n}@faults.example`, { externalId: `ext-${n}` }) });
            if (n < 30) intents.push({ what: `patch ${n}`, method: 'PATCH', path: `/Users/${memberIds[n]}`, body: patchBody({ op: 'replace', path: 'title', value: `title ${n}` }, { op: 'replace', path: 'userName', value: `renamed-${n}@faults.example` }) });
            if (n >= 10 && n < 30) intents.push({ what: `add member ${n}`, method: 'PATCH', path: `/Groups/${groupId}`, body: patchBody({ op: 'add', path: 'members', value: [{ value: memberIds[n] }] }) });
            if (n < 5) intents.push({ what: `remove member ${n}`, method: 'PATCH', path: `/Groups/${groupId}`, body: patchBody({ op: 'remove', path: `members[value eq "${memberIds[n]}"]` }) });
            if (n >= 30) intents.push({ what: `delete ${n}`, method: 'DELETE', path: `/Users/${memberIds[n]}` });
            intents.push({ what: `lookup ${n}`, method: 'GET', path: `/Users?filter=${encodeURIComponent(`userName eq "member-${n}@faults.example"`)}` });
        }

        const results: { intent: Intent; reply: ScimReply }[] = [];
        const load = forEachConcurrently(intents, 6, async (intent) => {
            results.push({ intent, reply: await send(intent) });
            await new Promise((resolve) => setTimeout(resolve, 10)); // spread the load over the outage
        });
        await new Promise((resolve) => setTimeout(resolve, 150));
        await outage(1_500);
        await load;

        expectOnlyExpectedStatuses(results, [200, 201, 204, 404]);
        const unavailable = results.filter(({ reply }) => reply.status === 503);
        expect(unavailable.length, 'requests that saw the outage').toBeGreaterThan(0);
        expect(results.length - unavailable.length, 'requests that did not').toBeGreaterThan(0);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);

        // Entra retries what failed. A create that reached storage before the 503 is now a 409 (Entra then
        // matches it); a delete whose first half ran is a 204 or 404; everything else succeeds.
        for (const { intent } of unavailable) {
            const retry = await send(intent);
            const allowed = intent.method === 'POST' ? [201, 409] : intent.method === 'DELETE' ? [204, 404] : intent.method === 'GET' ? [200] : [200, 204];
            expect(allowed, `retry of ${intent.what}: ${retry.status} ${retry.text.slice(0, 200)}`).toContain(retry.status);
        }

        // The intended end state, whatever the outage interrupted.
        const members = new Set(((await send({ what: 'members', method: 'GET', path: `/Groups/${groupId}?attributes=members` })).body.members ?? []).map((m: { value: string }) => m.value));
        for (let n = 0; n < 40; n++) {
            const created = await send({ what: `find ${n}`, method: 'GET', path: `/Users?filter=${encodeURIComponent(`userName eq ${filterLiteral(`created-during-load-${n}@faults.example`)}`)}` });
            expect(created.body.totalResults, `user created during the load #${n}`).toBe(1);
            expect(created.body.Resources[0].externalId).toBe(`ext-${n}`);
            const member = await send({ what: `member ${n}`, method: 'GET', path: `/Users/${memberIds[n]}?attributes=groups,userName,title` });
            if (n >= 30) {
                expect(member.status, `deleted user #${n}`).toBe(404);
                expect(members.has(memberIds[n])).toBe(false);
                continue;
            }
            expect(member.body).toMatchObject({ userName: `renamed-${n}@faults.example`, title: `title ${n}` });
            const shouldBeMember = n >= 5;
            expect(members.has(memberIds[n]), `membership of #${n}`).toBe(shouldBeMember);
            expect((member.body.groups ?? []).map((g: { value: string }) => g.value), `groups of #${n}`).toEqual(shouldBeMember ? [groupId] : []);
        }
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });

    it('lets writes already in flight see the outage, and leaves nothing half-written', async () => {
        // Multi-step writes: group creates with members (resource, then edges), deletes of users in
        // groups (edges, then the user), renames (resource and index rows in one transaction).
        const userIds = await createUsers(server, Array.from({ length: 30 }, (_, n) => `in-flight-${n}@faults.example`), 8);
        requestsTried += userIds.length;
        const groups: string[] = [];
        for (let n = 0; n < 3; n++) {
            const group = await send({ what: `group ${n}`, method: 'POST', path: '/Groups', body: groupBody(`In-flight group ${n}`, { members: userIds.map((value) => ({ value })) }) });
            expect(group.status).toBe(201);
            groups.push(group.body.id);
        }
        const intents: Intent[] = [
            ...userIds.slice(0, 15).map((id, n) => ({ what: `delete member ${n}`, method: 'DELETE', path: `/Users/${id}` })),
            ...userIds.slice(15).map((id, n) => ({ what: `rename ${n}`, method: 'PATCH', path: `/Users/${id}`, body: patchBody({ op: 'replace', path: 'userName', value: `in-flight-renamed-${n}@faults.example` }) })),
            ...Array.from({ length: 10 }, (_, n) => ({ what: `group with members ${n}`, method: 'POST', path: '/Groups', body: groupBody(`Created in flight ${n}`, { members: userIds.slice(15).map((value) => ({ value })) }) })),
            { what: 'delete group', method: 'DELETE', path: `/Groups/${groups[0]}` },
            { what: 'clear members', method: 'PATCH', path: `/Groups/${groups[1]}`, body: patchBody({ op: 'remove', path: 'members' }) },
        ];

        const logsFrom = server.logs.length;
        const inFlight = intents.map(async (intent) => ({ intent, reply: await send(intent) }));
        // Stop storage as soon as the first of these writes has been answered: the rest are mid-way.
        await Promise.race(inFlight);
        await outage(1_000);
        const batch = await Promise.all(inFlight);

        expectOnlyExpectedStatuses(batch, [200, 201, 204, 404]);
        expect(batch.some(({ reply }) => reply.status === 503), 'some in-flight writes saw the outage').toBe(true);
        // The 503s were logged as such, with the storage requests they had made.
        for (const summary of summaryLines(server.logs, logsFrom).filter((s) => s.status === 503)) expect(summary.storageRequests).toBeGreaterThan(0);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);

        // Readers never trip over what an interrupted write left behind.
        for (const collection of ['Users', 'Groups']) {
            const list = await send({ what: `list ${collection}`, method: 'GET', path: `/${collection}?count=200` });
            expect(list.status).toBe(200);
        }
        for (const groupId of groups) {
            const group = await send({ what: 'group after', method: 'GET', path: `/Groups/${groupId}` });
            expect([200, 404]).toContain(group.status);
            for (const member of group.body?.members ?? []) {
                expect((await send({ what: 'member after', method: 'GET', path: `/Users/${member.value}` })).status, 'a listed member exists').toBe(200);
            }
        }
        // Entra's retries finish the job.
        for (const { intent, reply } of batch.filter(({ reply }) => reply.status === 503)) {
            const retry = await send(intent);
            expect(retry.status, `retry of ${intent.what} after ${reply.status}: ${retry.text.slice(0, 200)}`).toBeLessThan(500);
        }
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });

    it('answers 503 with Retry-After for every kind of request while storage is down, and recovers', async () => {
        const [userId] = await createUsers(server, ['down.time@faults.example']);
        requestsTried++;
        const port = azurite.port;
        await azurite.stop();
        try {
            const intents: Intent[] = [
                { what: 'list', method: 'GET', path: '/Users' },
                { what: 'lookup', method: 'GET', path: `/Users?filter=${encodeURIComponent('userName eq "down.time@faults.example"')}` },
                { what: 'get', method: 'GET', path: `/Users/${userId}` },
                { what: 'create', method: 'POST', path: '/Users', body: userBody('created.while.down@faults.example') },
                { what: 'patch', method: 'PATCH', path: `/Users/${userId}`, body: patchBody({ op: 'replace', path: 'active', value: false }) },
                { what: 'put', method: 'PUT', path: `/Users/${userId}`, body: userBody('down.time@faults.example') },
                { what: 'delete', method: 'DELETE', path: `/Users/${userId}` },
                { what: 'group members', method: 'GET', path: '/Groups?attributes=members' },
            ];
            for (const intent of intents) {
                const logsFrom = server.logs.length;
                const reply = await send(intent);
                expect(reply.status, `${intent.what}: ${reply.text}`).toBe(503);
                expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
                // Fail fast (Entra's timeout is undocumented, the Functions front end gives up at 230 s): the first
                // storage call is tried three times (two quick retries, each attempt time-boxed) and nothing follows.
                const [summary] = summaryLines(server.logs, logsFrom);
                expect(summary?.storageRequests, intent.what).toBeGreaterThan(0);
                expect(summary?.storageRequests, intent.what).toBeLessThanOrEqual(3);
            }
            // The discovery endpoints need no storage and keep answering.
            expect((await send({ what: 'config', method: 'GET', path: '/ServiceProviderConfig' })).status).toBe(200);
        } finally {
            azurite = await startEmbeddedAzurite({ port, persistDir });
        }
        expect((await send({ what: 'get after', method: 'GET', path: `/Users/${userId}` })).status).toBe(200);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });

    it('never logged a userName, on the 503 paths included', () => {
        const logs = server.logs.join('\n');
        for (const name of ['member-7@faults.example', 'created-during-load-3@faults.example', 'down.time@faults.example', 'in-flight-3@faults.example']) {
            expect(logs).not.toContain(name);
            expect(logs).not.toContain(encodeURIComponent(name));
        }
        expect(replies.filter((reply) => reply.status >= 500 && reply.status !== 503)).toEqual([]);
    });
});
