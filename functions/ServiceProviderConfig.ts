/**
 * GET /scim/ServiceProviderConfig (RFC 7644 §4), and the same document at /scim/serviceConfiguration, the
 * path Microsoft's SCIM reference API serves it at and endpoint tests written against it call
 * (https://github.com/AzureAD/SCIMReferenceCode, `ControllerConstants.DefaultRouteServiceConfiguration`).
 */
import { registerRoute } from '../shared/http/registerRoute';
import { scimRoute } from '../shared/http/scimEndpoint';
import type { ScimHandler } from '../shared/scim/request';
import { serviceProviderConfig } from '../shared/scim/discovery';

const handle: ScimHandler = (request) => ({ status: 200, body: serviceProviderConfig(request.baseUrl) });

export const serviceProviderConfigRoute = registerRoute(
    scimRoute({ name: 'ServiceProviderConfig', route: 'scim/ServiceProviderConfig', methods: ['GET'], handle }),
);

export const serviceConfigurationRoute = registerRoute(
    scimRoute({ name: 'ServiceConfiguration', route: 'scim/serviceConfiguration', methods: ['GET'], handle }),
);
