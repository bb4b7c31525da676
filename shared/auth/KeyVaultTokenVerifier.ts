/**
 * The production `TokenVerifier`: the SCIM token is a Key Vault secret, and every request is checked
 * against it without a Key Vault call per request.
 *
 * - Accepted: the current version and, during the grace window after a rotation, the previous one
 *   (the rule lives in `tokenVersions.ts`). When the newest version is disabled or expired nothing is
 *   accepted and every request gets 503 + Retry-After (Entra retries; a 401 would quarantine the job) with one
 *   log line for the admin, until the admin re-enables it or rotates: an older version never comes back.
 * - Cache: what Key Vault said is kept in memory (as SHA-256 digests, never the token) and refreshed in the
 *   background once it is `cacheTtlMs` old (stale-while-revalidate). Only the very first load makes a
 *   request wait.
 * - A token that matches nothing may be a brand-new rotation the cache has not seen yet, so a mismatch
 *   triggers one immediate refresh, at most once per `mismatchRecheckMs`: an admin who pastes a fresh token
 *   into Entra is not met with 401s (which quarantine the job, docs/entra-protocol.md §3) for the rest of the TTL,
 *   and wrong tokens cannot make us call Key Vault more often than that.
 * - Outages: a failed refresh keeps the cached tokens; with nothing cached the request gets
 *   `ScimError.unavailable()` (503 + Retry-After) rather than a 401, for the same quarantine reason.
 * - Logs name versions and dates, never values. Errors are described by name/status/code only: their
 *   messages can quote a response body (Node's JSON parse errors do), and a response body can hold the token.
 */
import type { KeyVaultSecret, SecretProperties } from '@azure/keyvault-secrets';
import { describeError } from '../describeError';
import { ScimError } from '../scim/errors';
import type { TokenVerifier } from './TokenVerifier';
import { matchesDigest, tokenDigest } from './tokenDigest';
import { listSecretVersions, selectAcceptedVersions } from './tokenVersions';

/** The two calls the verifier makes to Key Vault (a `SecretClient` is one). */
export interface SecretReader {
    listPropertiesOfSecretVersions(secretName: string): AsyncIterable<SecretProperties>;
    getSecret(secretName: string, options: { version: string }): Promise<Pick<KeyVaultSecret, 'value'>>;
}

export interface KeyVaultTokenVerifierOptions {
    secretClient: SecretReader;
    secretName: string;
    /** How long the previous version stays accepted after a rotation (from the new version's `createdOn`). */
    graceWindowMs: number;
    /** Age after which the cache is refreshed in the background. */
    cacheTtlMs: number;
    /** After a failed refresh, how long to wait before asking Key Vault again. Default 10 s. */
    retryAfterFailureMs?: number;
    /** Minimum time between two refreshes triggered by a token that matched nothing. Default 60 s. */
    mismatchRecheckMs?: number;
    /** The clock, in milliseconds since the epoch (tests move it). */
    now?: () => number;
    log?: (line: string) => void;
    /** What the secret is, at the start of each log line. Default `SCIM token` (the OAuth client secret and the change feed's token reuse this class). */
    label?: string;
    /**
     * While the newest version is disabled or expired: `unavailable` (default) answers 503 + Retry-After, so Entra
     * retries the Secret Token instead of quarantining the job (docs/entra-protocol.md §3); `refuse` answers like a
     * wrong secret (an OAuth client secret past its expiry is `invalid_client`, RFC 6749 §5.2). Either way no
     * older version is accepted.
     */
    whenNewestUnusable?: 'unavailable' | 'refuse';
}

/** One accepted token, as a digest, with the time it stops being accepted. */
interface AcceptedToken {
    version: string;
    digest: Buffer;
    acceptedUntil: number;
}

export class KeyVaultTokenVerifier implements TokenVerifier {
    readonly #client: SecretReader;
    readonly #secretName: string;
    readonly #graceWindowMs: number;
    readonly #cacheTtlMs: number;
    readonly #retryAfterFailureMs: number;
    readonly #mismatchRecheckMs: number;
    readonly #now: () => number;
    readonly #log: (line: string) => void;
    readonly #label: string;
    readonly #whenNewestUnusable: 'unavailable' | 'refuse';

    /** Undefined until the first successful load; an empty list means Key Vault holds no usable version. */
    #accepted: AcceptedToken[] | undefined;
    /** Set while the newest version is disabled or expired: every request is refused with 503. */
    #refused = false;
    #lastAttemptAt = Number.NEGATIVE_INFINITY;
    #nextRefreshAt = Number.NEGATIVE_INFINITY;
    #refreshInFlight: Promise<void> | undefined;
    /** What the last log line about the accepted versions said, to log only changes. */
    #lastAcceptedSummary: string | undefined;

    constructor(options: KeyVaultTokenVerifierOptions) {
        this.#client = options.secretClient;
        this.#secretName = options.secretName;
        this.#graceWindowMs = options.graceWindowMs;
        this.#cacheTtlMs = options.cacheTtlMs;
        this.#retryAfterFailureMs = options.retryAfterFailureMs ?? 10_000;
        this.#mismatchRecheckMs = options.mismatchRecheckMs ?? 60_000;
        this.#now = options.now ?? (() => Date.now());
        this.#log = options.log ?? ((line) => console.warn(line));
        this.#label = options.label ?? 'SCIM token';
        this.#whenNewestUnusable = options.whenNewestUnusable ?? 'unavailable';
    }

