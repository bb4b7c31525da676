/**
 * A local stand-in for the Key Vault secrets REST API, just large enough for the real `SecretClient`
 * (docs/azure-notes.md §4: no Key Vault emulator installs here). It speaks plain HTTP on 127.0.0.1, so clients need
 * `allowInsecureConnection: true` and `disableChallengeResourceVerification: true` (see `stubSecretClient`).
 *
 * Served, like the real service:
 *   - no bearer token → 401 with the `WWW-Authenticate` challenge the SDK's auth policy answers;
 *   - GET  /secrets/{name}/            latest version (the SDK sends the trailing slash when no version is given)
 *   - GET  /secrets/{name}/{version}
 *   - GET  /secrets/{name}/versions    paged with `nextLink`, like the service (25 per page by default)
 *   - PUT  /secrets/{name}             setSecret: a new version
 *   - PATCH /secrets/{name}/{version}  updateSecretProperties (enable/disable)
 * Reading a disabled version answers 403 like Key Vault ("Operation get is not allowed on a disabled secret").
 * Keys (`/keys/...`, for the OAuth signing key) are served by keyVaultKeysStub.ts, behind the same challenge.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenCredential } from '@azure/identity';
import type { KeyClientOptions } from '@azure/keyvault-keys';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { createKeyVaultKeysStub, type KeyVaultKeysStub } from './keyVaultKeysStub';

/** The access token the fake credential hands out and the stub requires. */
const STUB_ACCESS_TOKEN = 'stub-key-vault-access-token';
const STUB_TENANT_ID = '00000000-0000-0000-0000-00000000cafe';

export interface StubSecretVersion {
    readonly version: string;
    readonly value: string;
    enabled: boolean;
    /** Milliseconds since the epoch, whole seconds (Key Vault stores Unix seconds). */
    readonly createdOn: number;
    updatedOn: number;
    /** Milliseconds since the epoch, or undefined for none (Key Vault's `exp` / `nbf` attributes). */
    readonly expiresOn?: number;
    readonly notBefore?: number;
    readonly contentType: string | undefined;
    readonly tags: Record<string, string> | undefined;
}

export interface StubRequestCounts {
    /** Requests answered with the 401 challenge. */
    challenges: number;
    getSecret: number;
    listVersions: number;
    setSecret: number;
    updateSecret: number;
    /** Every request that reached the stub, including challenges and refused-by-outage 503s. */
    total: number;
}

/** How the vault is down: nobody listening (ECONNREFUSED), or listening but answering 503. */
export type OutageMode = 'connection-refused' | 'service-unavailable';

export interface KeyVaultStub {
    readonly vaultUrl: string;
    readonly requests: StubRequestCounts;
    /** The vault's keys (the OAuth signing key), with their own request counts. */
    readonly keys: KeyVaultKeysStub;
    /** Adds a version as if `az keyvault secret set` ran now (or at `createdOn`); returns its version id. */
    addSecretVersion(name: string, value: string, options?: VersionOptions): string;
    setEnabled(name: string, version: string, enabled: boolean): void;
    /** The versions of a secret, oldest first. */
    versionsOf(name: string): readonly StubSecretVersion[];
    /** From now on every request waits until the returned function is called (to observe non-blocking refreshes). */
    holdRequests(): () => void;
    /** Makes every request answer 200 with a truncated JSON body that contains `text` (a corrupted response). */
    corruptResponses(text: string): void;
    /**
     * From now on requests of this kind answer 500 with an error whose message quotes `message` (to check that
     * callers survive a failure half-way and never print an SDK message); undefined makes them work again.
     */
    failRequests(kind: 'listVersions' | 'updateSecret', message: string | undefined): void;
    goDown(mode: OutageMode): Promise<void>;
    comeBack(): Promise<void>;
    stop(): Promise<void>;
}

export interface VersionOptions {
    enabled?: boolean;
    createdOn?: number;
    expiresOn?: number;
    notBefore?: number;
    tags?: Record<string, string>;
}

export interface KeyVaultStubOptions {
    /** The stub's clock for `created`/`updated`; share it with the code under test. */
    now?: () => number;
    /** Versions per page of the versions listing. */
    pageSize?: number;
}

