/**
 * The keys access tokens are signed and verified with.
 *
 * - In Azure the private key never leaves Key Vault: a token's signature is a Key Vault `sign` operation
 *   on the SHA-256 digest of the JWS signing input (RFC 7515 §5.1), made with the key's current version.
 *   The public halves of the current and the previous version are kept in memory, so checking a token on a
 *   SCIM request is a CPU operation, never a Key Vault call.
 * - Locally (`npm start`, tests without Key Vault) an RSA key pair generated in memory at start-up.
 *
 * One algorithm: RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3), with a 2048-bit RSA key (what
 * infra/ creates). A key's `kid` is its Key Vault version (or, in memory, its RFC 7638 thumbprint).
 */
import { createHash, generateKeyPair, sign as signWithNodeCrypto, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { TokenCredential } from '@azure/identity';
import type { CryptographyClientOptions, KeyClientOptions, KeyProperties, KeyVaultKey } from '@azure/keyvault-keys';
import { base64url, calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';
import { describeError } from '../../describeError';
import { statusCodeOf } from '../../statusCodeOf';
import { selectAcceptedVersions } from '../tokenVersions';

export type SigningAlgorithm = 'RS256';
export const SIGNING_ALGORITHM: SigningAlgorithm = 'RS256';

/** What the token issuer needs to sign one token. */
export interface TokenSigner {
    kid: string;
    alg: SigningAlgorithm;
    /** The JWS signature of `signingInput` (RFC 7515 §5.1: ASCII(BASE64URL(header) || '.' || BASE64URL(payload))). */
    sign(signingInput: Uint8Array): Promise<Uint8Array>;
}

export interface VerificationKey {
    alg: SigningAlgorithm;
    key: CryptoKey;
}

export interface SigningKeys {
    /** The key to sign a new token with. May call Key Vault (token endpoint only). */
    signer(): Promise<TokenSigner>;
    /** The public key for `kid` from memory, if it is a current or previous key. Never calls anything. */
    verificationKey(kid: string): VerificationKey | undefined;
    /**
     * Called when a token names a `kid` this instance does not know (another instance may have signed it
     * with a freshly rotated key): reloads the keys, at most once per recheck interval.
     */
    reloadForUnknownKid(): Promise<void>;
}

/**
 * An RSA key pair generated in memory: local development and tests without Key Vault. Generated on first
 * use, off the event loop (a 2048-bit key takes a noticeable fraction of a second).
 */
export class InMemorySigningKeys implements SigningKeys {
    #loaded: Promise<{ kid: string; privateKey: KeyObject; verificationKey: VerificationKey }> | undefined;
    #kid: string | undefined;
    #verificationKey: VerificationKey | undefined;

    async signer(): Promise<TokenSigner> {
        const { kid, privateKey } = await this.#load();
        return { kid, alg: SIGNING_ALGORITHM, sign: (input) => Promise.resolve(signWithNodeCrypto('sha256', input, privateKey)) };
    }

    verificationKey(kid: string): VerificationKey | undefined {
        return kid === this.#kid ? this.#verificationKey : undefined;
    }

    async reloadForUnknownKid(): Promise<void> {
        await this.#load();
    }

    #load() {
        this.#loaded ??= (async () => {
            const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
            const publicJwk = publicKey.export({ format: 'jwk' }) as JWK;
            const verificationKey = { alg: SIGNING_ALGORITHM, key: (await importJWK(publicJwk, SIGNING_ALGORITHM)) as CryptoKey };
            const kid = await calculateJwkThumbprint(publicJwk);
            this.#kid = kid;
            this.#verificationKey = verificationKey;
            return { kid, privateKey, verificationKey };
        })();
        return this.#loaded;
    }
}

/** The two calls the signing keys make to read a Key Vault key (a `KeyClient` is one). */
export interface KeyReader {
    listPropertiesOfKeyVersions(keyName: string): AsyncIterable<KeyProperties>;
    getKey(keyName: string, options: { version: string }): Promise<KeyVaultKey>;
}

/**
 * Key Vault's `KeyClient`, with its SDK imported on the first call rather than at start-up (as for the
 * Secret Token, shared/auth/createTokenVerifier.ts): the deployment bundle keeps it in a file of its own.
 */
export function keyClientOnFirstUse(vaultUrl: string, credential: TokenCredential, options: KeyClientOptions | undefined): KeyReader {
    let client: Promise<KeyReader> | undefined;
    const load = () => (client ??= import('@azure/keyvault-keys').then(({ KeyClient }) => new KeyClient(vaultUrl, credential, options)));
    return {
        async *listPropertiesOfKeyVersions(keyName) {
            yield* (await load()).listPropertiesOfKeyVersions(keyName);
        },
        async getKey(keyName, getOptions) {
            return (await load()).getKey(keyName, getOptions);
        },
    };
}

export interface KeyVaultSigningKeysOptions {
    keyClient: KeyReader;
    keyName: string;
    /** For the `CryptographyClient` that signs (the same credential and options as `keyClient`). */
    credential: TokenCredential;
    cryptographyClientOptions?: CryptographyClientOptions;
    /**
     * How long the previous key version stays accepted after a rotation: the longest a token signed just
     * before the rotation can live, plus how long another instance may still sign with the old version.
     */
    graceWindowMs: number;
    /** How old the keys may get before the token endpoint reloads them (before signing). */
    cacheTtlMs: number;
    /** Minimum time between two reloads caused by unknown `kid`s. Default 60 s. */
    unknownKidRecheckMs?: number;
    now?: () => number;
    log?: (line: string) => void;
}

