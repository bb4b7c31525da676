/**
 * Entra's provisioning cycle again, this time the way an app configured for OAuth client credentials runs it:
 * Test Connection first gets a token with HTTP Basic, then every golden fixture step (fixtures/NN-name.json)
 * is replayed with `Authorization: Bearer <access token>` instead of the Secret Token. The Secret Token is set
 * but never sent, so every step that passes was authenticated by the access token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicCredentials, requestToken } from '../support/oauth';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { loadFixtureFiles, ProvisioningCycle } from './cycle';
import { replayFixtures } from './replayFixtures';

const CLIENT_ID = 'e1d2c3b4-a5f6-4789-8a0b-1c2d3e4f5a6b';
const CLIENT_SECRET = 'entra-cycle-client-secret-RW50cmFDeWNsZVNlY3JldA';

const fixtures = loadFixtureFiles();
let server: ScimTestServer;
let cycle: ProvisioningCycle;
let accessToken: string;

beforeAll(async () => {
    server = await startScimServer();
    server.reconfigure({ SCIM_OAUTH_CLIENT_ID: CLIENT_ID, SCIM_OAUTH_CLIENT_SECRET: CLIENT_SECRET }, { oauth: { log: (line) => server.logs.push(line) } });
    const reply = await requestToken(new URL(server.base).origin, { grant_type: 'client_credentials' }, {
        authorization: basicCredentials(CLIENT_ID, CLIENT_SECRET),
    });
    expect(reply.status, reply.text).toBe(200);
    accessToken = reply.body.access_token;
    expect(accessToken).not.toBe(server.token);
    cycle = new ProvisioningCycle({ base: server.base, token: accessToken });
});

afterAll(async () => {
    await server?.close();
});

const stepNumber = replayFixtures(fixtures, () => cycle);

describe('after the cycle with an access token', () => {
    it('ran every fixture step and left nothing behind', async () => {
        expect(stepNumber).toBeGreaterThanOrEqual(100);
        const cleanup = await cycle.cleanUp();
        expect(cleanup.failures).toEqual([]);
        expect(cycle.leftovers).toBe(0);
    });

    it('no request logged an unexpected error, and no log line holds the access token', () => {
        expect(server.logs.filter((line) => line.includes('scim unexpected error'))).toEqual([]);
        expect(server.logs.join('\n')).not.toContain(accessToken);
    });
});
