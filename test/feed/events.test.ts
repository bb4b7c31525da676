/** The change feed's event vocabulary (shared/feed/events.ts) and event rows (FeedLog.eventRow). */
import { describe, expect, it } from 'vitest';
import { changedAttributes, deletionEvent, eventTypeOf } from '../../shared/feed/events';
import { eventDraftOf, eventRow } from '../../shared/store/FeedLog';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('changedAttributes', () => {
    it('names what changed by path with its new value, null for removed, extension attributes one by one', () => {
        const before = { userName: 'a', name: { givenName: 'A', familyName: 'B' }, emails: [{ value: 'a@x', type: 'work' }], title: 'T', [ENTERPRISE]: { department: 'R&D', manager: { value: 'm1' } } };
        const after = { userName: 'a', name: { familyName: 'B', givenName: 'A' }, emails: [{ value: 'b@x', type: 'work' }], active: false, [ENTERPRISE]: { department: 'Math', manager: { value: 'm1' } } };
        expect(changedAttributes(before, after)).toEqual({ emails: [{ value: 'b@x', type: 'work' }], title: null, active: false, [`${ENTERPRISE}:department`]: 'Math' });
        expect(changedAttributes(before, before)).toEqual({});
        expect(changedAttributes({ [ENTERPRISE]: { department: 'X' } }, {})).toEqual({ [`${ENTERPRISE}:department`]: null });
    });

    it('never names password, id, meta or schemas', () => {
        expect(changedAttributes({}, { password: 'p', Password: 'p', id: '1', meta: {}, schemas: [], userName: 'u' })).toEqual({ userName: 'u' });
    });
});

describe('eventTypeOf', () => {
    it('is the request\'s type, except that flipping active is activate/deactivate (a missing active counts as active)', () => {
        expect(eventTypeOf('create', undefined, { active: false })).toBe('prov:create');
        expect(eventTypeOf('patch', { active: true }, { active: true, title: 'x' })).toBe('prov:patch');
        expect(eventTypeOf('put', { active: true }, { active: true })).toBe('prov:put');
        expect(eventTypeOf('patch', { active: true }, { active: false })).toBe('prov:deactivate');
        expect(eventTypeOf('put', {}, { active: false })).toBe('prov:deactivate');
        expect(eventTypeOf('patch', { active: false }, { active: true })).toBe('prov:activate');
        expect(eventTypeOf('patch', { active: false }, {})).toBe('prov:activate');
    });

    it('a delete carries the resource and its externalId only', () => {
        expect(deletionEvent('User', 'u1', { userName: 'x', externalId: 'e1' })).toEqual({ type: 'prov:delete', resourceType: 'User', resourceId: 'u1', externalId: 'e1' });
        expect(deletionEvent('Group', 'g1', { displayName: 'G' })).toEqual({ type: 'prov:delete', resourceType: 'Group', resourceId: 'g1' });
    });
});

describe('event rows', () => {
    it('round-trip through chunks, and an event too large for an entity keeps its attribute names only', () => {
        const small = { type: 'prov:patch' as const, resourceType: 'User' as const, resourceId: 'u', attributes: { title: 'x\u2028y', nickName: '😀'.repeat(20_000) } };
        const row = eventRow('users', 7, small);
        expect(row.rowKey).toBe('ev:000000000000007');
        expect(Number(row.dataChunks)).toBeGreaterThan(1);
        expect(eventDraftOf(row)).toEqual(small);

        const huge = { ...small, attributes: { photos: [{ value: 'p'.repeat(300_000) }], addresses: [{ formatted: 'a'.repeat(300_000) }] } };
        const trimmed = eventDraftOf(eventRow('users', 8, huge));
        expect(trimmed).toEqual({ type: 'prov:patch', resourceType: 'User', resourceId: 'u', attributesOmitted: ['photos', 'addresses'] });
    });
});
