/**
 * The keys half of the Key Vault stub (keyVaultStub.ts serves it on the same vault URL): just enough of the
 * Key Vault keys REST API for the real `KeyClient` and `CryptographyClient` to read RSA keys and sign with
 * them, without the private key ever leaving the "vault".
 *
 *   GET  /keys/{name}/               latest version (the SDK sends the trailing slash when no version is given)
 *   GET  /keys/{name}/{version}
 *   GET  /keys/{name}/versions       paged with `nextLink`
 *   POST /keys/{name}/{version}/sign {alg: 'RS256', value: base64url SHA-256 digest} → {kid, value: signature}
 *
 * Using a disabled version answers 403 like Key Vault. Signing checks the digest length and the algorithm
 * (RS256 only), so a client that sent the data instead of its digest gets an error, not a bad signature.
 */
import { constants, generateKeyPairSync, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';

export interface StubKeyVersion {
    readonly version: string;
    readonly privateKey: KeyObject;
    readonly publicKey: KeyObject;
    enabled: boolean;
    /** Milliseconds since the epoch, whole seconds. */
    readonly createdOn: number;
}

export interface KeyRequestCounts {
    getKey: number;
    listKeyVersions: number;
    sign: number;
}

/** What keyVaultStub.ts hands over for one request under /keys (the challenge and outages are handled there). */
export interface KeyRequest {
    method: string;
    url: URL;
    /** Path segments after `keys`: [name, version-or-'versions'-or-'', operation?]. */
    segments: string[];
    readJson(): Promise<Record<string, unknown>>;
    send(status: number, body: unknown): void;
    sendError(status: number, code: string, message: string): void;
}

export interface KeyVaultKeysStub {
    readonly requests: KeyRequestCounts;
    /** Adds a 2048-bit RSA key version as if `az keyvault key create`/`rotate` ran now (or at `createdOn`). */
    addKeyVersion(name: string, options?: { enabled?: boolean; createdOn?: number }): string;
    setEnabled(name: string, version: string, enabled: boolean): void;
    versionsOf(name: string): readonly StubKeyVersion[];
    handle(request: KeyRequest): Promise<void>;
}

/** DER prefix of a SHA-256 DigestInfo (RFC 8017 §9.2 note 1): RSASSA-PKCS1-v1_5 signs DigestInfo || digest. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export function createKeyVaultKeysStub(vaultUrl: () => string, now: () => number, pageSize: number): KeyVaultKeysStub {
    const keys = new Map<string, StubKeyVersion[]>();
    const requests: KeyRequestCounts = { getKey: 0, listKeyVersions: 0, sign: 0 };

    function addKeyVersion(name: string, options: { enabled?: boolean; createdOn?: number } = {}): string {
        const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const version: StubKeyVersion = {
            version: randomBytes(16).toString('hex'),
            privateKey,
            publicKey,
            enabled: options.enabled ?? true,
            createdOn: options.createdOn ?? Math.floor(now() / 1000) * 1000,
        };
        keys.set(name, [...(keys.get(name) ?? []), version]);
        return version.version;
    }

    function find(name: string, versionId: string | undefined): StubKeyVersion | undefined {
        const versions = keys.get(name) ?? [];
        if (versionId === undefined || versionId === '') return [...versions].sort((a, b) => b.createdOn - a.createdOn)[0];
        return versions.find((candidate) => candidate.version === versionId);
    }

    function attributes(version: StubKeyVersion): Record<string, unknown> {
        return { enabled: version.enabled, created: version.createdOn / 1000, updated: version.createdOn / 1000, recoveryLevel: 'Recoverable+Purgeable' };
    }

    function bundle(name: string, version: StubKeyVersion): Record<string, unknown> {
        const jwk = version.publicKey.export({ format: 'jwk' });
        return {
            key: { kid: `${vaultUrl()}/keys/${name}/${version.version}`, kty: 'RSA', key_ops: ['sign', 'verify'], n: jwk.n, e: jwk.e },
            attributes: attributes(version),
        };
    }

    async function handle(request: KeyRequest): Promise<void> {
        const [name, third, operation] = request.segments;
        if (name === undefined || name === '' || request.segments.length > 3) {
            request.sendError(404, 'NotFound', 'No such route in the stub');
            return;
        }

        if (request.method === 'GET' && third === 'versions') {
            requests.listKeyVersions += 1;
            const all = keys.get(name) ?? [];
            if (all.length === 0) {
                request.sendError(404, 'KeyNotFound', `A key with (name/id) ${name} was not found in this key vault.`);
                return;
            }
            const skip = Number(request.url.searchParams.get('$skiptoken') ?? '0');
            const nextLink = skip + pageSize < all.length
                ? `${vaultUrl()}/keys/${name}/versions?api-version=${request.url.searchParams.get('api-version')}&$skiptoken=${skip + pageSize}`
                : null;
            const value = all.slice(skip, skip + pageSize).map((version) => ({ kid: `${vaultUrl()}/keys/${name}/${version.version}`, attributes: attributes(version) }));
            request.send(200, { value, nextLink });
            return;
        }

        const version = find(name, third);
        if (!version) {
            request.sendError(404, 'KeyNotFound', `A key with (name/id) ${name} was not found in this key vault.`);
            return;
        }

        if (request.method === 'GET' && operation === undefined) {
            requests.getKey += 1;
            request.send(200, bundle(name, version));
            return;
        }

        if (request.method === 'POST' && operation === 'sign' && third !== undefined && third !== '') {
            requests.sign += 1;
            if (!version.enabled) {
                request.sendError(403, 'Forbidden', 'Operation sign is not allowed on a disabled key.');
                return;
            }
            const body = await request.readJson();
            const digest = Buffer.from(typeof body.value === 'string' ? body.value : '', 'base64url');
            if (body.alg !== 'RS256' || digest.length !== 32) {
                request.sendError(400, 'BadParameter', 'The stub signs RS256 SHA-256 digests only.');
                return;
            }
            const signature = privateEncrypt({ key: version.privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest]));
            request.send(200, { kid: `${vaultUrl()}/keys/${name}/${version.version}`, value: signature.toString('base64url') });
            return;
        }

        request.sendError(405, 'MethodNotAllowed', `${request.method} is not served by the stub`);
    }

    return {
        requests,
        addKeyVersion,
        setEnabled(name, versionId, enabled) {
            const found = (keys.get(name) ?? []).find((candidate) => candidate.version === versionId);
            if (!found) throw new Error(`stub: no version ${versionId} of key ${name}`);
            found.enabled = enabled;
        },
        versionsOf: (name) => keys.get(name) ?? [],
        handle,
    };
}
