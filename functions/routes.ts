/**
 * The route table: every SCIM route of the app. The Functions host registers each file's route as it
 * loads it; the local host (`dev/localHost.ts`) and the tests serve this same list.
 */
import type { RouteDefinition } from '../shared/http/scimEndpoint';
import { changesRoute } from './Changes';
import { groupsRoute } from './Groups';
import { notFoundRoute } from './NotFound';
import { resourceTypesRoute } from './ResourceTypes';
import { schemasRoute } from './Schemas';
import { serviceProviderConfigRoute } from './ServiceProviderConfig';
import { usersRoute } from './Users';

export const ROUTES: readonly RouteDefinition[] = [
    usersRoute,
    groupsRoute,
    serviceProviderConfigRoute,
    resourceTypesRoute,
    schemasRoute,
    changesRoute,
    notFoundRoute,
];
