/**
 * The Key Vault verifier, driven through the real `SecretClient` against the local stub vault, on a clock
 * the tests move (shared by the stub, so `createdOn` and "now" agree).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyVaultTokenVerifier, type KeyVaultTokenVerifierOptions } from '../../shared/auth/KeyVaultTokenVerifier';
import { ScimError, toErrorBody } from '../../shared/scim/errors';
import { startKeyVaultStub, stubSecretClient, type KeyVaultStub } from '../support/keyVaultStub';

const SECRET = 'scim-token';
const MINUTE = 60_000;
const TTL = 5 * MINUTE;
const GRACE = 60 * MINUTE;
const OLD_TOKEN = 'old-token-Qm9vdHN0cmFwcGVkIHRva2Vu';
const NEW_TOKEN = 'new-token-c2Vjb25kIHZlcnNpb24gb2Yg';

let clock: number;
let stub: KeyVaultStub;
let logLines: string[];
/** Calls to `listPropertiesOfSecretVersions`: one per refresh, counted when it starts (even if the vault is unreachable). */
let listCalls: { mock: { calls: unknown[] } } | undefined;

beforeEach(async () => {
    clock = Date.parse('2026-03-01T09:00:00Z');
    logLines = [];
    stub = await startKeyVaultStub({ now: () => clock });
});

afterEach(async () => {
    await stub.stop();
    // Whatever a test did, no log line may ever contain a token.
    for (const token of [OLD_TOKEN, NEW_TOKEN]) {
        expect(logLines.join('\n')).not.toContain(token);
    }
});

function makeVerifier(overrides: Partial<KeyVaultTokenVerifierOptions> = {}): KeyVaultTokenVerifier {
    const secretClient = stubSecretClient(stub);
    listCalls = vi.spyOn(secretClient, 'listPropertiesOfSecretVersions');
    return new KeyVaultTokenVerifier({
        secretClient,
        secretName: SECRET,
        graceWindowMs: GRACE,
        cacheTtlMs: TTL,
        now: () => clock,
        log: (line) => logLines.push(line),
        ...overrides,
    });
}

/** Refreshes started so far. */
const refreshes = (): number => listCalls?.mock.calls.length ?? 0;

function advance(ms: number): void {
    clock += ms;
}

