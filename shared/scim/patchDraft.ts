/**
 * The PATCH engine's working state (patch.ts): the new resource being built from a shallow copy of the
 * input, the member delta, the ignored paths and the keys touched, and how an attribute is read from and
 * written to it. Attribute values in the draft are replaced, never modified, so the input stays intact.
 */
import type { ScimResource } from './store';
import { isPlainObject } from './isPlainObject';
import { replaceKey, valueNamed, withKey } from './caseInsensitiveKeys';
import { ScimError } from './errors';
import { checkElementCount } from './multiValuedElements';
import type { ResourceTypeName } from './schemas';
import type { Target } from './patchTargets';

export type OperationName = 'add' | 'replace' | 'remove';

export interface Draft {
    resourceType: ResourceTypeName;
    /** A shallow copy of the input. Attribute values in it are replaced, never modified. */
    resource: ScimResource;
    members: MemberDeltaBuilder | undefined;
    ignored: Set<string>;
    /** Top-level keys written or deleted: only they can differ from the input. */
    touched: Set<string>;
}

export interface MemberDeltaBuilder {
    clear: boolean;
    add: Set<string>;
    remove: Set<string>;
}

export function readAttribute(resource: ScimResource, target: Target): unknown {
    const container = target.extension === undefined ? resource : valueNamed(resource, target.extension);
    return isPlainObject(container) ? valueNamed(container, target.definition.name) : undefined;
}

export function writeAttribute(draft: Draft, target: Target, current: unknown, next: unknown): void {
    if (next === undefined && current !== undefined && target.definition.required && target.extension === undefined) {
        throw ScimError.badRequest('invalidValue', `'${target.definition.name}' is required and cannot be removed`);
    }
    if (next === current) return;
    if (Array.isArray(next)) checkElementCount(next.length, target.definition.name);
    const name = target.definition.name;
    if (target.extension === undefined) {
        replaceKey(draft.resource, name, next, draft.touched);
        return;
    }
    const existing = valueNamed(draft.resource, target.extension);
    const extension = withKey(isPlainObject(existing) ? existing : {}, name, next);
    replaceKey(draft.resource, target.extension, Object.keys(extension).length === 0 ? undefined : extension, draft.touched);
}
