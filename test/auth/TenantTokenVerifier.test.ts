/**
 * The tenant token check's cache rules, with a registry that counts its reads and a clock the test moves: a
 * cached row costs no read, a mismatch buys at most one re-read a minute, a disabled or unknown tenant is
 * refused, and a Key Vault tenant without a vault is refused rather than trusted.
 */
import { describe, expect, it } from 'vitest';
import { TenantTokenVerifier } from '../../shared/auth/TenantTokenVerifier';
import { tokenDigest } from '../../shared/auth/tokenDigest';
import type { TenantRecord } from '../../shared/store/TenantRegistry';

const TOKEN = 'tenant-token-0123456789abcdefghijklmnopqrstuv';
const TTL = 300_000;

function setUp(records: Record<string, TenantRecord>) {
    let clock = 1_000_000;
    const reads: string[] = [];
    const logs: string[] = [];
    const verifier = new TenantTokenVerifier({
        registry: { get: (name: string) => (reads.push(name), Promise.resolve(records[name])) },
        cacheTtlMs: TTL,
        now: () => clock,
        log: (line) => logs.push(line),
    });
    return { verifier, reads, logs, advance: (ms: number) => (clock += ms) };
}

const local = (name: string, token = TOKEN, state: TenantRecord['state'] = 'active'): TenantRecord => ({
    name,
    state,
    created: '2026-03-01T09:00:00Z',
    tokenDigest: tokenDigest(token).toString('hex'),
});

describe('TenantTokenVerifier', () => {
    it('reads a tenant\'s row once per cache TTL, however many requests', async () => {
        const { verifier, reads, advance } = setUp({ acme: local('acme') });
        for (let i = 0; i < 50; i++) expect(await verifier.verify('acme', TOKEN)).toBe(true);
        expect(reads).toEqual(['acme']);
        advance(TTL);
        expect(await verifier.verify('acme', TOKEN)).toBe(true);
        expect(reads).toEqual(['acme', 'acme']);
    });

    it('refuses wrong tokens, other tenants\' tokens, disabled and unknown tenants', async () => {
        const records = { acme: local('acme'), globex: local('globex', 'globex-token'), off: local('off', TOKEN, 'disabled'), gone: local('gone', TOKEN, 'removing') };
        const { verifier } = setUp(records);
        expect(await verifier.verify('acme', 'globex-token')).toBe(false);
        expect(await verifier.verify('globex', TOKEN)).toBe(false);
        expect(await verifier.verify('off', TOKEN)).toBe(false);
        expect(await verifier.verify('gone', TOKEN)).toBe(false);
        expect(await verifier.verify('nobody', TOKEN)).toBe(false);
        expect(await verifier.verify('acme', '')).toBe(false);
    });

    it('re-reads the row on a mismatch at most once a minute, so wrong tokens cannot buy reads', async () => {
        const records: Record<string, TenantRecord> = { acme: local('acme') };
        const { verifier, reads, advance } = setUp(records);
        expect(await verifier.verify('acme', TOKEN)).toBe(true);
        for (let i = 0; i < 20; i++) expect(await verifier.verify('acme', `wrong-${i}`)).toBe(false);
        expect(reads).toHaveLength(1);
        // Rotated (a new digest in the row): after a minute the new token's mismatch re-reads it and is accepted.
        records.acme = local('acme', 'rotated-token');
        advance(61_000);
        expect(await verifier.verify('acme', 'rotated-token')).toBe(true);
        expect(reads).toHaveLength(2);
        expect(await verifier.verify('acme', TOKEN)).toBe(false);
        expect(reads).toHaveLength(2);
    });

    it('sees a disable on this instance at once after forget(), on others within the TTL', async () => {
        const records: Record<string, TenantRecord> = { acme: local('acme') };
        const { verifier, advance } = setUp(records);
        expect(await verifier.verify('acme', TOKEN)).toBe(true);
        records.acme = local('acme', TOKEN, 'disabled');
        expect(await verifier.verify('acme', TOKEN)).toBe(true); // cached
        advance(TTL);
        expect(await verifier.verify('acme', TOKEN)).toBe(false);
        records.acme = local('acme');
        verifier.forget('acme');
        expect(await verifier.verify('acme', TOKEN)).toBe(true);
    });

    it('refuses a Key Vault tenant when the deployment has no vault, and says so without naming the secret value', async () => {
        const { verifier, logs } = setUp({ kv: { name: 'kv', state: 'active', created: '2026-03-01T09:00:00Z', secretName: 'scim-tenant-kv' } });
        expect(await verifier.verify('kv', TOKEN)).toBe(false);
        expect(await verifier.verify('kv', TOKEN)).toBe(false);
        expect(logs).toEqual(['SCIM token: a tenant keeps its token in Key Vault but KEY_VAULT_URL is not set; its requests are refused.']);
    });

    it('refuses a malformed digest rather than comparing it', async () => {
        const { verifier } = setUp({ bad: { name: 'bad', state: 'active', created: 'x', tokenDigest: 'abcd' } });
        expect(await verifier.verify('bad', TOKEN)).toBe(false);
    });
});
