/**
 * Rate limit on failed client authentication, per client id: guessing a client secret costs one attempt
 * per `refillMs` once a small burst is spent. A token bucket per client id, in memory (per instance): it
 * bounds guessing without storage, and a restart forgets it, which a guesser gains a burst from at most.
 *
 * While a client id is throttled every request for it is refused before its credentials are looked at,
 * the right secret included; otherwise the limit would not limit anything. The client id is not secret,
 * so someone can throttle Entra's client on purpose: the bucket refills in `burst × refillMs` (a minute by
 * default) and Entra retries, so that costs a delay, not a quarantine.
 *
 * Memory is bounded: at most `maxTrackedClients` ids are tracked, the least recently failed forgotten first.
 */

export interface FailedAuthenticationLimiterOptions {
    /** Failures allowed in a row before throttling. Default 10. */
    burst?: number;
    /** One more failure is allowed every `refillMs`. Default 6 s (10 a minute). */
    refillMs?: number;
    maxTrackedClients?: number;
    now?: () => number;
}

interface Bucket {
    tokens: number;
    updatedAt: number;
}

export class FailedAuthenticationLimiter {
    readonly #burst: number;
    readonly #refillMs: number;
    readonly #maxTrackedClients: number;
    readonly #now: () => number;
    /** Insertion order = least recently failed first (a failure re-inserts its id). */
    readonly #buckets = new Map<string, Bucket>();

    constructor(options: FailedAuthenticationLimiterOptions = {}) {
        this.#burst = options.burst ?? 10;
        this.#refillMs = options.refillMs ?? 6_000;
        this.#maxTrackedClients = options.maxTrackedClients ?? 10_000;
        this.#now = options.now ?? (() => Date.now());
    }

    /** Seconds until `clientId` may try again, or undefined when it may try now. */
    retryAfterSeconds(clientId: string): number | undefined {
        const bucket = this.#refilled(clientId);
        if (bucket === undefined || bucket.tokens >= 1) return undefined;
        return Math.max(1, Math.ceil(((1 - bucket.tokens) * this.#refillMs) / 1000));
    }

    recordFailure(clientId: string): void {
        const bucket = this.#refilled(clientId) ?? { tokens: this.#burst, updatedAt: this.#now() };
        bucket.tokens = Math.max(0, bucket.tokens - 1);
        this.#buckets.delete(clientId);
        this.#buckets.set(clientId, bucket);
        if (this.#buckets.size > this.#maxTrackedClients) {
            this.#buckets.delete(this.#buckets.keys().next().value!);
        }
    }

    /** How many client ids are tracked (tests check the bound). */
    get trackedClients(): number {
        return this.#buckets.size;
    }

    #refilled(clientId: string): Bucket | undefined {
        const bucket = this.#buckets.get(clientId);
        if (bucket === undefined) return undefined;
        const now = this.#now();
        bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.updatedAt) / this.#refillMs);
        bucket.updatedAt = now;
        if (bucket.tokens >= this.#burst) {
            this.#buckets.delete(clientId); // full again: nothing to remember
            return undefined;
        }
        return bucket;
    }
}