    async verify(presented: string): Promise<boolean> {
        if (this.#accepted === undefined) {
            // Nothing cached: this request has to wait for Key Vault, unless Key Vault just failed.
            if (this.#now() >= this.#nextRefreshAt) await this.refresh();
            if (this.#accepted === undefined) throw this.#unavailable();
        }

        if (this.#now() >= this.#nextRefreshAt) void this.refresh();
        if (this.#refused) {
            // The admin may have re-enabled the version: look again, at most once per `mismatchRecheckMs`.
            if (this.#now() - this.#lastAttemptAt >= this.#mismatchRecheckMs) await this.refresh();
            if (this.#refused && this.#whenNewestUnusable === 'refuse') return false;
            if (this.#refused) throw this.#refusedError();
        }
        if (this.#isAccepted(presented)) return true;

        if (this.#now() - this.#lastAttemptAt >= this.#mismatchRecheckMs) {
            await this.refresh();
            return this.#isAccepted(presented);
        }
        return false;
    }

    /**
     * Reloads the accepted versions from Key Vault. Concurrent callers share one load; it never rejects
     * (a failure is logged and the cache kept). Exposed so a host can warm the cache at start-up.
     */
    refresh(): Promise<void> {
        this.#refreshInFlight ??= this.#load().finally(() => {
            this.#refreshInFlight = undefined;
        });
        return this.#refreshInFlight;
    }

    #isAccepted(presented: string): boolean {
        const now = this.#now();
        let accepted = false;
        // Every accepted token is compared (no early exit), so timing does not tell which one matched.
        for (const token of this.#accepted ?? []) {
            if (matchesDigest(presented, token.digest) && now < token.acceptedUntil) accepted = true;
        }
        return accepted;
    }

    async #load(): Promise<void> {
        const startedAt = this.#now();
        this.#lastAttemptAt = startedAt;
        try {
            const { accepted, refusal } = await this.#fetchAcceptedTokens(new Date(startedAt));
            this.#accepted = accepted;
            this.#refused = refusal !== undefined;
            this.#nextRefreshAt = startedAt + this.#cacheTtlMs;
            this.#logIfChanged(accepted, refusal);
        } catch (error) {
            this.#nextRefreshAt = startedAt + this.#retryAfterFailureMs;
            const consequence = this.#accepted === undefined
                ? 'nothing is cached, so requests get 503 until it answers'
                : 'keeping the cached token';
            this.#log(`${this.#label}: reading secret '${this.#secretName}' from Key Vault failed (${describeError(error)}); ${consequence}.`);
        }
    }

    async #fetchAcceptedTokens(now: Date): Promise<{ accepted: AcceptedToken[]; refusal?: string }> {
        const versions = await listSecretVersions(this.#client, this.#secretName);
        const selected = selectAcceptedVersions(versions, this.#graceWindowMs, now);
        if (selected === undefined) return { accepted: [] };
        if (selected.refused) {
            const { newest, reason } = selected.refused;
            return { accepted: [], refusal: `the newest version ${newest.version} of secret '${this.#secretName}' is ${reason}` };
        }

        const wanted = [{ version: selected.current.version, acceptedUntil: Number.POSITIVE_INFINITY }];
        if (selected.previous) {
            wanted.push({ version: selected.previous.properties.version, acceptedUntil: selected.previous.acceptedUntil.getTime() });
        }
        const accepted: AcceptedToken[] = [];
        for (const { version, acceptedUntil } of wanted) {
            const secret = await this.#client.getSecret(this.#secretName, { version });
            // An empty value must never make an empty credential valid.
            if (secret.value) accepted.push({ version, digest: tokenDigest(secret.value), acceptedUntil });
        }
        return { accepted };
    }

    #logIfChanged(accepted: AcceptedToken[], refusal: string | undefined): void {
        const summary = refusal !== undefined
            ? `${refusal}; every request is refused${this.#whenNewestUnusable === 'unavailable' ? ' with 503' : ''} until an admin re-enables that version or rotates (older versions are never used again on their own)`
            : accepted.length === 0
            ? `secret '${this.#secretName}' has no enabled version with a value; every request is refused`
            : accepted
                .map((token) => Number.isFinite(token.acceptedUntil)
                    ? `previous version ${token.version} until ${new Date(token.acceptedUntil).toISOString()}`
                    : `version ${token.version}`)
                .join(' and ');
        if (summary === this.#lastAcceptedSummary) return;
        this.#lastAcceptedSummary = summary;
        this.#log(accepted.length === 0 ? `${this.#label}: ${summary}.` : `${this.#label}: accepting ${summary}.`);
    }

    #refusedError(): ScimError {
        const retryAfterSeconds = Math.max(1, Math.ceil((this.#lastAttemptAt + this.#mismatchRecheckMs - this.#now()) / 1000));
        return ScimError.unavailable('No token is accepted right now (the newest version of the token secret is disabled or expired); retry later', retryAfterSeconds);
    }

    #unavailable(): ScimError {
        const retryAfterSeconds = Math.max(1, Math.ceil((this.#nextRefreshAt - this.#now()) / 1000));
        return ScimError.unavailable('The token store is temporarily unavailable, retry later', retryAfterSeconds);
    }
}
