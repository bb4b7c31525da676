/** The store's worker pool: bounded concurrency, every item once, and no start after `stop`. */
import { describe, expect, it } from 'vitest';
import { inParallel } from '../../shared/store/inParallel';

describe('inParallel', () => {
    it('runs every item once, never more than `concurrency` at a time', async () => {
        let running = 0;
        let most = 0;
        const done: number[] = [];
        const started = await inParallel(Array.from({ length: 50 }, (_, index) => index), 4, async (item) => {
            running++;
            most = Math.max(most, running);
            await new Promise((resolve) => setImmediate(resolve));
            done.push(item);
            running--;
        });
        expect(started).toBe(50);
        expect(most).toBe(4);
        expect([...done].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, index) => index));
    });

    it('starts nothing once stop() is true, and lets running work finish', async () => {
        const finished: number[] = [];
        const started = await inParallel([1, 2, 3, 4, 5, 6], 2, async (item) => {
            await new Promise((resolve) => setImmediate(resolve));
            finished.push(item);
        }, () => finished.length >= 2);
        expect(started).toBeGreaterThanOrEqual(2);
        expect(started).toBeLessThan(6);
        expect(finished.length).toBe(started);
    });

    it('does nothing for no items', async () => {
        expect(await inParallel([], 4, () => Promise.resolve())).toBe(0);
    });
});
