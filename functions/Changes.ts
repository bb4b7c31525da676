/** `GET /changes`: the change feed for the application (docs/feed.md), with the feed token. */
import { readChanges } from '../shared/feed/changesEndpoint';
import { registerRoute } from '../shared/http/registerRoute';
import { feedRoute } from '../shared/http/scimEndpoint';

export const changesRoute = registerRoute(feedRoute({ name: 'Changes', route: 'changes', methods: ['GET'], handle: readChanges }));
