/**
 * `npm start`: the SCIM endpoint on this machine, on embedded Azurite, with the real handlers.
 *
 * 1. Settings: the environment, plus `local.settings.json` `Values` if present (the file `func start` reads).
 * 2. Storage: `TABLES_CONNECTION_STRING` if set; else Azurite's table service in this process, persisting
 *    under `.azurite/` (or in memory with `SCIM_STORAGE=memory`).
 * 3. Tokens: `SCIM_TOKEN` and the change feed's `SCIM_FEED_TOKEN` (dev only), each generated and printed when
 *    unset; likewise the OAuth client (`SCIM_OAUTH_CLIENT_ID` / `SCIM_OAUTH_CLIENT_SECRET`, dev only) for
 *    /oauth/token, whose access tokens are signed with a key generated in memory. Key Vault is for Azure: this
 *    host never constructs a managed-identity credential.
 * 4. Push (optional): with `SCIM_FEED_QUEUE` set and no `QUEUES_CONNECTION_STRING`, Azurite's queue service in
 *    this process (in memory). The change feed's timer runs every minute, as the Functions host would run it.
 * 5. App: the compiled sources (dist/functions), or with `--bundle` the deployment bundle, its routes serving
 *    an app built by its own code (`npm run start:bundle`).
 * 6. The status page `/admin`, without sign-in: the host listens on 127.0.0.1 only (docs/activity.md).
 * Ctrl-C flushes the activity records, stops the HTTP server and Azurite; nothing is left listening.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvocationContext } from '@azure/functions';
import { closeApp, createApp, type AppProvider } from '../shared/app';
import { readLocalHostSettings, readSettings, type Environment } from '../shared/config';
import { checkStartup } from '../shared/http/registerRoute';
import { startEmbeddedAzurite, startEmbeddedQueueService, type EmbeddedAzurite } from './embeddedAzurite';
import { generateToken } from './generateToken';
import { loadBundle, loadFunctionModuleQuietly, loadRouteTableQuietly } from './loadRouteTable';
import { startLocalHost } from './localHost';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

async function main(): Promise<void> {
    // The environment wins over local.settings.json, as under `func start`.
    const env: Record<string, string | undefined> = { ...localSettings(path.join(PROJECT_ROOT, 'local.settings.json')), ...process.env };
    // A setting the app cannot run with stops here, before Azurite starts, with the one line naming it.
    readSettings(env, () => undefined);
    if (env.KEY_VAULT_URL) {
        console.log('KEY_VAULT_URL is ignored by the local host (it uses SCIM_TOKEN); Key Vault is used in Azure.');
        delete env.KEY_VAULT_URL;
    }
    const { port, storageInMemory: inMemory } = readLocalHostSettings(env);
    let azurite: EmbeddedAzurite | undefined;
    if (!env.TABLES_CONNECTION_STRING) {
        azurite = await startAzuriteOnStandardPort(inMemory ? {} : { persistDir: path.join(PROJECT_ROOT, '.azurite') });
        env.TABLES_CONNECTION_STRING = azurite.connectionString;
        console.log(`Storage: embedded Azurite on 127.0.0.1:${azurite.port} (${inMemory ? 'in memory' : 'persisted in .azurite/'})`);
        if (azurite.port !== AZURITE_TABLE_PORT) console.log(`TABLES_CONNECTION_STRING=${azurite.connectionString}`);
    } else {
        console.log('Storage: TABLES_CONNECTION_STRING');
    }
    env.SCIM_TOKEN ||= generateToken();
    env.SCIM_OAUTH_CLIENT_ID ||= randomUUID();
    env.SCIM_OAUTH_CLIENT_SECRET ||= generateToken();
    env.SCIM_FEED_TOKEN ||= generateToken();
    let queues: EmbeddedAzurite | undefined;
    if (env.SCIM_FEED_QUEUE && !env.QUEUES_CONNECTION_STRING) {
        queues = await startEmbeddedQueueService();
        env.QUEUES_CONNECTION_STRING = queues.connectionString;
        console.log(`Push: queue '${env.SCIM_FEED_QUEUE}' on embedded Azurite 127.0.0.1:${queues.port} (in memory)`);
    }

    // `--bundle` (npm run start:bundle): the deployment bundle's routes and app instead of dist/functions.
    const bundle = process.argv.includes('--bundle') ? loadBundle() : undefined;
    const app = bundle ? bundle.createApp(bundle.readSettings(env)) : createApp(readSettings(env));
    const host = await startLocalHost({
        routes: bundle ? bundle.ROUTES : loadRouteTableQuietly(),
        app: () => Promise.resolve(app),
        port,
        ...(bundle ? { functions: bundle } : {}),
        adminWithoutSignIn: true,
    });
    if (bundle) console.log('App: the deployment bundle (package.json "main")');
    // As the Functions host does at start: the store's index state rows are there before the first request.
    await checkStartup(() => Promise.resolve(app));
    const base = `http://localhost:${host.port}/scim`;
    console.log(`SCIM endpoint: ${base}`);
    console.log(`Status page (this machine only, no sign-in): http://localhost:${host.port}/admin`);
    console.log(`Token (dev only): ${env.SCIM_TOKEN}`);
    console.log(`Try: curl -H "Authorization: Bearer $TOKEN" ${base}/ServiceProviderConfig`);
    console.log(`OAuth token endpoint: http://localhost:${host.port}/oauth/token`);
    console.log(`Client id / secret (dev only): ${env.SCIM_OAUTH_CLIENT_ID} / ${env.SCIM_OAUTH_CLIENT_SECRET}`);
    console.log(`Change feed: http://localhost:${host.port}/changes (npm run feed -- tail)`);
    console.log(`Feed token (dev only): ${env.SCIM_FEED_TOKEN}`);
    const maintenance = startChangeFeedTimer(() => Promise.resolve(app));

    let stopping = false;
    const stop = async () => {
        if (stopping) return;
        stopping = true;
        clearInterval(maintenance);
        await closeApp(app); // flushes the activity records
        await host.close();
        await queues?.stop();
        await azurite?.stop();
        process.exit(0);
    };
    process.on('SIGINT', () => void stop());
    process.on('SIGTERM', () => void stop());
}

/**
 * The change feed's timer (push, retention) every minute, as the Functions host runs functions/MaintainChangeFeed.ts.
 * Loaded like the route table, so the function module's own registration is skipped quietly.
 */
