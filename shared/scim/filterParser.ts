/**
 * The parser of the SCIM filter language (RFC 7644 §3.4.2.2) and of PATCH paths (RFC 7644 §3.5.2):
 * `parseFilter` and `parsePatchPath`, producing the AST of filterSyntax.ts. Pure: no schema knowledge
 * beyond recognising our schema URNs in attribute paths.
 *
 * The parser is a hand-written recursive descent over the string (no tokenizer pass, no regular
 * expression built from input): one pass, linear in the input, with the input length and the nesting
 * depth bounded so a hostile filter cannot exhaust the stack or the CPU.
 *
 * Beyond the RFC grammar it accepts what Microsoft actually sends (docs/entra-protocol.md §5.1, §12):
 * - `emails[type eq "work"].value eq "x"` (the form in Entra's docs) → `emails[type eq "work" and value eq "x"]`;
 * - bare unquoted words as values (`DisplayName eq BobIsAmazing`, `emails.Value co example.com`),
 *   read as strings unless they are a JSON number or `true` / `false` / `null`;
 * - any whitespace between tokens, and none where the tokens are unambiguous (`not(…)`).
 */
import { requireWellFormedText } from './caseFold';
import { ScimError, type ScimType } from './errors';
import { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, type CompareOperator, type FilterNode, type FilterValue, type PatchPath } from './filterSyntax';
import type { AttributeReference } from './schemas';
import { parseAttributeReference, servedSchemaIds } from './schemaRegistry';

const COMPARE_OPERATORS: ReadonlySet<string> = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const ORDERING_OPERATORS: ReadonlySet<string> = new Set(['gt', 'ge', 'lt', 'le']);
const SUBSTRING_OPERATORS: ReadonlySet<string> = new Set(['co', 'sw', 'ew']);

/** JSON number (RFC 8259 §6); the input is a bounded, already-delimited word, so this is linear. */
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

// ---- public entry points

/** Parses a `filter=` query parameter (already URL-decoded). Throws ScimError 400 `invalidFilter`. */
export function parseFilter(text: string): FilterNode {
    const parser = new Parser(text, 'invalidFilter', 'filter');
    const node = parser.parseFilterExpression(false);
    parser.expectEnd();
    return node;
}

/**
 * Parses a PATCH `path` (RFC 7644 §3.5.2): `name.givenName`, `urn:…:User:manager`,
 * `emails[type eq "work"].value`, `members[value eq "id"]`. Throws ScimError 400 `invalidPath`.
 */
export function parsePatchPath(text: string): PatchPath {
    const parser = new Parser(text, 'invalidPath', 'path');
    const result = parser.parsePatchPath();
    parser.expectEnd();
    return result;
}

// ---- the parser

/**
 * Character codes the parser branches on, inlined by the compiler (the parser is on every filtered request).
 * They are compared with `charCodeAt` numbers by design.
 */
/* eslint @typescript-eslint/no-unsafe-enum-comparison: "off" */
const enum Char {
    Tab = 9,
    LineFeed = 10,
    CarriageReturn = 13,
    Space = 32,
    Quote = 34,
    Dollar = 36,
    OpenParen = 40,
    CloseParen = 41,
    Minus = 45,
    Dot = 46,
    Zero = 48,
    Nine = 57,
    Colon = 58,
    UpperA = 65,
    UpperZ = 90,
    OpenBracket = 91,
    Backslash = 92,
    CloseBracket = 93,
    Underscore = 95,
    LowerA = 97,
    LowerZ = 122,
}

function isWhitespace(c: number): boolean {
    return c === Char.Space || c === Char.Tab || c === Char.LineFeed || c === Char.CarriageReturn;
}

function isAlpha(c: number): boolean {
    return (c >= Char.LowerA && c <= Char.LowerZ) || (c >= Char.UpperA && c <= Char.UpperZ);
}

function isDigit(c: number): boolean {
    return c >= Char.Zero && c <= Char.Nine;
}

/** Characters of an attribute path token: ATTRNAME characters plus the URN and sub-attribute separators. */
const PATH_CHARS = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:$') PATH_CHARS[c.charCodeAt(0)] = 1;

function isPathChar(c: number): boolean {
    return c < 128 && PATH_CHARS[c] === 1;
}

/** ATTRNAME = ALPHA *(nameChar) (RFC 7644 §3.4.2.2), plus a leading `$` for `$ref` (RFC 7643 §2.4). */
function isAttributeName(name: string): boolean {
    if (name.length === 0) return false;
    const first = name.charCodeAt(0);
    if (!isAlpha(first) && !(first === Char.Dollar && name.length > 1)) return false;
    for (let i = 1; i < name.length; i++) {
        const c = name.charCodeAt(i);
        if (!isAlpha(c) && !isDigit(c) && c !== Char.Minus && c !== Char.Underscore) return false;
    }
    return true;
}

