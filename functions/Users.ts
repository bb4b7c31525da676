/** /scim/Users and /scim/Users/{id} (RFC 7644 §3). */
import { registerRoute } from '../shared/http/registerRoute';
import { scimRoute } from '../shared/http/scimEndpoint';
import { resourceEndpoint, RESOURCE_METHODS } from '../shared/scim/resourceEndpoint';

export const usersRoute = registerRoute(
    scimRoute({ name: 'Users', route: 'scim/Users/{id?}', methods: RESOURCE_METHODS, resourceType: 'User', handle: resourceEndpoint('User') }),
);
