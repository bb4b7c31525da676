/**
 * Roles in the shapes Entra sends (shared/scim/roles.ts): read into {value, display, type, primary}
 * before validation and merging, in POST/PUT bodies and PATCH values alike.
 */
import { describe, expect, it } from 'vitest';
import { canonicalizeResource } from '../../shared/scim/attributeValues';
import { ScimError } from '../../shared/scim/errors';
import { readRoleElement } from '../../shared/scim/roles';

describe('readRoleElement', () => {
    it('leaves the RFC shape (SingleAppRoleAssignment) as it is', () => {
        const role = { primary: true, type: 'WindowsAzureActiveDirectoryRole', value: 'Admin' };
        expect(readRoleElement(role)).toEqual(role);
    });

    it('decodes the JSON string of an AppRoleAssignmentsComplex PATCH: value and display, not the assignment id', () => {
        const encoded = { value: '{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}' };
        expect(readRoleElement(encoded)).toEqual({ value: '25', display: 'Role1234' });
        // Members of the outer object other than value stay; the key spelled in any case is found.
        expect(readRoleElement({ Value: ' {"value":"User"}', type: 'WindowsAzureActiveDirectoryRole' })).toEqual({ type: 'WindowsAzureActiveDirectoryRole', value: 'User' });
    });

    it('reads the displayName of an AppRoleAssignmentsComplex POST as display, unless display is there', () => {
        expect(readRoleElement({ primary: false, type: 'WindowsAzureActiveDirectoryRole', displayName: 'Admin', value: 'Admin' }))
            .toEqual({ primary: false, type: 'WindowsAzureActiveDirectoryRole', display: 'Admin', value: 'Admin' });
        expect(readRoleElement({ display: 'Shown', displayName: 'Other', value: 'x' })).toEqual({ display: 'Shown', value: 'x' });
    });

    it('refuses a malformed JSON-string value with 400 invalidValue, without echoing it', () => {
        for (const value of ['{"id":"1","value":', '{"id":"1"}', '{"value": 25}', '{"value": ""}', '{not json}']) {
            let error: unknown;
            try {
                readRoleElement({ value });
            } catch (caught) {
                error = caught;
            }
            expect(error, value).toBeInstanceOf(ScimError);
            expect(error as ScimError).toMatchObject({ status: 400, scimType: 'invalidValue' });
            expect((error as ScimError).message).not.toContain(value);
        }
    });

    it('leaves other values alone for the validator (a string role, a value that does not start like JSON)', () => {
        expect(readRoleElement('Admin')).toBe('Admin');
        expect(readRoleElement({ value: 'Admin {1}' })).toEqual({ value: 'Admin {1}' });
    });
});

describe('roles in a POST body', () => {
    it('are canonical: primary "false" is a boolean, displayName is display, JSON strings decoded', () => {
        const resource = canonicalizeResource({
            userName: 'a',
            roles: [
                { primary: 'false', type: 'WindowsAzureActiveDirectoryRole', displayName: 'Admin', value: 'Admin' },
                { value: '{"id":"x","value":"25","displayName":"Role1234"}' },
            ],
        }, 'User', () => {});
        expect(resource.roles).toEqual([
            { primary: false, type: 'WindowsAzureActiveDirectoryRole', display: 'Admin', value: 'Admin' },
            { value: '25', display: 'Role1234' },
        ]);
    });
});
