/**
 * Onboards tenants for tests the way an admin does: `runTenantCommand` (dev/tenantCommand.ts) against the test
 * server's table, returning the Tenant URL and Secret Token it printed as its last two lines, and the change
 * feed URL and token it printed before them.
 */
import { expect } from 'vitest';
import { runTenantCommand } from '../../dev/tenantCommand';
import type { ScimTestServer } from './scimServer';

export interface TenantCredentials {
    name: string;
    /** The Tenant URL (`http://127.0.0.1:PORT/tenants/<name>/scim`). */
    base: string;
    token: string;
}

/** What `add` prints for the application besides: the tenant's change feed URL and its feed token. */
export interface AddedTenant extends TenantCredentials {
    /** `http://127.0.0.1:PORT/tenants/<name>/changes` */
    feedUrl: string;
    feedToken: string;
}

export async function runTenant(server: ScimTestServer, argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runTenantCommand([...argv, '--app-url', server.base], {
        env: { TABLES_CONNECTION_STRING: server.connectionString, SCIM_TABLE_NAME: server.tableName },
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        createSecretClient: () => {
            throw new Error('no Key Vault in this test');
        },
    });
    return { code, out, err };
}

/** `add <name>`, asserting it succeeded and printed exactly the two lines Entra needs, last. */
export async function addTenant(server: ScimTestServer, name: string): Promise<AddedTenant> {
    const { code, out } = await runTenant(server, ['add', name]);
    expect(code).toBe(0);
    const [feedUrlLine, feedTokenLine, urlLine, tokenLine] = out.slice(-4);
    expect(feedUrlLine).toBe(`Feed URL: ${server.origin}/tenants/${name}/changes`);
    expect(feedTokenLine).toMatch(/^Feed Token: [A-Za-z0-9_-]{43}$/);
    expect(urlLine).toMatch(/^Tenant URL: /);
    expect(tokenLine).toMatch(/^Secret Token: [A-Za-z0-9_-]{43}$/);
    return {
        name,
        base: urlLine!.slice('Tenant URL: '.length),
        token: tokenLine!.slice('Secret Token: '.length),
        feedUrl: feedUrlLine!.slice('Feed URL: '.length),
        feedToken: feedTokenLine!.slice('Feed Token: '.length),
    };
}
