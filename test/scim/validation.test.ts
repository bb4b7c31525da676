import { describe, expect, it } from 'vitest';
import { ScimError } from '../../shared/scim/errors';
import { ENTERPRISE_USER_SCHEMA } from '../../shared/scim/schemas';
import { validateResource } from '../../shared/scim/validation';

function errorOf(fn: () => void): ScimError {
    try {
        fn();
    } catch (error) {
        if (error instanceof ScimError) return error;
        throw error;
    }
    throw new Error('expected a ScimError');
}

describe('validateResource (ajv, compiled from the schema definitions)', () => {
    it('accepts a full Entra user, unknown attributes included', () => {
        expect(() =>
            validateResource('User', {
                userName: 'a@b',
                active: true,
                emails: [{ type: 'work', value: 'a@b', primary: true }],
                name: { givenName: 'A', familyName: 'B' },
                [ENTERPRISE_USER_SCHEMA]: { department: 'X', manager: { value: 'm1' } },
                customThing: { any: 'shape' },
            }),
        ).not.toThrow();
    });

    it('requires userName for users and displayName for groups, non-empty', () => {
        expect(errorOf(() => validateResource('User', { displayName: 'x' }))).toMatchObject({ status: 400, scimType: 'invalidValue', message: "Attribute 'userName' is required" });
        expect(errorOf(() => validateResource('User', { userName: '' })).message).toContain('userName');
        expect(errorOf(() => validateResource('Group', { externalId: 'x' })).message).toContain('displayName');
    });

    it('names the offending attribute, never its value', () => {
        const error = errorOf(() => validateResource('User', { userName: 'a', emails: [{ value: 42 }] }));
        expect(error.scimType).toBe('invalidValue');
        expect(error.message).toContain('emails[0].value');
        expect(error.message).not.toContain('42');
        expect(errorOf(() => validateResource('User', { userName: 'a', active: 'yes' })).message).toContain('active');
        expect(errorOf(() => validateResource('User', { userName: 'a', emails: { value: 'x' } })).message).toContain('emails');
        expect(errorOf(() => validateResource('User', { userName: 'a', [ENTERPRISE_USER_SCHEMA]: { department: 5 } })).message).toContain('department');
    });
});
