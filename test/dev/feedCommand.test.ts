/**
 * `npm run feed -- tail` against the real app over HTTP: from the start or from now, one numbered line per
 * event (names, never values), resumable from the cursor it prints, and a clear message for a wrong token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFeedCommand } from '../../dev/feedCommand';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { addTenant } from '../support/tenants';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
let server: ScimTestServer;

beforeAll(async () => {
    server = await startScimServer();
});
afterAll(async () => {
    await server.close();
});

async function createUser(userName: string): Promise<void> {
    expect((await server.request('POST', '/Users', { schemas: [USER_SCHEMA], userName, title: 'Secret title' })).status).toBe(201);
}

/** Runs `tail`, stopping after `polls` polls; `between` runs while it waits (to make changes arrive). */
async function tail(argv: string[], polls: number, between: () => Promise<void> = () => Promise.resolve(), token = server.feedToken) {
    const out: string[] = [];
    const err: string[] = [];
    let polled = 0;
    const code = await runFeedCommand(['tail', '--base', server.origin, '--interval', '0.01', ...argv], {
        env: { SCIM_FEED_TOKEN: token },
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        fetch: (input, init) => {
            polled++;
            return fetch(input, init);
        },
        sleep: () => between(),
        stopped: () => polled >= polls,
    });
    return { code, out, err };
}

describe('npm run feed -- tail', () => {
    it('--from-start prints every retained event, numbered, with attribute names but no values', async () => {
        await createUser('tail.one@example.com');
        await createUser('tail.two@example.com');
        const { code, out, err } = await tail(['--from-start'], 2);
        expect(code).toBe(0);
        expect(out).toHaveLength(2);
        expect(out[0]).toMatch(/^1 \S+ prov:create User\/[0-9a-f-]{36} attributes: userName, title$/);
        expect(out[1]).toMatch(/^2 /);
        expect(out.join('\n')).not.toContain('tail.one@example.com');
        expect(out.join('\n')).not.toContain('Secret title');
        expect(err.at(-1)).toMatch(/^Stopped after 2 events\. Resume with: npm run feed -- tail --cursor \S+$/);
    });

    it('without --from-start prints only what arrives after it started, and resumes from the printed cursor', async () => {
        let made = false;
        const first = await tail([], 4, async () => {
            if (!made) await createUser('tail.three@example.com');
            made = true;
        });
        expect(first.out).toHaveLength(1);
        expect(first.out[0]).toMatch(/^1 \S+ prov:create User\//);
        expect(first.err.join('\n')).toContain('earlier events skipped');
        await createUser('tail.four@example.com');
        const cursor = first.err.at(-1)!.split('--cursor ')[1]!;
        const resumed = await tail(['--cursor', cursor], 1);
        expect(resumed.out).toHaveLength(1);
    });

    it('says what is wrong with the SCIM token instead of the feed token, and with a missing token', async () => {
        const wrong = await tail(['--from-start'], 1, undefined, server.token);
        expect(wrong.code).toBe(1);
        expect(wrong.err[0]).toContain('401');
        expect(wrong.err.join('\n')).not.toContain(server.token);
        const missing = await runFeedCommand(['tail'], { env: {}, out: () => undefined, err: () => undefined, fetch, sleep: () => Promise.resolve(), stopped: () => true });
        expect(missing).toBe(2);
    });

    it('--tenant reads that tenant\'s feed with its feed token, and only its events', async () => {
        const tenant = await addTenant(server, 'tail-co');
        expect((await server.request('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'tenant.tail@example.com' }, {}, { as: tenant })).status).toBe(201);
        await createUser('default.tail@example.com');
        const { code, out, err } = await tail(['--from-start', '--tenant', 'tail-co'], 2, undefined, tenant.feedToken);
        expect(code).toBe(0);
        expect(out).toEqual([expect.stringMatching(/^1 \S+ prov:create User\/[0-9a-f-]{36} attributes: userName$/)]);
        expect(err.at(-1)).toMatch(/^Stopped after 1 events\. Resume with: npm run feed -- tail --tenant tail-co --cursor \S+$/);
        // The default feed token does not open it, nor does the tenant's feed token open the default feed.
        const wrong = await tail(['--from-start', '--tenant', 'tail-co'], 1);
        expect(wrong.code).toBe(1);
        expect(wrong.err[0]).toContain("tenant 'tail-co's change feed token");
        expect((await tail(['--from-start'], 1, undefined, tenant.feedToken)).code).toBe(1);
    });

    it.each([
        [['tail', '--tenant', 'Not A Tenant'], /Invalid tenant name 'Not A Tenant'/],
        [['tail', '--tenant'], /--tenant needs a value/],
        [[], /Missing command/],
        [['tial'], /Unknown command 'tial'/],
        [['tail', '--from'], /Unknown option --from\./],
        [['tail', '--from-start=yes'], /--from-start takes no value/],
        [['tail', '--cursor'], /--cursor needs a value/],
        [['tail', '--interval', 'soon'], /--interval needs a number of seconds above 0/],
        [['tail', 'extra'], /Unexpected argument 'extra'/],
    ])('exits 2 with usage for %j, before any request', async (argv, message) => {
        const err: string[] = [];
        let requests = 0;
        const code = await runFeedCommand(argv, {
            env: { SCIM_FEED_TOKEN: 'a-token' },
            out: () => undefined,
            err: (line) => err.push(line),
            fetch: () => {
                requests++;
                return Promise.reject(new Error('no request expected'));
            },
            sleep: () => Promise.resolve(),
            stopped: () => true,
        });
        expect(code).toBe(2);
        expect(err[0]).toMatch(message);
        expect(err.join('\n')).toContain('Usage: npm run feed');
        expect(requests).toBe(0);
    });
});
