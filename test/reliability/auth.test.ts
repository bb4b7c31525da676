/**
 * Auth (issue #9): every bad credential is a 401, and a 401 costs nothing: no storage read, no storage
 * write, nothing in the logs that could be replayed. Runs the real HTTP app with the production verifier
 * (Key Vault, here the stub) and a clock the test moves past a rotation's grace window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsistency } from '../support/consistencyChecker';
import { fakeCredential, startKeyVaultStub, stubSecretClientOptions, type KeyVaultStub } from '../support/keyVaultStub';
import { startScimServer, type ScimReply, type ScimTestServer } from '../support/scimServer';
import { groupBody, patchBody, userBody } from './support/resources';
import { expectScimError } from '../support/scimReplies';
import { summaryLines } from './support/summaryLines';
import { snapshotDifferences, tableSnapshot } from './support/tableSnapshot';

const GRACE_MINUTES = 60;
const MINUTE = 60_000;
const PREVIOUS_TOKEN = 'previous-token-UHJldmlvdXNUb2tlbkJlZm9yZVJvdGF0aW9u';
const CURRENT_TOKEN = 'current-token-Q3VycmVudFRva2VuQWZ0ZXJSb3RhdGlvbg';
const USER_NAME = 'auth.probe.person@contoso.example';

let server: ScimTestServer;
let vault: KeyVaultStub;
/** The one clock of the vault stub and the verifier. */
let now = Date.parse('2031-03-01T08:00:00Z');
let requestsTried = 0;
let userId: string;
let groupId: string;

beforeAll(async () => {
    vault = await startKeyVaultStub({ now: () => now });
    vault.addSecretVersion('scim-token', PREVIOUS_TOKEN, { createdOn: now - 24 * 60 * MINUTE });
    vault.addSecretVersion('scim-token', CURRENT_TOKEN, { createdOn: now });
    server = await startScimServer({ token: CURRENT_TOKEN });
    // The verifier's own log lines go to the captured logs too: they must not leak either.
    useKeyVault();
    const user = await send('POST', '/Users', userBody(USER_NAME), `Bearer ${CURRENT_TOKEN}`);
    expect(user.status).toBe(201);
    userId = user.body.id;
    const group = await send('POST', '/Groups', groupBody('Auth probe group', { members: [{ value: userId }] }), `Bearer ${CURRENT_TOKEN}`);
    expect(group.status).toBe(201);
    groupId = group.body.id;
});

afterAll(async () => {
    console.info(`auth suite: ${requestsTried} requests`);
    await server?.close();
    await vault?.stop();
});

/** Serves a new app whose verifier reads the token from the vault stub (and so starts with an empty cache). */
function useKeyVault(): void {
    server.reconfigure(
        { KEY_VAULT_URL: vault.vaultUrl, SCIM_TOKEN_GRACE_MINUTES: String(GRACE_MINUTES) },
        { tokenVerifier: { credential: fakeCredential, secretClientOptions: stubSecretClientOptions, now: () => now, log: (line) => server.logs.push(line) } },
    );
}

/** A request with exactly this Authorization header (undefined: none at all). */
async function send(method: string, path: string, body: unknown, authorization: string | undefined): Promise<ScimReply> {
    requestsTried++;
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.Authorization = authorization;
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
        init.body = JSON.stringify(body);
        headers['Content-Type'] = 'application/scim+json';
    }
    const response = await fetch(server.base + path, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text), text };
}

/** Every kind of request Entra sends, each of which must be refused before it touches storage. */
function requestsOfEveryKind(): [string, string, unknown][] {
    return [
        ['GET', '/Users', undefined],
        ['GET', `/Users?filter=${encodeURIComponent(`userName eq "${USER_NAME}"`)}`, undefined],
        ['GET', `/Users/${userId}`, undefined],
        ['POST', '/Users', userBody('intruder@contoso.example')],
        ['PUT', `/Users/${userId}`, userBody('intruder@contoso.example')],
        ['PATCH', `/Users/${userId}`, patchBody({ op: 'replace', path: 'active', value: false })],
        ['DELETE', `/Users/${userId}`, undefined],
        ['GET', `/Groups/${groupId}`, undefined],
        ['PATCH', `/Groups/${groupId}`, patchBody({ op: 'remove', path: 'members' })],
        ['DELETE', `/Groups/${groupId}`, undefined],
        ['GET', '/ServiceProviderConfig', undefined],
        ['GET', '/NoSuchEndpoint', undefined],
    ];
}

