/**
 * Value coercion and canonical form (shared/scim/attributeValues.ts), shared by the POST/PUT validator and
 * the PATCH engine.
 */
import { describe, expect, it } from 'vitest';
import {
    canonicalizeAttributeValue,
    canonicalizeResource,
    checkAttributeValue,
    coerceAttributeValue,
} from '../../shared/scim/attributeValues';
import { ScimError } from '../../shared/scim/errors';
import { ENTERPRISE_USER_SCHEMA, type AttributeDefinition } from '../../shared/scim/schemas';
import { resolveAttribute } from '../../shared/scim/schemaRegistry';

function userAttribute(attribute: string, schema?: string): AttributeDefinition {
    const resolved = resolveAttribute('User', schema === undefined ? { attribute } : { schema, attribute });
    if (resolved === undefined) throw new Error(`no attribute ${attribute}`);
    return resolved.definition;
}

describe('coerceAttributeValue', () => {
    it('turns "True" / "False" in any case into booleans for a boolean attribute', () => {
        const active = userAttribute('active');
        expect(coerceAttributeValue(active, 'True')).toBe(true);
        expect(coerceAttributeValue(active, 'FALSE')).toBe(false);
        expect(coerceAttributeValue(active, 'false')).toBe(false);
        expect(coerceAttributeValue(active, true)).toBe(true);
    });

    it('leaves other strings for a boolean attribute as sent (the validator rejects them)', () => {
        expect(coerceAttributeValue(userAttribute('active'), 'yes')).toBe('yes');
        expect(coerceAttributeValue(userAttribute('active'), ' True')).toBe(' True');
    });

    it('leaves "True" a string for a string attribute', () => {
        expect(coerceAttributeValue(userAttribute('displayName'), 'True')).toBe('True');
    });

    it('recurses into multi-valued complex attributes, only where the sub-attribute is boolean', () => {
        const roles = userAttribute('roles');
        expect(coerceAttributeValue(roles, [{ primary: 'True', value: 'False', type: 'True' }])).toEqual([{ primary: true, value: 'False', type: 'True' }]);
    });

    it('keeps key spelling and unknown sub-attributes as sent', () => {
        const emails = userAttribute('emails');
        expect(coerceAttributeValue(emails, [{ Primary: 'false', extra: 'True' }])).toEqual([{ Primary: false, extra: 'True' }]);
    });

    it('does not modify its input', () => {
        const input = [{ primary: 'True' }];
        coerceAttributeValue(userAttribute('emails'), input);
        expect(input).toEqual([{ primary: 'True' }]);
    });
});

describe('canonicalizeAttributeValue', () => {
    it('writes sub-attribute names in schema case and drops nulls', () => {
        expect(canonicalizeAttributeValue(userAttribute('name'), { GIVENNAME: 'Ann', familyname: null })).toEqual({ givenName: 'Ann' });
        expect(canonicalizeAttributeValue(userAttribute('emails'), [null, { VALUE: 'a@b.c', PRIMARY: 'True' }])).toEqual([{ value: 'a@b.c', primary: true }]);
        expect(canonicalizeAttributeValue(userAttribute('title'), null)).toBeUndefined();
    });

    it('reports unknown sub-attributes to the callback and leaves them out', () => {
        const unknown: string[] = [];
        expect(canonicalizeAttributeValue(userAttribute('name'), { givenName: 'Ann', nick: 'A' }, (name) => unknown.push(name))).toEqual({ givenName: 'Ann' });
        expect(unknown).toEqual(['nick']);
    });
});

describe('canonicalizeResource', () => {
    it('canonicalizes core, extension and common attributes, keeps unknown ones, drops nulls', () => {
        const canonical = canonicalizeResource({
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
            USERNAME: 'ann',
            Active: 'False',
            externalid: 'x',
            title: null,
            'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user': { Department: 'IT', manager: { Value: 'm-1' }, custom: 1, costCenter: null },
            'urn:example:custom:1.0:User': { a: 1 },
            shoeSize: 44,
        }, 'User');
        expect(canonical).toEqual({
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
            userName: 'ann',
            active: false,
            externalId: 'x',
            [ENTERPRISE_USER_SCHEMA]: { department: 'IT', manager: { value: 'm-1' }, custom: 1 },
            'urn:example:custom:1.0:User': { a: 1 },
            shoeSize: 44,
        });
    });

    it('keeps a JSON key __proto__ as data, never as the prototype', () => {
        const parsed = JSON.parse('{"userName":"ann","__proto__":{"polluted":true}}') as Record<string, unknown>;
        const canonical = canonicalizeResource(parsed, 'User');
        expect(Object.getPrototypeOf(canonical)).toBe(Object.prototype);
        expect((canonical as { polluted?: unknown }).polluted).toBeUndefined();
        expect(Object.keys(canonical)).toEqual(['userName', '__proto__']);
    });

    it('does not modify its input', () => {
        const input = { userName: 'ann', active: 'True', name: { GivenName: 'Ann' } };
        canonicalizeResource(input, 'User');
        expect(input).toEqual({ userName: 'ann', active: 'True', name: { GivenName: 'Ann' } });
    });
});

describe('checkAttributeValue', () => {
    it('accepts values of the schema type', () => {
        expect(() => checkAttributeValue(userAttribute('active'), false, 'active')).not.toThrow();
        expect(() => checkAttributeValue(userAttribute('emails'), [{ value: 'a@b.c', primary: true }], 'emails')).not.toThrow();
        expect(() => checkAttributeValue(userAttribute('manager', ENTERPRISE_USER_SCHEMA), { value: 'm-1' }, 'manager')).not.toThrow();
    });

    it.each([
        ['active', 'True'],
        ['displayName', 5],
        ['name', 'Ann'],
        ['emails', { value: 'a@b.c' }],
        ['emails', [{ primary: 'yes' }]],
    ])('refuses %s = %j with 400 invalidValue naming the path, not the value', (attribute, value) => {
        let thrown: unknown;
        try {
            checkAttributeValue(userAttribute(attribute), value, attribute);
        } catch (error) {
            thrown = error;
        }
        expect(thrown).toBeInstanceOf(ScimError);
        expect((thrown as ScimError).scimType).toBe('invalidValue');
        expect((thrown as ScimError).detail).toContain(attribute);
        expect((thrown as ScimError).detail).not.toContain(JSON.stringify(value));
    });

    it('takes xsd:dateTime (RFC 7643 §2.3.5) and nothing that merely parses as a date', () => {
        const created = resolveAttribute('User', { attribute: 'meta', subAttribute: 'created' })!.subDefinition!;
        expect(created.type).toBe('dateTime');
        for (const good of ['2008-01-23T04:56:22Z', '2008-01-23T04:56:22.123Z', '2008-01-23T04:56:22+02:00', '2008-01-23T04:56:22']) {
            expect(() => checkAttributeValue(created, good, 'meta.created'), good).not.toThrow();
        }
        for (const bad of ['2008', 'Jan 23 2008', '2008-01-23', '2008-13-45T99:99:99Z', 20080123]) {
            expect(() => checkAttributeValue(created, bad, 'meta.created'), String(bad)).toThrow(/xsd:dateTime/);
        }
    });

    it('names the element of a multi-valued attribute that is wrong', () => {
        expect(() => checkAttributeValue(userAttribute('emails'), [{ value: 'a@b.c' }, { value: 5 }], 'emails')).toThrow("'emails[1].value'");
    });
});

