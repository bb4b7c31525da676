/**
 * `POST /.search` (RFC 7644 §3.4.3): one query over every resource type, Users first, then Groups, as
 * one ListResponse. Each type is answered by its own `Resources.page` — the same planner, projection and
 * storage-request budgets as `POST /Users/.search` — and the page is cut across the two.
 *
 * A type whose schemas cannot satisfy the filter is not read at all: `userName eq "x"` names an
 * attribute only Users have, so a root search by userName costs what the Users search costs and never
 * scans the groups.
 */
import type { FilterNode } from './filterSyntax';
import { parseFilter } from './filter';
import { listResponse, readIndexPaging } from './listResponse';
import { readProjection } from './projection';
import type { ScimHandler } from './request';
import { Resources } from './resourceEndpoint';
import { resolveAttribute, schemasOf } from './schemaRegistry';
import type { AttributeReference, ResourceTypeName } from './schemas';
import { readSearchRequest } from './searchRequest';

const SEARCHED_TYPES: readonly ResourceTypeName[] = ['User', 'Group'];

export const rootSearchEndpoint: ScimHandler = async (request, store) => {
    const query = readSearchRequest(request.body);
    const paging = readIndexPaging(query);
    const projection = readProjection(query);
    const filterText = query.get('filter');
    const filter = filterText === null || filterText.trim() === '' ? undefined : parseFilter(filterText);

    let total = 0;
    const resources: Record<string, unknown>[] = [];
    // The window [startIndex, startIndex + count) over Users then Groups, as 1-based positions within each.
    let startIndex = paging.startIndex;
    for (const resourceType of SEARCHED_TYPES) {
        if (filter !== undefined && !couldMatch(filter, resourceType)) continue;
        const page = await new Resources(resourceType, store, request.baseUrl).page(filter, projection, { startIndex, count: paging.count - resources.length });
        total += page.total;
        resources.push(...page.resources);
        startIndex = Math.max(1, startIndex - page.total);
    }
    return { status: 200, body: listResponse(resources, total, paging.startIndex) };
};

/**
 * False when no resource of this type can match, because the filter requires a value of an attribute the
 * type's schemas do not define (the evaluator never matches those). Conservative: true whenever unsure
 * (`not`, `ne`, `eq null`, which an absent attribute satisfies).
 */
export function couldMatch(node: FilterNode, resourceType: ResourceTypeName): boolean {
    switch (node.kind) {
        case 'and':
            return couldMatch(node.left, resourceType) && couldMatch(node.right, resourceType);
        case 'or':
            return couldMatch(node.left, resourceType) || couldMatch(node.right, resourceType);
        case 'not':
            return true;
        case 'present':
        case 'valuePath':
            return isDefined(node.path, resourceType);
        case 'compare':
            if (node.op === 'ne' || node.value === null) return true;
            return isDefined(node.path, resourceType);
    }
}

/** Defined for the type, as the evaluator finds it: also unqualified in an extension (`manager`); `schemas` is on every resource. */
function isDefined(path: AttributeReference, resourceType: ResourceTypeName): boolean {
    if (path.schema === undefined && path.attribute.toLowerCase() === 'schemas') return true;
    const attribute: AttributeReference = path.schema === undefined ? { attribute: path.attribute } : { schema: path.schema, attribute: path.attribute };
    if (resolveAttribute(resourceType, attribute) !== undefined) return true;
    return path.schema === undefined && schemasOf(resourceType).extensions.some((e) => resolveAttribute(resourceType, { schema: e.id, attribute: path.attribute }) !== undefined);
}