const BAD_CREDENTIALS: [string, string | undefined][] = [
    ['no Authorization header', undefined],
    ['an empty header', ''],
    ['the scheme without a token', 'Bearer'],
    ['a bare token without a scheme', CURRENT_TOKEN],
    ['another scheme', `Basic ${Buffer.from(`user:${CURRENT_TOKEN}`).toString('base64')}`],
    ['a token with a space inside', `Bearer ${CURRENT_TOKEN} x`],
    ['a wrong token', 'Bearer d3JvbmctdG9rZW4tb2Ytb2theS1sZW5ndGg'],
    ['a wrong token under a lower-case scheme', 'bearer d3JvbmctdG9rZW4tb2Ytb2theS1sZW5ndGg'],
    ['the right token with one character changed', `Bearer ${CURRENT_TOKEN.slice(0, -1)}X`],
    ['a prefix of the right token', `Bearer ${CURRENT_TOKEN.slice(0, 20)}`],
    ['the right token with a suffix', `Bearer ${CURRENT_TOKEN}A`],
    // Issue 17: trim() stripped Unicode spaces, so these were served (a DELETE among them).
    ['the right token followed by a no-break space (U+00A0)', `Bearer ${CURRENT_TOKEN}\u00a0`],
    ['the right token preceded by a no-break space', `Bearer\u00a0${CURRENT_TOKEN}`],
    ['the right token followed by a character outside b64token', `Bearer ${CURRENT_TOKEN}\u00b7`],
];

describe('bad credentials', () => {
    it.each(BAD_CREDENTIALS)('refuses %s with 401 on every endpoint, reading and writing nothing', async (_what, authorization) => {
        const before = await tableSnapshot(server.connectionString, server.tableName);
        const logsBefore = server.logs.length;
        const kinds = requestsOfEveryKind();

        for (const [method, path, body] of kinds) {
            const reply = await send(method, path, body, authorization);
            expectScimError(reply, 401);
            expect(reply.headers.get('www-authenticate')).toBe('Bearer');
        }

        const summaries = summaryLines(server.logs, logsBefore);
        expect(summaries).toHaveLength(kinds.length);
        for (const summary of summaries) expect(summary).toMatchObject({ status: 401, storageRequests: 0 });
        expect(snapshotDifferences(before, await tableSnapshot(server.connectionString, server.tableName))).toEqual([]);
    });

    it('accepts the scheme in any letter case with the right token (RFC 9110 §11.1)', async () => {
        for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
            expect((await send('GET', `/Users/${userId}`, undefined, `${scheme} ${CURRENT_TOKEN}`)).status).toBe(200);
        }
    });

    it('asks Key Vault again at most once a minute however many wrong tokens arrive', async () => {
        const listsBefore = vault.requests.listVersions;
        for (let n = 0; n < 30; n++) expectScimError(await send('GET', '/Users', undefined, `Bearer wrong-${n}`), 401);
        expect(vault.requests.listVersions - listsBefore).toBeLessThanOrEqual(1);
    });
});

describe('token rotation', () => {
    it('accepts the previous token during the grace window and refuses it, touching nothing, after', async () => {
        now += (GRACE_MINUTES - 5) * MINUTE;
        expect((await send('GET', `/Users/${userId}`, undefined, `Bearer ${PREVIOUS_TOKEN}`)).status).toBe(200);
        expect((await send('GET', `/Users/${userId}`, undefined, `Bearer ${CURRENT_TOKEN}`)).status).toBe(200);

        now += 10 * MINUTE;
        const before = await tableSnapshot(server.connectionString, server.tableName);
        const logsBefore = server.logs.length;
        for (const [method, path, body] of requestsOfEveryKind()) {
            expectScimError(await send(method, path, body, `Bearer ${PREVIOUS_TOKEN}`), 401);
        }
        for (const summary of summaryLines(server.logs, logsBefore)) expect(summary).toMatchObject({ status: 401, storageRequests: 0 });
        expect(snapshotDifferences(before, await tableSnapshot(server.connectionString, server.tableName))).toEqual([]);
        // The current token still works, and the refused requests changed nothing.
        const user = await send('GET', `/Users/${userId}?attributes=userName,groups`, undefined, `Bearer ${CURRENT_TOKEN}`);
        expect(user.body).toMatchObject({ userName: USER_NAME, groups: [{ value: groupId }] });
        expect(await checkConsistency(server.connectionString, server.tableName)).toEqual([]);
    });

    it('answers 503 with Retry-After, not 401, while Key Vault is down and nothing is cached', async () => {
        await vault.goDown('connection-refused');
        try {
            useKeyVault();
            const reply = await send('GET', `/Users/${userId}`, undefined, `Bearer ${CURRENT_TOKEN}`);
            expectScimError(reply, 503);
            expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
        } finally {
            await vault.comeBack();
        }
        now += MINUTE; // past the verifier's retry-after-failure pause
        expect((await send('GET', `/Users/${userId}`, undefined, `Bearer ${CURRENT_TOKEN}`)).status).toBe(200);
    });
});

describe('logs', () => {
    it('never contain a token, an Authorization header value or a userName', () => {
        const everything = server.logs.join('\n');
        expect(server.logs.length).toBeGreaterThan(100);
        const secrets = [CURRENT_TOKEN, PREVIOUS_TOKEN, 'd3JvbmctdG9rZW4tb2Ytb2theS1sZW5ndGg', Buffer.from(`user:${CURRENT_TOKEN}`).toString('base64'), USER_NAME, 'intruder@contoso.example'];
        for (const secret of secrets) {
            expect(everything).not.toContain(secret);
            expect(everything).not.toContain(encodeURIComponent(secret));
        }
        expect(everything).not.toMatch(/bearer\s+\S/i);
    });
});
