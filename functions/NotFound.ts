/**
 * Any other path under /scim: a SCIM 404 instead of the host's default page. Literal routes take
 * precedence over this catch-all, in the Functions host and in our local host alike.
 */
import { registerRoute } from '../shared/http/registerRoute';
import { scimRoute } from '../shared/http/scimEndpoint';
import { ScimError } from '../shared/scim/errors';

export const notFoundRoute = registerRoute(
    scimRoute({
        name: 'NotFound',
        route: 'scim/{*path}',
        methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        handle: () => {
            throw ScimError.notFound('No such SCIM endpoint');
        },
    }),
);
