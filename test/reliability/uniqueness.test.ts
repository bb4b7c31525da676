/**
 * Uniqueness under concurrency (issue #9): Entra retries and runs requests in parallel, so one userName
 * can arrive many times at once. Exactly one create may win; the others must be 409 `uniqueness` (which
 * Entra answers by matching), and the store must hold one resource and one index row, never two.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsistency } from '../support/consistencyChecker';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { groupBody, filterLiteral, userBody } from './support/resources';
import { expectScimError } from '../support/scimReplies';

const CONCURRENT_CREATES = 50;
let server: ScimTestServer;
let requestsTried = 0;

beforeAll(async () => {
    server = await startScimServer();
});
afterAll(async () => {
    console.info(`uniqueness suite: ${requestsTried} requests`);
    await server.close();
});

/** The n-th spelling of `name` in mixed letter case: bit i of n upper-cases the i-th letter. */
function letterCaseVariant(name: string, n: number): string {
    let letter = 0;
    return [...name].map((char) => (/[a-z]/i.test(char) && (n >> letter++) % 2 === 1 ? char.toUpperCase() : char.toLowerCase())).join('');
}

/** Sends every body at once (no pool: the point is that they race) and returns the replies. */
async function postAllAtOnce(path: string, bodies: unknown[]) {
    requestsTried += bodies.length;
    return Promise.all(bodies.map((body) => server.request('POST', path, body)));
}

describe.each([
    { resourceType: 'Users', attribute: 'userName', baseName: 'race.winner@contoso.example', body: userBody },
    { resourceType: 'Groups', attribute: 'displayName', baseName: 'Race Winners Of Contoso', body: groupBody },
])('$resourceType: $attribute is unique under 50 concurrent creates', ({ resourceType, attribute, baseName, body }) => {
    it('answers exactly one 201 and 49 × 409 uniqueness, and stores one resource', async () => {
        const spellings = Array.from({ length: CONCURRENT_CREATES }, (_, n) => letterCaseVariant(baseName, n * 7919));
        expect(new Set(spellings).size).toBeGreaterThan(40);

        const replies = await postAllAtOnce(`/${resourceType}`, spellings.map((name) => body(name)));

        const created = replies.filter((reply) => reply.status === 201);
        expect(created, replies.map((r) => r.status).join(',')).toHaveLength(1);
        for (const reply of replies.filter((r) => r.status !== 201)) expectScimError(reply, 409, 'uniqueness');

        // Found by any spelling, exactly once (case-insensitive matching, RFC 7643 §2.2 caseExact false).
        for (const spelling of [baseName, baseName.toUpperCase(), spellings[17]!]) {
            const found = await server.request('GET', `/${resourceType}?filter=${encodeURIComponent(`${attribute} eq ${filterLiteral(spelling)}`)}`);
            requestsTried++;
            expect(found.status).toBe(200);
            expect(found.body.totalResults).toBe(1);
            expect(found.body.Resources[0].id).toBe(created[0]!.body.id);
        }
        const all = await server.request('GET', `/${resourceType}?count=100`);
        requestsTried++;
        expect(all.body.totalResults).toBe(1);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);

        // Clean up so the next case starts from an empty collection.
        const deleted = await server.request('DELETE', `/${resourceType}/${created[0]!.body.id}`);
        requestsTried++;
        expect(deleted.status).toBe(204);
    });

    it('lets exactly one of 50 concurrent renames to the same name win', async () => {
        const names = Array.from({ length: CONCURRENT_CREATES }, (_, n) => `${baseName} rename source ${n}`);
        const sources = await postAllAtOnce(`/${resourceType}`, names.map((name) => body(name)));
        expect(sources.every((reply) => reply.status === 201)).toBe(true);

        const target = `${baseName} rename target`;
        requestsTried += sources.length;
        const replies = await Promise.all(sources.map((source, n) => server.request('PATCH', `/${resourceType}/${source.body.id}`, {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [{ op: 'replace', path: attribute, value: letterCaseVariant(target, n * 31) }],
        })));

        const renamed = replies.filter((reply) => reply.status === 200 || reply.status === 204);
        expect(renamed, replies.map((r) => r.status).join(',')).toHaveLength(1);
        for (const reply of replies.filter((r) => r.status >= 300)) expectScimError(reply, 409, 'uniqueness');
        const found = await server.request('GET', `/${resourceType}?filter=${encodeURIComponent(`${attribute} eq ${filterLiteral(target)}`)}`);
        requestsTried++;
        expect(found.body.totalResults).toBe(1);
        // The 49 losers kept their old names, each still findable.
        const all = await server.request('GET', `/${resourceType}?count=100`);
        requestsTried++;
        expect(all.body.totalResults).toBe(CONCURRENT_CREATES);
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });
});
