/**
 * The SCIM filter language (RFC 7644 §3.4.2.2), in three parts:
 * - syntax (filterSyntax.ts, filterParser.ts): `parseFilter` → typed AST, `printFilter`, `parsePatchPath`;
 * - evaluation (filterEvaluator.ts): `matchesFilter` / `matchesElement` / `compileFilter`, schema-aware
 *   (`caseExact`, types) and never throwing on missing attributes;
 * - planning (filterPlanner.ts): `planQuery` → which part a key or index read answers.
 *
 * Limits: `MAX_FILTER_LENGTH` characters and `MAX_FILTER_DEPTH` levels of nesting per filter;
 * `MAX_SCAN_RESOURCES` resources read for a filter no index answers.
 */
export { parseFilter, parsePatchPath } from './filterParser';
export {
    MAX_FILTER_DEPTH,
    MAX_FILTER_LENGTH,
    printFilter,
    printPath,
    type CompareOperator,
    type FilterNode,
    type FilterValue,
    type PatchPath,
} from './filterSyntax';
export { compileFilter, matchesElement, matchesFilter, type FilterPredicate } from './filterEvaluator';
export { MAX_SCAN_RESOURCES, planQuery } from './filterPlanner';
export type { AttributeReference } from './schemas';
