import { describe, expect, it } from 'vitest';
import { ActivityRecorder } from '../../shared/activity/ActivityRecorder';
import { createTableActivityStore } from '../../shared/store/TableActivityStore';
import { ACTIVITY_PARTITION, ACTIVITY_TENANT_MARKER_ROW_KEY, eventRowKey, FEED_HEAD_ROW_KEY, GROUPS_PARTITION, TENANTS_PARTITION, USERS_PARTITION, memberEdgeRowKey, partitionsOf, tenantRowKey, memberOfEdgeRowKey, resourceRowKey, uniqueNameRowKey } from '../../shared/store/keys';
import { checkConsistency } from '../support/consistencyChecker';
import { NOW, group, storeOnFreshTable, user } from './storeFixture';

describe('checkConsistency', () => {
    it('finds nothing wrong in a table the store wrote, and each planted violation', async () => {
        const { store, raw, tableName, connectionString } = storeOnFreshTable();
        await store.create('User', 'u1', user('one@example.com', 'ext-1'), NOW);
        await store.create('User', 'u2', user('two@example.com'), NOW);
        await store.create('Group', 'g1', group('Group one'), NOW, ['u1', 'u2']);
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);

        // An index row whose user is gone.
        await raw.createEntity({ partitionKey: USERS_PARTITION, rowKey: uniqueNameRowKey('User', 'ghost@example.com'), id: 'ghost' });
        // A forward edge without its reverse.
        await raw.deleteEntity(GROUPS_PARTITION, memberOfEdgeRowKey('u2', 'g1'));
        // A member user whose row lost hasMemberships (its delete would skip the edge cleanup).
        await raw.updateEntity({ partitionKey: USERS_PARTITION, rowKey: resourceRowKey('User', 'u1'), hasMemberships: false }, 'Merge');
        // A user whose userName index row vanished.
        await raw.deleteEntity(USERS_PARTITION, uniqueNameRowKey('User', 'two@example.com'));

        const violations = await checkConsistency(connectionString, tableName);
        expect(violations).toEqual(
            expect.arrayContaining([
                `users ${uniqueNameRowKey('User', 'ghost@example.com')}: index row points to a missing resource`,
                `groups ${memberEdgeRowKey('g1', 'u2')}: reverse edge missing`,
                `groups ${memberEdgeRowKey('g1', 'u1')}: member user lacks hasMemberships (its delete would skip edge cleanup)`,
                `users ${resourceRowKey('User', 'u2')}: userName index row missing or pointing elsewhere`,
            ]),
        );
        expect(violations).toHaveLength(5); // the u1 edge is reported from both directions
    });

    it('checks each tenant against its own partitions: an edge into another tenant is a violation', async () => {
        const { store, raw, tableName, connectionString } = storeOnFreshTable();
        const acme = store.withPartitions(partitionsOf('acme'));
        const globex = store.withPartitions(partitionsOf('globex'));
        await acme.create('User', 'u1', user('same@example.com'), NOW);
        await globex.create('User', 'u1', user('same@example.com'), NOW);
        await globex.create('Group', 'g1', group('Team'), NOW, ['u1']);
        await store.tenantRegistry().add({ name: 'acme', state: 'active', created: NOW, tokenDigest: '00'.repeat(32) });
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);

        // Plant an edge pair in acme's groups partition pointing at a group and user that exist only in globex.
        const acmeGroups = partitionsOf('acme').groups;
        const edge = { groupId: 'g1', memberId: 'u1', memberType: 'User' };
        await raw.createEntity({ partitionKey: acmeGroups, rowKey: memberEdgeRowKey('g1', 'u1'), ...edge });
        await raw.createEntity({ partitionKey: acmeGroups, rowKey: memberOfEdgeRowKey('u1', 'g1'), ...edge });
        // A row in no tenant's partitions, and a registry row with two token sources.
        await raw.createEntity({ partitionKey: 'acme-users', rowKey: resourceRowKey('User', 'x'), id: 'x' });
        await raw.createEntity({ partitionKey: TENANTS_PARTITION, rowKey: tenantRowKey('bad'), name: 'bad', state: 'active', created: NOW, tokenDigest: 'aa', secretName: 's' });

        const violations = await checkConsistency(connectionString, tableName);
        expect(violations).toEqual(
            expect.arrayContaining([
                `acme~groups ${memberEdgeRowKey('g1', 'u1')}: edge of a missing group`,
                `acme~groups ${memberOfEdgeRowKey('u1', 'g1')}: edge of a missing group`,
                `acme-users ${resourceRowKey('User', 'x')}: unknown partition`,
                `${TENANTS_PARTITION} ${tenantRowKey('bad')}: tenant row needs exactly one token source`,
            ]),
        );
        expect(violations.filter((v) => v.startsWith('globex'))).toEqual([]);
    });

    it('accepts the activity rows the recorder writes beside the store\'s resource, index and feed rows, and reports malformed or unknown ones', async () => {
        const { store, raw, tableName, connectionString } = storeOnFreshTable();
        await store.create('User', 'u1', user('one@example.com', 'ext-1', { displayName: 'One' }), NOW);
        await store.create('Group', 'g1', group('Group one'), NOW, ['u1']);
        const recorder = new ActivityRecorder(createTableActivityStore({ tableName, connectionString }, { allowInsecureConnection: true }), { instanceId: 'checker' });
        recorder.record({ at: Date.now(), method: 'POST', operation: 'create', status: 409, scimType: 'uniqueness', invocationId: 'i', totalsChange: { users: 0, activeUsers: 0, groups: 0 } });
        await recorder.close();
        const rowKeys = new Set<string>();
        for await (const entity of raw.listEntities()) rowKeys.add(`${entity.partitionKey} ${entity.rowKey!.split(':')[0]}`);
        // Resource, index and feed rows in the resources' partitions; only activity rows in the activity partition.
        expect([...rowKeys].filter((key) => key.startsWith(`${USERS_PARTITION} `)).sort()).toEqual(['users ev', 'users ext', 'users feed', 'users ix', 'users ixstate', 'users u', 'users un']);
        expect([...rowKeys].filter((key) => key.startsWith(`${ACTIVITY_PARTITION} `)).sort()).toEqual(['activity f', 'activity h', 'activity totals']);
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);

        await raw.createEntity({ partitionKey: ACTIVITY_PARTITION, rowKey: 'h:2026-01-01T00', counts: 'not json' });
        await raw.createEntity({ partitionKey: ACTIVITY_PARTITION, rowKey: 'user:alice@example.com', note: 'x' });
        // The activity partition is no stream: a flush is not a SCIM change, so no head or event belongs there.
        await raw.createEntity({ partitionKey: ACTIVITY_PARTITION, rowKey: FEED_HEAD_ROW_KEY, position: 1 });
        await raw.createEntity({ partitionKey: ACTIVITY_PARTITION, rowKey: eventRowKey(1), event: '{}' });
        expect((await checkConsistency(connectionString, tableName)).sort()).toEqual([
            `${ACTIVITY_PARTITION} ${eventRowKey(1)}: unknown activity row`,
            `${ACTIVITY_PARTITION} ${FEED_HEAD_ROW_KEY}: unknown activity row`,
            `${ACTIVITY_PARTITION} h:2026-01-01T00: hour row without counts`,
            `${ACTIVITY_PARTITION} user:alice@example.com: unknown activity row`,
        ]);
    });

    it('accepts a named tenant\'s activity marker, not one in the default\'s records, and flags a marker of a tenant not in the registry', async () => {
        const { store, raw, tableName, connectionString } = storeOnFreshTable();
        await store.tenantRegistry().add({ name: 'marked', state: 'active', created: new Date(NOW).toISOString(), tokenDigest: '00'.repeat(32) });
        expect((await raw.getEntity(partitionsOf('marked').activity, ACTIVITY_TENANT_MARKER_ROW_KEY)).rowKey).toBe(ACTIVITY_TENANT_MARKER_ROW_KEY);
        expect(await checkConsistency(connectionString, tableName)).toEqual([]);

        await raw.createEntity({ partitionKey: ACTIVITY_PARTITION, rowKey: ACTIVITY_TENANT_MARKER_ROW_KEY });
        await raw.createEntity({ partitionKey: partitionsOf('unlisted').activity, rowKey: ACTIVITY_TENANT_MARKER_ROW_KEY });
        expect((await checkConsistency(connectionString, tableName)).sort()).toEqual([
            `${ACTIVITY_PARTITION} ${ACTIVITY_TENANT_MARKER_ROW_KEY}: tenant marker in the default tenant's records`,
            `unlisted~activity ${ACTIVITY_TENANT_MARKER_ROW_KEY}: activity of a tenant not in the registry`,
        ]);
    });
});
