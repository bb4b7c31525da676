/**
 * The syntax of the SCIM filter language (RFC 7644 §3.4.2.2) and of PATCH paths (RFC 7644 §3.5.2): the
 * AST, its limits and `printFilter`. `parseFilter` and `parsePatchPath` are in filterParser.ts. Pure: no
 * schema knowledge.
 */
import type { AttributeReference } from './schemas';

export type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterValue = string | number | boolean | null;

/**
 * A parsed filter. Attribute names keep the case they were written in (names are case-insensitive,
 * RFC 7643 §2.1; the evaluator resolves them); known schema URNs are canonical; operators are lower case.
 * ASTs are treated as immutable (the evaluator caches compiled predicates per node).
 */
export type FilterNode =
    | { kind: 'compare'; path: AttributeReference; op: CompareOperator; value: FilterValue }
    | { kind: 'present'; path: AttributeReference }
    | { kind: 'and'; left: FilterNode; right: FilterNode }
    | { kind: 'or'; left: FilterNode; right: FilterNode }
    | { kind: 'not'; operand: FilterNode }
    /** attrPath "[" valFilter "]": the inner filter's paths are relative to one element (same-element semantics). */
    | { kind: 'valuePath'; path: AttributeReference; filter: FilterNode };

/** A PATCH operation's `path` (RFC 7644 §3.5.2: PATH = attrPath / valuePath [subAttr]). */
export interface PatchPath {
    attribute: AttributeReference;
    /** The filter between the brackets, with paths relative to one element. */
    valueFilter?: FilterNode;
    /** The sub-attribute after the brackets: `value` in `emails[type eq "work"].value`. */
    subAttribute?: string;
}

/** Longest filter accepted (characters). Entra's filters are one or two `eq` clauses, far below this. */
export const MAX_FILTER_LENGTH = 4096;
/** Deepest nesting of parentheses, `not (…)` and brackets accepted. */
export const MAX_FILTER_DEPTH = 32;

/**
 * Prints an AST as filter text that `parseFilter` reads back to an equal AST. Parentheses are added
 * exactly where the tree's shape needs them (`not` binds tighter than `and`, `and` tighter than `or`).
 */
export function printFilter(ast: FilterNode): string {
    switch (ast.kind) {
        case 'compare':
            return `${printPath(ast.path)} ${ast.op} ${printValue(ast.value)}`;
        case 'present':
            return `${printPath(ast.path)} pr`;
        case 'not':
            return `not (${printFilter(ast.operand)})`;
        case 'valuePath':
            return `${printPath(ast.path)}[${printFilter(ast.filter)}]`;
        case 'and':
        case 'or': {
            const own = precedence(ast);
            // Left-associative: a same-precedence left child needs no parentheses, a right one does.
            const left = precedence(ast.left) < own ? `(${printFilter(ast.left)})` : printFilter(ast.left);
            const right = precedence(ast.right) <= own ? `(${printFilter(ast.right)})` : printFilter(ast.right);
            return `${left} ${ast.kind} ${right}`;
        }
    }
}

function precedence(node: FilterNode): number {
    if (node.kind === 'or') return 1;
    if (node.kind === 'and') return 2;
    return 3;
}

export function printPath(path: AttributeReference): string {
    const prefix = path.schema === undefined ? '' : `${path.schema}:`;
    const suffix = path.subAttribute === undefined ? '' : `.${path.subAttribute}`;
    return prefix + path.attribute + suffix;
}

function printValue(value: FilterValue): string {
    if (typeof value === 'number') {
        if (!Number.isFinite(value)) throw new Error('a filter number must be finite');
        return Object.is(value, -0) ? '-0' : String(value);
    }
    return JSON.stringify(value);
}
