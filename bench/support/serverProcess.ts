/**
 * The load benchmark runs each server in a child process of its own, so the load generator, our
 * endpoint, Azurite (standing in for Table Storage, a separate service in Azure) and the SCIMMY peer do
 * not share one event loop. This file is that child: `node serverProcess.js <role>`.
 *
 *   azurite  Azurite's table service, in memory               → { connectionString }
 *   ours     our endpoint on the local host (TABLES_CONNECTION_STRING, or an embedded Azurite) → { base }
 *   scimmy   the SCIMMY peer (bench/scimmyPeer.ts), in memory → { base }
 *
 * The bearer token comes in BENCH_TOKEN; `ours` takes TABLES_CONNECTION_STRING and BENCH_TABLE_NAME too. The parent asks for `usage` (CPU time, and for `ours` the
 * storage requests made), for `logs` (`ours`: the summary lines since the last ask, and the longest log line
 * so far) and says `stop`; the child also stops when the parent goes away, and after a hard lifetime cap, so
 * nothing is ever left listening.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { startEmbeddedAzurite } from '../../dev/embeddedAzurite';
import { startScimmyPeer } from '../scimmyPeer';
import type { LogLevel } from '@azure/functions';
import { printWarningsOnly, startLocalScim } from './localScim';
import { countAllStorageRequests, type StorageCounts } from './storageCounts';

export type ServerRole = 'azurite' | 'ours' | 'scimmy';

/** What `ours` logged: the summary lines since the previous ask (at most the last `KEPT_SUMMARY_LINES`), the longest line so far. */
export interface ServerLogs {
    summaryLines: string[];
    maxLineBytes: number;
}

const KEPT_SUMMARY_LINES = 2000;

export interface ServerUsage {
    /** User + system CPU time of the process since it started, ms. */
    cpuMs: number;
    /** `ours` only: storage requests made so far, by kind. */
    storage?: StorageCounts;
}

interface ReadyMessage {
    type: 'ready';
    base?: string;
    connectionString?: string;
}

const MAX_LIFETIME_MS = 30 * 60_000;
const START_TIMEOUT_MS = 60_000;

/** Parent side: a started child server. */
export class ServerProcess {
    private constructor(
        readonly role: ServerRole,
        private readonly child: ChildProcess,
        readonly ready: ReadyMessage,
    ) {}

    /** `execArgv`: Node options for the child, e.g. `--cpu-prof` (bench:load `--profile`). */
    static async start(role: ServerRole, env: Record<string, string> = {}, execArgv: string[] = []): Promise<ServerProcess> {
        const child = fork(path.join(__dirname, 'serverProcess.js'), [role], {
            env: { ...process.env, ...env },
            execArgv,
            stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        const ready = await new Promise<ReadyMessage>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${role} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
            child.once('exit', (code) => reject(new Error(`${role} exited with ${code} before it was ready`)));
            child.on('message', (message: ReadyMessage) => {
                if (message.type !== 'ready') return;
                clearTimeout(timer);
                resolve(message);
            });
        });
        return new ServerProcess(role, child, ready);
    }

    usage(): Promise<ServerUsage> {
        return new Promise((resolve) => {
            const onMessage = (message: { type: string } & ServerUsage) => {
                if (message.type !== 'usage') return;
                this.child.off('message', onMessage);
                resolve({ cpuMs: message.cpuMs, ...(message.storage !== undefined ? { storage: message.storage } : {}) });
            };
            this.child.on('message', onMessage);
            this.child.send({ type: 'usage' });
        });
    }

    logs(): Promise<ServerLogs> {
        return new Promise((resolve) => {
            const onMessage = (message: { type: string } & ServerLogs) => {
                if (message.type !== 'logs') return;
                this.child.off('message', onMessage);
                resolve({ summaryLines: message.summaryLines, maxLineBytes: message.maxLineBytes });
            };
            this.child.on('message', onMessage);
            this.child.send({ type: 'logs' });
        });
    }

    async stop(): Promise<void> {
        if (this.child.exitCode !== null) return;
        const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
        this.child.send({ type: 'stop' });
        const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
    }
}

/** Child side. */
async function serve(role: ServerRole): Promise<void> {
    const token = process.env.BENCH_TOKEN ?? '';
    let stop: () => Promise<void>;
    let ready: ReadyMessage;
    let storageCounts: (() => StorageCounts) | undefined;
    let summaryLines: string[] = [];
    let maxLineBytes = 0;
    if (role === 'azurite') {
        const azurite = await startEmbeddedAzurite();
        ready = { type: 'ready', connectionString: azurite.connectionString };
        stop = () => azurite.stop();
    } else if (role === 'ours') {
        const connectionString = process.env.TABLES_CONNECTION_STRING || undefined;
        const tableName = process.env.BENCH_TABLE_NAME || undefined;
        const logHandler = (level: LogLevel, ...args: unknown[]) => {
            const line = args.map(String).join(' ');
            maxLineBytes = Math.max(maxLineBytes, Buffer.byteLength(line));
            if (line.startsWith('scim request ')) {
                summaryLines.push(line);
                if (summaryLines.length > KEPT_SUMMARY_LINES) summaryLines.shift();
            }
            printWarningsOnly(level, ...args);
        };
        const scim = await startLocalScim({ ...(connectionString ? { connectionString } : {}), ...(tableName ? { tableName } : {}), token, logHandler });
        storageCounts = countAllStorageRequests();
        ready = { type: 'ready', base: scim.base };
        stop = () => scim.close();
    } else {
        const peer = await startScimmyPeer({ token });
        ready = { type: 'ready', base: peer.base };
        stop = () => peer.close();
    }
    const exit = async () => {
        await stop().catch(() => undefined);
        process.exit(0);
    };
    process.on('message', (message: { type: string }) => {
        if (message.type === 'stop') void exit();
        if (message.type === 'logs') {
            process.send!({ type: 'logs', summaryLines, maxLineBytes });
            summaryLines = [];
        }
        if (message.type === 'usage') {
            const cpu = process.cpuUsage();
            process.send!({ type: 'usage', cpuMs: (cpu.user + cpu.system) / 1000, storage: storageCounts?.() });
        }
    });
    process.on('disconnect', () => void exit());
    setTimeout(() => void exit(), MAX_LIFETIME_MS).unref();
    process.send!(ready);
}

if (require.main === module) {
    const role = process.argv[2] as ServerRole;
    if (!['azurite', 'ours', 'scimmy'].includes(role)) {
        console.error('usage: serverProcess.js azurite|ours|scimmy');
        process.exit(2);
    }
    serve(role).catch((error: unknown) => {
        console.error(`${role} failed to start:`, error);
        process.exit(1);
    });
}
