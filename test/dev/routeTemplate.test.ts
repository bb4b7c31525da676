import { describe, expect, it } from 'vitest';
import { compileRouteTemplate } from '../../dev/routeTemplate';
import { scimBaseUrl } from '../../shared/http/scimEndpoint';

describe('route templates (as the Functions host writes them)', () => {
    it('matches optional parameters, case-insensitively, with a trailing slash', () => {
        const users = compileRouteTemplate('scim/Users/{id?}');
        expect(users.match('/scim/Users')).toEqual({});
        expect(users.match('/scim/users/')).toEqual({});
        expect(users.match('/SCIM/USERS/abc')).toEqual({ id: 'abc' });
        expect(users.match('/scim/Users/a%2Fb')).toEqual({ id: 'a/b' });
        expect(users.match('/scim/Users/a/b')).toBeUndefined();
        expect(users.match('/api/scim/Users')).toBeUndefined();
    });

    it('catch-all parameters take the rest of the path', () => {
        const all = compileRouteTemplate('scim/{*path}');
        expect(all.isCatchAll).toBe(true);
        expect(all.match('/scim/a/b/c')).toEqual({ path: 'a/b/c' });
        expect(all.match('/scim')).toEqual({});
    });

    it('derives the SCIM base URL from a request URL', () => {
        expect(scimBaseUrl('https://app.example/scim/Users/1?x=y')).toBe('https://app.example/scim');
        expect(scimBaseUrl('http://127.0.0.1:7071/SCIM/Groups')).toBe('http://127.0.0.1:7071/SCIM');
        // A named tenant's root, from its request URL or from the public base URL (the default tenant's root or the app's).
        expect(scimBaseUrl('https://app.example/tenants/acme/scim/Users/1?x=y', 'acme')).toBe('https://app.example/tenants/acme/scim');
        expect(scimBaseUrl('https://app.example/tenants/scim/scim/Users', 'scim')).toBe('https://app.example/tenants/scim/scim');
        expect(scimBaseUrl('https://gw.example/api/scim', 'acme')).toBe('https://gw.example/api/tenants/acme/scim');
        expect(scimBaseUrl('https://gw.example/', 'acme')).toBe('https://gw.example/tenants/acme/scim');
    });
});
