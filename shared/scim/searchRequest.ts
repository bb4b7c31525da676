/**
 * The SearchRequest message of `POST /Users/.search`, `POST /Groups/.search` and `POST /.search`
 * (RFC 7644 §3.4.3): the query parameters of a GET, in a body, so that a filter need not travel in a URL
 * (and its logs). It is read into exactly the parameters a GET carries, so a search runs through the
 * same planner, projection and paging as `GET /Users?filter=…`, with the same storage-request budgets.
 */
import { valueNamed } from './caseInsensitiveKeys';
import { ScimError } from './errors';
import { isPlainObject } from './isPlainObject';

export const SEARCH_REQUEST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

/** Members read as strings, and as lists joined with commas like their query-parameter form. */
const TEXT_MEMBERS = ['filter', 'sortBy', 'sortOrder', 'cursor'] as const;
const LIST_MEMBERS = ['attributes', 'excludedAttributes'] as const;
const INTEGER_MEMBERS = ['startIndex', 'count'] as const;

/**
 * A SearchRequest body → the query parameters of the equivalent GET. Members are matched in any letter
 * case (RFC 7643 §2.1); unknown members are ignored like unknown query parameters. Throws 400
 * `invalidSyntax` for a body that is not a SearchRequest, `invalidValue` for a member of the wrong type.
 */
export function readSearchRequest(body: unknown): URLSearchParams {
    if (!isPlainObject(body)) throw ScimError.badRequest('invalidSyntax', 'The request body must be a SearchRequest JSON object');
    const schemas = valueNamed(body, 'schemas');
    if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SEARCH_REQUEST_SCHEMA.toLowerCase())) {
        throw ScimError.badRequest('invalidSyntax', `A search body must list the schema ${SEARCH_REQUEST_SCHEMA}`);
    }
    const query = new URLSearchParams();
    for (const name of TEXT_MEMBERS) {
        const value = valueNamed(body, name);
        if (value === undefined || value === null) continue;
        if (typeof value !== 'string') throw invalid(name, 'a string');
        query.set(name, value);
    }
    for (const name of LIST_MEMBERS) {
        const value = valueNamed(body, name);
        if (value === undefined || value === null) continue;
        // RFC 7644 §3.4.3 gives a JSON array of strings; the comma-separated text of the GET form is accepted too.
        if (typeof value === 'string') query.set(name, value);
        else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) query.set(name, value.join(','));
        else throw invalid(name, 'an array of attribute names');
    }
    for (const name of INTEGER_MEMBERS) {
        const value = valueNamed(body, name);
        if (value === undefined || value === null) continue;
        if (typeof value !== 'number' && typeof value !== 'string') throw invalid(name, 'an integer');
        query.set(name, String(value)); // range and form are checked where the GET's are (readPaging)
    }
    return query;
}

function invalid(name: string, expected: string): ScimError {
    return ScimError.badRequest('invalidValue', `The SearchRequest member '${name}' must be ${expected}`);
}
