/**
 * The route table: every HTTP route of the app, the SCIM ones and the OAuth token endpoint. The Functions
 * host registers each file's route as it loads it; the local host (`dev/localHost.ts`) and the tests serve
 * this same list.
 */
import type { RouteDefinition } from '../shared/http/scimEndpoint';
import { changesRoute } from './Changes';
import { groupsRoute } from './Groups';
import { notFoundRoute } from './NotFound';
import { oauthTokenRoute } from './OAuthToken';
import { resourceTypesRoute } from './ResourceTypes';
import { schemasRoute } from './Schemas';
import { searchRoute } from './Search';
import { serviceConfigurationRoute, serviceProviderConfigRoute } from './ServiceProviderConfig';
import { usersRoute } from './Users';

export const ROUTES: readonly RouteDefinition[] = [
    usersRoute,
    groupsRoute,
    serviceProviderConfigRoute,
    serviceConfigurationRoute,
    searchRoute,
    resourceTypesRoute,
    schemasRoute,
    oauthTokenRoute,
    changesRoute,
    notFoundRoute,
];
