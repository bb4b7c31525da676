/**
 * The HTTP status of what an Azure SDK threw: a `RestError` carries it in `statusCode` (Table Storage's 412
 * on the single-entity path has no `code`, docs/azure-notes.md §3, so the status is what to go by). Read
 * structurally, without depending on @azure/core-rest-pipeline; undefined when no response arrived.
 */
export function statusCodeOf(error: unknown): number | undefined {
    if (typeof error !== 'object' || error === null || !('statusCode' in error)) return undefined;
    const status = error.statusCode;
    return typeof status === 'number' && status > 0 ? status : undefined;
}
