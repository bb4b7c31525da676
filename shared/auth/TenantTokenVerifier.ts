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
 *
 * A tenant's OAuth client (`npm run tenant -- client create <name>`, docs/operate.md "Tenants") is kept the same way:
 * its client id in the row, its secret as a digest there (local) or a Key Vault secret of its own (Azure, the
 * deployment's client secret rules). Its SCIM routes also take an access token from its own token endpoint: a
 * local signature check (no storage, no Key Vault) plus the cached row, which must still be active and name the
 * token's client; so a disable refuses its access tokens within `cacheTtlMs` too, exactly like its Secret Token.
 */
import type { TokenKind } from '../config';
import type { TenantRecord, TenantRegistry } from '../store/TenantRegistry';
import { looksLikeJwt, type AccessTokenVerifier } from './oauth/accessTokens';
import { matchesDigest, tokenDigest } from './tokenDigest';
import type { TokenVerifier, VerificationContext } from './TokenVerifier';

/** What a tenant's row can hold a Key Vault secret for: its two tokens and its OAuth client secret. */
export type TenantSecretKind = TokenKind | 'client';

export interface TenantTokenVerifierOptions {
    registry: Pick<TenantRegistry, 'get'>;
    cacheTtlMs: number;
    /** Minimum time between two re-reads of a tenant's row triggered by a token that matched nothing. Default 60 s. */
    mismatchRecheckMs?: number;
    /** The verifier of a Key Vault secret; undefined when the deployment has no Key Vault (then such tenants are refused). */
    keyVaultVerifier?: (secretName: string, kind: TenantSecretKind) => TokenVerifier;
    /** The access-token check when the deployment has OAuth on; undefined: tenants' routes take their Secret Token only. */
    accessTokens?: AccessTokenVerifier;
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
    async verify(tenant: string, presented: string, kind: TokenKind = 'scim', context?: VerificationContext): Promise<boolean> {
        const accepts = (record: TenantRecord | undefined) => this.#accepts(tenant, record, presented, kind, context);
        let cached = this.#cache.get(tenant);
        if (!cached || this.#now() - cached.readAt >= this.#options.cacheTtlMs) cached = await this.#read(tenant);
        if (await accepts(cached.record)) return true;
        // Read less than `mismatchRecheckMs` ago (just now, say): wrong tokens must not buy a read each.
        if (this.#now() - cached.readAt < (this.#options.mismatchRecheckMs ?? 60_000)) return false;
        return accepts((await this.#read(tenant)).record);
    }

    /**
     * True if `clientId` and `clientSecret` are the OAuth client of the active tenant `tenant` (its token endpoint,
     * shared/auth/oauth/TokenEndpoint.ts). The same row cache and re-read rule as `verify`; the secret is checked
     * even when the client id is wrong. Never logs either.
     */
    async verifyClient(tenant: string, clientId: string, clientSecret: string): Promise<boolean> {
        let cached = this.#cache.get(tenant);
        if (!cached || this.#now() - cached.readAt >= this.#options.cacheTtlMs) cached = await this.#read(tenant);
        if (await this.#acceptsClient(cached.record, clientId, clientSecret)) return true;
        if (this.#now() - cached.readAt < (this.#options.mismatchRecheckMs ?? 60_000)) return false;
        return this.#acceptsClient((await this.#read(tenant)).record, clientId, clientSecret);
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

    async #accepts(tenant: string, record: TenantRecord | undefined, presented: string, kind: TokenKind, context: VerificationContext | undefined): Promise<boolean> {
        if (record?.state !== 'active') return false;
        // An access token of this tenant's client, for this tenant's SCIM root (never a feed route); anything else,
        // and a JWT that is not one, goes on to the Secret Token check (as SecretOrAccessTokenVerifier does).
        const accessTokens = this.#options.accessTokens;
        if (kind === 'scim' && context !== undefined && accessTokens !== undefined && record.clientId !== undefined && looksLikeJwt(presented)
            && (await accessTokens.verify(presented, context.scimBaseUrl, { tenant, clientId: record.clientId }))) {
            return true;
        }
        const { digest, secretName } = kind === 'feed'
            ? { digest: record.feedTokenDigest, secretName: record.feedSecretName }
            : { digest: record.tokenDigest, secretName: record.secretName };
        return this.#matches(presented, digest, secretName, kind);
    }

    async #acceptsClient(record: TenantRecord | undefined, clientId: string, clientSecret: string): Promise<boolean> {
        if (record?.state !== 'active' || record.clientId === undefined) return false;
        const isItsClient = matchesDigest(clientId, tokenDigest(record.clientId));
        const secretMatches = await this.#matches(clientSecret, record.clientSecretDigest, record.clientSecretName, 'client');
        return isItsClient && secretMatches;
    }

    /** `presented` against a digest in the row or, failing that, a Key Vault secret; neither: nothing matches. */
    async #matches(presented: string, digestHex: string | undefined, secretName: string | undefined, kind: TenantSecretKind): Promise<boolean> {
        if (digestHex !== undefined) {
            const digest = Buffer.from(digestHex, 'hex');
            return digest.length === 32 && matchesDigest(presented, digest);
        }
        if (secretName !== undefined) {
            const verifier = this.#keyVaultVerifierOf(secretName, kind);
            return verifier !== undefined && verifier.verify(presented);
        }
        return false;
    }

    #keyVaultVerifierOf(secretName: string, kind: TenantSecretKind): TokenVerifier | undefined {
        let verifier = this.#keyVaultVerifiers.get(secretName);
        if (!verifier) {
            verifier = this.#options.keyVaultVerifier?.(secretName, kind);
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
