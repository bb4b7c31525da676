/**
 * The import graph of the code, read with the TypeScript parser (not a regex), for the layout rules in
 * test/layout/imports.test.ts: which file imports which, and whether an import brings in values or only
 * types (`import type`, `import { type X }`, `typeof import('…')`). Relative imports become repository
 * paths (`shared/scim/store.ts`); package imports keep their name (`@azure/data-tables`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
    /** Repository path of the importing file, `/`-separated. */
    from: string;
    /** Repository path of the imported file, or the package name. */
    to: string;
    /** True when the import brings in types only (erased at compile time). */
    typeOnly: boolean;
}

export type ImportGraph = ImportEdge[];

/** Every `.ts` file under `folders` (relative to `root`), with its imports. */
export function readImportGraph(root: string, folders: readonly string[]): ImportGraph {
    const edges: ImportGraph = [];
    for (const folder of folders) {
        for (const file of typeScriptFiles(path.join(root, folder))) {
            const from = toRepositoryPath(root, file);
            for (const { specifier, typeOnly } of importsOf(readFileSync(file, 'utf8'), file)) {
                edges.push({ from, to: resolveSpecifier(root, file, specifier), typeOnly });
            }
        }
    }
    return edges;
}

/** The module specifiers a source file imports, re-exports or requires. */
export function importsOf(source: string, fileName = 'file.ts'): { specifier: string; typeOnly: boolean }[] {
    const sourceFile = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true);
    const found: { specifier: string; typeOnly: boolean }[] = [];
    const visit = (node: ts.Node): void => {
        if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
            found.push({ specifier: node.moduleSpecifier.text, typeOnly: isTypeOnlyImport(node) });
        } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
            const clause = node.exportClause;
            const allTypes = node.isTypeOnly || (clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly));
            found.push({ specifier: node.moduleSpecifier.text, typeOnly: allTypes });
        } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
            found.push({ specifier: node.argument.literal.text, typeOnly: true });
        } else if (ts.isCallExpression(node) && node.arguments.length === 1
            && ((ts.isIdentifier(node.expression) && node.expression.text === 'require') || node.expression.kind === ts.SyntaxKind.ImportKeyword)) {
            const [argument] = node.arguments;
            if (argument !== undefined && ts.isStringLiteral(argument)) found.push({ specifier: argument.text, typeOnly: false });
        }
        ts.forEachChild(node, visit);
    };
    visit(sourceFile);
    return found;
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
    const clause = node.importClause;
    if (clause === undefined) return false; // `import './x'`: runs the module
    if (clause.isTypeOnly) return true;
    if (clause.name !== undefined) return false; // a default import is a value
    const bindings = clause.namedBindings;
    if (bindings === undefined || ts.isNamespaceImport(bindings)) return false;
    return bindings.elements.length > 0 && bindings.elements.every((element) => element.isTypeOnly);
}

/** Cycles in the graph (type-only imports included: a cycle of types is still a knot for a reader). */
export function findCycles(graph: ImportGraph): string[][] {
    const next = new Map<string, string[]>();
    for (const { from, to } of graph) next.set(from, [...(next.get(from) ?? []), to]);
    const cycles: string[][] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
        state.set(file, 'open');
        stack.push(file);
        for (const target of next.get(file) ?? []) {
            if (state.get(target) === 'open') cycles.push([...stack.slice(stack.indexOf(target)), target]);
            else if (!state.has(target)) visit(target);
        }
        stack.pop();
        state.set(file, 'done');
    };
    for (const file of [...next.keys()].sort()) if (!state.has(file)) visit(file);
    return cycles;
}

function typeScriptFiles(directory: string): string[] {
    if (!existsSync(directory)) return [];
    return readdirSync(directory).flatMap((name) => {
        const full = path.join(directory, name);
        if (statSync(full).isDirectory()) return typeScriptFiles(full);
        return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
    });
}

function resolveSpecifier(root: string, file: string, specifier: string): string {
    if (!specifier.startsWith('.')) return specifier;
    const base = path.resolve(path.dirname(file), specifier);
    for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
        if (existsSync(candidate) && statSync(candidate).isFile()) return toRepositoryPath(root, candidate);
    }
    return toRepositoryPath(root, base); // unresolved: the typecheck reports it
}

function toRepositoryPath(root: string, file: string): string {
    return path.relative(root, file).split(path.sep).join('/');
}
