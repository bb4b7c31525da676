/**
 * A stand-in for Entra as the issuer of workload identity federation assertions: its own RSA key pairs, its
 * JWKS served on loopback at `/<tenant>/discovery/v2.0/keys` (the path of Entra's v2.0 keys), and a signer
 * for assertions with any claims. Counts the JWKS requests so tests can assert the caching rules.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface LocalIssuer {
    /** `http://127.0.0.1:<port>/<tenant>/v2.0`, the value of SCIM_WIF_ISSUER. */
    readonly issuer: string;
    readonly tenantId: string;
    readonly jwksUrl: string;
    /** JWKS requests served (including failed ones while "down"). */
    readonly jwksRequests: () => number;
    /** A new signing key, published in the JWKS; returns its kid. */
    addKey(): Promise<string>;
    /** A key that signs but is not published (an attacker's, or one the JWKS does not have yet). */
    unpublishedKey(): Promise<string>;
    /** Signs `claims` as an RS256 JWT with the key `kid` (default: the first published one). */
    sign(claims: Record<string, unknown>, options?: { kid?: string; header?: Record<string, unknown> }): Promise<string>;
    /** From now on the JWKS answers 503 (`up` false) or normally. */
    setUp(up: boolean): void;
    stop(): Promise<void>;
}

export async function startLocalIssuer(tenantId = '6a1e3f0c-2b9d-4c57-8e4f-1d2c3b4a5f60'): Promise<LocalIssuer> {
    const keys = new Map<string, { privateKey: CryptoKey; publicJwk: JWK; published: boolean }>();
    let requests = 0;
    let up = true;
    const keysPath = `/${tenantId}/discovery/v2.0/keys`;

    const server: Server = createServer((request, response) => {
        if (request.url !== keysPath || request.method !== 'GET') {
            response.writeHead(404).end();
            return;
        }
        requests += 1;
        if (!up) {
            response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down"}');
            return;
        }
        const published = [...keys.entries()].filter(([, key]) => key.published).map(([kid, key]) => ({ ...key.publicJwk, kid, use: 'sig' }));
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    async function newKey(published: boolean): Promise<string> {
        const { privateKey, publicKey } = await generateKeyPair('RS256');
        const kid = randomBytes(8).toString('hex');
        keys.set(kid, { privateKey, publicJwk: await exportJWK(publicKey), published });
        return kid;
    }

    return {
        issuer: `${origin}/${tenantId}/v2.0`,
        tenantId,
        jwksUrl: origin + keysPath,
        jwksRequests: () => requests,
        addKey: () => newKey(true),
        unpublishedKey: () => newKey(false),
        async sign(claims, options = {}) {
            const kid = options.kid ?? [...keys.entries()].find(([, key]) => key.published)?.[0];
            const key = kid === undefined ? undefined : keys.get(kid);
            if (key === undefined) throw new Error('local issuer: no such key');
            return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid, ...options.header }).sign(key.privateKey);
        },
        setUp(value) {
            up = value;
        },
        stop: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
}
