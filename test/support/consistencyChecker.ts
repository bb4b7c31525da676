/**
 * Reads a whole SCIM table and checks every invariant of the key design (docs/storage.md, "Invariants").
 * Returns the violations found, empty if the table is consistent. Fault and concurrency suites call it
 * after their scenario; it reads with its own client, so it sees storage, not the store's view of it.
 */
import { TableClient } from '@azure/data-tables';
import { indexKeysOf, parseIndexedAttribute } from '../../shared/scim/attributeIndexes';
import type { ResourceTypeName } from '../../shared/scim/schemas';
import { attributesOf, indexCoverageOf, indexRowKeysOf } from '../../shared/store/entities';
import { eventDraftOf } from '../../shared/store/FeedLog';
import {
    ACTIVITY_FAILURE_PREFIX,
    ACTIVITY_HOUR_PREFIX,
    ACTIVITY_PARTITION,
    ACTIVITY_TENANT_MARKER_ROW_KEY,
    ACTIVITY_TOTALS_ROW_KEY,
    DEFAULT_PARTITIONS,
    FEED_HEAD_ROW_KEY,
    FEED_PUSH_CHECKPOINT_ROW_KEY,
    TENANTS_PARTITION,
    FEED_MAINTENANCE_ROW_KEY,
    positionOfEventRowKey,
    deletionMarkerRowKey,
    isTenantName,
    partitionsOf,
    tenantRowKey,
    type Partitions,
    externalIdRowKey,
    indexRowKey,
    indexStateRowKey,
    memberEdgeRowKey,
    memberOfEdgeRowKey,
    resourceRowKey,
    uniqueAttributeOf,
    uniqueNameRowKey,
} from '../../shared/store/keys';

type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

export async function checkConsistency(connectionString: string, tableName: string): Promise<string[]> {
    const client = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
    const rows = new Map<string, Row>();
    for await (const entity of client.listEntities<Record<string, unknown>>()) {
        const row = entity as Row;
        rows.set(`${row.partitionKey}|${row.rowKey}`, row);
    }
    return findViolations(rows);
}

/**
 * Every tenant's rows are checked against that tenant's partitions only (keys.ts `partitionsOf`): a row that
 * points into another tenant's partitions (an edge to another tenant's user) is a missing row here. Rows in no
 * tenant's partitions and malformed registry rows are violations too.
 */
function findViolations(rows: Map<string, Row>): string[] {
    const violations: string[] = [];
    const tenants = new Map<string, Partitions>([['', DEFAULT_PARTITIONS]]);
    for (const entity of rows.values()) {
        const [tenant, rest] = entity.partitionKey.split('~');
        const named = rest !== undefined && tenant !== undefined && isTenantName(tenant);
        if (entity.partitionKey === TENANTS_PARTITION) checkTenantRow(entity, violations);
        else if (entity.partitionKey === ACTIVITY_PARTITION || (named && rest === ACTIVITY_PARTITION)) {
            violations.push(...activityRowViolations(entity, named));
            // A named tenant's records, its marker included, exist only for a tenant in the registry (docs/activity.md, "Tenants").
            if (named && !rows.has(`${TENANTS_PARTITION}|${tenantRowKey(tenant)}`)) violations.push(`${entity.partitionKey} ${entity.rowKey}: activity of a tenant not in the registry`);
        }
        if (named) tenants.set(tenant, partitionsOf(tenant));
    }
    const known = new Set([TENANTS_PARTITION, ...[...tenants.values()].flatMap((p) => [p.users, p.groups, p.activity])]);
    for (const entity of rows.values()) {
        if (!known.has(entity.partitionKey)) violations.push(`${entity.partitionKey} ${entity.rowKey}: unknown partition`);
    }
    for (const partitions of tenants.values()) violations.push(...findTenantViolations(rows, partitions));
    return violations;
}