export async function startKeyVaultStub(options: KeyVaultStubOptions = {}): Promise<KeyVaultStub> {
    const now = options.now ?? (() => Date.now());
    const pageSize = options.pageSize ?? 25;
    const secrets = new Map<string, StubSecretVersion[]>();
    const requests: StubRequestCounts = { challenges: 0, getSecret: 0, listVersions: 0, setSecret: 0, updateSecret: 0, total: 0 };
    let outage: OutageMode | undefined;
    let corruptionText: string | undefined;
    let held: Promise<void> | undefined;

    const wholeSecondsNow = (): number => Math.floor(now() / 1000) * 1000;
    const keys = createKeyVaultKeysStub(() => vaultUrl, now, pageSize);

    const failing = new Map<string, string>();

    function addSecretVersion(name: string, value: string, init: VersionOptions = {}): string {
        const createdOn = init.createdOn ?? wholeSecondsNow();
        const version: StubSecretVersion = {
            version: randomBytes(16).toString('hex'),
            value,
            enabled: init.enabled ?? true,
            createdOn,
            updatedOn: createdOn,
            ...(init.expiresOn !== undefined ? { expiresOn: Math.floor(init.expiresOn / 1000) * 1000 } : {}),
            ...(init.notBefore !== undefined ? { notBefore: Math.floor(init.notBefore / 1000) * 1000 } : {}),
            contentType: undefined,
            tags: init.tags,
        };
        secrets.set(name, [...(secrets.get(name) ?? []), version]);
        return version.version;
    }

    function findVersion(name: string, versionId: string): StubSecretVersion | undefined {
        return secrets.get(name)?.find((candidate) => candidate.version === versionId);
    }

    function latestVersion(name: string): StubSecretVersion | undefined {
        const versions = secrets.get(name) ?? [];
        return [...versions].sort((a, b) => b.createdOn - a.createdOn)[0];
    }

    function bundle(name: string, version: StubSecretVersion, withValue: boolean): Record<string, unknown> {
        return {
            ...(withValue ? { value: version.value } : {}),
            id: `${vaultUrl}/secrets/${name}/${version.version}`,
            ...(version.contentType !== undefined ? { contentType: version.contentType } : {}),
            ...(version.tags !== undefined ? { tags: version.tags } : {}),
            attributes: {
                enabled: version.enabled,
                created: version.createdOn / 1000,
                updated: version.updatedOn / 1000,
                ...(version.expiresOn !== undefined ? { exp: version.expiresOn / 1000 } : {}),
                ...(version.notBefore !== undefined ? { nbf: version.notBefore / 1000 } : {}),
                recoveryLevel: 'Recoverable+Purgeable',
            },
        };
    }

    function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
        response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        response.end(body === undefined ? '' : JSON.stringify(body));
    }

    function sendError(response: ServerResponse, status: number, code: string, message: string): void {
        send(response, status, { error: { code, message } });
    }

    async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
        const chunks: Buffer[] = [];
        for await (const chunk of request) chunks.push(chunk as Buffer);
        const text = Buffer.concat(chunks).toString('utf8');
        return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    }

    async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
        requests.total += 1;
        if (held) await held;
        if (outage === 'service-unavailable') {
            sendError(response, 503, 'ServiceUnavailable', 'The stub vault is down');
            return;
        }
        if (request.headers.authorization !== `Bearer ${STUB_ACCESS_TOKEN}`) {
            requests.challenges += 1;
            // Drain the body so the SDK can resend it after answering the challenge.
            await readJson(request).catch(() => undefined);
            send(response, 401, { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer token.' } }, {
                'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${STUB_TENANT_ID}", resource="https://vault.azure.net"`,
            });
            return;
        }
        if (corruptionText !== undefined) {
            response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
            response.end(`{"value":"${corruptionText}`);
            return;
        }

        const url = new URL(request.url ?? '/', vaultUrl);
        // ['secrets', name, version-or-'versions'-or-''] (a trailing slash leaves an empty last segment).
        const segments = url.pathname.split('/').slice(1).map(decodeURIComponent);
        const [collection, name, third] = segments;
        if (collection === 'keys') {
            await keys.handle({
                method: request.method ?? 'GET',
                url,
                segments: segments.slice(1),
                readJson: () => readJson(request),
                send: (status, body) => send(response, status, body),
                sendError: (status, code, message) => sendError(response, status, code, message),
            });
            return;
        }
        if (collection !== 'secrets' || name === undefined || name === '' || segments.length > 3) {
            sendError(response, 404, 'NotFound', 'No such route in the stub');
            return;
        }

        if (request.method === 'PUT' && segments.length === 2) {
            requests.setSecret += 1;
            const body = await readJson(request);
            const attributes = (body.attributes ?? {}) as { enabled?: boolean; exp?: number };
            const versionId = addSecretVersion(name, String(body.value), {
                enabled: attributes.enabled ?? true,
                ...(attributes.exp !== undefined ? { expiresOn: attributes.exp * 1000 } : {}),
            });
            const created = findVersion(name, versionId)!;
            Object.assign(created, { contentType: body.contentType, tags: body.tags });
            send(response, 200, bundle(name, created, true));
            return;
        }

        if (request.method === 'GET' && third === 'versions') {
            requests.listVersions += 1;
            if (failing.has('listVersions')) {
                sendError(response, 500, 'InternalError', failing.get('listVersions')!);
                return;
            }
            const all = secrets.get(name) ?? [];
            const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
            const page = all.slice(skip, skip + pageSize);
            const nextLink = skip + pageSize < all.length
                ? `${vaultUrl}/secrets/${name}/versions?api-version=${url.searchParams.get('api-version')}&$skiptoken=${skip + pageSize}`
                : null;
            send(response, 200, { value: page.map((version) => bundle(name, version, false)), nextLink });
            return;
        }

        if (request.method === 'GET') {
            requests.getSecret += 1;
            const version = third === undefined || third === '' ? latestVersion(name) : findVersion(name, third);
            if (!version) {
                sendError(response, 404, 'SecretNotFound', `A secret with (name/id) ${name} was not found in this key vault.`);
            } else if (!version.enabled) {
                sendError(response, 403, 'Forbidden', 'Operation get is not allowed on a disabled secret.');
            } else {
                send(response, 200, bundle(name, version, true));
            }
            return;
        }

        if (request.method === 'PATCH' && third !== undefined && third !== '') {
            requests.updateSecret += 1;
            const body = await readJson(request);
            if (failing.has('updateSecret')) {
                sendError(response, 500, 'InternalError', failing.get('updateSecret')!);
                return;
            }
            const version = findVersion(name, third);
            if (!version) {
                sendError(response, 404, 'SecretNotFound', `A secret with (name/id) ${name}/${third} was not found in this key vault.`);
                return;
            }
            const attributes = (body.attributes ?? {}) as { enabled?: boolean };
            if (attributes.enabled !== undefined) version.enabled = attributes.enabled;
            version.updatedOn = wholeSecondsNow();
            send(response, 200, bundle(name, version, false));
            return;
        }

        sendError(response, 405, 'MethodNotAllowed', `${request.method} is not served by the stub`);
    }

    const server: Server = createServer((request, response) => {
        handle(request, response).catch((error: unknown) => {
            sendError(response, 500, 'StubError', String(error));
        });
    });
    await listen(server, 0);
    const port = (server.address() as AddressInfo).port;
    const vaultUrl = `http://127.0.0.1:${port}`;

    return {
        vaultUrl,
        requests,
        keys,
        addSecretVersion,
        setEnabled(name, version, enabled) {
            const found = findVersion(name, version);
            if (!found) throw new Error(`stub: no version ${version} of ${name}`);
            found.enabled = enabled;
        },
        versionsOf: (name) => secrets.get(name) ?? [],
        holdRequests() {
            let release!: () => void;
            held = new Promise<void>((resolve) => {
                release = resolve;
            });
            return () => {
                held = undefined;
                release();
            };
        },
        corruptResponses(text) {
            corruptionText = text;
        },
        failRequests(kind, message) {
            if (message === undefined) failing.delete(kind);
            else failing.set(kind, message);
        },
        async goDown(mode) {
            outage = mode;
            if (mode === 'connection-refused') await close(server);
        },
        async comeBack() {
            if (outage === 'connection-refused') await listen(server, port);
            outage = undefined;
        },
        async stop() {
            if (server.listening) await close(server);
        },
    };
}

