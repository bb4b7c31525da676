import { readIndexConfiguration } from '../../shared/scim/attributeIndexes';
import { describe, expect, it } from 'vitest';
import { odata, type TransactionAction } from '@azure/data-tables';
import { GROUPS_PARTITION, memberEdgePrefix, prefixRange, resourceRowKey, uniqueNameRowKey } from '../../shared/store/keys';
import { countStorageRequests, emptyStorageRequestCounts } from '../../shared/store/requestCounter';
import { createTableResourceStore } from '../../shared/store/TableResourceStore';
import { checkConsistency } from '../support/consistencyChecker';
import { LATER, NOW, collect, group, storeErrorOf, storeOnFreshTable, submitInTransactions, user } from './storeFixture';

const { store, tableName, connectionString, raw } = storeOnFreshTable();

async function memberIds(groupId: string): Promise<string[]> {
    return (await collect(store.members(groupId))).map((member) => member.value).sort();
}

async function createUsers(prefix: string, count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
    await Promise.all(ids.map((id) => store.create('User', id, user(`${id}@example.com`), NOW)));
    return ids;
}

const noChange = { clear: false, add: [] as string[], remove: [] as string[] };

describe('groups: create and uniqueness', () => {
    it('creates a group, finds it by displayName case-insensitively and refuses a clash', async () => {
        const created = await store.create('Group', 'g-sales', group('Sales Team', 'ext-sales'), NOW);
        expect((await store.lookup('Group', [{ kind: 'attribute', attribute: 'displayName', value: 'SALES team' }]))[0]).toEqual(created);
        expect((await store.lookup('Group', [{ kind: 'attribute', attribute: 'externalId', value: 'ext-sales' }]))[0]).toEqual(created);
        const error = await storeErrorOf(store.create('Group', 'g-sales-2', group('sales TEAM'), NOW));
        expect(error).toMatchObject({ kind: 'uniqueness' });
        // Users and groups are separate namespaces.
        await store.create('User', 'u-sales', user('Sales Team'), NOW);
    });

    it('creates a group with members', async () => {
        const users = await createUsers('u-initial', 3);
        const created = await store.create('Group', 'g-initial', group('Initial'), NOW, users);
        expect(await memberIds('g-initial')).toEqual([...users].sort());
        expect((await store.get('Group', 'g-initial'))?.version).toBe(created.version);
        const error = await storeErrorOf(store.create('Group', 'g-bad-members', group('Bad members'), NOW, ['no-such-member']));
        expect(error).toMatchObject({ kind: 'invalidChange' });
        expect(await store.get('Group', 'g-bad-members')).toBeUndefined();
    });
});

