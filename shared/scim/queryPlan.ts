/**
 * What the filter module tells the store about a filter (issue: filter query plan).
 *
 * `planQuery(ast, resourceType, indexes)` in `filterPlanner.ts` produces a `QueryPlan`: the part of the filter key
 * or index reads can answer, and what remains to check in memory. The store never sees filter text, so
 * filter values cannot inject into storage queries.
 */
import type { FilterNode } from './filterSyntax';

/** A lookup the store answers with a point read or a key-range read, never a scan. */
export type IndexLookup =
    | { kind: 'id'; value: string }
    /**
     * An equality on an indexed attribute (attributeIndexes.ts): `attribute` is the index's canonical path
     * (`userName`, `emails[type eq "work"].value`), `value` the filter's value as text; the store folds it
     * as the index does.
     */
    | { kind: 'attribute'; attribute: string; value: string };

export interface QueryPlan {
    /**
     * The candidates are the union of these lookups (one for an `eq`, several for an `or` of them). Absent:
     * no usable index answers the filter; the store scans at most `MAX_SCAN_RESOURCES` (filterPlanner.ts) and
     * relies on `residual`, refusing larger scans with 400 `tooMany`.
     */
    lookups?: IndexLookup[];
    /**
     * Group only: the legacy membership probe `id eq "g" and members[value eq "u"]` — the group matches
     * only if an edge to this member exists (one point read). Never part of `residual`. Also set without
     * a lookup for a bare `members[value eq "u"]` (then checked per scanned group).
     */
    requiredMember?: string;
    /**
     * What must still hold for each candidate, evaluated with `matchesFilter` on the resource as served
     * (with `id` and `meta`); absent: nothing left. It re-checks the looked-up clauses too, so the lookups
     * only have to return a superset of the matches.
     */
    residual?: FilterNode;
}
