/**
 * The route table: every HTTP route of the app: the SCIM ones, the OAuth token endpoint (and a named tenant's
 * `/tenants/{tenant}/oauth/token`), the change feed
 * (`/changes`, and a named tenant's `/tenants/{tenant}/changes`) and the `/admin` status page. The SCIM routes are
 * served under the default tenant's root `/scim` and under each named tenant's root `/tenants/{tenant}/scim` (same
 * handlers). The Functions host registers each file's route (and a SCIM route's tenant twin) as it loads it
 * (registerRoute.ts); the local host (`dev/localHost.ts`) and the tests serve this same list.
 */
import { tenantRouteOf, type RouteDefinition } from '../shared/http/scimEndpoint';
import { adminRoute } from './Admin';
import { changesRoute, tenantChangesRoute } from './Changes';
import { groupsRoute } from './Groups';
import { notFoundRoute } from './NotFound';
import { oauthTokenRoute, tenantOAuthTokenRoute } from './OAuthToken';
import { resourceTypesRoute } from './ResourceTypes';
import { schemasRoute } from './Schemas';
import { searchRoute } from './Search';
import { serviceConfigurationRoute, serviceProviderConfigRoute } from './ServiceProviderConfig';
import { usersRoute } from './Users';

const SCIM_ROUTES: readonly RouteDefinition[] = [
    usersRoute,
    groupsRoute,
    serviceProviderConfigRoute,
    serviceConfigurationRoute,
    searchRoute,
    resourceTypesRoute,
    schemasRoute,
    notFoundRoute,
];

/** Each tenant's change feed beside its SCIM root: `/changes` (default), `/tenants/{tenant}/changes` (docs/feed.md). */
export const ROUTES: readonly RouteDefinition[] = [
    ...SCIM_ROUTES, ...SCIM_ROUTES.map(tenantRouteOf), oauthTokenRoute, tenantOAuthTokenRoute, changesRoute, tenantChangesRoute, adminRoute,
];
