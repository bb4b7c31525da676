/**
 * Entra's provisioning cycle, replayed through the real app over HTTP: every golden fixture in
 * `fixtures/NN-name.json`, in order, one test per step (see cycle.ts for the fixture format). The same
 * fixtures and runner are the deployment pipeline's smoke test (smoke.ts), so a change that breaks what
 * Entra sends fails here first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { checkEveryResponse, loadFixtureFiles, matchValue, ProvisioningCycle } from './cycle';
import { replayFixtures } from './replayFixtures';

const fixtures = loadFixtureFiles();
let server: ScimTestServer;
let cycle: ProvisioningCycle;

beforeAll(async () => {
    server = await startScimServer();
    cycle = new ProvisioningCycle({ base: server.base, token: server.token });
});
afterAll(async () => {
    await server?.close();
});

/** The failures `matchValue` reports: none means a match. */
function mismatches(expected: unknown, actual: unknown): string[] {
    const failures: string[] = [];
    matchValue(expected, actual, 'body', failures);
    return failures;
}

// The runner is what makes the fixtures assert anything: a matcher that always matched would pass every step.
describe('the runner', () => {
    it('matches objects partially, arrays whole and in order, primitives strictly', () => {
        expect(mismatches({ a: 1 }, { a: 1, b: 2 })).toEqual([]);
        expect(mismatches({ a: 1 }, { a: 2 })).toEqual(['body.a: expected 1, got 2']);
        expect(mismatches({ active: true }, { active: 'True' })).toHaveLength(1);
        expect(mismatches([{ v: 1 }, { v: 2 }], [{ v: 2 }, { v: 1 }])).toHaveLength(2);
        expect(mismatches([], [{ v: 1 }])).toHaveLength(1);
        expect(mismatches({ a: { b: 'x' } }, { a: null })).toHaveLength(1);
    });

    it('understands the markers', () => {
        expect(mismatches({ id: '$present' }, { id: 'x' })).toEqual([]);
        expect(mismatches({ id: '$present' }, { id: null })).toHaveLength(1);
        expect(mismatches({ id: '$present' }, {})).toHaveLength(1);
        expect(mismatches({ members: '$absent' }, {})).toEqual([]);
        expect(mismatches({ members: '$absent' }, { members: [] })).toHaveLength(1);
        expect(mismatches('$ignoreCase:Bearer', 'bearer')).toEqual([]);
        expect(mismatches('$ignoreCase:Bearer', 'Basic')).toHaveLength(1);
        expect(mismatches('$endsWith:/Users/1', 'https://h/scim/Users/1')).toEqual([]);
        expect(mismatches('$endsWith:/Users/1', 'https://h/scim/Users/12')).toHaveLength(1);
        expect(mismatches({ $unordered: [1, 2] }, [2, 1])).toEqual([]);
        expect(mismatches({ $unordered: [1, 2] }, [2, 1, 3])).toHaveLength(1);
        expect(mismatches({ $unordered: [1, 1] }, [1, 2])).toHaveLength(1);
        expect(mismatches({ $contains: ['a'] }, ['b', 'a'])).toEqual([]);
        expect(mismatches({ $contains: ['a'] }, ['b'])).toHaveLength(1);
        expect(() => mismatches('$typo', 'x')).toThrow(/unknown marker/);
    });

    it('checks every response: SCIM content type, string status in errors, no attribute paths as keys', () => {
        const reply = (status: number, body: unknown, contentType = 'application/scim+json; charset=utf-8') => ({
            status,
            headers: { 'content-type': contentType },
            text: JSON.stringify(body),
            body,
        });
        const failuresOf = (r: ReturnType<typeof reply>) => {
            const failures: string[] = [];
            checkEveryResponse(r, failures);
            return failures;
        };
        const error = { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404' };
        expect(failuresOf(reply(404, error))).toEqual([]);
        expect(failuresOf(reply(404, error, 'application/json'))).toHaveLength(1);
        expect(failuresOf(reply(404, { ...error, status: 404 }))).toHaveLength(1);
        expect(failuresOf(reply(409, { detail: 'exists' }))).toHaveLength(1);
        const user = { userName: 'u', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'IT' }, emails: [{ $ref: 'x' }] };
        expect(failuresOf(reply(200, user))).toEqual([]);
        expect(failuresOf(reply(200, { ...user, 'name.givenName': 'A' }))).toHaveLength(1);
        expect(failuresOf(reply(200, { ...user, 'emails[type eq "work"].value': 'a@b.c' }))).toHaveLength(1);
        expect(failuresOf(reply(200, { ...user, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department': 'IT' }))).toHaveLength(1);
    });

    it('fails a step whose expectation does not hold, and names a placeholder no step captured', async () => {
        const probe = new ProvisioningCycle({ base: server.base, token: server.token });
        const wrongStatus = await probe.runStep({ name: 'x', request: { method: 'GET', path: '/Users?filter=userName+eq+%22{{runGuid}}%22' }, expect: { status: 404 } });
        expect(wrongStatus.failures).toEqual(['expected status 404, got 200']);
        const wrongBody = await probe.runStep({ name: 'x', request: { method: 'GET', path: '/Users?filter=userName+eq+%22{{runGuid}}%22' }, expect: { status: 200, body: { totalResults: 1 } } });
        expect(wrongBody.failures).toEqual(['body.totalResults: expected 1, got 0']);
        const uncaptured = await probe.runStep({ name: 'x', request: { method: 'GET', path: '/Users/{{nobody}}' }, expect: { status: 200 } });
        expect(uncaptured.failures[0]).toMatch(/needs \{\{nobody\}\}/);
    });

    it('cleans up what a cycle created, also when it stopped half-way', async () => {
        const interrupted = new ProvisioningCycle({ base: server.base, token: server.token });
        const created = await interrupted.runStep({
            name: 'create',
            request: {
                method: 'POST',
                path: '/Users',
                headers: { 'Content-Type': 'application/scim+json; charset=utf-8' },
                body: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'entra-smoke-{{run}}-leftover@example.com' },
            },
            expect: { status: 201 },
            capture: { leftoverId: 'id' },
        });
        expect(created.failures).toEqual([]);
        expect(interrupted.leftovers).toBe(1);
        const cleanup = await interrupted.cleanUp();
        expect(cleanup).toEqual({ deleted: 1, failures: [] });
        expect(interrupted.leftovers).toBe(0);
        const lookup = await server.request('GET', `/Users?filter=userName+eq+%22entra-smoke-${interrupted.runId}-leftover%40example.com%22`);
        expect(lookup.body.totalResults).toBe(0);
    });
});

describe('the fixtures', () => {
    it('cover the cycle: at least 100 steps in 14 files (the last three: app roles, one file per shape Entra sends)', () => {
        expect(fixtures.map((fixture) => fixture.name)).toHaveLength(14);
        expect(fixtures.flatMap((fixture) => fixture.steps).length).toBeGreaterThanOrEqual(100);
    });
});

replayFixtures(fixtures, () => cycle);

describe('after the cycle', () => {
    it('the cycle deleted everything it created itself: nothing left for the cleanup', async () => {
        const leftovers = cycle.leftovers;
        const cleanup = await cycle.cleanUp();
        expect(cleanup.failures).toEqual([]);
        expect(leftovers).toBe(0);
    });

    it('the table holds no users and no groups any more', async () => {
        const users = await server.request('GET', '/Users?count=1');
        const groups = await server.request('GET', '/Groups?count=1&excludedAttributes=members');
        expect(users.status).toBe(200);
        expect(users.body.totalResults).toBe(0);
        expect(groups.status).toBe(200);
        expect(groups.body.totalResults).toBe(0);
    });

    it('no request the app served logged an unexpected error', () => {
        expect(server.logs.filter((line) => line.includes('scim unexpected error'))).toEqual([]);
    });
});
