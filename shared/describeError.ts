/**
 * The one description of a caught error for a log line: `RestError status=503 code=ServiceUnavailable`,
 * optionally followed by the first stack frames. Never the message: an SDK message can quote a response body
 * (Node's JSON parse errors do) or a request (a RowKey holds a userName), and either can hold a token.
 */
import { statusCodeOf } from './statusCodeOf';

export function describeError(error: unknown, options: { stackFrames?: number } = {}): string {
    const parts = [error instanceof Error ? error.name : typeof error];
    const status = statusCodeOf(error);
    if (status !== undefined) parts.push(`status=${status}`);
    if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') parts.push(`code=${error.code}`);
    const frames = options.stackFrames && error instanceof Error
        ? (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at ')).slice(0, options.stackFrames)
        : [];
    return [parts.join(' '), ...frames].join('\n');
}