describe('groups: membership edges', () => {
    it('adds users and groups as members, idempotently, and reads them from both sides', async () => {
        const [alice, bob] = await createUsers('u-m', 2);
        await store.create('Group', 'g-parent', group('Parent'), NOW);
        await store.create('Group', 'g-child', group('Child'), NOW);
        const before = await store.get('Group', 'g-parent');

        const afterAdd = await store.update('Group', 'g-parent', { members: { ...noChange, add: [alice!, bob!, 'g-child'] } }, LATER);
        expect(afterAdd.version).not.toBe(before?.version);
        expect(afterAdd.lastModified).toBe(LATER);
        expect(await collect(store.members('g-parent'))).toEqual(
            expect.arrayContaining([
                { value: alice, type: 'User' },
                { value: bob, type: 'User' },
                { value: 'g-child', type: 'Group' },
            ]),
        );
        expect(await store.groupsOf(alice!)).toEqual(['g-parent']);
        expect(await store.groupsOf('g-child')).toEqual(['g-parent']);
        expect(await store.hasMember('g-parent', alice!)).toBe(true);
        expect(await store.hasMember('g-child', alice!)).toBe(false);

        const again = await store.update('Group', 'g-parent', { members: { ...noChange, add: [alice!, alice!] } }, LATER);
        expect(await memberIds('g-parent')).toHaveLength(3);
        expect(again.version).not.toBe(afterAdd.version); // a write happened (upsert), so a new version
    });

    it('removes members; removing a non-member is a no-op that writes nothing', async () => {
        const [carol, dave] = await createUsers('u-r', 2);
        await store.create('Group', 'g-remove', group('Remove'), NOW, [carol!, dave!]);
        const removed = await store.update('Group', 'g-remove', { members: { ...noChange, remove: [carol!] } }, LATER);
        expect(await memberIds('g-remove')).toEqual([dave]);
        expect(await store.groupsOf(carol!)).toEqual([]);

        const noop = await store.update('Group', 'g-remove', { members: { ...noChange, remove: [carol!, 'never-a-member'] } }, LATER);
        expect(noop.version).toBe(removed.version);
        expect(await memberIds('g-remove')).toEqual([dave]);
    });

    it('clears, and clears-then-adds (PUT), leaving exactly the new members', async () => {
        const users = await createUsers('u-c', 4);
        await store.create('Group', 'g-clear', group('Clear'), NOW, users.slice(0, 3));
        await store.update('Group', 'g-clear', { members: { clear: true, add: [users[2]!, users[3]!], remove: [] } }, LATER);
        expect(await memberIds('g-clear')).toEqual([users[2], users[3]].sort());
        expect(await store.groupsOf(users[0]!)).toEqual([]);
        await store.update('Group', 'g-clear', { members: { clear: true, add: [], remove: [] } }, LATER);
        expect(await memberIds('g-clear')).toEqual([]);
        await store.update('Group', 'g-clear', { members: { clear: true, add: [], remove: [] } }, LATER); // clear of empty
        expect(await memberIds('g-clear')).toEqual([]);
    });

    it('handles changes larger than one transaction, with non-members among many removes', async () => {
        const users = await createUsers('u-big', 130);
        await store.create('Group', 'g-big', group('Big'), NOW);
        await store.update('Group', 'g-big', { members: { ...noChange, add: users } }, LATER);
        expect(await memberIds('g-big')).toEqual([...users].sort());
        const toRemove = [...users.slice(0, 60), 'ghost-1', 'ghost-2'];
        await store.update('Group', 'g-big', { members: { ...noChange, remove: toRemove } }, LATER);
        expect(await memberIds('g-big')).toEqual(users.slice(60).sort());
        // An id both added and removed ends up a member (remove, then add).
        await store.update('Group', 'g-big', { members: { clear: false, add: [users[0]!], remove: [users[0]!, users[61]!] } }, LATER);
        expect(await store.hasMember('g-big', users[0]!)).toBe(true);
        expect(await store.hasMember('g-big', users[61]!)).toBe(false);
    });

    it('refuses unknown members, a group in itself, and a stale version, writing nothing', async () => {
        const [erin] = await createUsers('u-x', 1);
        const current = await store.create('Group', 'g-refuse', group('Refuse'), NOW, [erin!]);
        for (const add of [['nobody'], ['g-refuse']]) {
            const error = await storeErrorOf(store.update('Group', 'g-refuse', { members: { ...noChange, add } }, LATER));
            expect(error).toMatchObject({ kind: 'invalidChange' });
        }
        const changed = await store.update('Group', 'g-refuse', { attributes: group('Refuse renamed') }, LATER, current.version);
        const stale = await storeErrorOf(store.update('Group', 'g-refuse', { members: { ...noChange, remove: [erin!] } }, LATER, current.version));
        expect(stale.kind).toBe('versionConflict');
        expect(await memberIds('g-refuse')).toEqual([erin]);
        expect((await store.get('Group', 'g-refuse'))?.version).toBe(changed.version);
        expect((await storeErrorOf(store.update('Group', 'g-none', { members: { ...noChange, add: [erin!] } }, LATER))).kind).toBe('notFound');
    });

    it('applies concurrent member PATCHes of one group without conflicts', async () => {
        const users = await createUsers('u-par', 12);
        await store.create('Group', 'g-par', group('Parallel'), NOW);
        await Promise.all(users.map((id) => store.update('Group', 'g-par', { members: { ...noChange, add: [id] } }, LATER)));
        expect(await memberIds('g-par')).toEqual([...users].sort());
    });

    it('renames a group and frees the old displayName while keeping members', async () => {
        const [frank] = await createUsers('u-rn', 1);
        await store.create('Group', 'g-rn', group('Old group name', 'ext-rn'), NOW, [frank!]);
        await store.update('Group', 'g-rn', { attributes: group('New group name', 'ext-rn') }, LATER);
        expect(await store.lookup('Group', [{ kind: 'attribute', attribute: 'displayName', value: 'old group name' }])).toEqual([]);
        expect((await store.lookup('Group', [{ kind: 'attribute', attribute: 'externalId', value: 'ext-rn' }]))[0]?.attributes.displayName).toBe('New group name');
        expect(await memberIds('g-rn')).toEqual([frank]);
        await store.create('Group', 'g-rn-2', group('OLD GROUP NAME'), LATER);
    });
});

