/**
 * The repository stands on its own (issue 14): every `docs/<file>.md §N` citation in a tracked file points at a
 * heading of that file, and nothing tracked names the team's private notes or a path outside the checkout.
 * The mutation cases feed the same checkers made-up citations and paths and expect them to be reported.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './bicepTree';
import { brokenCitations, findCitations, headingSections, outsideReferences, trackedTextFiles, type SourceFile } from './docCitations';

const readDoc = (doc: string): string | undefined => {
    const file = path.join(repoRoot, doc);
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
};
const files = trackedTextFiles(repoRoot);
// Doc names held in variables so this file's own text cites nothing and mentions nothing private.
const PROTOCOL = 'entra-protocol';
const AZURE = 'azure-notes';
const MISSING = 'no-such-notes';
const cite = (doc: string, sections: string): string => `docs/${doc}.md ${sections}`;

describe('section citations', () => {
    it('parse single sections, letters, lists and ranges the way the code writes them', () => {
        const sections = (text: string): string[] => findCitations(text).map((c) => c.section);
        expect(sections(cite(PROTOCOL, '§5.4'))).toEqual(['5.4']);
        expect(sections(`(${cite(PROTOCOL, '§5.1, §6, §12')}).`)).toEqual(['5.1', '6', '12']);
        expect(sections(cite(PROTOCOL, '§5.4a'))).toEqual(['5.4a']);
        expect(sections(cite(PROTOCOL, '§5.4 (b), §13.3'))).toEqual(['5.4b', '13.3']);
        expect(sections(cite(PROTOCOL, '§5.4 b): lower-case ops'))).toEqual(['5.4b']);
        expect(sections(cite(PROTOCOL, '§5.4 a: no flag'))).toEqual(['5.4a']);
        expect(sections(cite(PROTOCOL, '§3–§6'))).toEqual(['3', '6']);
        expect(sections(cite(PROTOCOL, '§5.4–5.6,'))).toEqual(['5.4', '5.6']);
        // Words after a section are not letters of it; a sentence's full stop is not part of the number.
        expect(sections(cite(PROTOCOL, '§5.1 (legacy reference probes), §6'))).toEqual(['5.1', '6']);
        expect(sections(cite(PROTOCOL, '§5.2 table, §5.4 (a) (SV'))).toEqual(['5.2', '5.4a']);
        expect(sections(cite(PROTOCOL, '§5.3 (T §Get User 404), §5.7'))).toEqual(['5.3', '5.7']);
        expect(sections(cite(PROTOCOL, '§3 and a note'))).toEqual(['3']);
        expect(sections(`${cite(AZURE, '§6')}.`)).toEqual(['6']);
        expect(findCitations(cite(AZURE, '§2.6'))[0]?.doc).toBe(`docs/${AZURE}.md`);
        // A docs file named without a section is a link, not a citation.
        expect(findCitations(`see docs/${PROTOCOL}.md for more`)).toEqual([]);
    });

    it('read section numbers from headings', () => {
        const headings = headingSections('# Title\n## 0. Sources\n## 5. Users\n### 5.4 Update\n#### 5.4a Default\n### 13.13 Roles\nnot ## 9. a heading\n');
        expect([...headings].sort()).toEqual(['0', '13.13', '5', '5.4', '5.4a']);
    });

    it('every citation in a tracked file names an existing heading of an existing docs file', () => {
        const citations = files.flatMap((f) => findCitations(f.text));
        // A floor, so a parser that finds nothing cannot pass: the code cites these two docs a few hundred times.
        expect(citations.filter((c) => c.doc === `docs/${PROTOCOL}.md`).length).toBeGreaterThanOrEqual(200);
        expect(citations.filter((c) => c.doc === `docs/${AZURE}.md`).length).toBeGreaterThanOrEqual(10);
        expect(brokenCitations(files, readDoc)).toEqual([]);
    });

    it('mutation: a made-up section, a made-up letter and a made-up docs file are reported', () => {
        const made: SourceFile[] = [
            { path: 'shared/x.ts', text: `// see ${cite(PROTOCOL, '§5.4, §99.9')}` },
            { path: 'shared/y.ts', text: `// see ${cite(PROTOCOL, '§5.4z')}` },
            { path: 'shared/z.ts', text: `// see ${cite(AZURE, '§2.6–§2.99')}` },
            { path: 'shared/w.ts', text: `// see ${cite(MISSING, '§1')}` },
        ];
        expect(brokenCitations(made, readDoc)).toEqual([
            `shared/x.ts: docs/${PROTOCOL}.md §99.9`,
            `shared/y.ts: docs/${PROTOCOL}.md §5.4z`,
            `shared/z.ts: docs/${AZURE}.md §2.99`,
            `shared/w.ts: docs/${MISSING}.md §1 (no such file)`,
        ]);
    });
});

describe('nothing outside the repository', () => {
    it('scans the tracked files', () => {
        expect(files.length).toBeGreaterThan(100);
        expect(files.some((f) => f.path === 'README.md')).toBe(true);
        expect(files.some((f) => f.path === 'package-lock.json')).toBe(false);
    });

    it('no tracked file names the private notes or a path outside the checkout', () => {
        expect(files.flatMap((f) => outsideReferences(f, repoRoot))).toEqual([]);
    });

    it("mutation: the private notes' names and paths that climb out are reported; the repo's own shared/ is not", () => {
        const note = (name: string): string => `${name}.md`;
        const up = '../';
        const made: SourceFile[] = [
            { path: 'shared/scim/a.ts', text: `// ${note('entra-scim')} §5.4` },
            { path: 'shared/store/b.ts', text: `// ${note('azure')} §6` },
            { path: 'docs/c.md', text: `house rules in ${note('style')}` },
            { path: 'docs/d.md', text: `[notes](${up}${up}shared/notes.md)` },
            { path: 'test/e.ts', text: `const x = '${['', 'work', 'shared'].join('/')}/x';` },
        ];
        expect(made.map((f) => outsideReferences(f, repoRoot).length)).toEqual([1, 1, 1, 1, 1]);
        const fine: SourceFile[] = [
            { path: 'functions/Users.ts', text: `import { x } from '${up}shared/http/registerRoute';` },
            { path: 'bench/support/s.ts', text: `import { y } from '${up}${up}shared/store/keys';` },
            { path: 'shared/a.ts', text: `// ${cite(AZURE, '§6')}, docs/${note('storage')}` },
            { path: 'docs/e.md', text: `[readme](${up}README.md)` },
        ];
        expect(fine.flatMap((f) => outsideReferences(f, repoRoot))).toEqual([]);
    });
});
