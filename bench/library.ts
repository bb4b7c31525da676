/**
 * Benchmark (not a test): the library benchmarks in one command — our filter module against
 * scim2-parse-filter (bench/filterLibrary.ts) and our PATCH engine against scim-patch
 * (bench/patchLibrary.ts). Each returns its tables as markdown; this prints them and writes them to
 * bench/RESULTS.md.
 *
 * The two files are owned by the filter and PATCH engineers. They are loaded by name at run time, so a
 * missing or failing one is reported in the results instead of stopping the other (or the compile).
 *
 * Run: npm run bench:library
 */
import { writeResultsSection } from './support/results';

interface LibraryBench {
    title: string;
    file: string;
    run: string;
}

const BENCHES: LibraryBench[] = [
    { title: 'Filter: ours vs scim2-parse-filter', file: './filterLibrary', run: 'runFilterBench' },
    { title: 'PATCH: ours vs scim-patch', file: './patchLibrary', run: 'runPatchBench' },
];

async function runOne(bench: LibraryBench): Promise<string> {
    let load: Record<string, unknown>;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        load = require(bench.file) as Record<string, unknown>;
    } catch (error) {
        return `_Not run: ${bench.file}.ts could not be loaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)})._`;
    }
    const run = load[bench.run];
    if (typeof run !== 'function') return `_Not run: ${bench.file}.ts does not export ${bench.run}()._`;
    try {
        return String(await (run as () => Promise<string>)());
    } catch (error) {
        return `_Failed: ${error instanceof Error ? error.message : String(error)}_`;
    }
}

async function main(): Promise<void> {
    const sections = ['## Library benchmarks', ''];
    for (const bench of BENCHES) {
        console.log(`Running ${bench.title}…`);
        const tables = await runOne(bench);
        sections.push(`### ${bench.title}`, '', tables.trim(), '');
    }
    const markdown = sections.join('\n');
    console.log(`\n${markdown}`);
    writeResultsSection('library', markdown);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
