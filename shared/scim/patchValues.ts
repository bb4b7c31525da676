/**
 * The new value of an attribute under one PATCH operation (RFC 7644 §3.5.2.1–3), computed from its current
 * value without modifying it: whole attributes, sub-attributes, elements selected by a value filter
 * (`emails[type eq "work"].value`), canonical and type-checked. Undefined means unassigned.
 */
import { canonicalizeAttributeValue, checkAttributeValue } from './attributeValues';
import { isPlainObject } from './isPlainObject';
import { withKey } from './caseInsensitiveKeys';
import { ScimError } from './errors';
import { matchesElement } from './filterEvaluator';
import type { FilterNode } from './filterSyntax';
import { checkElementCount, withAddedElements, withAddedSimpleValues, withoutGivenValues, withoutSimpleValues, withSinglePrimary } from './multiValuedElements';
import type { Draft, OperationName } from './patchDraft';
import type { Target } from './patchTargets';
import { isRolesAttribute, readRoleElement } from './roles';
import { findByName, type AttributeDefinition, type AttributeReference } from './schemas';

/** The attribute's new value (undefined: unassigned), computed from its current one without modifying it. */
export function nextAttributeValue(op: OperationName, target: Target, current: unknown, value: unknown, draft: Draft): unknown {
    if (target.valueFilter !== undefined) return throughValueFilter(op, target, target.valueFilter, current, value, draft);
    if (target.subDefinition !== undefined) return onSubAttribute(op, target, target.subDefinition, current, value, draft);
    return onWholeAttribute(op, target, current, value, draft);
}

/** `""` and `null` clear (docs/entra-protocol.md §11: SCIM_Null_Update expects both to leave the attribute absent). */
export function isClearValue(value: unknown): boolean {
    return value === null || value === '';
}

function onWholeAttribute(op: OperationName, target: Target, current: unknown, value: unknown, draft: Draft): unknown {
    const { definition } = target;
    if (definition.multiValued && definition.type !== 'complex' && !isClearValue(value) && value !== undefined) return onSimpleValues(op, target, current, value);
    if (op === 'remove') {
        // A remove with a value on a multi-valued attribute removes those values only (as for members).
        if (definition.multiValued && value !== undefined && value !== null) return withoutValues(target, current, value);
        return undefined;
    }
    if (isClearValue(value)) return undefined;
    if (definition.multiValued) {
        const elements = elementsFromValue(target, value, draft);
        if (op === 'replace') return nonEmptyArray(elements);
        // RFC 7644 §3.5.2.1: adding a value that is already there changes nothing. "There" is what a remove
        // with the same value would take away: an element holding every sub-attribute given, compared as the
        // schema says (so a role Entra re-adds as `{value, display}` matches the role it created with `type`
        // and `primary` too, docs/entra-protocol.md §14.3).
        const existing = Array.isArray(current) ? current : [];
        return nonEmptyArray(withSinglePrimary(existing, withAddedElements(definition.subAttributes ?? [], existing, elements)));
    }
    if (definition.type === 'complex') {
        // RFC 7644 §3.5.2.1/§3.5.2.3: sub-attributes in the value replace or add; the others stay.
        if (!isPlainObject(value)) throw invalidValue(target.text, 'an object');
        let next: Record<string, unknown> = isPlainObject(current) ? current : {};
        for (const [key, subValue] of Object.entries(value)) {
            const subDefinition = findByName(definition.subAttributes ?? [], key);
            if (subDefinition === undefined) {
                draft.ignored.add(`${target.text}.${key}`);
                continue;
            }
            next = withSubAttribute(next, subDefinition, subValue, `${target.text}.${subDefinition.name}`, draft);
        }
        return hasContent(next) ? next : undefined;
    }
    return simpleValue(definition, value, target.text);
}

/**
 * A multi-valued attribute of a simple type (a declared extension's list of strings, say): its elements
 * are values, not objects. The given values (one accepted in place of an array, RFC 7644 §3.5.2.1) pass
 * the one type check as the attribute's array; add appends those not there yet, remove takes them away.
 */