/** A credential that hands out the stub's access token without contacting anything. */
export const fakeCredential: TokenCredential & { calls: number } = {
    calls: 0,
    getToken() {
        fakeCredential.calls += 1;
        return Promise.resolve({ token: STUB_ACCESS_TOKEN, expiresOnTimestamp: Date.now() + 60 * 60 * 1000 });
    },
};

/**
 * Client options for talking to the stub: plain HTTP, a challenge resource that is not `*.vault.azure.net`,
 * and no retries so outage tests answer at once (the SDK would otherwise back off for seconds).
 */
export const stubSecretClientOptions: SecretClientOptions = {
    allowInsecureConnection: true,
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
};

/** The same options for the keys clients (`KeyClient`, `CryptographyClient`). */
export const stubKeyClientOptions: KeyClientOptions = {
    allowInsecureConnection: true,
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
};

/** The real `SecretClient`, pointed at the stub. */
export function stubSecretClient(stub: KeyVaultStub): SecretClient {
    return new SecretClient(stub.vaultUrl, fakeCredential, stubSecretClientOptions);
}

function listen(server: Server, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
            server.off('error', reject);
            resolve();
        });
    });
}

function close(server: Server): Promise<void> {
    return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets would otherwise keep the "down" vault reachable.
        server.closeAllConnections();
    });
}
