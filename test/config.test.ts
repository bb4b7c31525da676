/** Every setting is read in shared/config.ts: what each one becomes, and the defaults. */
import { describe, expect, it } from 'vitest';
import { readSettings } from '../shared/config';

describe('readSettings', () => {
    it('has the documented defaults and no storage, token source or identity when nothing is set', () => {
        expect(readSettings({}, () => undefined)).toEqual({
            storage: { tableName: 'scim' },
            token: { keyVaultUrl: undefined, secretName: 'scim-token', graceWindowMs: 3_600_000, cacheTtlMs: 300_000, staticToken: undefined },
            managedIdentityClientId: undefined,
        });
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
