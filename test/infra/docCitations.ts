/**
 * Checks that the repository stands on its own: every `docs/<file>.md §N` citation in a tracked file names a
 * section heading that exists in that file, and no tracked file points outside the repository (the team's
 * private notes, or a relative path that climbs out of the checkout). Pure functions over file texts, so the
 * test can feed them made-up inputs (mutations) as well as the real tree.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface Citation {
    /** The cited file, relative to the repository root: `docs/entra-protocol.md`. */
    readonly doc: string;
    /** Normalised section number: `5.4b` for "§5.4b", "§5.4 (b)", "§5.4 b)". */
    readonly section: string;
}

export interface SourceFile {
    /** Relative to the repository root, forward slashes. */
    readonly path: string;
    readonly text: string;
}

/** A section number with an optional letter: "5.4a", "5.4 (a)", or "5.4 a" closed by ")" or ":". */
const SECTION = String.raw`(\d+(?:\.\d+)*)(?:([a-z])(?![A-Za-z])|\s?\(([a-z])\)|\s([a-z])(?=[):]))?`;
const FIRST = new RegExp(String.raw`\s*§\s*` + SECTION, 'y');
/**
 * Further sections of the same citation: ", §6", " and §7", or a range "–§6" / "–5.6", possibly after a
 * parenthetical remark or a word about the previous one ("§5.1 (legacy reference probes), §6", "§5.2 table, §5.4").
 */
const NEXT = new RegExp(String.raw`(?:\s*\([^()\n]*\)|\s+[a-z]+)?(?:\s*,\s*§\s*|\s+and\s+§\s*|\s*[–-]\s*§?\s*)` + SECTION, 'y');
const DOC = /docs\/([A-Za-z0-9_-]+\.md)/g;

function sectionOf(match: RegExpExecArray): string {
    return match[1]! + (match[2] ?? match[3] ?? match[4] ?? '');
}

/** Every section citation of a `docs/*.md` file in `text`, in order. */
export function findCitations(text: string): Citation[] {
    const found: Citation[] = [];
    for (const docMatch of text.matchAll(DOC)) {
        const doc = `docs/${docMatch[1]!}`;
        FIRST.lastIndex = docMatch.index + docMatch[0].length;
        let m = FIRST.exec(text);
        while (m) {
            found.push({ doc, section: sectionOf(m) });
            NEXT.lastIndex = m.index + m[0].length;
            m = NEXT.exec(text);
        }
    }
    return found;
}

/** The section numbers a Markdown file defines as headings: "## 5. Users" → 5, "#### 5.4a …" → 5.4a. */
export function headingSections(markdown: string): Set<string> {
    const sections = new Set<string>();
    for (const line of markdown.split('\n')) {
        const m = /^#{1,6}\s+(\d+(?:\.\d+)*[a-z]?)(?:[.\s]|$)/.exec(line);
        if (m) sections.add(m[1]!);
    }
    return sections;
}

/** Citations whose file or section does not exist, as "path: docs/x.md §N" lines. */
export function brokenCitations(files: readonly SourceFile[], readDoc: (doc: string) => string | undefined): string[] {
    const headings = new Map<string, Set<string> | undefined>();
    const broken: string[] = [];
    for (const file of files) {
        for (const { doc, section } of findCitations(file.text)) {
            if (!headings.has(doc)) {
                const text = readDoc(doc);
                headings.set(doc, text === undefined ? undefined : headingSections(text));
            }
            const sections = headings.get(doc);
            if (!sections?.has(section)) broken.push(`${file.path}: ${doc} §${section}${sections ? '' : ' (no such file)'}`);
        }
    }
    return broken;
}

/**
 * The team's private reference notes live outside the repository; the repo's copies of their facts are
 * docs/entra-protocol.md and docs/azure-notes.md. Names are assembled so this file does not mention them.
 */
const PRIVATE_NOTE_NAMES = ['entra-scim', 'azure', 'style'].map((name) => `${name}.md`);
const PRIVATE_PATHS = [['shared', 'reference'].join('/'), ['', 'work', 'shared'].join('/')];

/** Mentions in `file` of a path outside the repository or of the private notes, as "path: mention" lines. */
export function outsideReferences(file: SourceFile, repoRoot: string): string[] {
    const found: string[] = [];
    for (const name of PRIVATE_NOTE_NAMES) {
        const pattern = new RegExp(String.raw`(?<![\w-])` + name.replace('.', String.raw`\.`), 'g');
        for (const m of file.text.matchAll(pattern)) found.push(`${file.path}: ${m[0]}`);
    }
    for (const p of PRIVATE_PATHS) if (file.text.includes(p)) found.push(`${file.path}: ${p}`);
    // A relative path is outside when it climbs above the repository root from the file's own folder
    // (`../shared/scim/x` from functions/ is the repo's shared/ folder; from docs/, `../../shared` is not).
    const fileDir = path.join(repoRoot, path.dirname(file.path));
    for (const m of file.text.matchAll(/(?:\.\.\/)+[\w.-]*/g)) {
        const resolved = path.resolve(fileDir, m[0]);
        if (resolved !== repoRoot && !resolved.startsWith(repoRoot + path.sep)) found.push(`${file.path}: ${m[0]}`);
    }
    return found;
}

/** Tracked text files (git's index; a plain walk when git is unavailable), without package-lock.json. */
export function trackedTextFiles(repoRoot: string): SourceFile[] {
    let paths: string[];
    try {
        paths = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' }).split('\0').filter(Boolean);
    } catch {
        paths = walk(repoRoot, '');
    }
    const files: SourceFile[] = [];
    for (const relative of paths) {
        if (relative === 'package-lock.json') continue;
        const absolute = path.join(repoRoot, relative);
        if (!existsSync(absolute)) continue; // deleted in the working tree, not yet committed
        const text = readFileSync(absolute, 'utf8');
        if (text.includes('\0')) continue; // binary
        files.push({ path: relative, text });
    }
    return files;
}

const UNTRACKED_DIRS = new Set(['.git', 'node_modules', 'dist', 'coverage', '.azurite']);

function walk(root: string, relative: string): string[] {
    const out: string[] = [];
    for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
        const child = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
            if (!UNTRACKED_DIRS.has(entry.name)) out.push(...walk(root, child));
        } else if (entry.isFile()) {
            out.push(child);
        }
    }
    return out;
}