function checkTenantRow(entity: Row, violations: string[]): void {
    const where = `${entity.partitionKey} ${entity.rowKey}`;
    // The change feed timer's place in the registry (FeedMaintenanceProgress.ts): a tenant name or '' (start over).
    if (entity.rowKey === FEED_MAINTENANCE_ROW_KEY) {
        if (typeof entity.lastTenant !== 'string' || (entity.lastTenant !== '' && !isTenantName(entity.lastTenant))) violations.push(`${where}: bad feed maintenance row`);
        return;
    }
    const name = String(entity.name);
    if (!isTenantName(name) || entity.rowKey !== tenantRowKey(name)) violations.push(`${where}: tenant row with a bad name`);
    if (!['active', 'disabled', 'removing'].includes(String(entity.state))) violations.push(`${where}: tenant row with an unknown state`);
    if ((typeof entity.tokenDigest === 'string') === (typeof entity.secretName === 'string')) violations.push(`${where}: tenant row needs exactly one token source`);
    // The feed token: none (a row from before tenant feeds), or kept where the Secret Token is (digest or Key Vault).
    if (typeof entity.feedTokenDigest === 'string' && (typeof entity.feedSecretName === 'string' || typeof entity.tokenDigest !== 'string')) violations.push(`${where}: feed token digest beside a Key Vault token`);
    if (typeof entity.feedSecretName === 'string' && typeof entity.secretName !== 'string') violations.push(`${where}: feed token in Key Vault beside a local token`);
    // The OAuth client: none, or a client id with exactly one secret source, kept where the Secret Token is.
    const clientSecretSources = [entity.clientSecretDigest, entity.clientSecretName].filter((value) => typeof value === 'string').length;
    if ((typeof entity.clientId === 'string' ? 1 : 0) !== clientSecretSources) violations.push(`${where}: OAuth client needs a client id and exactly one secret source`);
    if (typeof entity.clientSecretDigest === 'string' && typeof entity.tokenDigest !== 'string') violations.push(`${where}: client secret digest beside a Key Vault token`);
    if (typeof entity.clientSecretName === 'string' && typeof entity.secretName !== 'string') violations.push(`${where}: client secret in Key Vault beside a local token`);
}

/** The invariants of one tenant's two partitions (docs/storage.md, "Invariants"). */
export function findTenantViolations(rows: Map<string, Row>, partitions: Partitions): string[] {
    const violations: string[] = [];
    const row = (partitionKey: string, rowKey: string) => rows.get(`${partitionKey}|${rowKey}`);
    const resource = (type: ResourceTypeName, id: string) => row(type === 'User' ? partitions.users : partitions.groups, resourceRowKey(type, id));

    for (const entity of rows.values()) {
        const where = `${entity.partitionKey} ${entity.rowKey}`;
        const [kind] = entity.rowKey.split(':');
        const partitionType: ResourceTypeName | undefined =
            entity.partitionKey === partitions.users ? 'User' : entity.partitionKey === partitions.groups ? 'Group' : undefined;
        if (!partitionType) continue; // another tenant's row
        switch (kind) {
            case 'u':
            case 'g': {
                const type: ResourceTypeName = kind === 'u' ? 'User' : 'Group';
                if (type !== partitionType) violations.push(`${where}: resource row in the wrong partition`);
                checkResourceRow(entity, type, where, row, partitions, violations);
                break;
            }
            case 'un':
            case 'dn':
            case 'ext': {
                if ((kind === 'un') !== (partitionType === 'User') && kind !== 'ext') violations.push(`${where}: index row in the wrong partition`);
                const owner = resource(partitionType, String(entity.id));
                if (!owner) violations.push(`${where}: index row points to a missing resource`);
                else if (owner.deleting) violations.push(`${where}: index row of a group being deleted`);
                else if (owner.uniqueNameKey !== entity.rowKey && owner.externalIdKey !== entity.rowKey) {
                    violations.push(`${where}: index row not claimed by its resource`);
                }
                break;
            }
            case 'ix': {
                const owner = resource(partitionType, String(entity.id));
                if (!owner) violations.push(`${where}: index row points to a missing resource`);
                else if (owner.deleting) violations.push(`${where}: index row of a group being deleted`);
                else if (!indexRowKeysOf(owner).includes(entity.rowKey)) violations.push(`${where}: index row not listed by its resource`);
                break;
            }
            case 'ixstate': {
                const path = String(entity.path);
                if (entity.rowKey !== indexStateRowKey(path)) violations.push(`${where}: index state RowKey does not match its path`);
                if (entity.status !== 'building' && entity.status !== 'complete') violations.push(`${where}: index state with unknown status`);
                if (entity.status === 'complete') {
                    // Complete means every resource of the type is covered: lookups trust it.
                    const prefix = partitionType === 'User' ? 'u:' : 'g:';
                    for (const other of rows.values()) {
                        if (other.partitionKey !== entity.partitionKey || !other.rowKey.startsWith(prefix) || other.deleting) continue;
                        if (!(path in indexCoverageOf(other))) violations.push(`${where}: complete, but ${other.rowKey} is not covered`);
                    }
                }
                break;
            }
            case 'del': {
                // A group whose DELETE answered before its edges were gone: fine while its row is `deleting`.
                const owner = resource('Group', String(entity.groupId));
                if (partitionType !== 'Group') violations.push(`${where}: deletion marker outside the groups partition`);
                else if (entity.rowKey !== deletionMarkerRowKey(String(entity.groupId))) violations.push(`${where}: deletion marker RowKey does not match its groupId`);
                else if (!owner?.deleting) violations.push(`${where}: deletion marker without a deleting group row`);
                break;
            }
            case 'm':
            case 'mo': {
                if (partitionType !== 'Group') {
                    violations.push(`${where}: edge outside the groups partition`);
                    break;
                }
                checkEdge(entity, kind, where, row, resource, partitions, violations);
                break;
            }
            case 'ev':
                checkEventRow(entity, partitionType, where, violations);
                break;
            case 'feed':
                if (entity.rowKey !== FEED_HEAD_ROW_KEY && entity.rowKey !== FEED_PUSH_CHECKPOINT_ROW_KEY) violations.push(`${where}: unknown feed row`);
                break;
            default:
                violations.push(`${where}: unknown row kind`);
        }
    }
    checkStreams(rows, partitions, violations);
    return violations;
}

