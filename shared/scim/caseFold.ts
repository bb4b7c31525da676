/**
 * The one comparison form of text that compares case-insensitively (RFC 7643 §2.2, caseExact false), used
 * by every place that compares or keys such text: the filter evaluator, the PATCH engine's value matching,
 * the uniqueness keys of userName / displayName and the keys of every equality index. One function, so
 * that what a filter finds, what a create clashes with and what an index row is keyed by always agree:
 * `José` (composed) and `Jose\u0301` (decomposed) are one name for all three.
 *
 * The form is Unicode NFC, then locale-independent lower case. Lower-casing after NFC keeps the result in
 * NFC for every character Unicode defines, so the fold is idempotent (a property test holds it to that).
 * `ß` and `SS` stay different (no full case folding): keys written by earlier versions use this same form.
 *
 * Text with a lone surrogate (half of a UTF-16 pair, not a Unicode character) cannot be normalised or
 * encoded faithfully; the service refuses it with 400 invalidValue rather than guessing (it used to be
 * mapped to U+FFFD, which made two different inputs one key).
 */
import { ScimError } from './errors';

export function caseFolded(text: string): string {
    return text.normalize('NFC').toLowerCase();
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function hasLoneSurrogate(text: string): boolean {
    return LONE_SURROGATE.test(text);
}

/** Throws 400 invalidValue for text holding a lone surrogate; `what` names where it was (never the value). */
export function requireWellFormedText(text: string, what: string): void {
    if (hasLoneSurrogate(text)) throw loneSurrogateError(what);
}

/**
 * Throws 400 invalidValue if any string in a JSON value (keys included) holds a lone surrogate. Iterative,
 * so a deep document cannot overflow the stack; bodies are depth-capped before this runs anyway.
 */
export function requireWellFormedJson(value: unknown, what: string): void {
    const pending: unknown[] = [value];
    while (pending.length > 0) {
        const next = pending.pop();
        if (typeof next === 'string') {
            if (hasLoneSurrogate(next)) throw loneSurrogateError(what);
        } else if (Array.isArray(next)) {
            pending.push(...(next as unknown[]));
        } else if (typeof next === 'object' && next !== null) {
            for (const [key, inner] of Object.entries(next)) {
                if (hasLoneSurrogate(key)) throw loneSurrogateError(what);
                pending.push(inner);
            }
        }
    }
}

function loneSurrogateError(what: string): ScimError {
    return ScimError.badRequest('invalidValue', `The ${what} holds text with a lone surrogate, which is not Unicode text`);
}