interface LoadedKey extends VerificationKey {
    kid: string;
    vaultKey: KeyVaultKey;
    acceptedUntil: number;
}

/** The signing key is a Key Vault key; see the file comment. */
export class KeyVaultSigningKeys implements SigningKeys {
    readonly #options: KeyVaultSigningKeysOptions;
    readonly #now: () => number;
    readonly #log: (line: string) => void;
    #current: LoadedKey | undefined;
    #previous: LoadedKey | undefined;
    #loadedAt = Number.NEGATIVE_INFINITY;
    #lastAttemptAt = Number.NEGATIVE_INFINITY;
    #loadInFlight: Promise<void> | undefined;
    #signingClient: { kid: string; client: { sign(algorithm: string, digest: Uint8Array): Promise<{ result: Uint8Array }> } } | undefined;

    constructor(options: KeyVaultSigningKeysOptions) {
        this.#options = options;
        this.#now = options.now ?? (() => Date.now());
        this.#log = options.log ?? ((line) => console.warn(line));
    }

    async signer(): Promise<TokenSigner> {
        if (this.#now() - this.#loadedAt >= this.#options.cacheTtlMs) await this.reload();
        const current = this.#current;
        if (current === undefined) throw new SigningKeyUnavailableError();
        if (this.#signingClient?.kid !== current.kid) {
            // Built from the fetched key, so signing is one POST .../sign per token and never a key read. The SDK
            // is imported here, on first use (see keyClientOnFirstUse).
            const { CryptographyClient } = await import('@azure/keyvault-keys');
            const client = new CryptographyClient(current.vaultKey, this.#options.credential, this.#options.cryptographyClientOptions);
            this.#signingClient = { kid: current.kid, client };
        }
        const { client } = this.#signingClient;
        return {
            kid: current.kid,
            alg: current.alg,
            sign: async (input) => {
                const digest = createHash('sha256').update(input).digest();
                try {
                    return (await client.sign(current.alg, digest)).result;
                } catch (error) {
                    this.#log(`OAuth: signing with key '${this.#options.keyName}' in Key Vault failed (${describeError(error)}).`);
                    throw new SigningKeyUnavailableError();
                }
            },
        };
    }

    verificationKey(kid: string): VerificationKey | undefined {
        const now = this.#now();
        for (const key of [this.#current, this.#previous]) {
            if (key !== undefined && key.kid === kid && now < key.acceptedUntil) return key;
        }
        return undefined;
    }

    async reloadForUnknownKid(): Promise<void> {
        if (this.#now() - this.#lastAttemptAt >= (this.#options.unknownKidRecheckMs ?? 60_000)) await this.reload();
    }

    /** Reloads the current and previous key versions; concurrent callers share one load, failures are logged. */
    reload(): Promise<void> {
        this.#loadInFlight ??= this.#load().finally(() => {
            this.#loadInFlight = undefined;
        });
        return this.#loadInFlight;
    }

    async #load(): Promise<void> {
        const startedAt = this.#now();
        this.#lastAttemptAt = startedAt;
        const { keyClient, keyName, graceWindowMs } = this.#options;
        try {
            const versions: KeyProperties[] = [];
            try {
                for await (const properties of keyClient.listPropertiesOfKeyVersions(keyName)) versions.push(properties);
            } catch (error) {
                if (statusCodeOf(error) !== 404) throw error;
            }
            // The rule of the Secret Token's versions (tokenVersions.ts): newest usable version, plus the one
            // before it during the grace window.
            const selected = selectAcceptedVersions(versions, graceWindowMs, new Date(startedAt));
            const current = selected?.current && await this.#fetch(selected.current.version, Number.POSITIVE_INFINITY);
            const previous = selected?.previous && await this.#fetch(selected.previous.properties.version, selected.previous.acceptedUntil.getTime());
            if (current?.kid !== this.#current?.kid) {
                this.#log(current === undefined
                    ? `OAuth: key '${keyName}' has no enabled version; no access token can be issued.`
                    : `OAuth: signing with version ${current.kid} of key '${keyName}'.`);
            }
            this.#current = current;
            this.#previous = previous;
            this.#loadedAt = startedAt;
        } catch (error) {
            this.#log(`OAuth: reading key '${keyName}' from Key Vault failed (${describeError(error)}); keeping the keys in memory.`);
        }
    }

    async #fetch(version: string, acceptedUntil: number): Promise<LoadedKey | undefined> {
        const vaultKey = await this.#options.keyClient.getKey(this.#options.keyName, { version });
        const publicJwk = toPublicJwk(vaultKey);
        if (publicJwk === undefined) {
            this.#log(`OAuth: version ${version} of key '${this.#options.keyName}' is not an RSA key; it is not used.`);
            return undefined;
        }
        const key = (await importJWK(publicJwk, SIGNING_ALGORITHM)) as CryptoKey;
        return { kid: version, alg: SIGNING_ALGORITHM, key, vaultKey, acceptedUntil };
    }
}

/** Signing is not possible right now (no key version, or Key Vault failed): the token endpoint answers 503. */
export class SigningKeyUnavailableError extends Error {
    constructor() {
        super('The access-token signing key is unavailable');
        this.name = 'SigningKeyUnavailableError';
    }
}

/** The public JWK of a Key Vault RSA key, or undefined for another key type. */
function toPublicJwk(vaultKey: KeyVaultKey): JWK | undefined {
    const key = vaultKey.key;
    if ((key?.kty === 'RSA' || key?.kty === 'RSA-HSM') && key.n && key.e) {
        return { kty: 'RSA', n: base64url.encode(key.n), e: base64url.encode(key.e) };
    }
    return undefined;
}
