/**
 * The tenant registry (docs/operate.md, "Tenants"): one row per named tenant in the `tenants` partition of the
 * SCIM table, written by `npm run tenant` and read (cached) by the tenant token check (shared/auth/TenantTokenVerifier.ts).
 *
 * A row says whether the tenant is active and where its Secret Token is checked: a SHA-256 digest of it
 * (local, no Key Vault; the token itself is never stored) or the name of its Key Vault secret (Azure, with
 * the same rotation and grace rules as the default tenant's token).
 */
import type { TableEntity, TransactionAction } from '@azure/data-tables';
import type { EntityTable, Entity } from './EntityTable';
import { partitionsOf, prefixRange, TENANTS_PARTITION, tenantRowKey } from './keys';
import { deleteActivityMarker, insertActivityMarker } from './activityMarker';
import { statusCodeOf } from '../statusCodeOf';

export type TenantState = 'active' | 'disabled' | 'removing';

export interface TenantRecord {
    name: string;
    /** `disabled`: its token is refused, its data kept. `removing`: a remove is deleting its data (resumable). */
    state: TenantState;
    created: string;
    /** Hex SHA-256 of the Secret Token (local tenants). */
    tokenDigest?: string;
    /** The Key Vault secret holding the Secret Token (tenants in Azure). */
    secretName?: string;
    /**
     * The tenant's change feed token (`/tenants/<name>/changes`, docs/feed.md "Tenants"), kept like its Secret
     * Token: a digest (local) or a Key Vault secret of its own (Azure). Neither: rows from before tenant feeds,
     * whose feed refuses every token until `npm run tenant -- rotate <name> --feed` creates one.
     */
    feedTokenDigest?: string;
    feedSecretName?: string;
    /**
     * The tenant's OAuth client (`npm run tenant -- client create <name>`, docs/operate.md "Tenants"): its client id,
     * and its secret kept like its Secret Token, a digest (local) or a Key Vault secret of its own (Azure, the
     * deployment's client secret rules). None: its token endpoint refuses every client.
     */
    clientId?: string;
    clientSecretDigest?: string;
    clientSecretName?: string;
}

export class TenantExistsError extends Error {
    constructor(name: string) {
        super(`A tenant named '${name}' already exists`);
    }
}

export class TenantRegistry {
    constructor(private readonly table: EntityTable) {}

    async get(name: string): Promise<TenantRecord | undefined> {
        await this.table.ensureExists();
        const entity = await this.table.read(TENANTS_PARTITION, tenantRowKey(name));
        return entity && recordOf(entity);
    }

    /**
     * Whether `name` may get activity rows: in the registry and not being removed (docs/activity.md, "Tenants").
     * One point read; the recorder asks before each flush of the tenant.
     */
    async acceptsActivity(name: string): Promise<boolean> {
        const state = (await this.get(name))?.state;
        return state === 'active' || state === 'disabled';
    }

    async list(): Promise<TenantRecord[]> {
        await this.table.ensureExists();
        const records: TenantRecord[] = [];
        for await (const page of this.table.pages(TENANTS_PARTITION, tenantRowKey(''))) records.push(...page.map(recordOf));
        return records.sort((a, b) => a.name.localeCompare(b.name));
    }

    /**
     * One page of tenants in name order, starting after `after` (the status page's list, docs/activity.md
     * "Tenants"): at most `limit` of them and the name to continue after when there are more. One range read
     * (two if storage answers a short page), whatever the number of tenants.
     */
    async page(after: string | undefined, limit: number): Promise<{ tenants: TenantRecord[]; nextAfter?: string }> {
        await this.table.ensureExists();
        const { from, to } = prefixRange(tenantRowKey(''));
        const start = after === undefined ? from : tenantRowKey(after) + '\u0000';
        const tenants: TenantRecord[] = [];
        for await (const page of this.table.rangePages(TENANTS_PARTITION, start, to, { pageSize: limit + 1, maxPages: 2 })) {
            tenants.push(...page.map(recordOf));
            if (tenants.length > limit) break;
        }
        const shown = tenants.slice(0, limit);
        return tenants.length > limit ? { tenants: shown, nextAfter: shown[shown.length - 1]!.name } : { tenants: shown };
    }

    /**
     * Adds a tenant; `TenantExistsError` if the name is taken (also by a tenant being removed: callers check the
     * name first, as `npm run tenant -- add` does). Its activity marker comes first (activityMarker.ts): a crash
     * between the two leaves only a marker, which the next `add` of the name keeps.
     */
    async add(record: TenantRecord): Promise<void> {
        await this.table.ensureExists();
        await insertActivityMarker(this.table, partitionsOf(record.name).activity);
        try {
            await this.table.submit([['create', rowOf(record)]]);
        } catch (error) {
            if (statusCodeOf(error) === 409) throw new TenantExistsError(record.name);
            throw error;
        }
    }

    /** Replaces a tenant's row (state change, new token digest). */
    async put(record: TenantRecord): Promise<void> {
        await this.table.ensureExists();
        await this.table.submit([['upsert', rowOf(record), 'Replace']]);
    }

    /**
     * At most `limit` tenants whose names sort after `after` ('' for the first), in name order: one range read.
     * The change feed timer walks the registry this way, a bounded slice per run (shared/feed/maintainTenantFeeds.ts).
     */
    async listAfter(after: string, limit: number): Promise<TenantRecord[]> {
        await this.table.ensureExists();
        const records: TenantRecord[] = [];
        const options = { pageSize: limit, ...(after === '' ? {} : { after: tenantRowKey(after) }) };
        for await (const page of this.table.pages(TENANTS_PARTITION, tenantRowKey(''), options)) {
            records.push(...page.map(recordOf));
            if (records.length >= limit) break;
        }
        return records.slice(0, limit);
    }

    /**
     * Deletes the tenant's activity marker: from then on no activity batch can be written for it, whatever a flush
     * read in the registry before (docs/activity.md, "Tenants"). `remove`'s first step after marking the tenant `removing`.
     */
    async closeActivityRecords(name: string): Promise<void> {
        await deleteActivityMarker(this.table, partitionsOf(name).activity);
    }

    async delete(name: string): Promise<void> {
        const action: TransactionAction = ['delete', { partitionKey: TENANTS_PARTITION, rowKey: tenantRowKey(name) }];
        try {
            await this.table.submit([action]);
        } catch (error) {
            if (statusCodeOf(error) !== 404) throw error;
        }
    }
}

function rowOf(record: TenantRecord): TableEntity<Record<string, unknown>> {
    return { partitionKey: TENANTS_PARTITION, rowKey: tenantRowKey(record.name), ...record };
}

function recordOf(entity: Entity): TenantRecord {
    const record: TenantRecord = { name: String(entity.name), state: entity.state as TenantState, created: String(entity.created) };
    if (typeof entity.tokenDigest === 'string') record.tokenDigest = entity.tokenDigest;
    if (typeof entity.secretName === 'string') record.secretName = entity.secretName;
    if (typeof entity.feedTokenDigest === 'string') record.feedTokenDigest = entity.feedTokenDigest;
    if (typeof entity.feedSecretName === 'string') record.feedSecretName = entity.feedSecretName;
    if (typeof entity.clientId === 'string') record.clientId = entity.clientId;
    if (typeof entity.clientSecretDigest === 'string') record.clientSecretDigest = entity.clientSecretDigest;
    if (typeof entity.clientSecretName === 'string') record.clientSecretName = entity.clientSecretName;
    return record;
}
