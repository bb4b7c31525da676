/**
 * The one structured line `scimEndpoint.ts` writes per SCIM request (`scim request {json}`), parsed.
 * docs/logs.md documents the fields.
 */
import { SUMMARY_PREFIX } from '../../../shared/http/summaryLine';

export { SUMMARY_PREFIX };

export interface RequestSummary {
    invocationId: string;
    method: string;
    resourceType?: string;
    resourceId?: string;
    status: number;
    scimType?: string;
    storageRequests: number;
    durationMs: number;
    ignoredPaths?: string[];
    ignoredPathsOmitted?: number;
}

/** The summary lines among captured log lines (optionally only those after index `from`). */
export function summaryLines(logs: readonly string[], from = 0): RequestSummary[] {
    return logs
        .slice(from)
        .filter((line) => line.startsWith(SUMMARY_PREFIX))
        .map((line) => JSON.parse(line.slice(SUMMARY_PREFIX.length)) as RequestSummary);
}
