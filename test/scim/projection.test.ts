import { describe, expect, it } from 'vitest';
import { project, readProjection, wantsAttribute } from '../../shared/scim/projection';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from '../../shared/scim/schemas';

const user = {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    id: 'u1',
    userName: 'alice',
    name: { givenName: 'Alice', familyName: 'Liddell' },
    emails: [{ type: 'work', value: 'a@x', primary: true }],
    password: 'never-returned',
    [ENTERPRISE_USER_SCHEMA]: { department: 'R&D', employeeNumber: '7' },
    meta: { resourceType: 'User' },
};

function projectUser(query: string) {
    return project(user, 'User', readProjection(new URLSearchParams(query)));
}

describe('attributes / excludedAttributes (RFC 7644 §3.4.2.5)', () => {
    it('returns default attributes, never `password`', () => {
        const all = projectUser('');
        expect(all.userName).toBe('alice');
        expect(all.password).toBeUndefined();
        expect(all[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'R&D', employeeNumber: '7' });
    });

    it('`attributes` keeps only those, plus id, schemas and meta', () => {
        expect(projectUser('attributes=userName')).toEqual({ schemas: user.schemas, id: 'u1', userName: 'alice', meta: user.meta });
    });

    it('`attributes` with sub-attributes and extension attributes, case-insensitively', () => {
        const projected = projectUser(`attributes=Name.GivenName,emails.value,${ENTERPRISE_USER_SCHEMA}:department`);
        expect(projected.name).toEqual({ givenName: 'Alice' });
        expect(projected.emails).toEqual([{ value: 'a@x' }]);
        expect(projected[ENTERPRISE_USER_SCHEMA]).toEqual({ department: 'R&D' });
        expect(projected.userName).toBeUndefined();
    });

    it('a bare extension URN in `attributes` keeps the whole extension', () => {
        expect(projectUser(`attributes=${ENTERPRISE_USER_SCHEMA}`)[ENTERPRISE_USER_SCHEMA]).toEqual(user[ENTERPRISE_USER_SCHEMA]);
    });

    it('`excludedAttributes` drops attributes but never id, schemas or meta', () => {
        const projected = projectUser('excludedAttributes=emails,id,meta');
        expect(projected.emails).toBeUndefined();
        expect(projected.id).toBe('u1');
        expect(projected.meta).toEqual(user.meta);
    });

    it('knows whether a group response needs its members (Entra excludes them)', () => {
        expect(wantsAttribute(readProjection(new URLSearchParams('excludedAttributes=members')), 'Group', 'members')).toBe(false);
        expect(wantsAttribute(readProjection(new URLSearchParams('excludedAttributes=Members')), 'Group', 'members')).toBe(false);
        expect(wantsAttribute(readProjection(new URLSearchParams('')), 'Group', 'members')).toBe(true);
        expect(wantsAttribute(readProjection(new URLSearchParams('attributes=displayName')), 'Group', 'members')).toBe(false);
        expect(wantsAttribute(readProjection(new URLSearchParams('attributes=members.value')), 'Group', 'members')).toBe(true);
    });

    it('returns a user\'s groups only on request (derived from edges)', () => {
        expect(wantsAttribute(readProjection(new URLSearchParams('')), 'User', 'groups')).toBe(false);
        expect(wantsAttribute(readProjection(new URLSearchParams('attributes=groups')), 'User', 'groups')).toBe(true);
    });
});
