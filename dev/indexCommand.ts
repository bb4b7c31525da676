/**
 * The admin command for equality indexes (`npm run index -- <command>`; docs/operate.md, "Indexes"):
 *
 *   rebuild <attribute>  backfill the index on that attribute path for the resources written before the app
 *                        maintained it, then mark it complete so the app starts reading from it. Shows a
 *                        progress bar; Ctrl-C stops after the current page and the next run resumes there.
 *   status               every index the app declared: building or complete, and how far a rebuild got.
 *
 * Options: --type User|Group (when the path names an attribute of both; default: each that has the index),
 * --tenant <name> (a named tenant's partitions; default: the default tenant), --table <name> (default
 * SCIM_TABLE_NAME or `scim`).
 *
 * Storage: TABLES_CONNECTION_STRING (Azurite, a storage account), else TABLES_ENDPOINT with the admin's own
 * Azure sign-in (`az login`, environment, managed identity: DefaultAzureCredential, built only in `main`),
 * else the Azurite of a local `npm start` (127.0.0.1:10002, `UseDevelopmentStorage=true`).
 *
 * Exit codes: 0 done; 1 failed, stopped or not finished; 2 usage error or an attribute that cannot be indexed.
 */
import type { TokenCredential } from '@azure/core-auth';
import { parseIndexedAttribute, type AttributeIndex } from '../shared/scim/attributeIndexes';
import { readStorageSettings } from '../shared/config';
import type { ResourceTypeName } from '../shared/scim/schemas';
import { isLocalConnectionString } from '../shared/store/createStore';
import { DEFAULT_PARTITIONS, isTenantName, partitionsOf, type Partitions } from '../shared/store/keys';
import type { EntityTable } from '../shared/store/EntityTable';
import { readIndexStatus, rebuildIndex, type RebuildProgress } from '../shared/store/indexRebuild';
import { createEntityTable } from '../shared/store/TableResourceStore';
import { splitCommandLine } from './commandLine';

export interface IndexCommandIo {
    env: NodeJS.ProcessEnv;
    /** Results: the status table, the outcome. */
    out: (line: string) => void;
    /** Explanations and errors. */
    err: (line: string) => void;
    /** The progress bar: redrawn in place on a terminal, else a line now and then. */
    progress: (line: string, done: boolean) => void;
    /** The admin's Azure credential, for TABLES_ENDPOINT; only `main` builds one. */
    credential?: () => TokenCredential;
    /** Checked between pages of a rebuild (Ctrl-C). */
    shouldStop?: () => boolean;
    /** Tests: the app's fail-fast storage retries instead of the command's patient ones (60 s per try, 5 retries). */
    failFast?: boolean;
}

const USAGE = [
    'Usage: npm run index -- <rebuild <attribute>|status> [--type User|Group] [--tenant <name>] [--table <name>]',
    '  rebuild <attribute>  backfill the index on an attribute path (as in SCIM_INDEXED_ATTRIBUTES) and mark it complete',
    '  status               show every index: building or complete, and a rebuild\'s progress',
];

const LOCAL_NPM_START = 'UseDevelopmentStorage=true';

