/**
 * Group members under PATCH (docs/entra-protocol.md §6): a delta of ids to clear, remove and add, never the
 * member list, so a change costs the same for a group of 10 or of 50,000.
 */
import { ScimError } from './errors';
import type { FilterNode } from './filterSyntax';
import { memberIdCompared, memberIdsOf } from './memberIds';
import type { Draft, MemberDeltaBuilder, OperationName } from './patchDraft';
import type { Target } from './patchTargets';
import { isClearValue } from './patchValues';

export function applyMemberOperation(draft: Draft, op: OperationName, target: Target, value: unknown): void {
    if (target.subDefinition !== undefined) {
        throw ScimError.badRequest('mutability', `'${target.text}': members are added and removed whole; their sub-attributes are immutable`);
    }
    const delta = (draft.members ??= { clear: false, add: new Set(), remove: new Set() });
    if (target.valueFilter !== undefined) {
        if (op !== 'remove') throw ScimError.badRequest('invalidPath', `'${target.text}': a filter on members is only supported in a remove`);
        for (const id of memberIdsInFilter(target.valueFilter, target.text)) removeMember(delta, id);
        return;
    }
    switch (op) {
        case 'add':
            if (isClearValue(value)) return;
            for (const id of memberIdsOf(value, target.text)) addMember(delta, id);
            return;
        case 'replace':
            clearMembers(delta);
            if (isClearValue(value)) return;
            for (const id of memberIdsOf(value, target.text)) addMember(delta, id);
            return;
        case 'remove':
            // Entra's default dialect sends the members to remove as a value array: remove only those
            // (MicrosoftDocs/azure-docs#30826). Without a value, the RFC's "remove the attribute": all members.
            if (value === undefined || value === null) {
                clearMembers(delta);
                return;
            }
            for (const id of memberIdsOf(value, target.text)) removeMember(delta, id);
            return;
    }
}

function addMember(delta: MemberDeltaBuilder, id: string): void {
    delta.remove.delete(id);
    delta.add.add(id);
}

function removeMember(delta: MemberDeltaBuilder, id: string): void {
    delta.add.delete(id);
    // After a clear the member is gone anyway; the delta stays minimal.
    if (!delta.clear) delta.remove.add(id);
}

function clearMembers(delta: MemberDeltaBuilder): void {
    delta.clear = true;
    delta.add.clear();
    delta.remove.clear();
}

/** `members[value eq "id"]`, also `or`-ed; other member filters would need the member list. */
function memberIdsInFilter(filter: FilterNode, path: string): string[] {
    if (filter.kind === 'or') return [...memberIdsInFilter(filter.left, path), ...memberIdsInFilter(filter.right, path)];
    const id = memberIdCompared(filter);
    if (id !== undefined) return [id];
    // RFC 7644 §3.12 invalidFilter: "the specified attribute and filter comparison combination is not supported".
    throw ScimError.badRequest('invalidFilter', `'${path}': member filters support only value eq "<id>", joined by or`);
}
