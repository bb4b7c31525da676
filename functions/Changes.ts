/**
 * `GET /changes`: the change feed for the application (docs/feed.md), with the feed token; and
 * `GET /tenants/{tenant}/changes`, a named tenant's feed with that tenant's own feed token (docs/feed.md, "Tenants").
 */
import { readChanges } from '../shared/feed/changesEndpoint';
import { registerRoute } from '../shared/http/registerRoute';
import { feedRoute, tenantRouteOf } from '../shared/http/scimEndpoint';

export const changesRoute = registerRoute(feedRoute({ name: 'Changes', route: 'changes', methods: ['GET'], handle: readChanges }));
export const tenantChangesRoute = registerRoute(tenantRouteOf(changesRoute));