/** Runs one command; returns the process exit code. */
export async function runIndexCommand(argv: readonly string[], io: IndexCommandIo): Promise<number> {
    const parsed = parseArguments(argv);
    if (typeof parsed === 'string') {
        io.err(parsed);
        USAGE.forEach((line) => io.err(line));
        return 2;
    }
    let indexes: AttributeIndex[] = [];
    if (parsed.command === 'rebuild') {
        const resolved = resolveIndexes(parsed.attribute!, parsed.type);
        if (typeof resolved === 'string') {
            io.err(resolved);
            return 2;
        }
        if (resolved.length === 0) {
            io.out(`${parsed.attribute} is a built-in index: it has always been complete, nothing to rebuild.`);
            return 0;
        }
        indexes = resolved;
    }

    const storage = readStorageSettings({ ...io.env, ...(parsed.table !== undefined ? { SCIM_TABLE_NAME: parsed.table } : {}) });
    let table: EntityTable;
    let where: string;
    if (storage.connectionString !== undefined || storage.endpoint === undefined) {
        const connectionString = storage.connectionString ?? LOCAL_NPM_START;
        table = createEntityTable({ tableName: storage.tableName, connectionString }, { allowInsecureConnection: isLocalConnectionString(connectionString), patient: !io.failFast });
        where = storage.connectionString !== undefined ? `table ${storage.tableName} (TABLES_CONNECTION_STRING)` : `table ${storage.tableName} of the local npm start (127.0.0.1:10002)`;
    } else {
        if (!io.credential) {
            io.err('TABLES_ENDPOINT needs an Azure sign-in, which this run cannot build.');
            return 1;
        }
        table = createEntityTable({ tableName: storage.tableName, endpoint: storage.endpoint, credential: io.credential() }, { patient: !io.failFast });
        where = `table ${storage.tableName} at ${storage.endpoint}`;
    }

    const partitions = parsed.tenant === undefined ? DEFAULT_PARTITIONS : partitionsOf(parsed.tenant);
    if (parsed.tenant !== undefined) where = `tenant ${parsed.tenant} in ${where}`;
    try {
        if (parsed.command === 'status') return await printStatus(table, partitions, where, io);
        let exitCode = 0;
        for (const index of indexes) exitCode = Math.max(exitCode, await rebuild(table, partitions, index, where, io));
        return exitCode;
    } catch (error) {
        // Never the SDK's message: it can quote RowKeys, which hold user names.
        const status = (error as { statusCode?: unknown } | null)?.statusCode;
        io.err(`Storage request failed on ${where}${typeof status === 'number' ? ` (HTTP ${status})` : ''}: ${error instanceof Error ? error.name : 'error'}. `
            + 'Nothing is lost: run the same command again to resume.');
        return 1;
    }
}

async function rebuild(table: EntityTable, partitions: Partitions, index: AttributeIndex, where: string, io: IndexCommandIo): Promise<number> {
    const label = `${index.resourceType} index on ${index.path}`;
    io.err(`Rebuilding the ${label} in ${where}.`);
    const result = await rebuildIndex(table, index, {
        onProgress: (progress) => io.progress(progressBar(progress, index.resourceType), false),
        partitions,
        ...(io.shouldStop ? { shouldStop: io.shouldStop } : {}),
    });
    switch (result.outcome) {
        case 'complete':
            io.progress(progressBar(result, index.resourceType), true);
            io.out(`The ${label} is complete: ${result.total} resource(s), ${result.covered} covered by this run. The app uses it within a minute.`);
            return 0;
        case 'stopped':
            io.out(`Stopped after ${result.processed} of ${result.total}; run the same command again to resume.`);
            return 1;
        case 'notDeclared':
            io.err(`The app does not maintain the ${label}: add ${index.path} to SCIM_INDEXED_ATTRIBUTES (unless it is a default), `
                + 'restart the app (it declares its indexes at start), then run this again.');
            return 1;
        case 'uncoverable':
            io.err(`${result.ids.length} resource(s) cannot be indexed on ${index.path} (too many values, or text that is not Unicode): `
                + `${result.ids.slice(0, 20).join(', ')}${result.ids.length > 20 ? ', …' : ''}. Fix or delete them, then run this again.`);
            return 1;
        case 'unsettled':
            io.err(`Resources without the index keep being written (${result.uncovered} in the last pass): an app instance runs without `
                + `${index.path} in SCIM_INDEXED_ATTRIBUTES. Restart the app with the setting, then run this again.`);
            return 1;
    }
}

async function printStatus(table: EntityTable, partitions: Partitions, where: string, io: IndexCommandIo): Promise<number> {
    const reports = await readIndexStatus(table, partitions);
    io.out(`Indexes in ${where} (userName, externalId and group displayName are built in and always complete):`);
    if (reports.length === 0) io.out('  none declared yet: the app declares its indexes at start.');
    for (const report of reports) {
        const progress = report.status === 'complete'
            ? `complete${report.completedAt ? ` since ${report.completedAt}` : ''}`
            : `building${report.total !== undefined ? `: ${report.processed ?? 0} of ${report.total} done` : ': run `npm run index -- rebuild ' + report.path + '`'}${report.updatedAt ? ` (last progress ${report.updatedAt})` : ''}`;
        io.out(`  ${report.resourceType.padEnd(5)} ${report.path}  ${progress}`);
    }
    return 0;
}

