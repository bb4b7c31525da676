/**
 * bench/RESULTS.md holds one section per benchmark, between markers, so each `npm run bench:*` replaces
 * only its own section and the file always shows the latest run of every benchmark.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The source tree's bench/ folder: the scripts run from dist/bench/…, so look up for package.json. */
const RESULTS_FILE = path.join(projectRoot(), 'bench', 'RESULTS.md');

function projectRoot(): string {
    for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    }
    return process.cwd();
}

const HEADER = `# Benchmark results

Written by the benchmark scripts (\`npm run bench:roundtrips\`, \`bench:growth\`, \`bench:load\`, \`bench:library\`, \`bench:coldstart\`);
each run replaces its own section. Absolute times come from shared machines and are noise; read the ratios
and the storage request counts.
`;

export function writeResultsSection(name: string, markdown: string): void {
    const start = `<!-- bench:${name}:start -->`;
    const end = `<!-- bench:${name}:end -->`;
    const stamp = `_Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${os.cpus().length} CPU(s)._`;
    const section = `${start}\n${markdown.trim()}\n\n${stamp}\n${end}`;
    const current = fs.existsSync(RESULTS_FILE) ? fs.readFileSync(RESULTS_FILE, 'utf8') : HEADER;
    const startAt = current.indexOf(start);
    const endAt = current.indexOf(end);
    const next = startAt >= 0 && endAt > startAt ? current.slice(0, startAt) + section + current.slice(endAt + end.length) : `${current.trimEnd()}\n\n${section}\n`;
    fs.writeFileSync(RESULTS_FILE, next);
    console.log(`\n(written to ${path.relative(process.cwd(), RESULTS_FILE) || RESULTS_FILE}, section "${name}")`);
}
