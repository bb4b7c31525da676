/** /scim/Groups and /scim/Groups/{id} (RFC 7644 §3). */
import { registerRoute } from '../shared/http/registerRoute';
import { scimRoute } from '../shared/http/scimEndpoint';
import { resourceEndpoint, RESOURCE_METHODS } from '../shared/scim/resourceEndpoint';

export const groupsRoute = registerRoute(
    scimRoute({ name: 'Groups', route: 'scim/Groups/{id?}', methods: RESOURCE_METHODS, resourceType: 'Group', handle: resourceEndpoint('Group') }),
);
