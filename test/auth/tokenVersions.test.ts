/**
 * The rule for which Key Vault secret versions are accepted (tokenVersions.ts), on version properties as the
 * SDK reports them, and reading every version through the real SDK against the Key Vault stub.
 */
import type { SecretProperties } from '@azure/keyvault-secrets';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listSecretVersions, selectAcceptedVersions } from '../../shared/auth/tokenVersions';
import { startKeyVaultStub, stubSecretClient, type KeyVaultStub } from '../support/keyVaultStub';

const HOUR = 3_600_000;
const NOW = new Date('2031-05-01T12:00:00Z');
const GRACE = 1 * HOUR;

/** A version created `ageHours` before NOW. */
function version(name: string, ageHours: number, extra: Partial<SecretProperties> = {}): SecretProperties {
    return { name: 'scim-token', vaultUrl: 'https://v', version: name, enabled: true, createdOn: new Date(NOW.getTime() - ageHours * HOUR), ...extra };
}

function accepted(versions: SecretProperties[]): { current?: string; previous?: string; until?: string; refused?: string } {
    const selected = selectAcceptedVersions(versions, GRACE, NOW);
    return {
        ...(selected?.current ? { current: selected.current.version } : {}),
        ...(selected?.refused ? { refused: `${selected.refused.newest.version} ${selected.refused.reason}` } : {}),
        ...(selected?.previous ? { previous: selected.previous.properties.version, until: selected.previous.acceptedUntil.toISOString() } : {}),
    };
}

describe('selectAcceptedVersions', () => {
    it('accepts the newest version, and the one before it until the grace window after the rotation ends', () => {
        // Listed in no particular order, as Key Vault pages them.
        expect(accepted([version('old', 30), version('new', 0.5), version('older', 60)])).toEqual({
            current: 'new',
            previous: 'old',
            until: new Date(NOW.getTime() - 0.5 * HOUR + GRACE).toISOString(),
        });
    });

    it('stops accepting the previous version once the grace window has passed, at its very end', () => {
        expect(accepted([version('old', 30), version('new', 1)])).toEqual({ current: 'new' }); // rotated exactly GRACE ago
        expect(accepted([version('old', 30), version('new', 0.999)])).toMatchObject({ previous: 'old' });
    });

    it('refuses everything when the newest version is disabled or expired, never falling back to an older one (issue 17)', () => {
        const past = new Date(NOW.getTime() - HOUR);
        expect(accepted([version('a', 3), version('b', 2, { enabled: false })])).toEqual({ refused: 'b disabled' });
        expect(accepted([version('a', 3), version('b', 2, { expiresOn: past })])).toEqual({ refused: 'b expired' });
        expect(accepted([version('a', 3), version('b', 2, { expiresOn: NOW })])).toEqual({ refused: 'b expired' }); // expiresOn is exclusive
    });

    it('keeps the current version while a newer one is only scheduled (notBefore ahead)', () => {
        const future = new Date(NOW.getTime() + HOUR);
        expect(accepted([version('a', 3), version('b', 2, { notBefore: future })])).toEqual({ current: 'a' });
    });

    it('never brings an older version back: a disabled previous version revokes the grace, it does not pass it on', () => {
        expect(accepted([version('oldest', 10), version('old', 5, { enabled: false }), version('new', 0.5)])).toEqual({ current: 'new' });
    });

    it('ignores versions without a version id or creation time, and has nothing to accept without one', () => {
        expect(accepted([version('new', 0.5), { ...version('undated', 0.1), createdOn: undefined }])).toEqual({ current: 'new' });
        expect(accepted([{ ...version('x', 1), version: undefined }])).toEqual({});
        expect(accepted([version('off', 1, { enabled: false })])).toEqual({ refused: 'off disabled' });
        expect(accepted([])).toEqual({});
    });
});

describe('listSecretVersions', () => {
    let stub: KeyVaultStub;
    beforeEach(async () => {
        stub = await startKeyVaultStub();
    });
    afterEach(async () => {
        await stub.stop();
    });

    it('reads every version of a secret, values never', async () => {
        const ids = [stub.addSecretVersion('scim-token', 'first-value'), stub.addSecretVersion('scim-token', 'second-value', { enabled: false })];
        const versions = await listSecretVersions(stubSecretClient(stub), 'scim-token');
        expect(versions.map((properties) => properties.version).sort()).toEqual([...ids].sort());
        expect(versions.map((properties) => properties.enabled).sort()).toEqual([false, true]);
        expect(JSON.stringify(versions)).not.toContain('first-value');
    });

    it('has no versions for a secret that does not exist (404), and lets other failures through', async () => {
        expect(await listSecretVersions(stubSecretClient(stub), 'no-such-secret')).toEqual([]);
        await stub.goDown('service-unavailable');
        await expect(listSecretVersions(stubSecretClient(stub), 'scim-token')).rejects.toMatchObject({ statusCode: 503 });
    });
});