describe('groups: delete cascades', () => {
    it('deletes a group (and a member user) at an expected version only, checked by the storage request itself', async () => {
        const [ivy] = await createUsers('u-dv', 1);
        const created = await store.create('Group', 'g-dv', group('Delete at version', 'ext-dv'), NOW, [ivy!]);
        const other = createTableResourceStore({ tableName, connectionString }, { allowInsecureConnection: true, indexes: readIndexConfiguration(undefined) });
        const changed = await other.update('Group', 'g-dv', { attributes: group('Delete at version', 'ext-dv-2') }, LATER);
        const refused = emptyStorageRequestCounts();
        expect((await storeErrorOf(countStorageRequests(() => store.delete('Group', 'g-dv', created.version), refused))).kind).toBe('versionConflict');
        expect(refused).toMatchObject({ pointRead: 0, transaction: 1, total: 1 }); // no read: the marking transaction's If-Match refused it
        expect(await memberIds('g-dv')).toEqual([ivy]);

        expect(await store.get('Group', 'g-dv')).toMatchObject({ version: changed.version });
        expect(await store.delete('Group', 'g-dv', changed.version)).toBe(true);
        expect(await store.get('Group', 'g-dv')).toBeUndefined();
        expect(await store.groupsOf(ivy!)).toEqual([]);
        expect(await store.delete('Group', 'g-dv', changed.version)).toBe(false);

        // A user in a group: its edges go with it.
        const [jay] = await createUsers('u-dv-member', 1);
        await store.create('Group', 'g-dv-2', group('Keeps no deleted member'), NOW, [jay!]);
        const jayNow = (await store.get('User', jay!))!;
        expect(await store.delete('User', jay!, jayNow.version)).toBe(true);
        expect(await memberIds('g-dv-2')).toEqual([]);
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
    });

    it('deleting a user removes its memberships in every group', async () => {
        const [gina, hank] = await createUsers('u-dc', 2);
        await store.create('Group', 'g-dc-1', group('Cascade 1'), NOW, [gina!, hank!]);
        await store.create('Group', 'g-dc-2', group('Cascade 2'), NOW, [gina!]);
        expect(await store.delete('User', gina!)).toBe(true);
        expect(await memberIds('g-dc-1')).toEqual([hank]);
        expect(await memberIds('g-dc-2')).toEqual([]);
        expect(await store.groupsOf(gina!)).toEqual([]);
        expect(await store.hasMember('g-dc-1', gina!)).toBe(false);
    });

    it('deleting a group removes all its edges, as a group and as a member of others', async () => {
        const users = await createUsers('u-dg', 120);
        await store.create('Group', 'g-outer', group('Outer'), NOW);
        await store.create('Group', 'g-doomed', group('Doomed', 'ext-doomed'), NOW, users);
        await store.update('Group', 'g-outer', { members: { ...noChange, add: ['g-doomed', users[0]!] } }, LATER);
        expect(await store.delete('Group', 'g-doomed')).toBe(true);
        expect(await store.get('Group', 'g-doomed')).toBeUndefined();
        expect(await memberIds('g-doomed')).toEqual([]);
        expect(await memberIds('g-outer')).toEqual([users[0]]);
        expect(await store.groupsOf(users[5]!)).toEqual([]);
        expect(await store.delete('Group', 'g-doomed')).toBe(false);
        await store.create('Group', 'g-doomed-2', group('doomed', 'ext-doomed'), LATER); // name free again
    });

    it('treats a group interrupted mid-delete as gone, and a DELETE finishes the job', async () => {
        const [ivan] = await createUsers('u-int', 1);
        await store.create('Group', 'g-int', group('Interrupted', 'ext-int'), NOW, [ivan!]);
        // The first step of a delete, as if the process died right after it.
        const marking: TransactionAction[] = [
            ['update', { partitionKey: GROUPS_PARTITION, rowKey: resourceRowKey('Group', 'g-int'), deleting: true }, 'Merge'],
            ['delete', { partitionKey: GROUPS_PARTITION, rowKey: uniqueNameRowKey('Group', 'Interrupted') }],
        ];
        const externalIdRow = (await collect(raw.listEntities({ queryOptions: { filter: `PartitionKey eq 'groups' and RowKey ge 'ext:ext-int:'` } })))[0];
        marking.push(['delete', { partitionKey: GROUPS_PARTITION, rowKey: String(externalIdRow?.rowKey) }]);
        await raw.submitTransaction(marking);

        expect(await store.get('Group', 'g-int')).toBeUndefined();
        expect(await store.lookup('Group', [{ kind: 'id', value: 'g-int' }])).toEqual([]);
        expect((await collect(store.list('Group', 1000))).map((resource) => resource.id)).not.toContain('g-int');
        expect((await store.existingIds(['g-int'])).size).toBe(0);
        expect((await storeErrorOf(store.update('Group', 'g-int', { attributes: group('Revived') }, LATER))).kind).toBe('notFound');
        await store.create('Group', 'g-int-new', group('INTERRUPTED'), LATER); // the name is free
        expect(await checkConsistency(connectionString, tableName)).toContain(`groups ${resourceRowKey('Group', 'g-int')}: group left in the deleting state`);

        expect(await store.delete('Group', 'g-int')).toBe(true);
        expect(await store.groupsOf(ivan!)).toEqual([]);
        const { from, to } = prefixRange(memberEdgePrefix('g-int'));
        expect(await collect(raw.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${GROUPS_PARTITION} and RowKey ge ${from} and RowKey lt ${to}` } }))).toEqual([]);
        expect(await store.get('Group', 'g-int-new')).toBeDefined();
    });
});

describe('existingIds', () => {
    it('answers which ids exist and as what, in batches', async () => {
        const users = await createUsers('u-ex', 20);
        await store.create('Group', 'g-ex-1', group('Exists 1'), NOW);
        await store.create('Group', 'g-ex-2', group('Exists 2'), NOW);
        const unknown = Array.from({ length: 10 }, (_, index) => `unknown-${index}`);
        const found = await store.existingIds([...users, 'g-ex-1', 'g-ex-2', ...unknown, users[0]!, "o'brien/#?"]);
        expect(found.size).toBe(22);
        expect(found.get(users[7]!)).toBe('User');
        expect(found.get('g-ex-2')).toBe('Group');
        expect(found.has('unknown-3')).toBe(false);
        expect((await store.existingIds([])).size).toBe(0);
    });
});

describe('consistency', () => {
    it('leaves every invariant intact after all of the above', async () => {
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
    });

    it('lets seeded edges be cleaned by a group delete', async () => {
        // Rows written directly, the way the budget suite seeds big groups.
        const [jane] = await createUsers('u-seed', 1);
        await store.create('Group', 'g-seeded', group('Seeded'), NOW, [jane!]);
        const actions: TransactionAction[] = [];
        for (let index = 0; index < 250; index++) {
            const memberId = `phantom-${index}`;
            const edge = { partitionKey: GROUPS_PARTITION, groupId: 'g-seeded', memberId, memberType: 'User' };
            actions.push(['create', { ...edge, rowKey: `m:g-seeded:${memberId}` }], ['create', { ...edge, rowKey: `mo:${memberId}:g-seeded` }]);
        }
        await submitInTransactions(raw, actions);
        expect(await memberIds('g-seeded')).toHaveLength(251);
        expect(await store.delete('Group', 'g-seeded')).toBe(true);
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);
    });
});
