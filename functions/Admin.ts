/** /admin: the provisioning status page and its sign-in (docs/activity.md). Not a SCIM route: HTML, no Secret Token. */
import { adminEndpoint } from '../shared/admin/adminEndpoint';
import { registerRoute } from '../shared/http/registerRoute';

export const adminRoute = registerRoute(adminEndpoint());
