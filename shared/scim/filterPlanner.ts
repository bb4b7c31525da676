/**
 * Query planning: which part of a filter the store can answer with a key or index read, and what
 * remains to check in memory (see `QueryPlan` in queryPlan.ts).
 *
 * Entra matches every user and group by one `eq` filter before it writes anything (docs/entra-protocol.md §1,
 * §5.1), so those filters must be point reads, not scans: `userName eq` (User), `externalId eq`,
 * `displayName eq` (Group), `id eq`, the legacy probes `id eq … and manager eq …` and
 * `id eq … and members[value eq …]`, and `and` combinations of them.
 */
import { ScimError } from './errors';
import type { ResourceTypeName } from './schemas';
import { resolveAttribute, schemasOf } from './schemaRegistry';
import type { FilterNode } from './filterSyntax';
import { memberIdCompared } from './memberIds';
import type { IndexLookup, QueryPlan } from './queryPlan';

/**
 * The most resources the store reads to answer a filter no index answers (a bounded scan of one
 * resource type, in id order). A resource type with more resources than this answers such filters
 * with 400 `tooMany` (RFC 7644 §3.12) rather than reading the whole table on every request; the
 * filters Entra sends never scan.
 */
export const MAX_SCAN_RESOURCES = 10_000;

/** Preference among lookups in one conjunction: a point read by id beats an index read. */
const LOOKUP_RANK: Record<IndexLookup['kind'], number> = { id: 0, externalId: 1, userName: 1, displayName: 1 };

/**
 * Plans a filter. The residual is the whole filter minus the membership clause: it re-checks the
 * looked-up clause too, so the store only has to return a superset of the matches (its index may
 * fold case differently from the evaluator). Evaluate the residual against the resource as served
 * (with `id` and `meta`).
 *
 * Throws 400 `invalidFilter` for a `members` condition other than a top-level `members[value eq "…"]`
 * conjunct: group members are edges, not loaded in memory, so nothing else about them can be checked
 * (RFC 7644 §3.12: "the specified filter and attribute combination is not supported").
 */
export function planQuery(ast: FilterNode, resourceType: ResourceTypeName): QueryPlan {
    const conjuncts = splitConjunction(ast);
    let lookup: IndexLookup | undefined;
    let requiredMember: string | undefined;
    const remaining: FilterNode[] = [];

    for (const conjunct of conjuncts) {
        const member = resourceType === 'Group' ? membershipProbe(conjunct) : undefined;
        if (member !== undefined) {
            if (requiredMember !== undefined && requiredMember !== member) {
                throw ScimError.badRequest('invalidFilter', 'A filter can test membership of one member only');
            }
            requiredMember = member;
            continue;
        }
        if (resourceType === 'Group' && mentionsMembers(conjunct)) {
            throw ScimError.badRequest('invalidFilter', 'Filtering groups by members supports only members[value eq "id"] combined with and');
        }
        const candidate = indexLookup(conjunct, resourceType);
        if (candidate !== undefined && (lookup === undefined || LOOKUP_RANK[candidate.kind] < LOOKUP_RANK[lookup.kind])) {
            lookup = candidate;
        }
        remaining.push(conjunct);
    }

    const plan: QueryPlan = {};
    if (lookup !== undefined) plan.lookup = lookup;
    if (requiredMember !== undefined) plan.requiredMember = requiredMember;
    const residual = joinConjunction(remaining);
    if (residual !== undefined) plan.residual = residual;
    return plan;
}

/** `a and (b and c)` → [a, b, c]. */
function splitConjunction(node: FilterNode): FilterNode[] {
    if (node.kind !== 'and') return [node];
    return [...splitConjunction(node.left), ...splitConjunction(node.right)];
}

function joinConjunction(nodes: FilterNode[]): FilterNode | undefined {
    let joined: FilterNode | undefined;
    for (const node of nodes) joined = joined === undefined ? node : { kind: 'and', left: joined, right: node };
    return joined;
}

/** An `eq` with a string value on an indexed attribute of the core schema (or the common ones). */
function indexLookup(node: FilterNode, resourceType: ResourceTypeName): IndexLookup | undefined {
    if (node.kind !== 'compare' || node.op !== 'eq' || typeof node.value !== 'string') return undefined;
    if (node.path.subAttribute !== undefined) return undefined;
    const resolved = resolveAttribute(resourceType, node.path);
    if (resolved === undefined || resolved.extension !== undefined) return undefined;
    const value = node.value;
    switch (resolved.definition.name) {
        case 'id': return { kind: 'id', value };
        case 'externalId': return { kind: 'externalId', value };
        case 'userName': return resourceType === 'User' ? { kind: 'userName', value } : undefined;
        case 'displayName': return resourceType === 'Group' ? { kind: 'displayName', value } : undefined;
        default: return undefined;
    }
}

/** `members[value eq "u"]` or `members.value eq "u"` (string value): the member id, else undefined. */
function membershipProbe(node: FilterNode): string | undefined {
    if (node.kind === 'valuePath' && isMembers(node.path) && node.path.subAttribute === undefined) return memberIdCompared(node.filter);
    if (node.kind === 'compare' && node.op === 'eq' && typeof node.value === 'string' && isMembers(node.path)
        && (node.path.subAttribute === undefined || node.path.subAttribute.toLowerCase() === 'value')) {
        return node.value;
    }
    return undefined;
}

function isMembers(path: { schema?: string; attribute: string }): boolean {
    if (path.attribute.toLowerCase() !== 'members') return false;
    return path.schema === undefined || path.schema.toLowerCase() === schemasOf('Group').core.id.toLowerCase();
}

function mentionsMembers(node: FilterNode): boolean {
    switch (node.kind) {
        case 'and':
        case 'or':
            return mentionsMembers(node.left) || mentionsMembers(node.right);
        case 'not':
            return mentionsMembers(node.operand);
        default:
            return isMembers(node.path);
    }
}