function onSimpleValues(op: OperationName, target: Target, current: unknown, value: unknown): unknown {
    const { definition } = target;
    const existing: unknown[] = Array.isArray(current) ? current : [];
    const values: unknown[] = Array.isArray(value) ? value : [value];
    checkElementCount(values.length, target.text); // before any work on them
    const given = simpleValue(definition, values, target.text) as unknown[];
    if (op === 'remove') return nonEmptyArray(withoutSimpleValues(definition, existing, given));
    if (op === 'replace') return nonEmptyArray(given);
    return nonEmptyArray(withAddedSimpleValues(definition, existing, given));
}

function onSubAttribute(op: OperationName, target: Target, subDefinition: AttributeDefinition, current: unknown, value: unknown, draft: Draft): unknown {
    const subValue = op === 'remove' ? null : value;
    if (!target.definition.multiValued) {
        const next = withSubAttribute(isPlainObject(current) ? current : {}, subDefinition, subValue, target.text, draft);
        return hasContent(next) ? next : undefined;
    }
    // No filter: the sub-attribute of every element (RFC 7644 §3.5.2.3); none yet: add/replace creates one.
    const elements = Array.isArray(current) ? current : [];
    if (elements.length === 0) {
        if (isClearValue(subValue)) return current;
        return nonEmptyArray(keepElements([withSubAttribute({}, subDefinition, subValue, target.text, draft)]));
    }
    const next = elements.map((element) => withSubAttribute(asObject(element), subDefinition, subValue, target.text, draft));
    return nonEmptyArray(keepElements(next));
}

/**
 * `emails[type eq "work"].value` and the like (RFC 7644 §3.5.2). A single-valued complex attribute
 * (`manager[value eq "x"]`) is treated as a list of at most one element.
 */
function throughValueFilter(op: OperationName, target: Target, filter: FilterNode, current: unknown, value: unknown, draft: Draft): unknown {
    const { definition, subDefinition } = target;
    const elements = listOf(definition, current);
    const parent: AttributeReference = target.extension === undefined ? { attribute: definition.name } : { schema: target.extension, attribute: definition.name };
    const matched = elements.map((element) => matchesElement(filter, element, draft.resourceType, parent));
    const anyMatched = matched.includes(true);
    const { selectedBy } = target;
    let next: unknown[];
    if (op === 'remove' || isClearValue(value)) {
        // Nothing matched: what the remove or clear would take away is already absent, so it succeeds
        // without a change (Entra re-sends operations it already made when it retries a request).
        if (!anyMatched) return current;
        next = subDefinition === undefined
            ? elements.filter((_, index) => !matched[index])
            : keepElements(elements.map((element, index) => (matched[index] ? withSubAttribute(asObject(element), subDefinition, null, target.text, draft) : element)));
    } else if (anyMatched) {
        next = keepElements(elements.map((element, index) => (matched[index] ? updatedElement(op, target, asObject(element), value, selectedBy, draft) : element)));
    } else {
        // RFC 7644 §3.5.2.3 says noTarget, but Entra uses add/replace for an attribute's first value and
        // expects the typed element to be created (docs/entra-protocol.md §5.4, §13.5).
        if (selectedBy === undefined) throw ScimError.badRequest('noTarget', `'${target.text}' matches no value`);
        const created = updatedElement('add', target, { ...selectedBy }, value, selectedBy, draft);
        // `emails[type eq "work"]` with `{type: "fax"}` would create an element the path does not select.
        if (!matchesElement(filter, created, draft.resourceType, parent)) {
            throw ScimError.badRequest('invalidValue', `The value of '${target.text}' contradicts its value filter`);
        }
        next = keepElements([...elements, created]);
    }
    if (!definition.multiValued) return next[0];
    return nonEmptyArray(withSinglePrimary(elements, next));
}

/** `selectedBy`: what the filter selects elements by (`{type: "work"}`), when it is that simple. */
function updatedElement(
    op: OperationName,
    target: Target,
    element: Record<string, unknown>,
    value: unknown,
    selectedBy: Record<string, unknown> | undefined,
    draft: Draft,
): Record<string, unknown> {
    if (target.subDefinition !== undefined) return withSubAttribute(element, target.subDefinition, value, target.text, draft);
    const [replacement] = elementsFromValue(target, value, draft);
    if (replacement === undefined) return element;
    // RFC 7644 §3.5.2.3: replace replaces the matching values, which stay what the filter selected
    // (`addresses[type eq "work"]` remains a work address); add merges into them.
    return op === 'replace' ? { ...selectedBy, ...replacement } : { ...element, ...replacement };
}

