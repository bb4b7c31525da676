import { defineConfig } from 'vitest/config';

export default defineConfig({
    test: {
        include: ['test/**/*.test.ts'],
        globalSetup: ['test/support/globalSetup.ts'],
        setupFiles: ['test/support/setup.ts'],
        testTimeout: 60_000,
        hookTimeout: 120_000,
        // Two cores: run files in parallel but not more than the machine can hold.
        maxWorkers: 2,
        // The JSON report is what .ci/run reads for its "N passed, N failed" line.
        reporters: ['default', 'json'],
        outputFile: { json: '.vitest-results.json' },
    },
});
