/** /admin: the provisioning status page and its sign-in (docs/activity.md). Not a SCIM route: HTML, no bearer Secret Token. */
import { adminRoute } from '../shared/admin/adminEndpoint';
import { registerRoute } from '../shared/http/registerRoute';

export const adminStatusRoute = registerRoute(adminRoute());
