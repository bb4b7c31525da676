/**
 * The peer of the load benchmark: SCIMMY (the most used JavaScript SCIM library) served by its own
 * express routers (`scimmy-routers`), with users and groups in memory and a bearer-token check.
 *
 * SCIMMY leaves storage to three callbacks per resource type: ingress (create/replace), egress (read or
 * query) and degress (delete). These are written the way a careful user of the library would: Maps by
 * id, plus case-insensitive Maps for the attributes Entra matches on (userName, externalId, group
 * displayName), so Entra's lookups are O(1) here too and the comparison is not won by a naive scan.
 * Everything else (PATCH, projection, list responses) is SCIMMY's own code: PATCH reads the whole
 * resource through egress, applies the operations and writes the whole resource back through ingress.
 *
 * Only the load benchmark imports this file (SCIMMY and express are dev dependencies of the bench).
 * SCIMMY's resource declarations are process-wide, so run one peer per process.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';

/** The little of express this file uses (express 5 ships no types and @types/express is not installed). */
interface ExpressApp {
    use(path: string, handler: unknown): void;
    listen(port: number, host: string, callback: (error?: Error) => void): Server;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const express = require('express') as () => ExpressApp;

export interface ScimmyPeer {
    /** e.g. `http://127.0.0.1:PORT/scim` */
    base: string;
    close(): Promise<void>;
}

type Stored = Record<string, unknown> & { id: string };

/** One resource type's records, with case-insensitive unique indexes on the attributes Entra filters by. */
class InMemoryCollection {
    readonly byId = new Map<string, Stored>();
    private readonly indexes = new Map<string, Map<string, string>>();

    constructor(
        private readonly resourceName: string,
        indexedAttributes: string[],
        private readonly uniqueAttribute: string,
    ) {
        for (const attribute of indexedAttributes) this.indexes.set(attribute.toLowerCase(), new Map());
    }

    /** Ids of the records whose attribute equals `value` (case-insensitively), or undefined if the attribute has no index. */
    lookup(attribute: string, value: unknown): Stored[] | undefined {
        const index = this.indexes.get(attribute.toLowerCase());
        if (!index) return undefined;
        const id = index.get(String(value).toLowerCase());
        const found = id === undefined ? undefined : this.byId.get(id);
        return found ? [found] : [];
    }

    /** Create (no id) or replace (id) a record; the unique attribute must stay unique (409, like our endpoint). */
    write(id: string | undefined, attributes: Record<string, unknown>): Stored {
        const previous = id === undefined ? undefined : this.byId.get(id);
        if (id !== undefined && !previous) throw new SCIMMY.Types.Error(404, null!, `${this.resourceName} ${id} not found`);
        const uniqueValue = (valueOf(attributes, this.uniqueAttribute.toLowerCase()) ?? '').toLowerCase();
        const holder = this.indexes.get(this.uniqueAttribute.toLowerCase())!.get(uniqueValue);
        if (holder !== undefined && holder !== id) throw new SCIMMY.Types.Error(409, 'uniqueness', `${this.uniqueAttribute} is already taken`);
        const now = new Date().toISOString();
        const record: Stored = {
            ...attributes,
            id: id ?? randomUUID(),
            meta: { created: (previous?.meta as { created?: string } | undefined)?.created ?? now, lastModified: now },
        };
        if (previous) this.unindex(previous);
        this.byId.set(record.id, record);
        for (const [attribute, index] of this.indexes) {
            const value = valueOf(record, attribute);
            if (value !== undefined) index.set(value.toLowerCase(), record.id);
        }
        return record;
    }

    delete(id: string): void {
        const record = this.byId.get(id);
        if (!record) throw new SCIMMY.Types.Error(404, null!, `${this.resourceName} ${id} not found`);
        this.unindex(record);
        this.byId.delete(id);
    }

    private unindex(record: Stored): void {
        for (const [attribute, index] of this.indexes) {
            const value = valueOf(record, attribute);
            if (value !== undefined && index.get(value.toLowerCase()) === record.id) index.delete(value.toLowerCase());
        }
    }
}

/** SCIMMY camel-cases filter attribute names oddly (`USERNAME` → `uSERNAME`), so attributes are compared lower-case. */
/** The string value of an indexed attribute (userName, externalId, displayName), in any letter case of its name. */
function valueOf(record: Record<string, unknown>, lowerCaseAttribute: string): string | undefined {
    const key = Object.keys(record).find((k) => k.toLowerCase() === lowerCaseAttribute);
    const value = key === undefined ? undefined : record[key];
    return typeof value === 'string' ? value : undefined;
}

/**
 * The egress of a collection: one resource by id, an index hit for a single `attr eq "value"` filter on an
 * indexed attribute, and SCIMMY's own `filter.match` over everything otherwise.
 */
function egress(collection: InMemoryCollection, resource: SCIMMY.Types.Resource): Stored | Stored[] {
    if (resource.id !== undefined) {
        const found = collection.byId.get(resource.id);
        if (!found) throw new SCIMMY.Types.Error(404, null!, `Resource ${resource.id} not found`);
        return found;
    }
    const filter = resource.filter;
    if (!filter) return [...collection.byId.values()];
    const single = filter.length === 1 ? Object.entries(filter[0] as Record<string, unknown>) : [];
    if (single.length === 1) {
        const [attribute, expression] = single[0]!;
        if (Array.isArray(expression) && expression[0] === 'eq') {
            // The index already compared case-insensitively; SCIMMY's own `match` would compare userName
            // case-sensitively and miss Entra's "different case" lookup (RFC 7643 §4.1.1 says caseExact=false).
            const hits = collection.lookup(attribute, expression[1]);
            if (hits) return hits;
        }
    }
    return filter.match([...collection.byId.values()]) as Stored[];
}

/** Strips what SCIMMY adds on the way in (schemas, meta) so the stored record is just the attributes. */
function attributesOf(instance: object): Record<string, unknown> {
    const { schemas: _schemas, meta: _meta, id: _id, ...attributes } = JSON.parse(JSON.stringify(instance)) as Record<string, unknown>;
    return attributes;
}

export async function startScimmyPeer(options: { token: string; port?: number }): Promise<ScimmyPeer> {
    const users = new InMemoryCollection('User', ['userName', 'externalId'], 'userName');
    const groups = new InMemoryCollection('Group', ['displayName', 'externalId'], 'displayName');

    SCIMMY.Resources.declare(SCIMMY.Resources.User)
        .ingress((resource, instance) => users.write(resource.id, attributesOf(instance)) as never)
        .egress((resource) => egress(users, resource) as never)
        .degress((resource) => users.delete(resource.id!));
    SCIMMY.Resources.declare(SCIMMY.Resources.Group)
        .ingress((resource, instance) => groups.write(resource.id, attributesOf(instance)) as never)
        .egress((resource) => egress(groups, resource) as never)
        .degress((resource) => groups.delete(resource.id!));

    const expected = `Bearer ${options.token}`;
    const app = express();
    app.use(
        '/scim',
        new SCIMMYRouters({
            type: 'bearer',
            handler: (request: { header(name: string): string | undefined }) => {
                if (request.header('Authorization') !== expected) throw new Error('Authorization failed');
                return 'entra';
            },
        }),
    );
    const server: Server = await new Promise((resolve, reject) => {
        const listening = app.listen(options.port ?? 0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(listening)));
    });
    const port = (server.address() as AddressInfo).port;
    return {
        base: `http://127.0.0.1:${port}/scim`,
        close: () =>
            new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            }),
    };
}
