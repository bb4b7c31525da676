// A sample run for test/infra/ciSummary.test.ts: passing tests, one failing test inside a describe block.
import { describe, expect, it } from 'vitest';

it('passes at the top level', () => expect(1).toBe(1));
describe('a describe block', () => {
    it('passes inside it', () => expect(2).toBe(2));
    it('fails inside it', () => expect(3).toBe(4));
});
