/**
 * The tenant admin command (`npm run tenant`) against Azurite, and against the stub vault for tenants whose
 * token is a Key Vault secret: its name rules and exit codes, its exact output, and a resumable remove.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantTokenVerifier } from '../../shared/auth/createTokenVerifier';
import { feedSecretNameOf, progressBar, removeTenant, runTenantCommand, secretNameOf, type TenantCommandIo } from '../../dev/tenantCommand';
import { readSettings } from '../../shared/config';
import { USER_SCHEMA } from '../../shared/scim/schemas';
import { createStoreFromSettings } from '../../shared/store/createStore';
import { partitionsOf } from '../../shared/store/keys';
import { fakeCredential, startKeyVaultStub, stubSecretClient, stubSecretClientOptions, type KeyVaultStub } from '../support/keyVaultStub';
import { testConnectionString, testTableName } from '../support/tables';

const env = { TABLES_CONNECTION_STRING: testConnectionString(), SCIM_TABLE_NAME: testTableName() };
let stub: KeyVaultStub;

beforeAll(async () => {
    stub = await startKeyVaultStub();
});
afterAll(async () => {
    await stub.stop();
});

async function run(argv: string[], extraEnv: Record<string, string> = {}, io: Partial<TenantCommandIo> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runTenantCommand(argv, {
        env: { ...env, ...extraEnv },
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        createSecretClient: () => stubSecretClient(stub),
        now: () => new Date('2026-03-01T09:00:00Z'),
        ...io,
    });
    return { code, out, err };
}

function defaultStore() {
    const settings = readSettings(env);
    return createStoreFromSettings(settings.storage, settings.indexes);
}

describe('npm run tenant: names and usage', () => {
    it.each(['ab', 'Acme', 'a_b', 'acme.com', 'x'.repeat(41), 'acme~users', 'tenant name', ''])('refuses the name %j with exit code 2 and says the rule', async (name) => {
        const { code, err, out } = await run(['add', name]);
        expect(code).toBe(2);
        expect(out).toEqual([]);
        expect(err[0]).toMatch(/^(Invalid tenant name '.*': use 3–40 lower-case letters, digits and hyphens\.|Missing tenant name)/);
    });

    it('accepts 3 and 40 characters of letters, digits and hyphens', async () => {
        for (const name of ['a-1', 'a'.repeat(40)]) expect((await run(['add', name])).code).toBe(0);
    });

    it('refuses unknown commands, missing names, extra arguments and unknown options with exit code 2', async () => {
        for (const argv of [[], ['launch', 'acme'], ['rotate'], ['list', 'acme'], ['add', 'acme', 'extra'], ['add', 'acme', '--force']]) {
            expect((await run(argv)).code, argv.join(' ')).toBe(2);
        }
    });
});

describe('npm run tenant: local tenants (digest in the registry)', () => {
    it('add prints the Tenant URL and Secret Token as the last two lines and stores only the digest', async () => {
        const { code, out } = await run(['add', 'contoso', '--app-url', 'https://scim.example.com']);
        expect(code).toBe(0);
        expect(out.at(-2)).toBe('Tenant URL: https://scim.example.com/tenants/contoso/scim');
        const token = out.at(-1)!.slice('Secret Token: '.length);
        expect(out.at(-1)).toMatch(/^Secret Token: [A-Za-z0-9_-]{43}$/);
        const record = await defaultStore().tenantRegistry().get('contoso');
        expect(record).toMatchObject({ name: 'contoso', state: 'active', created: '2026-03-01T09:00:00.000Z' });
        expect(JSON.stringify(record)).not.toContain(token);
        const verifier = createTenantTokenVerifier(readSettings(env), defaultStore().tenantRegistry());
        expect(await verifier.verify('contoso', token)).toBe(true);
        expect(await verifier.verify('contoso', token + 'x')).toBe(false);
    });

    it('add of an existing name fails with exit code 1 and changes nothing', async () => {
        const before = await defaultStore().tenantRegistry().get('contoso');
        const { code, err } = await run(['add', 'contoso']);
        expect(code).toBe(1);
        expect(err).toEqual(["Tenant 'contoso' already exists."]);
        expect(await defaultStore().tenantRegistry().get('contoso')).toEqual(before);
    });

    it('list shows every tenant with its state; commands on unknown tenants fail with exit code 1', async () => {
        await run(['add', 'fabrikam']);
        await run(['disable', 'fabrikam']);
        const { code, out } = await run(['list']);
        expect(code).toBe(0);
        expect(out).toContain('fabrikam  disabled  created 2026-03-01T09:00:00.000Z  token digest stored locally  feed token digest stored locally  no OAuth client');
        expect(out).toContain('contoso  active  created 2026-03-01T09:00:00.000Z  token digest stored locally  feed token digest stored locally  no OAuth client');
        for (const command of ['rotate', 'disable', 'enable', 'remove']) expect((await run([command, 'nobody'])).code).toBe(1);
    });

    it('reports a storage failure with exit code 1, without a stack', async () => {
        const { code, err } = await run(['list'], { TABLES_CONNECTION_STRING: 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;' });
        expect(code).toBe(1);
        expect(err.at(-1)).toMatch(/^Failed: /);
    });
});

describe('npm run tenant: tenants in Key Vault', () => {
    const vault = () => ({ KEY_VAULT_URL: stub.vaultUrl });

    it('add writes the token as the secret scim-tenant-<name> and records only the secret name', async () => {
        const { code, out } = await run(['add', 'northwind'], vault());
        expect(code).toBe(0);
        const token = out.at(-1)!.slice('Secret Token: '.length);
        const record = await defaultStore().tenantRegistry().get('northwind');
        expect(record).toEqual({ name: 'northwind', state: 'active', created: '2026-03-01T09:00:00.000Z', secretName: secretNameOf('northwind'), feedSecretName: feedSecretNameOf('northwind') });
        const verifier = createTenantTokenVerifier(readSettings({ ...env, ...vault() }), defaultStore().tenantRegistry(), {
            credential: fakeCredential,
            secretClientOptions: stubSecretClientOptions,
            log: () => undefined,
        });
        expect(await verifier.verify('northwind', token)).toBe(true);
        expect(await verifier.verify('contoso', token)).toBe(false);

        // rotate: a new secret version; the previous token stays accepted for the grace window.
        const rotated = await run(['rotate', 'northwind'], vault());
        expect(rotated.code).toBe(0);
        const newToken = rotated.out.at(-1)!.slice('Secret Token: '.length);
        expect(newToken).not.toBe(token);
        const fresh = createTenantTokenVerifier(readSettings({ ...env, ...vault() }), defaultStore().tenantRegistry(), {
            credential: fakeCredential,
            secretClientOptions: stubSecretClientOptions,
            log: () => undefined,
        });
        expect(await fresh.verify('northwind', newToken)).toBe(true);
        expect(await fresh.verify('northwind', token)).toBe(true);
    });
});

describe('npm run tenant: the change feed token of a tenant (docs/feed.md, "Tenants")', () => {
    const vault = () => ({ KEY_VAULT_URL: stub.vaultUrl });
    const verifier = (extraEnv: Record<string, string> = {}) => createTenantTokenVerifier(readSettings({ ...env, ...extraEnv }), defaultStore().tenantRegistry(), {
        credential: fakeCredential,
        secretClientOptions: stubSecretClientOptions,
        log: () => undefined,
    });
    const tokenOf = (line: string | undefined, label: string) => {
        expect(line).toMatch(new RegExp(`^${label}: [A-Za-z0-9_-]{43}$`));
        return line!.slice(label.length + 2);
    };

    it('local: add prints the feed URL and token before the Entra lines and keeps only its digest; rotate --feed replaces it; remove deletes it', async () => {
        const added = await run(['add', 'feedco', '--app-url', 'https://scim.example.com']);
        expect(added.code).toBe(0);
        expect(added.out).toHaveLength(4);
        expect(added.out[0]).toBe('Feed URL: https://scim.example.com/tenants/feedco/changes');
        const feedToken = tokenOf(added.out[1], 'Feed Token');
        const secretToken = tokenOf(added.out[3], 'Secret Token');
        expect(added.out[2]).toBe('Tenant URL: https://scim.example.com/tenants/feedco/scim');
        expect(feedToken).not.toBe(secretToken);
        const record = (await defaultStore().tenantRegistry().get('feedco'))!;
        expect(record.feedTokenDigest).toMatch(/^[0-9a-f]{64}$/);
        expect(JSON.stringify(record)).not.toContain(feedToken);
        const check = verifier();
        expect(await check.verify('feedco', feedToken, 'feed')).toBe(true);
        expect(await check.verify('feedco', secretToken, 'feed')).toBe(false);
        expect(await check.verify('feedco', feedToken, 'scim')).toBe(false);
        expect(await check.verify('feedco', secretToken, 'scim')).toBe(true);
        expect((await run(['list'])).out).toContain('feedco  active  created 2026-03-01T09:00:00.000Z  token digest stored locally  feed token digest stored locally  no OAuth client');

        const rotated = await run(['rotate', 'feedco', '--feed']);
        expect(rotated.code).toBe(0);
        expect(rotated.out[0]).toBe('Feed URL: http://localhost:7071/tenants/feedco/changes');
        const newFeedToken = tokenOf(rotated.out[1], 'Feed Token');
        expect(rotated.out).toHaveLength(2);
        expect(rotated.err.join('\n')).toContain('The previous feed token is refused from now on');
        const fresh = verifier();
        expect(await fresh.verify('feedco', newFeedToken, 'feed')).toBe(true);
        expect(await fresh.verify('feedco', feedToken, 'feed')).toBe(false);
        expect(await fresh.verify('feedco', secretToken, 'scim')).toBe(true); // the Secret Token is untouched

        expect((await run(['remove', 'feedco'])).code).toBe(0);
        expect(await defaultStore().tenantRegistry().get('feedco')).toBeUndefined();
        expect(await verifier().verify('feedco', newFeedToken, 'feed')).toBe(false);
    });

    it('a row from before tenant feeds: list says it has no feed token, rotate --feed creates the first', async () => {
        expect((await run(['add', 'oldco'])).code).toBe(0);
        const registry = defaultStore().tenantRegistry();
        const { feedTokenDigest: _dropped, ...withoutFeed } = (await registry.get('oldco'))!;
        await registry.put(withoutFeed);
        expect((await run(['list'])).out).toContain('oldco  active  created 2026-03-01T09:00:00.000Z  token digest stored locally  no feed token (rotate oldco --feed creates one)  no OAuth client');
        const created = await run(['rotate', 'oldco', '--feed']);
        expect(created.code).toBe(0);
        expect(created.err.join('\n')).toContain("Created the first change feed token of tenant 'oldco'; until now its feed answered 401");
        const feedToken = tokenOf(created.out.at(-1), 'Feed Token');
        expect(await verifier().verify('oldco', feedToken, 'feed')).toBe(true);
    });

    it('--feed goes with rotate only (exit code 2, nothing changed)', async () => {
        for (const argv of [['add', 'nofeed', '--feed'], ['list', '--feed'], ['disable', 'contoso', '--feed'], ['rotate', 'contoso', '--feed=yes']]) {
            const { code, err } = await run(argv);
            expect(code, argv.join(' ')).toBe(2);
            expect(err[0]).toMatch(/--feed/);
        }
        expect(await defaultStore().tenantRegistry().get('nofeed')).toBeUndefined();
    });

    it('Key Vault: add writes the feed token as its own secret; rotate --feed makes a new version, the previous one valid for the grace window', async () => {
        const added = await run(['add', 'vaultfeed'], vault());
        expect(added.code).toBe(0);
        const feedToken = tokenOf(added.out[1], 'Feed Token');
        const secretToken = tokenOf(added.out[3], 'Secret Token');
        expect(feedSecretNameOf('vaultfeed')).toBe('scim-feed-tenant-vaultfeed');
        // Never a Secret Token's secret name: `scim-tenant-<name>-feed` would be tenant `<name>-feed`'s.
        expect(feedSecretNameOf('acme')).not.toBe(secretNameOf('acme-feed'));
        expect((await stubSecretClient(stub).getSecret(feedSecretNameOf('vaultfeed'))).value).toBe(feedToken);
        expect((await run(['list'], vault())).out).toContain(`vaultfeed  active  created 2026-03-01T09:00:00.000Z  token in Key Vault secret '${secretNameOf('vaultfeed')}'  feed token in Key Vault secret '${feedSecretNameOf('vaultfeed')}'  no OAuth client`);
        const check = verifier(vault());
        expect(await check.verify('vaultfeed', feedToken, 'feed')).toBe(true);
        expect(await check.verify('vaultfeed', secretToken, 'feed')).toBe(false);
        expect(await check.verify('vaultfeed', feedToken, 'scim')).toBe(false);

        const rotated = await run(['rotate', 'vaultfeed', '--feed'], vault());
        expect(rotated.code).toBe(0);
        const newFeedToken = tokenOf(rotated.out.at(-1), 'Feed Token');
        // Which of two versions made in the same second of the stub's clock counts as newer is the vault's call; the
        // message follows it, and either way both tokens are accepted below.
        expect(rotated.err.join('\n')).toMatch(/The previous feed token stays valid until \S+\. Update the application before then\.|No previous version was valid/);
        const fresh = verifier(vault());
        expect(await fresh.verify('vaultfeed', newFeedToken, 'feed')).toBe(true);
        expect(await fresh.verify('vaultfeed', feedToken, 'feed')).toBe(true); // within the grace window
        expect((await stubSecretClient(stub).getSecret(secretNameOf('vaultfeed'))).value).toBe(secretToken); // untouched

        const removed = await run(['remove', 'vaultfeed'], vault());
        expect(removed.code).toBe(0);
        expect(removed.err.join('\n')).toContain(`Its Key Vault secret '${feedSecretNameOf('vaultfeed')}' is left in place`);
        expect(await verifier(vault()).verify('vaultfeed', newFeedToken, 'feed')).toBe(false);
    });
});

describe('npm run tenant -- remove', () => {
    it('deletes the tenant\'s rows in batches with a progress bar; an interrupted remove resumes', async () => {
        expect((await run(['add', 'bulk-co'])).code).toBe(0);
        const store = defaultStore().withPartitions(partitionsOf('bulk-co'));
        const now = new Date().toISOString();
        for (let index = 0; index < 30; index++) {
            await store.create('User', `u-${index}`, { schemas: [USER_SCHEMA], userName: `u${index}@bulk.example` }, now);
        }
        const other = defaultStore().withPartitions(partitionsOf('contoso'));
        await other.create('User', 'u-0', { schemas: [USER_SCHEMA], userName: 'u0@bulk.example' }, now);
        // u: row + un: row + the change feed's event each, the tenant's two stream heads (docs/storage.md, "Change
        // feed"), its 3 index state rows (the default generic User indexes, IndexStates.ts) and its activity marker.
        expect(await store.countRows()).toBe(30 * 3 + 2 + 3 + 1);

        // Interrupted after one small batch: the tenant is marked `removing`, its token refused, its activity marker
        // deleted (remove's first steps), its rows partly gone.
        const registry = defaultStore().tenantRegistry();
        await registry.put({ ...(await registry.get('bulk-co'))!, state: 'removing' });
        await registry.closeActivityRecords('bulk-co');
        expect(await store.deleteSomeRows(25)).toBe(25);
        expect((await run(['add', 'bulk-co'])).code).toBe(1); // the name stays taken until the remove finishes
        expect((await run(['rotate', 'bulk-co'])).code).toBe(1);

        const progress: string[] = [];
        const { code, out } = await run(['remove', 'bulk-co'], {}, { progress: (line) => progress.push(line) });
        expect(code).toBe(0);
        expect(out).toEqual(["Tenant 'bulk-co' removed."]);
        expect(progress[0]).toBe('Removing bulk-co [--------------------] 0% (0/70 rows)');
        expect(progress.at(-1)).toBe('Removing bulk-co [####################] 100% (70/70 rows)');
        expect(await store.countRows()).toBe(0);
        expect(await registry.get('bulk-co')).toBeUndefined();
        expect(await other.get('User', 'u-0')).toBeDefined(); // another tenant's same id is untouched
    });

    it('removes in steps of at most the batch size', async () => {
        expect((await run(['add', 'steps-co'])).code).toBe(0);
        const record = (await defaultStore().tenantRegistry().get('steps-co'))!;
        const store = defaultStore().withPartitions(partitionsOf('steps-co'));
        for (let index = 0; index < 3; index++) await store.create('Group', `g-${index}`, { schemas: [], displayName: `G${index}` }, new Date().toISOString());
        const lines: string[] = [];
        // g: + dn: + the change feed's event per group, the two stream heads and the tenant's 3 index state rows.
        expect(await removeTenant(defaultStore(), record, (line) => lines.push(line))).toBe(3 * 3 + 2 + 3);
        // One step per partition page: the users partition (its head and state rows), then the groups partition.
        expect(lines).toEqual([progressBar('steps-co', 0, 14), progressBar('steps-co', 4, 14), progressBar('steps-co', 14, 14)]);
    });

    it('draws the progress bar', () => {
        expect(progressBar('x-y', 1, 4)).toBe('Removing x-y [#####---------------] 25% (1/4 rows)');
        expect(progressBar('x-y', 0, 0)).toBe('Removing x-y [####################] 100% (0/0 rows)');
    });
});
