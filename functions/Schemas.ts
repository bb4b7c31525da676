/** GET /scim/Schemas and /scim/Schemas/{urn} (RFC 7644 §4, RFC 7643 §7). */
import { registerRoute } from '../shared/http/registerRoute';
import { scimRoute } from '../shared/http/scimEndpoint';
import { schemas } from '../shared/scim/discovery';

export const schemasRoute = registerRoute(
    scimRoute({
        name: 'Schemas',
        route: 'scim/Schemas/{id?}',
        methods: ['GET'],
        handle: (request) => ({ status: 200, body: schemas(request.baseUrl, request.params.id) }),
    }),
);
