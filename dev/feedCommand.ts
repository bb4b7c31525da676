/**
 * `npm run feed -- tail [--from-start]`: prints the change feed as it arrives, one line per event with a
 * running count (docs/feed.md). For the people who build or run the application that reads the feed.
 *
 *   --base <url>      where the app is (default SCIM_FEED_BASE_URL or http://localhost:7071)
 *   --from-start      begin at the oldest retained event; without it, only events from now on are printed
 *   --cursor <c>      resume from a cursor an earlier run printed when it stopped
 *   --interval <s>    seconds between polls once caught up (default 2)
 *   --tenant <name>   a named tenant's feed (`/tenants/<name>/changes`), with that tenant's feed token
 *
 * The token comes from SCIM_FEED_TOKEN only: npm echoes its command line, so a token option would be printed.
 * Lines name attributes, never their values.
 */
import type { ChangeEvent } from '../shared/feed/events';
import { isTenantName } from '../shared/store/keys';
import { splitCommandLine } from './commandLine';

export interface FeedCommandIo {
    env: Readonly<Record<string, string | undefined>>;
    out: (line: string) => void;
    err: (line: string) => void;
    fetch: typeof fetch;
    sleep: (ms: number) => Promise<void>;
    /** Checked between polls: true ends the command (Ctrl-C in `main`, a count in tests). */
    stopped: () => boolean;
}

const USAGE = [
    'Usage: npm run feed -- tail [--from-start] [--cursor <cursor>] [--base <url>] [--interval <seconds>] [--tenant <name>]',
    '  The feed token comes from SCIM_FEED_TOKEN (npm start prints one; `npm run tenant -- add` a tenant\'s).',
];

interface Options {
    base: string;
    tenant?: string;
    /** The feed's URL: `<base>/changes`, or `<base>/tenants/<name>/changes` with --tenant. */
    feedUrl: string;
    fromStart: boolean;
    cursor?: string;
    intervalMs: number;
}

/** Runs the command; returns the exit code (0 stopped, 1 failed, 2 usage error). */
export async function runFeedCommand(argv: readonly string[], io: FeedCommandIo): Promise<number> {
    const options = parseArguments(argv, io.env);
    const token = io.env.SCIM_FEED_TOKEN;
    if (typeof options === 'string' || !token) {
        io.err(typeof options === 'string' ? options : 'Set SCIM_FEED_TOKEN to the change feed token.');
        USAGE.forEach((line) => io.err(line));
        return 2;
    }
    let cursor = options.cursor ?? '';
    let printing = options.fromStart || options.cursor !== undefined;
    let count = 0;
    let skipped = 0;
    while (!io.stopped()) {
        const reply = await readPage(io, options, token, cursor);
        if ('error' in reply) {
            io.err(reply.error);
            return 1;
        }
        cursor = reply.nextCursor;
        if (!printing) {
            skipped += reply.events.length;
            if (reply.events.length === 0) {
                printing = true;
                io.err(`Waiting for changes (${skipped} earlier events skipped; --from-start prints them).`);
            }
            continue;
        }
        for (const event of reply.events) io.out(`${++count} ${describeEvent(event)}`);
        if (reply.events.length === 0) await io.sleep(options.intervalMs);
    }
    io.err(`Stopped after ${count} events. Resume with: npm run feed -- tail ${options.tenant === undefined ? '' : `--tenant ${options.tenant} `}--cursor ${cursor}`);
    return 0;
}

/** One line: time, type, resource, what changed (names only), members, cause. */
export function describeEvent(event: ChangeEvent): string {
    const parts = [event.time, event.type, `${event.resourceType}/${event.resourceId}`];
    const changed = Object.keys(event.attributes ?? {}).concat(event.attributesOmitted ?? []);
    if (changed.length > 0) parts.push(`attributes: ${changed.join(', ')}`);
    if (event.members?.added?.length) parts.push(`+${event.members.added.length} member(s)`);
    if (event.members?.removed?.length) parts.push(`-${event.members.removed.length} member(s)`);
    if (event.cause) parts.push(`(${event.cause.resourceType}/${event.cause.resourceId} deleted)`);
    return parts.join(' ');
}

async function readPage(io: FeedCommandIo, { base, feedUrl, tenant }: Options, token: string, cursor: string): Promise<{ events: ChangeEvent[]; nextCursor: string } | { error: string }> {
    let response: Response;
    try {
        response = await io.fetch(`${feedUrl}?count=1000&cursor=${encodeURIComponent(cursor)}`, { headers: { Authorization: `Bearer ${token}` } });
    } catch (error) {
        return { error: `Cannot reach ${base}: ${error instanceof Error ? error.message : String(error)}` };
    }
    const body = (await response.json().catch(() => undefined)) as { events?: ChangeEvent[]; nextCursor?: string; scimType?: string; detail?: string } | undefined;
    if (response.status === 200 && body?.events && body.nextCursor !== undefined) return { events: body.events, nextCursor: body.nextCursor };
    if (response.status === 401) {
        return {
            error: tenant === undefined
                ? 'The feed refused the token (401): SCIM_FEED_TOKEN must be the change feed token, not the SCIM one.'
                : `The feed refused the token (401): SCIM_FEED_TOKEN must be tenant '${tenant}'s change feed token (npm run tenant -- rotate ${tenant} --feed makes one), and the tenant must exist and be enabled.`,
        };
    }
    return { error: `The feed answered ${response.status}${body?.scimType ? ` ${body.scimType}` : ''}${body?.detail ? `: ${body.detail}` : ''}` };
}

function parseArguments(argv: readonly string[], env: FeedCommandIo['env']): Options | string {
    const line = splitCommandLine(argv, ['base', 'cursor', 'interval', 'tenant'], ['from-start']);
    if (typeof line === 'string') return line;
    const [command, ...extra] = line.positional;
    if (command !== 'tail') return command === undefined ? 'Missing command.' : `Unknown command '${command}'.`;
    if (extra.length > 0) return `Unexpected argument '${extra[0]}'.`;
    const { base, cursor, interval, tenant } = line.options;
    if (interval !== undefined && !(Number(interval) > 0)) return `Option --interval needs a number of seconds above 0, not '${interval}'.`;
    if (tenant !== undefined && !isTenantName(tenant)) return `Invalid tenant name '${tenant}': use 3–40 lower-case letters, digits and hyphens.`;
    const root = (base ?? env.SCIM_FEED_BASE_URL ?? 'http://localhost:7071').replace(/\/+$/, '');
    return {
        base: root,
        feedUrl: tenant === undefined ? `${root}/changes` : `${root}/tenants/${tenant}/changes`,
        ...(tenant === undefined ? {} : { tenant }),
        fromStart: line.switches.has('from-start'),
        ...(cursor === undefined ? {} : { cursor }),
        intervalMs: interval === undefined ? 2000 : Number(interval) * 1000,
    };
}

async function main(): Promise<void> {
    let stop = false;
    process.on('SIGINT', () => (stop = true));
    process.exitCode = await runFeedCommand(process.argv.slice(2), {
        env: process.env,
        out: (line) => console.log(line),
        err: (line) => console.error(line),
        fetch,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        stopped: () => stop,
    });
}

if (require.main === module) {
    void main();
}
