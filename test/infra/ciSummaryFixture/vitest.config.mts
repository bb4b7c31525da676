// The sample run of test/infra/ciSummary.test.ts: its files are *.check.ts so the main suite (test/**/*.test.ts) skips them.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { include: ['*.check.ts'] } });
