/**
 * The function app's foundation over real HTTP: discovery endpoints, the auth gate, SCIM errors for
 * every kind of bad request, content types, route matching.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectScimError } from '../support/scimReplies';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from '../../shared/scim/schemas';

let server: ScimTestServer;

beforeAll(async () => {
    server = await startScimServer();
});
afterAll(async () => {
    await server.close();
});

describe('discovery (RFC 7644 §4)', () => {
    it('ServiceProviderConfig advertises what is implemented', async () => {
        const reply = await server.request('GET', '/ServiceProviderConfig');
        expect(reply.status).toBe(200);
        expect(reply.headers.get('content-type')).toMatch(/^application\/scim\+json/);
        expect(reply.body.patch.supported).toBe(true);
        expect(reply.body.filter.supported).toBe(true);
        expect(reply.body.filter.maxResults).toBeGreaterThan(0);
        expect(reply.body.bulk.supported).toBe(false);
        expect(reply.body.etag.supported).toBe(true);
        expect(reply.body.changePassword.supported).toBe(false);
        expect(reply.body.authenticationSchemes[0].type).toBe('oauthbearertoken');
        expect(reply.body.meta.location).toBe(`${server.base}/ServiceProviderConfig`);
    });

    it('ResourceTypes lists User (with the enterprise extension) and Group, each also by id', async () => {
        const list = await server.request('GET', '/ResourceTypes');
        expect(list.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:ListResponse']);
        expect(list.body.totalResults).toBe(2);
        // Microsoft's Postman collection expects Resources[0].endpoint == "/Users".
        expect(list.body.Resources[0].endpoint).toBe('/Users');
        expect(list.body.Resources[0].schemaExtensions).toEqual([{ schema: ENTERPRISE_USER_SCHEMA, required: false }]);
        expect(list.body.Resources[1].endpoint).toBe('/Groups');
        const user = await server.request('GET', '/ResourceTypes/User');
        expect(user.status).toBe(200);
        expect(user.body.schema).toBe(USER_SCHEMA);
        expectScimError(await server.request('GET', '/ResourceTypes/Printer'), 404);
    });

    it('Schemas lists the three schemas and serves each by URN', async () => {
        const list = await server.request('GET', '/Schemas');
        expect(list.body.Resources.map((s: { id: string }) => s.id)).toEqual([USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA]);
        for (const id of [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA]) {
            const one = await server.request('GET', `/Schemas/${id}`);
            expect(one.status).toBe(200);
            expect(one.body.id).toBe(id);
            expect(one.body.meta.location).toBe(`${server.base}/Schemas/${id}`);
        }
        expectScimError(await server.request('GET', '/Schemas/urn:example:nothing'), 404);
    });

    it('Schemas describes every attribute of the ALVAO user and group mappings (docs/entra-protocol.md §5.2)', async () => {
        const list = await server.request('GET', '/Schemas');
        // Flatten like Entra's schema discovery: `schema:attr.sub` names.
        const names = new Set<string>();
        for (const schema of list.body.Resources as { id: string; attributes: { name: string; subAttributes?: { name: string }[] }[] }[]) {
            for (const attribute of schema.attributes) {
                names.add(`${schema.id}:${attribute.name}`);
                for (const sub of attribute.subAttributes ?? []) names.add(`${schema.id}:${attribute.name}.${sub.name}`);
            }
        }
        const user = [
            'userName', 'externalId', 'active', 'displayName', 'title', 'emails.value', 'emails.type', 'name.givenName',
            'name.familyName', 'name.formatted', 'addresses.formatted', 'addresses.locality', 'addresses.region',
            'addresses.country', 'addresses.postalCode', 'addresses.streetAddress', 'phoneNumbers.value', 'phoneNumbers.type',
            'locale', 'preferredLanguage', 'timezone',
        ];
        for (const name of user) expect(names, name).toContain(`${USER_SCHEMA}:${name}`);
        for (const name of ['employeeNumber', 'organization', 'department', 'manager.value']) {
            expect(names, name).toContain(`${ENTERPRISE_USER_SCHEMA}:${name}`);
        }
        for (const name of ['displayName', 'externalId', 'members.value']) expect(names, name).toContain(`${GROUP_SCHEMA}:${name}`);
    });

    it('schema attributes carry every characteristic RFC 7643 §7 lists, and no nulls', async () => {
        const schema = (await server.request('GET', `/Schemas/${USER_SCHEMA}`)).body;
        const userName = schema.attributes.find((a: { name: string }) => a.name === 'userName');
        expect(userName).toMatchObject({ type: 'string', multiValued: false, required: true, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'server' });
        expect(JSON.stringify(schema)).not.toContain('null');
    });
});

describe('auth gate', () => {
    it('refuses a request without a token with a SCIM 401 and WWW-Authenticate', async () => {
        const reply = await server.request('GET', '/ServiceProviderConfig', undefined, { Authorization: '' });
        expectScimError(reply, 401);
        expect(reply.headers.get('www-authenticate')).toBe('Bearer');
    });

    it('refuses a wrong token, and a token under another scheme', async () => {
        expectScimError(await server.request('GET', '/Schemas', undefined, { Authorization: 'Bearer wrong' }), 401);
        expectScimError(await server.request('GET', '/Schemas', undefined, { Authorization: `Basic ${server.token}` }), 401);
    });

    it('accepts the scheme in any letter case', async () => {
        const reply = await server.request('GET', '/Schemas', undefined, { Authorization: `bearer ${server.token}` });
        expect(reply.status).toBe(200);
    });

    it('checks the token before anything else, unknown routes included', async () => {
        expectScimError(await server.request('GET', '/Nothing', undefined, { Authorization: '' }), 401);
    });
});

describe('errors and responses', () => {
    it('answers an unknown path under /scim with a SCIM 404', async () => {
        expectScimError(await server.request('GET', '/Printers'), 404);
        expectScimError(await server.request('GET', '/Users/a/b/c'), 404);
    });

    it('answers an unknown path outside /scim with a SCIM 404 too', async () => {
        const reply = await fetch(server.base.replace(/\/scim$/, '/api/scim/Users'));
        expect(reply.status).toBe(404);
        expect(reply.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    });

    it('matches routes case-insensitively (Microsoft\'s test collection calls /scim/users)', async () => {
        expect((await server.request('GET', '/serviceproviderconfig')).status).toBe(200);
        expect((await server.request('GET', '/schemas')).status).toBe(200);
    });

    it('answers an unsupported method with a SCIM 405, not a framework page', async () => {
        const reply = await server.request('DELETE', '/ServiceProviderConfig');
        expectScimError(reply, 405);
        expect(reply.headers.get('allow')).toBe('GET');
    });

    it('answers malformed JSON with 400 invalidSyntax', async () => {
        expectScimError(await server.request('POST', '/Users', '{"userName": "x"'), 400, 'invalidSyntax');
        expectScimError(await server.request('POST', '/Users', ''), 400, 'invalidSyntax');
    });

    it('answers an oversized body with a SCIM 413', async () => {
        const huge = JSON.stringify({ userName: 'x', title: 'y'.repeat(1_100_000) });
        expectScimError(await server.request('POST', '/Users', huge), 413);
    });

    it('never answers 406 or 415 for Accept or Content-Type headers', async () => {
        const odd = await server.request('GET', '/ServiceProviderConfig', undefined, { Accept: 'text/html' });
        expect(odd.status).toBe(200);
        expect(odd.headers.get('content-type')).toMatch(/^application\/scim\+json/);
        const plainJson = await server.request('POST', '/Users', { userName: 'content-type-check' }, { 'Content-Type': 'application/json' });
        expect(plainJson.status).not.toBe(415);
        expect(plainJson.status).not.toBe(406);
    });

    it('writes one summary log line per request, without the token', async () => {
        const before = server.logs.length;
        await server.request('GET', '/ServiceProviderConfig');
        const lines = server.logs.slice(before).filter((line) => line.startsWith('scim request '));
        expect(lines).toHaveLength(1);
        const summary = JSON.parse(lines[0]!.slice('scim request '.length));
        expect(summary).toMatchObject({ method: 'GET', status: 200 });
        expect(typeof summary.invocationId).toBe('string');
        expect(typeof summary.durationMs).toBe('number');
        expect(server.logs.join('\n')).not.toContain(server.token);
    });
});
