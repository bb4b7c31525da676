/**
 * .ci/run's last line ("N passed, N failed") is read by CI: it comes from vitest's JSON report through .ci/summary.js.
 * A real vitest run over two sample files writes the report: one failed test inside a describe block must count once
 * (vitest's numFailedTestSuites counts the describe block as well), and a file that fails to load counts as one failure.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'ci-summary-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function summaryOf(files: string): Promise<{ line: string; exitCode: number }> {
    const report = join(scratch, `${files.replace(/\W/g, '_')}.json`);
    const fixture = join(root, 'test/infra/ciSummaryFixture');
    await run(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', fixture, '--config', join(fixture, 'vitest.config.mts'),
        '--reporter=json', `--outputFile=${report}`, ...(files === '' ? [] : [files])], { cwd: fixture }).catch(() => undefined); // exits 1: tests fail by design
    try {
        const { stdout } = await run(process.execPath, [join(root, '.ci/summary.js'), report]);
        return { line: stdout.trim(), exitCode: 0 };
    } catch (error) {
        const failure = error as { stdout: string; code: number };
        return { line: failure.stdout.trim(), exitCode: failure.code };
    }
}

it('counts one failed test inside a describe block once, and a file that did not load as one failure', async () => {
    expect(await summaryOf('sample.check.ts')).toEqual({ line: '2 passed, 1 failed', exitCode: 1 });
    expect(await summaryOf('')).toEqual({ line: '2 passed, 2 failed', exitCode: 1 });
}, 60_000);

it('reads a missing report as one failure', async () => {
    const result = await run(process.execPath, [join(root, '.ci/summary.js'), join(scratch, 'absent.json')]).catch((e: { stdout: string; code: number }) => e);
    expect(result.stdout.trim()).toBe('0 passed, 1 failed');
    expect((result as { code?: number }).code).toBe(1);
});
