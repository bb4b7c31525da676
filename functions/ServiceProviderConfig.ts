/** GET /scim/ServiceProviderConfig (RFC 7644 §4). */
import { registerRoute } from '../shared/http/registerRoute';
import { scimRoute } from '../shared/http/scimEndpoint';
import { serviceProviderConfig } from '../shared/scim/discovery';

export const serviceProviderConfigRoute = registerRoute(
    scimRoute({
        name: 'ServiceProviderConfig',
        route: 'scim/ServiceProviderConfig',
        methods: ['GET'],
        handle: (request) => ({ status: 200, body: serviceProviderConfig(request.baseUrl) }),
    }),
);