/** An event row parses and describes a resource of its partition's type (docs/storage.md, "Change feed"). */
function checkEventRow(entity: Row, partitionType: ResourceTypeName, where: string, violations: string[]): void {
    if (positionOfEventRowKey(entity.rowKey) === undefined) violations.push(`${where}: event RowKey without a position`);
    try {
        const event = eventDraftOf(entity);
        if (event.resourceType !== partitionType) violations.push(`${where}: event about a ${event.resourceType} in the ${partitionType} stream`);
        if (typeof event.type !== 'string' || !event.type.startsWith('prov:')) violations.push(`${where}: event without a type`);
        if (JSON.stringify(event).includes('"password"')) violations.push(`${where}: event mentions password`);
    } catch {
        violations.push(`${where}: event JSON unreadable`);
    }
}

/**
 * Each stream's positions are gap-free from its oldest retained event to its head, and the head names the
 * newest (a stream with events has a head; retention keeps the newest event).
 */
function checkStreams(rows: Map<string, Row>, partitions: Partitions, violations: string[]): void {
    for (const partition of [partitions.users, partitions.groups]) {
        const positions = [...rows.values()]
            .filter((entity) => entity.partitionKey === partition)
            .map((entity) => positionOfEventRowKey(entity.rowKey))
            .filter((position): position is number => position !== undefined)
            .sort((a, b) => a - b);
        const head = rows.get(`${partition}|${FEED_HEAD_ROW_KEY}`);
        if (positions.length === 0) {
            if (head && Number(head.position) !== 0) violations.push(`${partition}: head at ${String(head.position)} but no events`);
            continue;
        }
        if (!head) violations.push(`${partition}: events without a stream head`);
        else if (Number(head.position) !== positions[positions.length - 1]) violations.push(`${partition}: head at ${String(head.position)}, newest event ${positions[positions.length - 1]}`);
        positions.forEach((position, index) => {
            if (index > 0 && position !== positions[index - 1]! + 1) violations.push(`${partition}: gap in event positions before ${position}`);
        });
    }
}

function checkResourceRow(
    entity: Row,
    type: ResourceTypeName,
    where: string,
    row: (pk: string, rk: string) => Row | undefined,
    partitions: Partitions,
    violations: string[],
): void {
    const id = String(entity.id);
    if (entity.rowKey !== resourceRowKey(type, id)) violations.push(`${where}: RowKey does not match id`);
    // `deleting` with its `del:` marker is a cleanup the sweep will finish; without it, nothing would.
    if (entity.deleting && (type !== 'Group' || !row(partitions.groups, deletionMarkerRowKey(id)))) violations.push(`${where}: ${type.toLowerCase()} left in the deleting state`);
    let attributes: Record<string, unknown>;
    try {
        attributes = attributesOf(entity);
    } catch {
        violations.push(`${where}: attributes JSON unreadable`);
        return;
    }
    const unique = attributes[uniqueAttributeOf(type)];
    const expectedNameKey = typeof unique === 'string' ? uniqueNameRowKey(type, unique) : undefined;
    if (entity.uniqueNameKey !== expectedNameKey) violations.push(`${where}: uniqueNameKey does not match ${uniqueAttributeOf(type)}`);
    const nameRow = row(entity.partitionKey, String(entity.uniqueNameKey));
    if (!entity.deleting && nameRow?.id !== id) violations.push(`${where}: ${uniqueAttributeOf(type)} index row missing or pointing elsewhere`);

    const externalId = typeof attributes.externalId === 'string' && attributes.externalId !== '' ? attributes.externalId : undefined;
    const expectedExternalKey = externalId === undefined ? undefined : externalIdRowKey(externalId, id);
    if (entity.externalIdKey !== expectedExternalKey) violations.push(`${where}: externalIdKey does not match externalId`);
    if (!entity.deleting && expectedExternalKey && row(entity.partitionKey, expectedExternalKey)?.id !== id) {
        violations.push(`${where}: externalId index row missing`);
    }

    // Generic index rows: for every index the row lists, exactly the rows its attributes imply, all present.
    if (entity.deleting) return; // the marking transaction deleted them
    for (const [path, keys] of Object.entries(indexCoverageOf(entity))) {
        const parse = parseIndexedAttribute(type, path);
        if ('problem' in parse) {
            violations.push(`${where}: lists rows of an index that cannot exist (${path})`);
            continue;
        }
        let expected: string[];
        try {
            expected = indexKeysOf(parse.index, attributes).map((key) => indexRowKey(path, key, id));
        } catch {
            violations.push(`${where}: attributes hold text no index can key`);
            continue;
        }
        if ([...keys].sort().join('\n') !== [...expected].sort().join('\n')) violations.push(`${where}: rows listed for ${path} do not match its attributes`);
        for (const key of keys) if (row(entity.partitionKey, key)?.id !== id) violations.push(`${where}: ${path} index row missing or pointing elsewhere`);
    }
}