/** Ends a bare (unquoted) value word: whitespace, brackets, parentheses, quotes. */
function endsBareWord(c: number): boolean {
    return isWhitespace(c) || c === Char.OpenParen || c === Char.CloseParen || c === Char.OpenBracket || c === Char.CloseBracket || c === Char.Quote;
}

class Parser {
    private position = 0;
    private depth = 0;

    constructor(
        private readonly text: string,
        private readonly scimType: ScimType,
        private readonly what: 'filter' | 'path',
    ) {
        if (typeof text !== 'string') throw this.fail(`The ${what} must be a string`);
        if (text.length > MAX_FILTER_LENGTH) throw this.fail(`The ${what} is longer than ${MAX_FILTER_LENGTH} characters`);
        requireWellFormedText(text, what);
    }

    // -- grammar

    /** FILTER with RFC precedence: or < and < not / grouping / attribute expressions. */
    parseFilterExpression(inElement: boolean): FilterNode {
        let left = this.parseConjunction(inElement);
        while (this.acceptKeyword('or')) {
            left = { kind: 'or', left, right: this.parseConjunction(inElement) };
        }
        return left;
    }

    private parseConjunction(inElement: boolean): FilterNode {
        let left = this.parseUnary(inElement);
        while (this.acceptKeyword('and')) {
            left = { kind: 'and', left, right: this.parseUnary(inElement) };
        }
        return left;
    }

    private parseUnary(inElement: boolean): FilterNode {
        this.skipWhitespace();
        if (this.peek() === Char.OpenParen) {
            this.position++;
            return this.nested(() => {
                const inner = this.parseFilterExpression(inElement);
                this.expectChar(Char.CloseParen, "')'");
                return inner;
            });
        }
        if (this.atNegation()) {
            this.position += 3;
            this.skipWhitespace();
            this.position++; // the '(' atNegation saw
            return this.nested(() => {
                const operand = this.parseFilterExpression(inElement);
                this.expectChar(Char.CloseParen, "')'");
                return { kind: 'not', operand };
            });
        }
        const pathStart = this.position;
        const path = this.parseAttributePath();
        if (inElement && (path.schema !== undefined || path.subAttribute !== undefined)) {
            throw this.fail('inside brackets, name a sub-attribute of the element (like type or value)', pathStart);
        }
        if (this.peek() === Char.OpenBracket) {
            if (inElement) throw this.fail('value filters cannot be nested', this.position);
            if (path.subAttribute !== undefined) throw this.fail('a value filter applies to an attribute, not to a sub-attribute', pathStart);
            return this.parseValuePath(path);
        }
        return this.parseAttributeExpressionAfterPath(path);
    }

    /** attrPath "[" valFilter "]", optionally followed by `.subAttr op value` (Entra's form). */
    private parseValuePath(path: AttributeReference): FilterNode {
        const filter = this.parseBracketedFilter();
        if (this.peek() !== Char.Dot) return { kind: 'valuePath', path, filter };
        this.position++;
        const subAttribute = this.parseName('a sub-attribute name after ].');
        const condition = this.parseAttributeExpressionAfterPath({ attribute: subAttribute });
        return { kind: 'valuePath', path, filter: { kind: 'and', left: filter, right: condition } };
    }

    private parseBracketedFilter(): FilterNode {
        this.position++; // '['
        return this.nested(() => {
            const filter = this.parseFilterExpression(true);
            this.expectChar(Char.CloseBracket, "']'");
            return filter;
        });
    }

    /** attrPath SP "pr" / attrPath SP compareOp SP compValue. */
    private parseAttributeExpressionAfterPath(path: AttributeReference): FilterNode {
        this.skipWhitespace();
        const operatorStart = this.position;
        const operator = this.readWord().toLowerCase();
        if (operator === 'pr') return { kind: 'present', path };
        if (!COMPARE_OPERATORS.has(operator)) {
            throw this.fail(operator === '' ? 'expected an operator' : 'unknown operator (expected eq, ne, co, sw, ew, gt, ge, lt, le or pr)', operatorStart);
        }
        const op = operator as CompareOperator;
        this.skipWhitespace();
        const valueStart = this.position;
        const value = this.parseValue();
        if (ORDERING_OPERATORS.has(op) && (value === null || typeof value === 'boolean')) {
            // RFC 7644 §3.4.2.2: ordering comparisons of booleans are a 400 invalidFilter.
            throw this.fail(`${op} needs a string, number or dateTime value`, valueStart);
        }
        if (SUBSTRING_OPERATORS.has(op) && (value === null || typeof value === 'boolean')) {
            throw this.fail(`${op} needs a string value`, valueStart);
        }
        return { kind: 'compare', path, op, value };
    }

