/**
 * Query planning: which part of a filter the store can answer with key or index reads, and what remains
 * to check in memory (see `QueryPlan` in queryPlan.ts).
 *
 * Entra matches every user and group by one `eq` filter before it writes anything (docs/entra-protocol.md §1,
 * §5.1), so those filters must be point or key-range reads, not scans. Served by an index: `id eq`, an `eq` on
 * any usable equality index (attributeIndexes.ts: userName, externalId, displayName, the work email,
 * employeeNumber and whatever the admin configured), an `and` with such a conjunct (the rest is checked in
 * memory), and an `or` whose every branch is served (the union of the lookups). The legacy probes
 * `id eq … and manager eq …` and `id eq … and members[value eq …]` are `and`s with `id eq`.
 */
import { defaultIndexConfiguration, indexedEquality, type AttributeIndex } from './attributeIndexes';
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

/**
 * The most lookups one filter's union may take (`a eq 1 or a eq 2 or …`): a filter past this is answered
 * like one no index serves. The 4,096-character filter limit allows ~250; nobody sends that many.
 */
export const MAX_UNION_LOOKUPS = 100;

/**
 * Plans a filter against the indexes usable now (default: the default set, all assumed complete). The
 * residual is the whole filter minus the membership clause: it re-checks the looked-up clauses too, so
 * the store only has to return a superset of the matches. Evaluate it against the resource as served
 * (with `id` and `meta`).
 *
 * Throws 400 `invalidFilter` for a `members` condition other than a top-level `members[value eq "…"]`
 * conjunct: group members are edges, not loaded in memory, so nothing else about them can be checked
 * (RFC 7644 §3.12: "the specified filter and attribute combination is not supported").
 */
export function planQuery(ast: FilterNode, resourceType: ResourceTypeName, indexes: readonly AttributeIndex[] = defaultIndexConfiguration()[resourceType]): QueryPlan {
    const conjuncts = splitConjunction(ast);
    let lookups: IndexLookup[] | undefined;
    let requiredMember: string | undefined;
    const remaining: FilterNode[] = [];
    const planner = new LookupPlanner(resourceType, indexes);

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
        lookups = planner.cheaper(lookups, planner.lookupsFor(conjunct));
        remaining.push(conjunct);
    }

    const plan: QueryPlan = {};
    if (lookups !== undefined) plan.lookups = lookups;
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

class LookupPlanner {
    private readonly byPath: Map<string, AttributeIndex>;

    constructor(
        private readonly resourceType: ResourceTypeName,
        private readonly indexes: readonly AttributeIndex[],
    ) {
        this.byPath = new Map(indexes.map((index) => [index.path, index]));
    }

    /** Lookups whose union holds every resource `node` matches, or undefined if the indexes cannot say. */
    lookupsFor(node: FilterNode): IndexLookup[] | undefined {
        switch (node.kind) {
            case 'and':
                return this.cheaper(this.lookupsFor(node.left), this.lookupsFor(node.right));
            case 'or': {
                const left = this.lookupsFor(node.left);
                const right = left && this.lookupsFor(node.right);
                if (!left || !right || left.length + right.length > MAX_UNION_LOOKUPS) return undefined;
                return [...left, ...right];
            }
            case 'compare':
            case 'valuePath': {
                const id = idEquality(node, this.resourceType);
                if (id !== undefined) return [{ kind: 'id', value: id }];
                let best: IndexLookup[] | undefined;
                for (const index of this.indexes) {
                    const value = indexedEquality(index, node);
                    if (value !== undefined) best = this.cheaper(best, [{ kind: 'attribute', attribute: index.path, value }]);
                }
                return best;
            }
            default:
                return undefined;
        }
    }

    /** The cheaper of two ways to find candidates: a point read by id beats a unique index beats the rest. */
    cheaper(a: IndexLookup[] | undefined, b: IndexLookup[] | undefined): IndexLookup[] | undefined {
        if (a === undefined) return b;
        if (b === undefined) return a;
        return this.cost(b) < this.cost(a) ? b : a;
    }

    private cost(lookups: IndexLookup[]): number {
        let cost = 0;
        for (const lookup of lookups) {
            if (lookup.kind === 'id') cost += 1;
            else cost += this.byPath.get(lookup.attribute)?.unique ? 2 : 3;
        }
        return cost;
    }
}

/** `id eq "…"` with a string value: the id (case-exact, RFC 7643 §3.1). */
function idEquality(node: FilterNode, resourceType: ResourceTypeName): string | undefined {
    if (node.kind !== 'compare' || node.op !== 'eq' || typeof node.value !== 'string' || node.path.subAttribute !== undefined) return undefined;
    const resolved = resolveAttribute(resourceType, node.path);
    return resolved !== undefined && resolved.extension === undefined && resolved.definition.name === 'id' ? node.value : undefined;
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