function checkEdge(
    entity: Row,
    kind: 'm' | 'mo',
    where: string,
    row: (pk: string, rk: string) => Row | undefined,
    resource: (type: ResourceTypeName, id: string) => Row | undefined,
    partitions: Partitions,
    violations: string[],
): void {
    const groupId = String(entity.groupId);
    const memberId = String(entity.memberId);
    const memberType = entity.memberType as ResourceTypeName;
    const ownKey = kind === 'm' ? memberEdgeRowKey(groupId, memberId) : memberOfEdgeRowKey(memberId, groupId);
    if (entity.rowKey !== ownKey) violations.push(`${where}: edge RowKey does not match its groupId/memberId`);
    const otherKey = kind === 'm' ? memberOfEdgeRowKey(memberId, groupId) : memberEdgeRowKey(groupId, memberId);
    const other = row(partitions.groups, otherKey);
    if (!other) violations.push(`${where}: ${kind === 'm' ? 'reverse' : 'forward'} edge missing`);
    else if (other.memberType !== memberType) violations.push(`${where}: edge and reverse edge disagree on memberType`);
    const group = resource('Group', groupId);
    if (!group) violations.push(`${where}: edge of a missing group`);
    if (memberType !== 'User' && memberType !== 'Group') {
        violations.push(`${where}: edge with unknown memberType`);
        return;
    }
    const member = resource(memberType, memberId);
    if (!member) violations.push(`${where}: edge to a missing ${memberType}`);
    else if (memberType === 'User' && member.hasMemberships !== true) {
        violations.push(`${where}: member user lacks hasMemberships (its delete would skip edge cleanup)`);
    }
}

/**
 * An activity partition (docs/activity.md: `activity`, or a named tenant's `<tenant>~activity`) holds counts, not resources: its rows must be one of its three
 * kinds (and a named tenant's marker), with JSON where JSON belongs, and never refer to a resource by anything but an id.
 */
function activityRowViolations(entity: Row, named: boolean): string[] {
    const where = `${entity.partitionKey} ${entity.rowKey}`;
    // A named tenant's marker (keys.ts `ACTIVITY_TENANT_MARKER_ROW_KEY`): no properties of its own; the default tenant has none.
    if (entity.rowKey === ACTIVITY_TENANT_MARKER_ROW_KEY) return named ? [] : [`${where}: tenant marker in the default tenant's records`];
    const json = (property: string) => {
        try {
            return typeof JSON.parse(String(entity[property])) === 'object';
        } catch {
            return false;
        }
    };
    if (entity.rowKey === ACTIVITY_TOTALS_ROW_KEY) {
        return ['users', 'activeUsers', 'groups'].every((name) => Number.isSafeInteger(Number(entity[name]))) && json('applied') ? [] : [`${where}: malformed totals row`];
    }
    if (entity.rowKey.startsWith(ACTIVITY_HOUR_PREFIX) && /^h:\d{4}-\d\d-\d\dT\d\d$/.test(entity.rowKey)) return json('counts') ? [] : [`${where}: hour row without counts`];
    if (entity.rowKey.startsWith(ACTIVITY_FAILURE_PREFIX) && /^f:\d{15}:[^:]+:\d+$/.test(entity.rowKey)) return json('failure') ? [] : [`${where}: failure row without a failure`];
    return [`${where}: unknown activity row`];
}