function simpleValue(definition: AttributeDefinition, value: unknown, path: string): unknown {
    const canonical = canonicalizeAttributeValue(definition, value);
    checkAttributeValue(definition, canonical, path);
    return canonical;
}

/**
 * The elements of a value for a multi-valued attribute, canonical and checked. A single element is
 * accepted in place of an array (RFC 7644 §3.5.2.1 shows arrays; clients send either). Of several given as
 * `primary: true` the first stays primary (RFC 7643 §2.4: at most one), so adding the same value twice
 * finds the elements the first add wrote.
 */
function elementsFromValue(target: Target, value: unknown, draft: Draft): Record<string, unknown>[] {
    const { definition, text } = target;
    const items = Array.isArray(value) ? value : [value];
    checkElementCount(items.length, text); // before any work on them
    const elements: Record<string, unknown>[] = [];
    for (const given of items) {
        if (given === null) continue;
        // Entra's role shapes (a JSON string in `value`, `displayName`) read as the RFC's (roles.ts).
        const item: unknown = isRolesAttribute(definition) ? readRoleElement(given) : given;
        if (!isPlainObject(item)) throw invalidValue(text, 'an object or an array of objects');
        let element: Record<string, unknown> = {};
        for (const [key, subValue] of Object.entries(item)) {
            const subDefinition = findByName(definition.subAttributes ?? [], key);
            if (subDefinition === undefined) {
                draft.ignored.add(`${text}.${key}`);
                continue;
            }
            element = withSubAttribute(element, subDefinition, subValue, `${text}.${subDefinition.name}`, draft);
        }
        if (hasContent(element)) elements.push(element);
    }
    return withSinglePrimary([], elements).filter(isPlainObject);
}

/** A copy of `object` with a sub-attribute set, or removed for `""` / `null`; other spellings of its name go. */
function withSubAttribute(object: Record<string, unknown>, subDefinition: AttributeDefinition, value: unknown, path: string, draft: Draft): Record<string, unknown> {
    if (subDefinition.mutability === 'readOnly') {
        // Sent inside a value (a member's `display`): not the client's to set; RFC 7643 §7 "SHALL NOT be modified".
        return object;
    }
    if (isClearValue(value)) return withKey(object, subDefinition.name, undefined);
    const canonical = canonicalizeAttributeValue(subDefinition, value, (name) => draft.ignored.add(`${path}.${name}`));
    checkAttributeValue(subDefinition, canonical, path);
    return withKey(object, subDefinition.name, canonical);
}

/**
 * Elements worth keeping: one left with nothing but its `type` or `primary` (say, after its `value` was
 * cleared) carries no value and is dropped, so a clear leaves the attribute unassigned (docs/entra-protocol.md §11).
 */
function keepElements(elements: unknown[]): unknown[] {
    return elements.filter((element) => !isPlainObject(element) || hasContent(element));
}

function hasContent(object: Record<string, unknown>): boolean {
    return Object.keys(object).some((key) => key !== 'type' && key !== 'primary');
}

/** Removes the elements equal to the given values (`[{value: "x"}]` or `"x"`); the others stay. */
function withoutValues(target: Target, current: unknown, value: unknown): unknown {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    checkElementCount(values.length, target.text); // before any work on them
    if (!Array.isArray(current)) return current;
    const given = values.map((g): unknown => (isRolesAttribute(target.definition) ? readRoleElement(g) : g));
    return nonEmptyArray(withoutGivenValues(target.definition.subAttributes ?? [], current, given));
}

function listOf(definition: AttributeDefinition, current: unknown): unknown[] {
    if (definition.multiValued) return Array.isArray(current) ? current : [];
    return current === undefined ? [] : [current];
}

function asObject(element: unknown): Record<string, unknown> {
    return isPlainObject(element) ? element : {};
}

function nonEmptyArray(elements: unknown[]): unknown[] | undefined {
    return elements.length === 0 ? undefined : elements;
}

export function invalidValue(path: string, expected: string): ScimError {
    return ScimError.badRequest('invalidValue', `The value of '${path}' must be ${expected}`);
}
