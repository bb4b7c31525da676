/**
 * Reads Bicep through tree-sitter-bicep (WASM via web-tree-sitter): no Bicep compiler can be installed
 * here (docs/azure-notes.md §5.1), so the infra tests parse the templates and assert on the syntax tree.
 * Only the handful of node shapes our templates use are interpreted; anything else is "not a literal".
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Parser from 'web-tree-sitter';

export type Node = Parser.SyntaxNode;

export const repoRoot = path.resolve(__dirname, '..', '..');
export const infraDir = path.join(repoRoot, 'infra');

let parser: Promise<Parser> | undefined;

function bicepParser(): Promise<Parser> {
    parser ??= (async () => {
        await Parser.init();
        const wasm = path.join(repoRoot, 'node_modules', 'tree-sitter-bicep', 'tree-sitter-bicep.wasm');
        const language = await Parser.Language.load(wasm);
        const p = new Parser();
        p.setLanguage(language);
        return p;
    })();
    return parser;
}

export async function parseBicep(source: string): Promise<Node> {
    return (await bicepParser()).parse(source).rootNode;
}

export async function parseBicepFile(file: string): Promise<Node> {
    return parseBicep(readFileSync(file, 'utf8'));
}

/** Every `.bicep` file under `dir`, recursively, as absolute paths. */
export function bicepFiles(dir = infraDir): string[] {
    const out: string[] = [];
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) out.push(...bicepFiles(full));
        else if (entry.name.endsWith('.bicep')) out.push(full);
    }
    return out.sort();
}

/** ERROR and MISSING nodes as `TYPE@line:col`. */
export function syntaxErrors(root: Node): string[] {
    const found: string[] = [];
    const visit = (n: Node): void => {
        if (n.type === 'ERROR' || n.isMissing) {
            found.push(`${n.isMissing ? 'MISSING' : 'ERROR'}@${n.startPosition.row + 1}:${n.startPosition.column + 1}`);
        }
        for (const c of n.children) visit(c);
    };
    visit(root);
    return found;
}

// ---- literals -------------------------------------------------------------------------------------

/** The value of a plain string literal (no interpolation), else undefined. */
export function stringValue(n: Node | undefined): string | undefined {
    if (!n || n.type !== 'string') return undefined;
    if (n.namedChildren.some((c) => c.type !== 'string_content' && c.type !== 'escape_sequence')) return undefined;
    return n.namedChildren.map((c) => (c.type === 'escape_sequence' ? c.text.slice(1) : c.text)).join('');
}

/** A JSON-like value for literals (string, number, boolean, null), else undefined. */
export function literal(n: Node | undefined): string | number | boolean | null | undefined {
    if (!n) return undefined;
    switch (n.type) {
        case 'string':
            return stringValue(n);
        case 'number':
            return Number(n.text);
        case 'boolean':
            return n.text === 'true';
        case 'null':
            return null;
        default:
            return undefined;
    }
}

// ---- objects --------------------------------------------------------------------------------------

function propertyKey(p: Node): string | undefined {
    const key = p.namedChildren[0];
    if (!key) return undefined;
    return key.type === 'string' ? stringValue(key) : key.text;
}

/** `key -> value node` of an object literal (comments skipped). */
export function objectEntries(obj: Node | undefined): Map<string, Node> {
    const entries = new Map<string, Node>();
    if (!obj || obj.type !== 'object') return entries;
    for (const p of obj.namedChildren) {
        if (p.type !== 'object_property') continue;
        const key = propertyKey(p);
        const value = p.namedChildren[p.namedChildren.length - 1];
        if (key !== undefined && value) entries.set(key, value);
    }
    return entries;
}

/** Value node at a dotted path (`properties.siteConfig.minTlsVersion`) inside an object literal. */
export function prop(obj: Node | undefined, dotted: string): Node | undefined {
    let current: Node | undefined = obj;
    for (const key of dotted.split('.')) {
        current = objectEntries(current).get(key);
        if (!current) return undefined;
    }
    return current;
}

export function propLiteral(obj: Node | undefined, dotted: string): ReturnType<typeof literal> {
    return literal(prop(obj, dotted));
}

/** Elements of an array literal (comments skipped). */
export function arrayItems(n: Node | undefined): Node[] {
    if (!n || n.type !== 'array') return [];
    return n.namedChildren.filter((c) => c.type !== 'comment');
}

// ---- declarations ---------------------------------------------------------------------------------

function decoratorNames(declaration: Node): string[] {
    return [...decoratorArguments(declaration).keys()];
}

/** Each decorator above a declaration with its argument nodes (`@minValue(40)` → minValue: [40]). */
export function decoratorArguments(declaration: Node): Map<string, Node[]> {
    const prev = declaration.previousNamedSibling;
    const found = new Map<string, Node[]>();
    if (!prev || prev.type !== 'decorators') return found;
    for (const d of prev.namedChildren) {
        const call = d.namedChildren[0];
        const name = call?.namedChildren[0]?.text ?? d.text;
        found.set(name, call?.childForFieldName('arguments')?.namedChildren ?? []);
    }
    return found;
}

