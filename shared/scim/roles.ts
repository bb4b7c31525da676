/**
 * Roles as Entra provisions app roles (docs/entra-protocol.md §14.3), read into the RFC 7643 §4.1.2 shape
 * `{value, display, type, primary}` before anything else looks at them:
 *
 * - SingleAppRoleAssignment: `[{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}]`
 *   and PATCH paths `roles[primary eq "True"].value` — already the RFC shape.
 * - AppRoleAssignmentsComplex: POST names the display `displayName` (read as `display`) and sends `primary`
 *   as `false` or `"false"` (coerced like every boolean); its PATCH `add` carries each role as a JSON
 *   string inside `value`: `{"value": "{\"id\":\"…\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}`,
 *   decoded into `value` and `display`. The `id` is the app role's id, not the role value, and is dropped.
 * - AssertiveAppRoleAssignmentsComplex: a `replace` of `roles` with the set, in either element shape.
 *
 * Merging (add, replace, remove) is the one mechanism every multi-valued attribute uses; only the
 * element shape is Entra's business here. A `value` that starts like a JSON object but is not one is a
 * 400 `invalidValue`, never stored as the literal text.
 */
import { keyNamed } from './caseInsensitiveKeys';
import { isPlainObject } from './isPlainObject';
import { ScimError } from './errors';
import { ROLES_ATTRIBUTE, type AttributeDefinition } from './schemas';

/** Whether `definition` is the core User `roles` attribute, whose elements Entra sends in its own shapes. */
export function isRolesAttribute(definition: AttributeDefinition): boolean {
    return definition === ROLES_ATTRIBUTE;
}

/** One element of `roles` as a client sent it → the RFC shape (other values are left to the validator). */
export function readRoleElement(element: unknown): unknown {
    if (!isPlainObject(element)) return element;
    let role = element;
    const valueKey = keyNamed(role, 'value');
    const value = valueKey === undefined ? undefined : role[valueKey];
    if (typeof value === 'string' && value.trimStart().startsWith('{')) {
        const { [valueKey!]: _encoded, ...rest } = role;
        role = { ...rest, ...decodeAssignment(value) };
    }
    const displayNameKey = keyNamed(role, 'displayName');
    if (displayNameKey !== undefined) {
        const { [displayNameKey]: displayName, ...rest } = role;
        role = keyNamed(rest, 'display') === undefined && displayName !== undefined && displayName !== null ? { ...rest, display: displayName } : rest;
    }
    return role;
}

/** `{"id": "…", "value": "25", "displayName": "Role1234"}` → `{value: "25", display: "Role1234"}`. */
function decodeAssignment(text: string): Record<string, unknown> {
    let decoded: unknown;
    try {
        decoded = JSON.parse(text);
    } catch {
        decoded = undefined;
    }
    const valueKey = isPlainObject(decoded) ? keyNamed(decoded, 'value') : undefined;
    const value = valueKey === undefined ? undefined : (decoded as Record<string, unknown>)[valueKey];
    if (typeof value !== 'string' || value === '') {
        // The text is never echoed: a role assignment names people's access.
        throw ScimError.badRequest('invalidValue', "The value of 'roles.value' must be a role, or a JSON object with a string 'value' as Entra sends app role assignments");
    }
    const role: Record<string, unknown> = { value };
    const displayKey = keyNamed(decoded as Record<string, unknown>, 'displayName') ?? keyNamed(decoded as Record<string, unknown>, 'display');
    const display = displayKey === undefined ? undefined : (decoded as Record<string, unknown>)[displayKey];
    if (typeof display === 'string' && display !== '') role.display = display;
    return role;
}