/** `[##########----------]  48%  4,800 / 10,000 Users` */
export function progressBar(progress: RebuildProgress, resourceType: ResourceTypeName): string {
    const width = 30;
    const fraction = progress.total === 0 ? 1 : Math.min(1, progress.processed / progress.total);
    const filled = Math.round(fraction * width);
    const count = (n: number) => n.toLocaleString('en-US');
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${count(progress.processed)} / ${count(progress.total)} ${resourceType}s`;
}

/**
 * The generic indexes `rebuild <attribute>` means: each resource type (or the one asked for) whose schemas
 * know the path; empty when it is a built-in index; a message (exit 2) when no type can index it.
 */
function resolveIndexes(attribute: string, type: ResourceTypeName | undefined): AttributeIndex[] | string {
    const qualified = /^(User|Group):/i.exec(attribute);
    const path = qualified ? attribute.slice(qualified[0].length) : attribute;
    const explicit = qualified ? (qualified[1]!.toLowerCase() === 'user' ? 'User' : 'Group') : type;
    const types: ResourceTypeName[] = explicit ? [explicit] : ['User', 'Group'];
    const parses = types.map((resourceType) => parseIndexedAttribute(resourceType, path));
    const indexes = parses.flatMap((parse) => ('index' in parse ? [parse.index] : []));
    if (indexes.length === 0) return [...new Set(parses.map((parse) => ('problem' in parse ? parse.problem : '')))].join('; ');
    return indexes.filter((index) => index.storage === 'rows');
}

interface ParsedArguments {
    command: 'rebuild' | 'status';
    attribute?: string;
    type?: ResourceTypeName;
    tenant?: string;
    table?: string;
}

function parseArguments(argv: readonly string[]): ParsedArguments | string {
    const line = splitCommandLine(argv, ['type', 'tenant', 'table']);
    if (typeof line === 'string') return line;
    const { positional, options } = line;
    const [command, ...rest] = positional;
    if (command !== 'rebuild' && command !== 'status') return command === undefined ? 'Missing command.' : `Unknown command '${command}'.`;
    if (command === 'rebuild' && rest.length !== 1) return rest.length === 0 ? 'rebuild needs an attribute path.' : `Unexpected argument '${rest[1]}'.`;
    if (command === 'status' && rest.length > 0) return `Unexpected argument '${rest[0]}'.`;
    let type: ResourceTypeName | undefined;
    if (options.type !== undefined) {
        if (!/^(user|group)s?$/i.test(options.type)) return `--type is User or Group, not '${options.type}'.`;
        type = options.type.toLowerCase().startsWith('user') ? 'User' : 'Group';
    }
    if (options.tenant !== undefined && !isTenantName(options.tenant)) return `--tenant names a tenant (lower-case letters, digits and hyphens), not '${options.tenant}'.`;
    return {
        command,
        ...(rest[0] !== undefined ? { attribute: rest[0] } : {}),
        ...(type ? { type } : {}),
        ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
        ...(options.table !== undefined ? { table: options.table } : {}),
    };
}

async function main(): Promise<void> {
    let stopRequested = false;
    process.on('SIGINT', () => {
        if (stopRequested) process.exit(130); // a second Ctrl-C: the last finished page is saved already
        stopRequested = true;
        process.stderr.write('\nStopping after this page (Ctrl-C again to stop at once; either way the next run resumes)…\n');
    });
    let lastLine = 0;
    const exitCode = await runIndexCommand(process.argv.slice(2), {
        env: process.env,
        out: (line) => console.log(line),
        err: (line) => console.error(line),
        progress: (line, done) => {
            if (process.stderr.isTTY) process.stderr.write(`\r${line}${done ? '\n' : ''}`);
            else if (done || Date.now() - lastLine >= 5000) {
                lastLine = Date.now();
                console.error(line);
            }
        },
        // The admin's own identity; required lazily so nothing probes for one unless TABLES_ENDPOINT is used.
        credential: () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { DefaultAzureCredential } = require('@azure/identity') as typeof import('@azure/identity');
            return new DefaultAzureCredential();
        },
        shouldStop: () => stopRequested,
    });
    process.exit(stopRequested && exitCode !== 0 ? 130 : exitCode);
}

if (require.main === module) {
    void main();
}
