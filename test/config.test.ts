/** Every setting is read in shared/config.ts: what each one becomes, and the defaults. */
import { describe, expect, it } from 'vitest';
import { readSettings } from '../shared/config';

describe('readSettings', () => {
    it('has the documented defaults and no storage, token source or identity when nothing is set', () => {
        expect(readSettings({}, () => undefined)).toEqual({
            storage: { tableName: 'scim' },
            token: { keyVaultUrl: undefined, secretName: 'scim-token', graceWindowMs: 3_600_000, cacheTtlMs: 300_000, staticToken: undefined },
            admin: { principalIds: [] },
            quietPeriodMs: 24 * 3_600_000,
            managedIdentityClientId: undefined,
            schemaExtensions: [],
        });
    });

    it('reads who may open /admin and the quiet period; a quiet period of 0 or nonsense is the default', () => {
        const settings = readSettings({
            SCIM_ADMIN_TENANT_ID: ' 11111111-1111-1111-1111-111111111111 ',
            SCIM_ADMIN_CLIENT_ID: '22222222-2222-2222-2222-222222222222',
            SCIM_ADMIN_PRINCIPAL_IDS: 'aaaaaaaa-0000-0000-0000-000000000001, bbbbbbbb-0000-0000-0000-000000000002\ncccccccc-0000-0000-0000-000000000003',
            SCIM_QUIET_PERIOD_MINUTES: '90',
        });
        expect(settings.admin).toEqual({
            tenantId: '11111111-1111-1111-1111-111111111111',
            clientId: '22222222-2222-2222-2222-222222222222',
            principalIds: ['aaaaaaaa-0000-0000-0000-000000000001', 'bbbbbbbb-0000-0000-0000-000000000002', 'cccccccc-0000-0000-0000-000000000003'],
        });
        expect(settings.quietPeriodMs).toBe(90 * 60_000);
        const logged: string[] = [];
        expect(readSettings({ SCIM_QUIET_PERIOD_MINUTES: 'soon' }, (line) => logged.push(line)).quietPeriodMs).toBe(24 * 3_600_000);
        expect(logged.join('\n')).toContain('SCIM_QUIET_PERIOD_MINUTES');
        expect(readSettings({ SCIM_QUIET_PERIOD_MINUTES: '0' }).quietPeriodMs).toBe(24 * 3_600_000);
    });

    it('reads storage, the public base URL and the managed identity', () => {
        const settings = readSettings({
            TABLES_ENDPOINT: 'https://acct.table.core.windows.net',
            SCIM_TABLE_NAME: 'people',
            SCIM_PUBLIC_BASE_URL: 'https://gateway.example/scim//',
            AZURE_CLIENT_ID: ' 00000000-0000-0000-0000-000000000001 ',
        });
        expect(settings.storage).toEqual({ tableName: 'people', endpoint: 'https://acct.table.core.windows.net' });
        expect(settings.publicBaseUrl).toBe('https://gateway.example/scim');
        expect(settings.managedIdentityClientId).toBe('00000000-0000-0000-0000-000000000001');
    });

    it('prefers a connection string over the endpoint', () => {
        const settings = readSettings({ TABLES_CONNECTION_STRING: 'UseDevelopmentStorage=true', TABLES_ENDPOINT: 'https://acct.table.core.windows.net' });
        expect(settings.storage).toEqual({ tableName: 'scim', connectionString: 'UseDevelopmentStorage=true' });
    });
});
