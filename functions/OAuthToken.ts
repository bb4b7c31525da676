/**
 * /oauth/token: the OAuth 2.0 token endpoint for Entra's client credentials and workload identity
 * federation settings (RFC 6749 §4.4, RFC 7523 §2.2). Outside /scim: it is not a SCIM resource and takes no
 * bearer token; the client authenticates in the request itself. /tenants/{tenant}/oauth/token: a named tenant's,
 * for its own client (client credentials only) and its own SCIM root (docs/operate.md, "Tenants").
 */
import { registerRoute } from '../shared/http/registerRoute';
import { tokenRoute } from '../shared/http/tokenRoute';

export const oauthTokenRoute = registerRoute(tokenRoute({ name: 'OAuthToken', route: 'oauth/token' }));
export const tenantOAuthTokenRoute = registerRoute(tokenRoute({ name: 'TenantOAuthToken', route: 'tenants/{tenant}/oauth/token' }));