/** The comment lines directly above a declaration (and its decorators). */
export function leadingComment(declaration: Node): string {
    let n: Node | null = declaration.previousNamedSibling;
    if (n?.type === 'decorators') n = n.previousNamedSibling;
    const lines: string[] = [];
    let row = (declaration.previousNamedSibling?.type === 'decorators'
        ? declaration.previousNamedSibling
        : declaration
    ).startPosition.row;
    while (n && n.type === 'comment' && n.endPosition.row === row - 1) {
        lines.unshift(n.text.replace(/^\/\/\s?/, ''));
        row = n.startPosition.row;
        n = n.previousNamedSibling;
    }
    return lines.join('\n');
}

export interface ParamDecl {
    name: string;
    type: string;
    defaultValue?: Node;
    decorators: string[];
    node: Node;
}

export function params(root: Node): ParamDecl[] {
    return root.namedChildren
        .filter((n) => n.type === 'parameter_declaration')
        .map((n) => {
            const [id, type, value] = n.namedChildren;
            return { name: id!.text, type: type?.text ?? '', defaultValue: value, decorators: decoratorNames(n), node: n };
        });
}

export interface VarDecl {
    name: string;
    value: Node;
    node: Node;
}

export function variables(root: Node): Map<string, VarDecl> {
    const vars = new Map<string, VarDecl>();
    for (const n of root.namedChildren) {
        if (n.type !== 'variable_declaration') continue;
        const [id, value] = n.namedChildren;
        if (id && value) vars.set(id.text, { name: id.text, value, node: n });
    }
    return vars;
}

export interface OutputDecl {
    name: string;
    type: string;
    value: Node;
    decorators: string[];
    node: Node;
}

export function outputs(root: Node): OutputDecl[] {
    return root.namedChildren
        .filter((n) => n.type === 'output_declaration')
        .map((n) => {
            const [id, type, value] = n.namedChildren;
            return { name: id!.text, type: type!.text, value: value!, decorators: decoratorNames(n), node: n };
        });
}

export interface ResourceDecl {
    symbol: string;
    /** e.g. `Microsoft.Web/sites` */
    type: string;
    apiVersion: string;
    existing: boolean;
    /** The `if (...)` condition, when the resource is conditional. */
    condition?: Node;
    /** What `[for … in <collection>: …]` iterates over, when the resource is a loop. */
    loopOver?: Node;
    body: Node;
    node: Node;
}

/** The collection a `for_statement` iterates over and its body (an object or an `if_statement`). */
export function forLoop(n: Node | undefined): { over: Node; body: Node } | undefined {
    if (!n || n.type !== 'for_statement') return undefined;
    const body = n.childForFieldName('body');
    if (!body) return undefined;
    const named = n.namedChildren;
    const over = named[named.indexOf(named.find((c) => c.id === body.id)!) - 1];
    return over ? { over, body } : undefined;
}

export function resources(root: Node): ResourceDecl[] {
    return root.namedChildren
        .filter((n) => n.type === 'resource_declaration')
        .map((n) => {
            const symbol = n.namedChildren[0]!.text;
            const typeRef = stringValue(n.namedChildren[1]) ?? '';
            const [type, apiVersion] = typeRef.split('@') as [string, string];
            const existing = n.children.some((c) => c.type === 'existing');
            const declared = n.namedChildren[n.namedChildren.length - 1]!;
            const loop = forLoop(declared);
            const last = loop ? loop.body : declared;
            const conditional = last.type === 'if_statement';
            const body = conditional ? last.namedChildren.find((c) => c.type === 'object')! : last;
            const condition = conditional ? last.namedChildren[0] : undefined;
            return { symbol, type, apiVersion: apiVersion ?? '', existing, condition, loopOver: loop?.over, body, node: n };
        });
}

export interface ModuleDecl {
    symbol: string;
    path: string;
    body: Node;
    node: Node;
}

export function modules(root: Node): ModuleDecl[] {
    return root.namedChildren
        .filter((n) => n.type === 'module_declaration')
        .map((n) => {
            const last = n.namedChildren[n.namedChildren.length - 1]!;
            const body = last.type === 'object' ? last : last.namedChildren.find((c) => c.type === 'object')!;
            return { symbol: n.namedChildren[0]!.text, path: stringValue(n.namedChildren[1]) ?? '', body, node: n };
        });
}

/** Identifiers used anywhere below `n` (variables, params, resource symbols). */
export function identifiersIn(n: Node): Set<string> {
    const ids = new Set<string>();
    const visit = (x: Node): void => {
        if (x.type === 'identifier') ids.add(x.text);
        for (const c of x.namedChildren) visit(c);
    };
    visit(n);
    return ids;
}

/** Names of functions called anywhere below `n`. */
export function functionsCalledIn(n: Node): Set<string> {
    const names = new Set<string>();
    const visit = (x: Node): void => {
        if (x.type === 'call_expression') {
            const fn = x.childForFieldName('function');
            if (fn) names.add(fn.text);
        }
        for (const c of x.namedChildren) visit(c);
    };
    visit(n);
    return names;
}

/** All nodes of a type below `n` (inclusive). */
export function descendants(n: Node, type: string): Node[] {
    return n.descendantsOfType(type);
}