    /** compValue = false / null / true / number / string (RFC 7644 §3.4.2.2), or a bare word (a string). */
    private parseValue(): FilterValue {
        if (this.peek() === Char.Quote) return this.parseString();
        const start = this.position;
        while (this.position < this.text.length && !endsBareWord(this.text.charCodeAt(this.position))) this.position++;
        const word = this.text.slice(start, this.position);
        if (word === '') throw this.fail('expected a value', start);
        // ABNF literals are case-insensitive (RFC 5234 §2.3).
        const lower = word.toLowerCase();
        if (lower === 'true') return true;
        if (lower === 'false') return false;
        if (lower === 'null') return null;
        if (JSON_NUMBER.test(word)) {
            const number = Number(word);
            if (!Number.isFinite(number)) throw this.fail('number out of range', start);
            return number;
        }
        // Microsoft's own test collection sends unquoted words (docs/entra-protocol.md §12): take them as strings.
        return word;
    }

    /** A JSON string (RFC 8259 §7), escapes included. */
    private parseString(): string {
        const start = this.position;
        this.position++; // opening quote
        let result = '';
        let runStart = this.position;
        while (this.position < this.text.length) {
            const c = this.text.charCodeAt(this.position);
            if (c === Char.Quote) {
                result += this.text.slice(runStart, this.position);
                this.position++;
                // `\ud800` escapes can spell half a surrogate pair: not text anything can equal (caseFold.ts).
                requireWellFormedText(result, this.what);
                return result;
            }
            if (c === Char.Backslash) {
                result += this.text.slice(runStart, this.position);
                result += this.parseEscape();
                runStart = this.position;
                continue;
            }
            this.position++;
        }
        throw this.fail('unterminated string', start);
    }

    private parseEscape(): string {
        const start = this.position;
        const code = this.text[this.position + 1];
        this.position += 2;
        switch (code) {
            case '"': return '"';
            case '\\': return '\\';
            case '/': return '/';
            case 'b': return '\b';
            case 'f': return '\f';
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case 'u': {
                const hex = this.text.slice(this.position, this.position + 4);
                if (hex.length !== 4 || !isHex(hex)) throw this.fail('invalid \\u escape in string', start);
                this.position += 4;
                return String.fromCharCode(parseInt(hex, 16));
            }
            default:
                throw this.fail('invalid escape in string', start);
        }
    }

    /**
     * attrPath = [URI ":"] ATTRNAME *1subAttr. Our schema URNs (in their own case) are split off here, so
     * `…:2.0:User:name.givenName` splits correctly despite the dots; any other URN goes to
     * `parseAttributeReference` (schemaRegistry.ts), which also knows our URNs in any case.
     */
    private parseAttributePath(): AttributeReference {
        this.skipWhitespace();
        const text = this.text;
        const start = this.position;
        while (this.position < text.length && isPathChar(text.charCodeAt(this.position))) this.position++;
        const end = this.position;
        if (start === end) throw this.fail(end >= text.length ? 'unexpected end, expected an attribute path' : 'expected an attribute path', start);

        let reference: AttributeReference;
        if (startsWithUrn(text, start, end)) {
            const schema = knownSchemaAt(text, start, end);
            reference = schema === undefined
                ? parseAttributeReference(text.slice(start, end))
                : { schema, ...splitPlainPath(text, start + schema.length + 1, end) };
            if (reference.schema !== undefined && !isUrn(reference.schema)) throw this.fail('invalid schema URN in attribute path', start);
        } else {
            reference = splitPlainPath(text, start, end);
        }
        if (!isAttributeName(reference.attribute)) throw this.fail('invalid attribute name', start);
        if (reference.subAttribute !== undefined && !isAttributeName(reference.subAttribute)) throw this.fail('invalid sub-attribute name', start);
        return reference;
    }

    /** PATH = attrPath / valuePath [subAttr] (RFC 7644 §3.5.2). */
    parsePatchPath(): PatchPath {
        const pathStart = this.position;
        const attribute = this.parseAttributePath();
        if (this.peek() !== Char.OpenBracket) return { attribute };
        if (attribute.subAttribute !== undefined) throw this.fail('a value filter applies to an attribute, not to a sub-attribute', pathStart);
        const valueFilter = this.parseBracketedFilter();
        if (this.peek() !== Char.Dot) return { attribute, valueFilter };
        this.position++;
        const subAttribute = this.parseName('a sub-attribute name after ].');
        return { attribute, valueFilter, subAttribute };
    }