/** The 503 a verify call rejects with, or a failure if it resolved. */
async function rejection(promise: Promise<boolean>): Promise<ScimError> {
    const error: unknown = await promise.then(
        (value) => new Error(`expected a rejection, got ${value}`),
        (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ScimError);
    return error as ScimError;
}

describe('KeyVaultTokenVerifier', () => {
    it('accepts the current token and rejects others', async () => {
        stub.addSecretVersion(SECRET, OLD_TOKEN);
        const verifier = makeVerifier();

        await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);
        await expect(verifier.verify('not-the-token')).resolves.toBe(false);
        await expect(verifier.verify(OLD_TOKEN.slice(0, -1))).resolves.toBe(false);
        await expect(verifier.verify('')).resolves.toBe(false);
        expect(stub.requests.challenges).toBeGreaterThanOrEqual(1); // the SDK really went through the auth challenge
        expect(logLines).toContainEqual(expect.stringMatching(/accepting version [0-9a-f]{32}\./));
    });

    it('calls Key Vault once for many requests within the cache TTL', async () => {
        stub.addSecretVersion(SECRET, OLD_TOKEN);
        const verifier = makeVerifier();

        // The first requests arrive together: they share one load.
        const first = await Promise.all(Array.from({ length: 10 }, () => verifier.verify(OLD_TOKEN)));
        expect(first).toEqual(Array(10).fill(true));
        for (let i = 0; i < 50; i += 1) {
            advance(TTL / 100);
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);
        }
        expect(refreshes()).toBe(1);
        expect(stub.requests.listVersions).toBe(1);
        expect(stub.requests.getSecret).toBe(1);
    });

    it('refreshes in the background once the TTL has passed, without making the request wait', async () => {
        stub.addSecretVersion(SECRET, OLD_TOKEN);
        const verifier = makeVerifier();
        await verifier.verify(OLD_TOKEN);

        advance(TTL);
        const requestsBefore = stub.requests.total;
        const release = stub.holdRequests();
        const answer = await Promise.race([
            verifier.verify(OLD_TOKEN),
            new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2000)),
        ]);
        expect(answer).toBe(true);
        await vi.waitFor(() => expect(stub.requests.total).toBeGreaterThan(requestsBefore));
        expect(refreshes()).toBe(2);
        expect(stub.requests.listVersions).toBe(1); // the refresh is parked in the stub, not finished

        release();
        await verifier.refresh();
        expect(refreshes()).toBe(2);
        expect(stub.requests.listVersions).toBe(2);
        // A second request right after the refresh does not start another one.
        await verifier.verify(OLD_TOKEN);
        expect(refreshes()).toBe(2);
    });

    describe('rotation', () => {
        it('accepts the new version after a refresh, and the previous one only during the grace window', async () => {
            stub.addSecretVersion(SECRET, OLD_TOKEN);
            const verifier = makeVerifier();
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);

            advance(2 * MINUTE);
            const rotatedAt = clock;
            stub.addSecretVersion(SECRET, NEW_TOKEN);
            advance(TTL);
            void verifier.verify(OLD_TOKEN); // starts the background refresh
            await verifier.refresh();

            await expect(verifier.verify(NEW_TOKEN)).resolves.toBe(true);
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);
            expect(logLines.at(-1)).toMatch(/accepting version \w+ and previous version \w+ until 2026-03-01T10:02:00\.000Z\./);

            clock = rotatedAt + GRACE - 1000;
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);
            await verifier.refresh();
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);

            // The window ends on the clock, even before the cache is refreshed.
            clock = rotatedAt + GRACE;
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(false);
            await verifier.refresh();
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(false);
            await expect(verifier.verify(NEW_TOKEN)).resolves.toBe(true);
        });

        it('accepts only the new version when the grace window is zero', async () => {
            stub.addSecretVersion(SECRET, OLD_TOKEN);
            advance(MINUTE);
            stub.addSecretVersion(SECRET, NEW_TOKEN);
            const verifier = makeVerifier({ graceWindowMs: 0 });

            await expect(verifier.verify(NEW_TOKEN)).resolves.toBe(true);
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(false);
        });

        it('looks again at once when an unknown token arrives, at most once a minute', async () => {
            stub.addSecretVersion(SECRET, OLD_TOKEN);
            const verifier = makeVerifier();
            await verifier.verify(OLD_TOKEN);

            // Wrong tokens within a minute of the last look cost no Key Vault call.
            for (let i = 0; i < 20; i += 1) await verifier.verify(`guess-${i}`);
            expect(refreshes()).toBe(1);

            advance(MINUTE);
            stub.addSecretVersion(SECRET, NEW_TOKEN);
            // Still within the TTL, but the admin has just pasted the new token into Entra.
            await expect(verifier.verify(NEW_TOKEN)).resolves.toBe(true);
            expect(refreshes()).toBe(2);

            for (let i = 0; i < 20; i += 1) await verifier.verify(`guess-${i}`);
            expect(refreshes()).toBe(2);
        });

        it('reads every page of the versions listing', async () => {
            await stub.stop();
            stub = await startKeyVaultStub({ now: () => clock, pageSize: 1 });
            stub.addSecretVersion(SECRET, 'first-token');
            advance(2 * GRACE);
            stub.addSecretVersion(SECRET, OLD_TOKEN);
            advance(MINUTE);
            stub.addSecretVersion(SECRET, NEW_TOKEN);
            const verifier = makeVerifier();

            await expect(verifier.verify(NEW_TOKEN)).resolves.toBe(true);
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);
            await expect(verifier.verify('first-token')).resolves.toBe(false);
            expect(stub.requests.listVersions).toBe(3); // one page per version
        });
    });

    describe('disabled versions', () => {
        it('never accepts a disabled version, and never falls back to an older one when the newest is disabled', async () => {
            // Issue 17: [v1 enabled, v2 disabled] made v1 current again, however long ago it was rotated out.
            stub.addSecretVersion(SECRET, OLD_TOKEN);
            advance(MINUTE);
            stub.addSecretVersion(SECRET, NEW_TOKEN, { enabled: false });
            const verifier = makeVerifier();

            for (const token of [NEW_TOKEN, OLD_TOKEN, 'anything']) {
                const refused = await rejection(verifier.verify(token));
                expect(refused.status).toBe(503);
                expect(Number(refused.headers['Retry-After'])).toBeGreaterThan(0);
            }
            const said = logLines.filter((line) => line.includes('is disabled; every request is refused with 503'));
            expect(said).toHaveLength(1); // one line for the admin, not one per request
        });

        it('refuses everything with 503 once the newest version expires, with no older version coming back', async () => {
            stub.addSecretVersion(SECRET, OLD_TOKEN);
            advance(MINUTE);
            stub.addSecretVersion(SECRET, NEW_TOKEN, { expiresOn: clock + 10 * MINUTE });
            const verifier = makeVerifier({ graceWindowMs: 0 });
            await expect(verifier.verify(NEW_TOKEN)).resolves.toBe(true);

            advance(TTL + 10 * MINUTE);
            await verifier.refresh();
            expect((await rejection(verifier.verify(NEW_TOKEN))).status).toBe(503);
            expect((await rejection(verifier.verify(OLD_TOKEN))).status).toBe(503);
            expect(logLines).toContainEqual(expect.stringContaining('is expired; every request is refused with 503'));
        });

        it('accepts the newest version again once the admin re-enables it (looked up again at most once a minute)', async () => {
            stub.addSecretVersion(SECRET, OLD_TOKEN);
            advance(MINUTE);
            const newest = stub.addSecretVersion(SECRET, NEW_TOKEN, { enabled: false });
            const verifier = makeVerifier();
            expect((await rejection(verifier.verify(NEW_TOKEN))).status).toBe(503);

            stub.setEnabled(SECRET, newest, true);
            expect((await rejection(verifier.verify(NEW_TOKEN))).status).toBe(503); // not asked again yet
            advance(MINUTE);
            await expect(verifier.verify(NEW_TOKEN)).resolves.toBe(true);
        });

        it('keeps the current version while a newer one is only scheduled (notBefore ahead)', async () => {
            stub.addSecretVersion(SECRET, OLD_TOKEN);
            advance(MINUTE);
            stub.addSecretVersion(SECRET, NEW_TOKEN, { notBefore: clock + 30 * MINUTE });
            const verifier = makeVerifier();
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);
            await expect(verifier.verify(NEW_TOKEN)).resolves.toBe(false);
        });

        it('stops accepting a version once it is disabled and the cache refreshes, grace window or not', async () => {
            const oldVersion = stub.addSecretVersion(SECRET, OLD_TOKEN);
            advance(MINUTE);
            stub.addSecretVersion(SECRET, NEW_TOKEN);
            const verifier = makeVerifier();
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);

            stub.setEnabled(SECRET, oldVersion, false);
            advance(TTL);
            await verifier.refresh();
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(false);
            await expect(verifier.verify(NEW_TOKEN)).resolves.toBe(true);
        });

        it('refuses everything with a 401 when the secret does not exist, and with a 503 once its only version is disabled', async () => {
            const verifier = makeVerifier();
            await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(false);
            expect(logLines).toContainEqual(expect.stringContaining("secret 'scim-token' has no enabled version"));

            const version = stub.addSecretVersion(SECRET, OLD_TOKEN);
            stub.setEnabled(SECRET, version, false);
            advance(TTL);
            await verifier.refresh();
            expect((await rejection(verifier.verify(OLD_TOKEN))).status).toBe(503);
        });
    });

    describe('Key Vault outages', () => {
        it.each(['connection-refused', 'service-unavailable'] as const)(
            'keeps verifying with the cached token when Key Vault is down (%s)',
            async (mode) => {
                stub.addSecretVersion(SECRET, OLD_TOKEN);
                const verifier = makeVerifier();
                await verifier.verify(OLD_TOKEN);

                await stub.goDown(mode);
                advance(TTL);
                void verifier.verify(OLD_TOKEN);
                await verifier.refresh();
                expect(logLines.at(-1)).toMatch(/reading secret 'scim-token' from Key Vault failed \(.+\); keeping the cached token\./);

                await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);
                await expect(verifier.verify('wrong')).resolves.toBe(false);

                // Once Key Vault is back, the next refresh (after the retry delay) picks up a rotation.
                await stub.comeBack();
                stub.addSecretVersion(SECRET, NEW_TOKEN);
                advance(10_000);
                await verifier.verify(OLD_TOKEN);
                await verifier.refresh();
                await expect(verifier.verify(NEW_TOKEN)).resolves.toBe(true);
            },
        );

        it.each(['connection-refused', 'service-unavailable'] as const)(
            'answers 503 with Retry-After when Key Vault is down and nothing is cached (%s)',
            async (mode) => {
                stub.addSecretVersion(SECRET, OLD_TOKEN);
                const verifier = makeVerifier();
                await stub.goDown(mode);

                const error = await rejection(verifier.verify(OLD_TOKEN));
                expect(error.status).toBe(503);
                expect(Number(error.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
                expect(logLines.at(-1)).toMatch(/nothing is cached, so requests get 503/);

                // Requests right after a failure do not hammer Key Vault: they get 503 at once.
                expect(refreshes()).toBe(1);
                expect((await rejection(verifier.verify(OLD_TOKEN))).status).toBe(503);
                expect(refreshes()).toBe(1);

                await stub.comeBack();
                advance(10_000);
                await expect(verifier.verify(OLD_TOKEN)).resolves.toBe(true);
            },
        );
    });

    describe('never leaking the token', () => {
        it('keeps tokens out of logs and error bodies, even when a response that holds one is corrupted', async () => {
            stub.addSecretVersion(SECRET, OLD_TOKEN);
            const verifier = makeVerifier();
            // A body that breaks JSON parsing while quoting the token: Node's parse error would quote it back.
            stub.corruptResponses(OLD_TOKEN);

            const error = await rejection(verifier.verify(OLD_TOKEN));
            expect(error.status).toBe(503);
            expect(JSON.stringify(toErrorBody(error))).not.toContain(OLD_TOKEN);
            expect(error.message).not.toContain(OLD_TOKEN);
            expect(logLines.join('\n')).toMatch(/failed \(\w+/);
            expect(JSON.stringify(verifier)).not.toContain(OLD_TOKEN);
        });
    });
});
