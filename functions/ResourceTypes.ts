/** GET /scim/ResourceTypes and /scim/ResourceTypes/{name} (RFC 7644 §4). */
import { registerRoute } from '../shared/http/registerRoute';
import { scimRoute } from '../shared/http/scimEndpoint';
import { resourceTypes } from '../shared/scim/discovery';

export const resourceTypesRoute = registerRoute(
    scimRoute({
        name: 'ResourceTypes',
        route: 'scim/ResourceTypes/{name?}',
        methods: ['GET'],
        handle: (request) => ({ status: 200, body: resourceTypes(request.baseUrl, request.params.name) }),
    }),
);
