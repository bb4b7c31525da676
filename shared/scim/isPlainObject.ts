/** A JSON object (not an array, not null): what a resource, a complex value or a PatchOp must be. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
