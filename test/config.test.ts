/** Every setting is read in shared/config.ts: what each one becomes, and the defaults. */
import { describe, expect, it } from 'vitest';
import { readSettings } from '../shared/config';

describe('readSettings', () => {
    it('has the documented defaults and no storage, token source or identity when nothing is set', () => {
        expect(readSettings({}, () => undefined)).toEqual({
            storage: { tableName: 'scim' },
            token: { keyVaultUrl: undefined, secretName: 'scim-token', graceWindowMs: 3_600_000, cacheTtlMs: 300_000, staticToken: undefined },
            feedToken: { keyVaultUrl: undefined, secretName: 'scim-feed-token', graceWindowMs: 3_600_000, cacheTtlMs: 300_000, staticToken: undefined },
            feed: { retentionDays: 30 },
            managedIdentityClientId: undefined,
        });
    });

    it('reads the change feed\'s token, push and retention settings; the feed token follows the same vault and grace rules', () => {
        const lines: string[] = [];
        const settings = readSettings({
            KEY_VAULT_URL: 'https://vault.example',
            SCIM_TOKEN_GRACE_MINUTES: '5',
            SCIM_FEED_TOKEN_SECRET_NAME: 'app-feed',
            SCIM_FEED_TOKEN: 'local-feed-token',
            SCIM_FEED_QUEUE: ' changes ',
            QUEUES_ENDPOINT: 'https://acct.queue.core.windows.net',
            SCIM_FEED_RETENTION_DAYS: 'a month',
        }, (line) => lines.push(line));
        expect(settings.feedToken).toEqual({ keyVaultUrl: 'https://vault.example', secretName: 'app-feed', graceWindowMs: 300_000, cacheTtlMs: 300_000, staticToken: 'local-feed-token' });
        expect(settings.token.secretName).toBe('scim-token');
        expect(settings.feed).toEqual({ queueName: 'changes', queueEndpoint: 'https://acct.queue.core.windows.net', retentionDays: 30 });
        expect(lines.join('\n')).toContain('SCIM_FEED_RETENTION_DAYS');
        expect(readSettings({ SCIM_FEED_RETENTION_DAYS: '7', QUEUES_CONNECTION_STRING: 'x', QUEUES_ENDPOINT: 'y' }).feed).toEqual({ retentionDays: 7, queueConnectionString: 'x' });
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
