/** POST /scim/.search: one query over Users and Groups (RFC 7644 §3.4.3). */
import { registerRoute } from '../shared/http/registerRoute';
import { scimRoute } from '../shared/http/scimEndpoint';
import { rootSearchEndpoint } from '../shared/scim/rootSearch';

export const searchRoute = registerRoute(
    scimRoute({ name: 'Search', route: 'scim/.search', methods: ['POST'], handle: rootSearchEndpoint }),
);
