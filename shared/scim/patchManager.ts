/**
 * The enterprise `manager` under PATCH (docs/entra-protocol.md §5.6): whatever shape the client sends, it
 * is stored as `{ value: "<id>" }`.
 */
import { isPlainObject } from './isPlainObject';
import { valueNamed } from './caseInsensitiveKeys';
import { ScimError } from './errors';
import { matchesElement } from './filterEvaluator';
import type { Draft, OperationName } from './patchDraft';
import type { Target } from './patchTargets';
import { invalidValue, isClearValue } from './patchValues';
import { ENTERPRISE_USER_SCHEMA } from './schemas';

export function isManager(target: Target): boolean {
    return target.extension === ENTERPRISE_USER_SCHEMA && target.definition.name === 'manager';
}

/**
 * The manager, always `{ value: "<id>" }`: Entra re-PATCHes it every cycle if it reads back another shape
 * (MicrosoftDocs/azure-docs#11784). Accepted: an id string, `{value}`, `[{value, $ref}]`; `""`,
 * `{value: ""}` and `null` remove it.
 */
export function nextManager(op: OperationName, target: Target, current: unknown, value: unknown, draft: Draft): unknown {
    if (target.valueFilter !== undefined) {
        const matches = current !== undefined && matchesElement(target.valueFilter, current, draft.resourceType, { schema: ENTERPRISE_USER_SCHEMA, attribute: 'manager' });
        if (!matches) {
            if (op === 'remove' || isClearValue(value)) return current;
            throw ScimError.badRequest('noTarget', `'${target.text}' matches no value`);
        }
    }
    if (op === 'remove') return undefined;
    if (target.subDefinition !== undefined && target.subDefinition.name !== 'value') {
        // `manager.$ref`: we store the id only; a `$ref` can be derived from it when returned.
        draft.ignored.add(target.text);
        return current;
    }
    return managerFrom(value, target.text);
}

function managerFrom(value: unknown, path: string): { value: string } | undefined {
    if (isClearValue(value)) return undefined;
    if (typeof value === 'string') return { value };
    if (Array.isArray(value)) {
        if (value.length === 0) return undefined;
        if (value.length > 1) throw invalidValue(path, 'a single manager');
        return managerFrom(value[0], path);
    }
    if (isPlainObject(value)) {
        const id = valueNamed(value, 'value');
        if (id === undefined) throw invalidValue(path, 'a user id, or an object with a value');
        return managerFrom(id, path);
    }
    throw invalidValue(path, 'a user id, or an object with a value');
}