function startChangeFeedTimer(app: AppProvider): NodeJS.Timeout {
    const { runChangeFeedMaintenance } = loadFunctionModuleQuietly<typeof import('../functions/MaintainChangeFeed')>('MaintainChangeFeed');
    const run = runChangeFeedMaintenance(app);
    let running = false;
    const timer = setInterval(() => {
        if (running) return;
        running = true;
        const context = new InvocationContext({ functionName: 'MaintainChangeFeed', logHandler: (_level, ...args) => console.log(...args) });
        run({ isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } }, context)
            .catch((error: unknown) => console.error('change feed maintenance failed:', error instanceof Error ? error.message : error))
            .finally(() => (running = false));
    }, 60_000);
    timer.unref();
    return timer;
}

/**
 * Azurite's standard table port (10002) when it is free, so `UseDevelopmentStorage=true` reaches this host's
 * storage — which is how `npm run index` finds it with no settings; any free port otherwise.
 */
async function startAzuriteOnStandardPort(options: { persistDir?: string }): Promise<EmbeddedAzurite> {
    try {
        return await startEmbeddedAzurite({ ...options, port: AZURITE_TABLE_PORT });
    } catch (error) {
        if ((error as { code?: unknown } | null)?.code !== 'EADDRINUSE') throw error;
        console.log(`Port ${AZURITE_TABLE_PORT} is taken; \`npm run index\` then needs TABLES_CONNECTION_STRING (printed below).`);
        return startEmbeddedAzurite(options);
    }
}

const AZURITE_TABLE_PORT = 10002;

/** `local.settings.json` is the settings file of `func start`: its `Values`, empty ones left out. */
function localSettings(file: string): Environment {
    if (!fs.existsSync(file)) return {};
    const values = (JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: Record<string, string> }).Values ?? {};
    return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
}

main().catch((error: unknown) => {
    console.error('Failed to start:', error instanceof Error ? error.message : error);
    process.exit(1);
});
