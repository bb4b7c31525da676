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

describe('validateResource (the schema definitions, through the one type check)', () => {
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

    it('checks every value type the schemas use, on core and extension attributes alike', () => {
        const invalid: [Record<string, unknown>, string][] = [
            [{ userName: 'a', x509Certificates: [{ value: 1 }] }, 'x509Certificates[0].value'],
            [{ userName: 'a', emails: [{ value: 'a@b', primary: 'yes' }] }, 'emails[0].primary'],
            [{ userName: 'a', name: 'Alice' }, 'name'],
            [{ userName: 'a', [ENTERPRISE_USER_SCHEMA]: 'engineering' }, ENTERPRISE_USER_SCHEMA],
            [{ userName: 'a', [ENTERPRISE_USER_SCHEMA]: { manager: { value: 7 } } }, `${ENTERPRISE_USER_SCHEMA}:manager.value`],
        ];
        for (const [resource, path] of invalid) {
            const error = errorOf(() => validateResource('User', resource));
            expect(error, path).toMatchObject({ status: 400, scimType: 'invalidValue' });
            expect(error.message, path).toContain(`'${path}'`);
        }
    });

    it('ignores readOnly attributes (the caller drops them) and extensions that are absent', () => {
        expect(() => validateResource('User', { userName: 'a', groups: 'not checked', meta: 5 })).not.toThrow();
        expect(() => validateResource('Group', { displayName: 'g', members: [{ value: 'u1' }] })).not.toThrow();
    });
});
