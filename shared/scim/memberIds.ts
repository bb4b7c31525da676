/**
 * Group members are named by id (RFC 7643 §4.2: `members[].value`). The one place that reads member ids
 * out of a request value and out of a `value eq "<id>"` filter, for POST/PUT bodies, PATCH operations and
 * the planner's membership probe alike.
 */
import { isPlainObject } from './isPlainObject';
import { valueNamed } from './caseInsensitiveKeys';
import { ScimError } from './errors';
import type { FilterNode } from './filterSyntax';

/**
 * Member ids from a value: `[{value, $ref?, display?}]`, a single such object, or bare id strings
 * (Microsoft's reference Postman collection sends `"value": "string id 1"`, docs/entra-protocol.md §12).
 * Throws 400 `invalidValue` naming `path` for anything else.
 */
export function memberIdsOf(value: unknown, path: string): string[] {
    const items: unknown[] = Array.isArray(value) ? value : [value];
    return items.map((item) => {
        const id = isPlainObject(item) ? valueNamed(item, 'value') : item;
        if (typeof id !== 'string' || id === '') {
            throw ScimError.badRequest('invalidValue', `Each member in '${path}' needs a non-empty string value`);
        }
        return id;
    });
}

/**
 * The member id a filter on one member names: `value eq "<id>"` (a string, no schema or sub-attribute), as
 * inside `members[value eq "<id>"]`; undefined for any other filter.
 */
export function memberIdCompared(filter: FilterNode): string | undefined {
    if (filter.kind !== 'compare' || filter.op !== 'eq' || typeof filter.value !== 'string') return undefined;
    const { path } = filter;
    return path.schema === undefined && path.subAttribute === undefined && path.attribute.toLowerCase() === 'value' ? filter.value : undefined;
}
