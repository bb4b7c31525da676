/**
 * Workload identity federation: Entra proves who it is with a JWT its tenant signed (the `client_assertion`,
 * RFC 7523 §2.2) instead of a client secret. Checked against the settings the admin copied from Entra
 * (docs/entra.md): signature by one of the issuer's published keys (RS256), exact `iss`, `sub`, one of the
 * accepted `aud` values, `tid` = the issuer's tenant, `exp`/`nbf` with at most 60 s of clock skew
 * (docs/entra-protocol.md §15).
 *
 * The issuer's keys (a JWKS) are cached by `kid`:
 * - a `kid` not in the cache makes us fetch the JWKS again, at most once per `unknownKidRecheckMs`
 *   (Entra rotates its keys without notice; a flood of made-up kids costs one fetch a minute);
 * - the cache is refreshed when older than `maxAgeMs`; if the issuer cannot be reached the cached keys
 *   stay in use, and only an assertion whose key is not cached fails — with 503, not 401, since during an
 *   outage an unknown key may well be a freshly rotated one.
 */
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTHeaderParameters, type FlattenedJWSInput } from 'jose';
import type { FederationSettings } from '../../config';
import { CLOCK_LEEWAY_SECONDS } from './accessTokens';

/** Entra signs its tokens with RS256. */
const ASSERTION_ALGORITHMS = ['RS256'];
const MAX_JWKS_BYTES = 256 * 1024;

export interface FederatedAssertionVerifierOptions {
    now?: () => number;
    /** Minimum time between two JWKS fetches caused by unknown `kid`s. Default 60 s. */
    unknownKidRecheckMs?: number;
    /** Age after which the cached JWKS is fetched again. Default 1 hour. */
    maxAgeMs?: number;
    /** How long one JWKS fetch may take. Default 5 s. */
    fetchTimeoutMs?: number;
    log?: (line: string) => void;
}

/** The assertion checked out: when it expires (the issued token must not outlive it). */
export interface VerifiedAssertion {
    expiresAt: number;
}

/** The issuer's keys could not be fetched and the assertion's key is not cached. */
export class IssuerKeysUnavailableError extends Error {
    constructor(readonly retryAfterSeconds: number) {
        super("The federation issuer's keys are unavailable");
        this.name = 'IssuerKeysUnavailableError';
    }
}

export class FederatedAssertionVerifier {
    readonly #settings: FederationSettings;
    readonly #now: () => number;
    readonly #unknownKidRecheckMs: number;
    readonly #maxAgeMs: number;
    readonly #fetchTimeoutMs: number;
    readonly #log: (line: string) => void;
    #keySet: ReturnType<typeof createLocalJWKSet> | undefined;
    #fetchedAt = Number.NEGATIVE_INFINITY;
    #lastAttemptAt = Number.NEGATIVE_INFINITY;
    #lastFetchFailed = false;
    #fetchInFlight: Promise<boolean> | undefined;

    constructor(settings: FederationSettings, options: FederatedAssertionVerifierOptions = {}) {
        this.#settings = settings;
        this.#now = options.now ?? (() => Date.now());
        this.#unknownKidRecheckMs = options.unknownKidRecheckMs ?? 60_000;
        this.#maxAgeMs = options.maxAgeMs ?? 60 * 60_000;
        this.#fetchTimeoutMs = options.fetchTimeoutMs ?? 5_000;
        this.#log = options.log ?? ((line) => console.warn(line));
    }

    /**
     * The verified assertion, or undefined when it is not acceptable. Throws `IssuerKeysUnavailableError`
     * when the answer depends on keys that cannot be fetched right now.
     */
    async verify(assertion: string): Promise<VerifiedAssertion | undefined> {
        if (this.#now() - this.#fetchedAt >= this.#maxAgeMs && this.#now() - this.#lastAttemptAt >= this.#unknownKidRecheckMs) {
            await this.#fetchKeys();
        }
        try {
            const { payload } = await jwtVerify(assertion, (header, token) => this.#keyFor(header, token), {
                algorithms: ASSERTION_ALGORITHMS,
                issuer: this.#settings.issuer,
                subject: this.#settings.subject,
                audience: this.#settings.audiences,
                clockTolerance: CLOCK_LEEWAY_SECONDS,
                requiredClaims: ['iss', 'sub', 'aud', 'exp', 'tid'],
                currentDate: new Date(this.#now()),
            });
            if (payload.tid !== this.#settings.tenantId) return undefined;
            return { expiresAt: payload.exp! * 1000 };
        } catch (error) {
            if (error instanceof IssuerKeysUnavailableError) throw error;
            return undefined;
        }
    }

    /** The issuer's key for this assertion: from the cache, else after one more fetch (see the file comment). */
    async #keyFor(header: JWTHeaderParameters, token: FlattenedJWSInput) {
        const cached = await this.#cachedKey(header, token);
        if (cached !== undefined) return cached;
        if (this.#now() - this.#lastAttemptAt >= this.#unknownKidRecheckMs) await this.#fetchKeys();
        const fetched = await this.#cachedKey(header, token);
        if (fetched !== undefined) return fetched;
        // A key we cannot find while the issuer cannot be reached may be a freshly rotated one: an outage, not a refusal.
        if (this.#keySet === undefined || this.#lastFetchFailed) throw new IssuerKeysUnavailableError(this.#retryAfterSeconds());
        throw new errors.JWKSNoMatchingKey();
    }

    /** The key from the cached JWKS, or undefined when it has none for this header. */
    async #cachedKey(header: JWTHeaderParameters, token: FlattenedJWSInput) {
        if (this.#keySet === undefined) return undefined;
        try {
            return await this.#keySet(header, token);
        } catch (error) {
            if (error instanceof errors.JWKSNoMatchingKey) return undefined;
            throw error;
        }
    }

    /** Fetches the JWKS; concurrent callers share one fetch. True if the cache was replaced. */
    #fetchKeys(): Promise<boolean> {
        this.#fetchInFlight ??= this.#fetch().finally(() => {
            this.#fetchInFlight = undefined;
        });
        return this.#fetchInFlight;
    }

    async #fetch(): Promise<boolean> {
        const startedAt = this.#now();
        this.#lastAttemptAt = startedAt;
        try {
            const response = await fetch(this.#settings.jwksUrl, {
                headers: { Accept: 'application/json' },
                redirect: 'error',
                signal: AbortSignal.timeout(this.#fetchTimeoutMs),
            });
            if (!response.ok) throw new Error(`status ${response.status}`);
            const text = await response.text();
            if (text.length > MAX_JWKS_BYTES) throw new Error('too large');
            const jwks = JSON.parse(text) as JSONWebKeySet;
            if (!Array.isArray(jwks?.keys)) throw new Error('no keys array');
            this.#keySet = createLocalJWKSet(jwks);
            this.#fetchedAt = startedAt;
            this.#lastFetchFailed = false;
            return true;
        } catch (error) {
            // The reason only (a status, a timeout): a response body is not logged.
            const reason = error instanceof Error ? (error.name === 'Error' ? error.message : error.name) : typeof error;
            this.#log(`OAuth: fetching the federation issuer's keys failed (${reason}); ${this.#keySet ? 'keeping the cached keys' : 'nothing is cached'}.`);
            this.#lastFetchFailed = true;
            return false;
        }
    }

    #retryAfterSeconds(): number {
        return Math.max(1, Math.ceil((this.#lastAttemptAt + this.#unknownKidRecheckMs - this.#now()) / 1000));
    }
}
