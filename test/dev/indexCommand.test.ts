/**
 * `npm run index -- rebuild|status` (dev/indexCommand.ts) against the test Azurite: exit codes, messages, the
 * progress bar. The rebuild's storage behaviour is tested in test/store/indexes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { progressBar, runIndexCommand, type IndexCommandIo } from '../../dev/indexCommand';
import { readIndexConfiguration } from '../../shared/scim/attributeIndexes';
import { partitionsOf } from '../../shared/store/keys';
import { createTableResourceStore } from '../../shared/store/TableResourceStore';
import { testConnectionString, testTableName } from '../support/tables';

function io(tableName: string, env: NodeJS.ProcessEnv = {}): IndexCommandIo & { out: (line: string) => void; lines: string[]; errors: string[]; bars: string[] } {
    const lines: string[] = [];
    const errors: string[] = [];
    const bars: string[] = [];
    return {
        env: { TABLES_CONNECTION_STRING: testConnectionString(), SCIM_TABLE_NAME: tableName, ...env },
        out: (line) => lines.push(line),
        err: (line) => errors.push(line),
        progress: (line) => bars.push(line),
        lines,
        errors,
        bars,
    };
}

describe('npm run index', () => {
    it.each([
        [[], /Missing command/],
        [['reindex'], /Unknown command 'reindex'/],
        [['rebuild'], /rebuild needs an attribute path/],
        [['rebuild', 'title', 'extra'], /Unexpected argument 'extra'/],
        [['status', '--type', 'Device'], /--type is User or Group/],
        [['status', '--verbose'], /Unknown option --verbose/],
        [['rebuild', 'nickname2'], /'nickname2' is not an attribute of Users; 'nickname2' is not an attribute of Groups/],
        [['rebuild', 'emails'], /'emails' is multi-valued/],
        [['rebuild', 'Group:title'], /'title' is not an attribute of Groups/],
    ])('%j exits 2 and says why', async (argv, message) => {
        const run = io(testTableName('cli'));
        expect(await runIndexCommand(argv, run)).toBe(2);
        expect(run.errors.join('\n')).toMatch(message);
    });

    it('has nothing to rebuild for the built-in indexes', async () => {
        const run = io(testTableName('cli'));
        expect(await runIndexCommand(['rebuild', 'userName'], run)).toBe(0);
        expect(run.lines.join('\n')).toContain('built-in index');
    });

    it('refuses to rebuild an index the app does not maintain (exit 1), rebuilds one it does, and reports both in status', async () => {
        const tableName = testTableName('cli');
        const store = createTableResourceStore({ tableName, connectionString: testConnectionString() }, { allowInsecureConnection: true, indexes: readIndexConfiguration(undefined) });
        await store.create('User', 'u1', { userName: 'u1@example.com', title: 'CEO' }, '2026-01-01T00:00:00.000Z');

        const notDeclared = io(tableName);
        expect(await runIndexCommand(['rebuild', 'title'], notDeclared)).toBe(1);
        expect(notDeclared.errors.join('\n')).toMatch(/The app does not maintain the User index on title: add title to SCIM_INDEXED_ATTRIBUTES/);

        // The app restarted with the setting: it declares the index building (the table has a user already).
        await createTableResourceStore({ tableName, connectionString: testConnectionString() }, { allowInsecureConnection: true, indexes: readIndexConfiguration('title') }).indexes('User');
        const before = io(tableName);
        expect(await runIndexCommand(['status'], before)).toBe(0);
        expect(before.lines.join('\n')).toMatch(/User\s+title\s+building: run `npm run index -- rebuild title`/);

        const rebuild = io(tableName);
        expect(await runIndexCommand(['rebuild', 'TITLE', '--type', 'users'], rebuild)).toBe(0);
        expect(rebuild.lines.join('\n')).toContain('The User index on title is complete: 1 resource(s), 1 covered by this run.');
        expect(rebuild.bars.at(-1)).toContain('100%');

        const after = io(tableName);
        expect(await runIndexCommand(['status', `--table=${tableName}`], after)).toBe(0);
        expect(after.lines.join('\n')).toMatch(/User\s+title\s+complete since \d{4}-/);
        expect(after.lines.join('\n')).toMatch(/User\s+displayName\s+complete/);
    });

    it('works on a named tenant\'s partitions with --tenant, and only on them', async () => {
        const tableName = testTableName('cli');
        const store = createTableResourceStore({ tableName, connectionString: testConnectionString() }, { allowInsecureConnection: true, indexes: readIndexConfiguration(undefined) });
        await store.withPartitions(partitionsOf('acme')).create('User', 'u1', { userName: 'u1@example.com', title: 'CEO' }, '2026-01-01T00:00:00.000Z');
        const titled = createTableResourceStore({ tableName, connectionString: testConnectionString() }, { allowInsecureConnection: true, indexes: readIndexConfiguration('title') });
        await titled.withPartitions(partitionsOf('acme')).indexes('User'); // the tenant's store declares title: building
        await titled.indexes('User'); // the default tenant has no users: complete at once

        const before = io(tableName);
        expect(await runIndexCommand(['status', '--tenant', 'acme'], before)).toBe(0);
        expect(before.lines.join('\n')).toMatch(/tenant acme .*\n.*User\s+title\s+building/s);
        const rebuild = io(tableName);
        expect(await runIndexCommand(['rebuild', 'title', '--tenant', 'acme'], rebuild)).toBe(0);
        expect(rebuild.lines.join('\n')).toContain('is complete: 1 resource(s), 1 covered');
        const defaultTenant = io(tableName);
        expect(await runIndexCommand(['status'], defaultTenant)).toBe(0);
        expect(defaultTenant.lines.join('\n')).toMatch(/User\s+title\s+complete/);
        expect(await runIndexCommand(['status', '--tenant', 'Not A Tenant'], io(tableName))).toBe(2);
    });

    it('needs an Azure sign-in for TABLES_ENDPOINT and never builds one itself', async () => {
        const run = io(testTableName('cli'), { TABLES_CONNECTION_STRING: '', TABLES_ENDPOINT: 'https://example.table.core.windows.net' });
        expect(await runIndexCommand(['status'], run)).toBe(1);
        expect(run.errors.join('\n')).toContain('needs an Azure sign-in');
    });

    it('reports a storage failure without its message and says a rerun resumes', async () => {
        const run = io('unreachable', { TABLES_CONNECTION_STRING: 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;' });
        expect(await runIndexCommand(['status'], { ...run, failFast: true })).toBe(1);
        expect(run.errors.join('\n')).toMatch(/Storage request failed on table unreachable .*run the same command again to resume/);
    }, 60_000);

    it('draws a progress bar', () => {
        expect(progressBar({ processed: 4_800, total: 10_000, covered: 4_800, reread: 0 }, 'User')).toBe(`[${'#'.repeat(14)}${'-'.repeat(16)}]  48%  4,800 / 10,000 Users`);
        expect(progressBar({ processed: 0, total: 0, covered: 0, reread: 0 }, 'Group')).toContain('100%');
    });
});
