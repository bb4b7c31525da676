/**
 * What the filter module tells the store about a filter (issue: filter query plan).
 *
 * `planQuery(ast, resourceType)` in `filterPlanner.ts` produces a `QueryPlan`: the part of the filter a key or
 * index read can answer, and what remains to check in memory. The store never sees filter text, so
 * filter values cannot inject into storage queries.
 */
import type { FilterNode } from './filterSyntax';

/** A lookup the store answers with a point read or a key-range read, never a scan. */
export type IndexLookup =
    | { kind: 'id'; value: string }
    /** User only; compared case-insensitively (RFC 7643 §4.1.1). */
    | { kind: 'userName'; value: string }
    /** Users and groups; case-exact (RFC 7643 §3.1). */
    | { kind: 'externalId'; value: string }
    /** Group only; case-insensitive, unique (Entra matches groups by it). */
    | { kind: 'displayName'; value: string };

export interface QueryPlan {
    /**
     * Absent: no index can answer the filter; the store scans at most `MAX_SCAN_RESOURCES` (filterPlanner.ts)
     * and relies on `residual`, refusing larger scans with 400 `tooMany`.
     */
    lookup?: IndexLookup;
    /**
     * Group only: the legacy membership probe `id eq "g" and members[value eq "u"]` — the group matches
     * only if an edge to this member exists (one point read). Never part of `residual`. Also set without
     * a lookup for a bare `members[value eq "u"]` (then checked per scanned group).
     */
    requiredMember?: string;
    /**
     * What must still hold for each candidate, evaluated with `matchesFilter` on the resource as served
     * (with `id` and `meta`); absent: nothing left. It re-checks the looked-up clause too, so a lookup
     * only has to return a superset of the matches.
     */
    residual?: FilterNode;
}
