/**
 * The per-request summary log line (docs/logs.md), bounded: whatever a request carried, its line holds no
 * attribute value and stays under `MAX_LOG_LINE_BYTES`. Application Insights cuts a message at about 32 KB,
 * and a cut line no longer parses as JSON (one POST with 40,000 unknown keys wrote 640 KB).
 */

export const SUMMARY_PREFIX = 'scim request ';
/** The most bytes one log line may take, prefix included. */
export const MAX_LOG_LINE_BYTES = 4096;
/** The most ignored attribute names one line lists; `ignoredPathsOmitted` counts the rest. */
export const MAX_LOGGED_NAMES = 20;
/** Longer names and ids are cut (an attribute name of ours is under 80 characters, an id 36). */
const MAX_NAME_LENGTH = 128;
const MAX_ID_LENGTH = 64;
/** Logged in place of a path that is not an attribute name: it may be a value (an e-mail address as a JSON key). */
export const NOT_A_NAME = '(not an attribute name)';

export interface RequestSummary {
    invocationId: string;
    method: string;
    resourceType?: string | undefined;
    resourceId?: string | undefined;
    status: number;
    scimType?: string | undefined;
    storageRequests: number;
    durationMs: number;
    /** As collected while handling the request: paths as the client wrote them, any number. */
    ignoredPaths?: readonly string[] | undefined;
}

/**
 * `scim request {json}`, with ignored paths reduced to distinct attribute names, at most `MAX_LOGGED_NAMES` of them;
 * `ignoredPathsOmitted` counts the paths not listed (the engine reports each path once, so they are other names).
 */
export function summaryLine(summary: RequestSummary): string {
    const { ignoredPaths, ...fields } = summary;
    const logged: Record<string, unknown> = { ...fields, resourceId: summary.resourceId === undefined ? undefined : cut(summary.resourceId, MAX_ID_LENGTH) };
    // Only as many paths are reduced to names as it takes to find MAX_LOGGED_NAMES distinct ones; the rest are counted.
    const paths = ignoredPaths ?? [];
    const names = new Set<string>();
    let read = 0;
    for (; read < paths.length && names.size < MAX_LOGGED_NAMES; read++) names.add(attributeNameOf(paths[read]!));
    let kept = [...names];
    const unread = paths.length - read;
    for (;;) {
        if (kept.length > 0) logged.ignoredPaths = kept;
        else delete logged.ignoredPaths;
        const omitted = unread + names.size - kept.length;
        if (omitted > 0) logged.ignoredPathsOmitted = omitted;
        const line = SUMMARY_PREFIX + JSON.stringify(logged);
        if (Buffer.byteLength(line) <= MAX_LOG_LINE_BYTES || kept.length === 0) return line;
        kept = kept.slice(0, -1);
    }
}

/**
 * The attribute name a path names, without what a value filter says (`emails[value eq "bob@example.com"].type`
 * → `emails.type`): filter values are attribute values. What is then not shaped like an attribute path
 * (RFC 7643 §2.1 ATTRNAME, optionally `.sub-attribute`, optionally behind a schema URN) is logged as `NOT_A_NAME`.
 */
export function attributeNameOf(path: string): string {
    const name = withoutValueFilters(path);
    return ATTRIBUTE_PATH.test(name) ? cut(name, MAX_NAME_LENGTH) : NOT_A_NAME;
}

const ATTRIBUTE_PATH = /^(?:urn:[A-Za-z0-9._-]+(?::[A-Za-z0-9._-]+)*:)?\$?[A-Za-z][\w-]*(?:\.\$?[A-Za-z][\w-]*)?$/i;

/** Drops every `[…]` part, skipping brackets inside quoted strings; an unclosed `[` drops the rest. */
function withoutValueFilters(path: string): string {
    let kept = '';
    let depth = 0;
    let inString = false;
    for (let i = 0; i < path.length; i++) {
        const char = path[i]!;
        if (depth === 0) {
            if (char === '[') depth = 1;
            else kept += char;
        } else if (inString) {
            if (char === '\\') i++;
            else if (char === '"') inString = false;
        } else if (char === '"') {
            inString = true;
        } else if (char === '[') {
            depth++;
        } else if (char === ']') {
            depth--;
        }
    }
    return kept;
}

function cut(text: string, length: number): string {
    return text.length <= length ? text : `${text.slice(0, length)}…`;
}
