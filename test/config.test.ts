/** Every setting is read in shared/config.ts: what each one becomes, and the defaults. */
import { describe, expect, it } from 'vitest';
import { readLocalHostSettings, readOAuthSettings, readSettings } from '../shared/config';

describe('readSettings', () => {
    it('has the documented defaults and no storage, token source or identity when nothing is set', () => {
        const { indexes, ...rest } = readSettings({}, () => undefined);
        expect(rest).toEqual({
            storage: { tableName: 'scim' },
            token: { keyVaultUrl: undefined, secretName: 'scim-token', graceWindowMs: 3_600_000, cacheTtlMs: 300_000, staticToken: undefined },
            admin: { principalIds: [] },
            quietPeriodMs: 24 * 3_600_000,
            feedToken: { keyVaultUrl: undefined, secretName: 'scim-feed-token', graceWindowMs: 3_600_000, cacheTtlMs: 300_000, staticToken: undefined },
            feed: { retentionDays: 30 },
            managedIdentityClientId: undefined,
            schemaExtensions: [],
        });
        // The default equality indexes (docs/operate.md, "Indexes").
        expect(indexes.User.map((index) => index.path)).toEqual(['userName', 'externalId', 'displayName', 'emails[type eq "work"].value', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber']);
        expect(indexes.Group.map((index) => index.path)).toEqual(['displayName', 'externalId']);
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

    it.each([
        ['nothing set (local: derived from the request)', {}, undefined],
        ['WEBSITE_HOSTNAME (Azure): the app\'s own host name, never the request\'s Host', { WEBSITE_HOSTNAME: 'scim-app.azurewebsites.net' }, 'https://scim-app.azurewebsites.net/scim'],
        ['SCIM_PUBLIC_BASE_URL over WEBSITE_HOSTNAME', { WEBSITE_HOSTNAME: 'scim-app.azurewebsites.net', SCIM_PUBLIC_BASE_URL: 'https://id.contoso.example/scim/' }, 'https://id.contoso.example/scim'],
    ])('public base URL: %s', (_what, env, expected) => {
        expect(readSettings(env, () => undefined).publicBaseUrl).toBe(expected);
    });

    it('prefers a connection string over the endpoint', () => {
        const settings = readSettings({ TABLES_CONNECTION_STRING: 'UseDevelopmentStorage=true', TABLES_ENDPOINT: 'https://acct.table.core.windows.net' });
        expect(settings.storage).toEqual({ tableName: 'scim', connectionString: 'UseDevelopmentStorage=true' });
    });
});

describe('readLocalHostSettings', () => {
    it('reads the local host port and in-memory storage, with defaults', () => {
        expect(readLocalHostSettings({})).toEqual({ port: 7071, storageInMemory: false });
        expect(readLocalHostSettings({ PORT: '8080', SCIM_STORAGE: 'memory' })).toEqual({ port: 8080, storageInMemory: true });
    });
});

const read = (env: NodeJS.ProcessEnv) => {
    const log: string[] = [];
    return { settings: readOAuthSettings(env, (line) => log.push(line)), log };
};

describe('readOAuthSettings', () => {
    it('is off without SCIM_OAUTH_CLIENT_ID, whatever else is set', () => {
        expect(read({ SCIM_OAUTH_CLIENT_SECRET: 'x', SCIM_WIF_ISSUER: 'https://login.microsoftonline.com/t/v2.0' }).settings).toBeUndefined();
        expect(read({ SCIM_OAUTH_CLIENT_ID: '  ' }).settings).toBeUndefined();
    });

    it('locally: the secret from SCIM_OAUTH_CLIENT_SECRET, an in-memory key, 120 minutes, no scopes, no federation', () => {
        expect(read({ SCIM_OAUTH_CLIENT_ID: 'c', SCIM_OAUTH_CLIENT_SECRET: 's' }).settings).toEqual({
            clientId: 'c',
            clientSecret: { value: 's' },
            secretGraceWindowMs: 7 * 24 * 60 * 60_000,
            signingKey: { inMemory: true },
            accessTokenLifetimeSeconds: 7200,
            scopes: undefined,
            federation: undefined,
        });
    });

    it('in Azure: the secret and the key from Key Vault (SCIM_OAUTH_CLIENT_SECRET ignored, and said so)', () => {
        const { settings, log } = read({
            KEY_VAULT_URL: 'https://kv.vault.azure.net', SCIM_OAUTH_CLIENT_ID: 'c', SCIM_OAUTH_CLIENT_SECRET: 's',
            SCIM_OAUTH_CLIENT_SECRET_NAME: 'my-secret', SCIM_OAUTH_SIGNING_KEY_NAME: 'my-key', SCIM_OAUTH_SECRET_GRACE_MINUTES: '30',
        });
        expect(settings).toMatchObject({ clientSecret: { keyVaultSecretName: 'my-secret' }, signingKey: { keyVaultKeyName: 'my-key' }, secretGraceWindowMs: 30 * 60_000 });
        expect(log.join('\n')).toContain('SCIM_OAUTH_CLIENT_SECRET is ignored');
        expect(read({ KEY_VAULT_URL: 'https://kv.vault.azure.net', SCIM_OAUTH_CLIENT_ID: 'c' }).settings).toMatchObject({
            clientSecret: { keyVaultSecretName: 'scim-oauth-client-secret' }, signingKey: { keyVaultKeyName: 'scim-oauth-signing-key' },
        });
    });

    it('lifetime within 60–360 minutes, else the default with a log line; scopes split on spaces', () => {
        for (const [value, seconds] of [['60', 3600], ['360', 21600], ['59', 7200], ['361', 7200], ['two hours', 7200]] as const) {
            const { settings, log } = read({ SCIM_OAUTH_CLIENT_ID: 'c', SCIM_OAUTH_TOKEN_LIFETIME_MINUTES: value });
            expect(settings!.accessTokenLifetimeSeconds, value).toBe(seconds);
            expect(log.length, value).toBe(seconds === 7200 ? 1 : 0);
        }
        expect(read({ SCIM_OAUTH_CLIENT_ID: 'c', SCIM_OAUTH_SCOPE: ' scim  scim.read ' }).settings!.scopes).toEqual(['scim', 'scim.read']);
    });

    it('federation: tenant from the issuer, JWKS URL derived from it, audiences comma-separated', () => {
        const tenant = 'ce5f061f-abe6-4e40-9615-301f87bcb7f0';
        const { settings } = read({
            SCIM_OAUTH_CLIENT_ID: 'c',
            SCIM_WIF_ISSUER: `https://login.microsoftonline.com/${tenant}/v2.0`,
            SCIM_WIF_SUBJECT: 'sub-object-id',
            SCIM_WIF_AUDIENCE: 'api://app-id, app-id,',
        });
        expect(settings!.federation).toEqual({
            issuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
            jwksUrl: `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`,
            subject: 'sub-object-id',
            audiences: ['api://app-id', 'app-id'],
            tenantId: tenant,
        });
    });

    it('federation is off, with a log line naming what is missing or wrong', () => {
        const partial = read({ SCIM_OAUTH_CLIENT_ID: 'c', SCIM_WIF_ISSUER: 'https://login.microsoftonline.com/t/v2.0' });
        expect(partial.settings!.federation).toBeUndefined();
        expect(partial.log.join('\n')).toContain('SCIM_WIF_SUBJECT, SCIM_WIF_AUDIENCE not set');
        const v1 = read({ SCIM_OAUTH_CLIENT_ID: 'c', SCIM_WIF_ISSUER: 'https://sts.windows.net/t/', SCIM_WIF_SUBJECT: 's', SCIM_WIF_AUDIENCE: 'a' });
        expect(v1.settings!.federation).toBeUndefined();
        expect(v1.log.join('\n')).toContain('not of the form');
        const badJwks = read({ SCIM_OAUTH_CLIENT_ID: 'c', SCIM_WIF_ISSUER: 'https://login.microsoftonline.com/t/v2.0', SCIM_WIF_SUBJECT: 's', SCIM_WIF_AUDIENCE: 'a', SCIM_WIF_JWKS_URL: 'file:///etc/keys' });
        expect(badJwks.settings!.federation).toBeUndefined();
    });
});
