/**
 * The token check of named tenants: the Secret Token for `/tenants/<tenant>/scim` (docs/operate.md "Tenants") and the
 * change feed token for `/tenants/<tenant>/changes` (docs/feed.md "Tenants"). Each tenant's
 * registry row (shared/store/TenantRegistry.ts) says whether it is active and where its token is checked: a
 * SHA-256 digest in the row (local) or a Key Vault secret of its own (Azure; the same rotation, grace and
 * caching rules as the default tenant's token, by the same `KeyVaultTokenVerifier`, one per secret).
 *
 * Rows are cached like the Key Vault token: a request reads the registry only when the tenant's row is older
 * than `cacheTtlMs`, so steady-state requests cost no storage request more than the default tenant's. A token
 * that matches nothing re-reads the row, unless it was read less than `mismatchRecheckMs` ago, so a rotated
 * token works at once and a freshly added tenant at once unless this instance refused its name in the last minute. A `disable` is seen by every instance within `cacheTtlMs`.
 */
import type { TokenKind } from '../config';
import type { TenantRecord, TenantRegistry } from '../store/TenantRegistry';
import { matchesDigest } from './tokenDigest';
import type { TokenVerifier } from './TokenVerifier';

export interface TenantTokenVerifierOptions {
    registry: Pick<TenantRegistry, 'get'>;
    cacheTtlMs: number;
    /** Minimum time between two re-reads of a tenant's row triggered by a token that matched nothing. Default 60 s. */
    mismatchRecheckMs?: number;
    /** The verifier of a Key Vault secret; undefined when the deployment has no Key Vault (then such tenants are refused). */
    keyVaultVerifier?: (secretName: string) => TokenVerifier;
    now?: () => number;
    log?: (line: string) => void;
}

interface CachedTenant {
    record: TenantRecord | undefined;
    readAt: number;
}

/** Rows kept in memory; beyond it the oldest is forgotten (unknown names sent by anyone must not grow the cache). */
const MAX_CACHED_TENANTS = 10_000;

export class TenantTokenVerifier {
    readonly #options: TenantTokenVerifierOptions;
    readonly #now: () => number;
    readonly #cache = new Map<string, CachedTenant>();
    readonly #keyVaultVerifiers = new Map<string, TokenVerifier>();
    #warnedNoVault = false;

    constructor(options: TenantTokenVerifierOptions) {
        this.#options = options;
        this.#now = options.now ?? (() => Date.now());
    }

    /**
     * True if `presented` is the Secret Token (`kind` 'scim') or the change feed token (`kind` 'feed', docs/feed.md
     * "Tenants") of the active tenant `tenant`. Each kind is checked against its own digest or secret only, so
     * neither token opens the other's routes. Never logs the token.
     */
    async verify(tenant: string, presented: string, kind: TokenKind = 'scim'): Promise<boolean> {
        let cached = this.#cache.get(tenant);
        if (!cached || this.#now() - cached.readAt >= this.#options.cacheTtlMs) cached = await this.#read(tenant);
        if (await this.#accepts(cached.record, presented, kind)) return true;
        // Read less than `mismatchRecheckMs` ago (just now, say): wrong tokens must not buy a read each.
        if (this.#now() - cached.readAt < (this.#options.mismatchRecheckMs ?? 60_000)) return false;
        return this.#accepts((await this.#read(tenant)).record, presented, kind);
    }

    /**
     * Whether the row `verify` just read (or found cached) for `tenant` names a tenant that exists and is not being
     * removed (active or disabled). No storage request: the activity records ask it after `verify`, so a made-up
     * name — whatever token came with it — never gets records (docs/activity.md, "Tenants").
     */
    exists(tenant: string): boolean {
        const state = this.#cache.get(tenant)?.record?.state;
        return state === 'active' || state === 'disabled';
    }

    /** Forgets a tenant's cached row, so this instance sees a change (a disable) at once. */
    forget(tenant: string): void {
        this.#cache.delete(tenant);
    }

    async #read(tenant: string): Promise<CachedTenant> {
        const entry: CachedTenant = { record: await this.#options.registry.get(tenant), readAt: this.#now() };
        this.#cache.delete(tenant);
        this.#cache.set(tenant, entry);
        if (this.#cache.size > MAX_CACHED_TENANTS) this.#cache.delete(this.#cache.keys().next().value!);
        return entry;
    }

    async #accepts(record: TenantRecord | undefined, presented: string, kind: TokenKind): Promise<boolean> {
        if (record?.state !== 'active') return false;
        const { tokenDigest, secretName } = kind === 'feed'
            ? { tokenDigest: record.feedTokenDigest, secretName: record.feedSecretName }
            : { tokenDigest: record.tokenDigest, secretName: record.secretName };
        if (tokenDigest !== undefined) {
            const digest = Buffer.from(tokenDigest, 'hex');
            return digest.length === 32 && matchesDigest(presented, digest);
        }
        if (secretName !== undefined) {
            const verifier = this.#keyVaultVerifierOf(secretName);
            return verifier !== undefined && verifier.verify(presented);
        }
        return false;
    }

    #keyVaultVerifierOf(secretName: string): TokenVerifier | undefined {
        let verifier = this.#keyVaultVerifiers.get(secretName);
        if (!verifier) {
            verifier = this.#options.keyVaultVerifier?.(secretName);
            if (!verifier) {
                // Once per process, not per request.
                if (!this.#warnedNoVault) this.#options.log?.('SCIM token: a tenant keeps its token in Key Vault but KEY_VAULT_URL is not set; its requests are refused.');
                this.#warnedNoVault = true;
                return undefined;
            }
            this.#keyVaultVerifiers.set(secretName, verifier);
        }
        return verifier;
    }
}
