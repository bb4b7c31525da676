/** The rate limit on failed client authentication (shared/auth/oauth/FailedAuthenticationLimiter.ts). */
import { describe, expect, it } from 'vitest';
import { FailedAuthenticationLimiter } from '../../../shared/auth/oauth/FailedAuthenticationLimiter';

describe('FailedAuthenticationLimiter', () => {
    it('allows a burst of 10 failures, then one per 6 s', () => {
        let now = 0;
        const limiter = new FailedAuthenticationLimiter({ now: () => now });
        for (let i = 0; i < 10; i++) {
            expect(limiter.retryAfterSeconds('c')).toBeUndefined();
            limiter.recordFailure('c');
        }
        expect(limiter.retryAfterSeconds('c')).toBe(6);
        now += 3_000;
        expect(limiter.retryAfterSeconds('c')).toBe(3);
        now += 3_000;
        expect(limiter.retryAfterSeconds('c')).toBeUndefined();
        limiter.recordFailure('c');
        expect(limiter.retryAfterSeconds('c')).toBe(6);
        now += 60_000;
        expect(limiter.retryAfterSeconds('c')).toBeUndefined();
        expect(limiter.trackedClients).toBe(0); // a full bucket is forgotten
    });

    it('tracks at most maxTrackedClients ids, forgetting the least recently failed', () => {
        const limiter = new FailedAuthenticationLimiter({ maxTrackedClients: 100, burst: 1, now: () => 0 });
        let ids = 0;
        for (; ids < 10_000; ids++) limiter.recordFailure(`client-${ids}`);
        expect(ids).toBe(10_000);
        expect(limiter.trackedClients).toBe(100);
        expect(limiter.retryAfterSeconds('client-9999')).toBeDefined();
        expect(limiter.retryAfterSeconds('client-0')).toBeUndefined();
    });
});