    private parseName(expected: string): string {
        const start = this.position;
        while (this.position < this.text.length && isPathChar(this.text.charCodeAt(this.position))) this.position++;
        const name = this.text.slice(start, this.position);
        if (!isAttributeName(name)) throw this.fail(`expected ${expected}`, start);
        return name;
    }

    // -- scanning helpers

    private nested<T>(parse: () => T): T {
        if (++this.depth > MAX_FILTER_DEPTH) throw this.fail(`nested deeper than ${MAX_FILTER_DEPTH} levels`, this.position);
        const result = parse();
        this.depth--;
        return result;
    }

    /** `not` followed by `(`: a negation. A `not` followed by anything else is an attribute named "not". */
    private atNegation(): boolean {
        const text = this.text;
        const p = this.position;
        if (p + 3 > text.length) return false;
        if ((text.charCodeAt(p) | 0x20) !== 110 || (text.charCodeAt(p + 1) | 0x20) !== 111 || (text.charCodeAt(p + 2) | 0x20) !== 116) return false;
        let q = p + 3;
        while (q < text.length && isWhitespace(text.charCodeAt(q))) q++;
        return text.charCodeAt(q) === Char.OpenParen;
    }

    /** Consumes `and` / `or` (any case) if it is the next word. */
    private acceptKeyword(keyword: 'and' | 'or'): boolean {
        this.skipWhitespace();
        const end = this.position + keyword.length;
        if (end > this.text.length) return false;
        for (let i = 0; i < keyword.length; i++) {
            // `| 0x20` lower-cases ASCII letters; the keyword is lower-case letters only.
            if ((this.text.charCodeAt(this.position + i) | 0x20) !== keyword.charCodeAt(i)) return false;
        }
        if (end < this.text.length && isPathChar(this.text.charCodeAt(end))) return false;
        this.position = end;
        return true;
    }

    private readWord(): string {
        const start = this.position;
        while (this.position < this.text.length && isAlpha(this.text.charCodeAt(this.position))) this.position++;
        return this.text.slice(start, this.position);
    }

    private skipWhitespace(): void {
        while (this.position < this.text.length && isWhitespace(this.text.charCodeAt(this.position))) this.position++;
    }

    private peek(): number {
        return this.text.charCodeAt(this.position);
    }

    private expectChar(c: number, shown: string): void {
        this.skipWhitespace();
        if (this.peek() !== c) throw this.fail(`expected ${shown}`, this.position);
        this.position++;
    }

    expectEnd(): void {
        this.skipWhitespace();
        if (this.position < this.text.length) {
            throw this.fail(this.what === 'filter' ? "expected 'and', 'or' or the end of the filter" : 'expected the end of the path', this.position);
        }
    }

    /**
     * The error for malformed input: the 1-based character position and what was expected. The input
     * itself is never echoed back (it may hold personal data, and may be long).
     */
    private fail(message: string, position?: number): ScimError {
        const where = position === undefined ? '' : ` at character ${Math.min(position, this.text.length) + 1}`;
        return new ScimError(400, this.scimType, `Invalid ${this.what}${where}: ${message}`);
    }
}

/** `urn:` in any case at `start`, followed by more. */
function startsWithUrn(text: string, start: number, end: number): boolean {
    return end - start > 4
        && (text.charCodeAt(start) | 0x20) === 117 // u
        && (text.charCodeAt(start + 1) | 0x20) === 114 // r
        && (text.charCodeAt(start + 2) | 0x20) === 110 // n
        && text.charCodeAt(start + 3) === Char.Colon;
}

/** One of our schema URNs, written in its own case, followed by `:` and more, at `start`. */
function knownSchemaAt(text: string, start: number, end: number): string | undefined {
    for (const id of servedSchemaIds()) {
        const colon = start + id.length;
        if (colon + 1 < end && text.charCodeAt(colon) === Char.Colon && text.slice(start, colon) === id) return id;
    }
    return undefined;
}

/** `name.givenName` (between start and end) → attribute and sub-attribute. */
function splitPlainPath(text: string, start: number, end: number): AttributeReference {
    let dot = start;
    while (dot < end && text.charCodeAt(dot) !== Char.Dot) dot++;
    if (dot === end) return { attribute: text.slice(start, end) };
    return { attribute: text.slice(start, dot), subAttribute: text.slice(dot + 1, end) };
}

function isHex(text: string): boolean {
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i) | 0x20;
        if (!(isDigit(c) || (c >= Char.LowerA && c <= 102))) return false;
    }
    return true;
}

/** `urn:` followed by at least one more segment (RFC 8141, loosely: our path characters only). */
function isUrn(schema: string): boolean {
    return schema.length > 4 && schema.slice(0, 4).toLowerCase() === 'urn:';
}
