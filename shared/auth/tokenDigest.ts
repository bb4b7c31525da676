/**
 * Constant-time token comparison. Both sides are reduced to SHA-256 digests first, so `timingSafeEqual`
 * always compares 32 bytes: neither the time taken nor an early length check tells a caller how long the
 * accepted token is or how much of it they guessed right. Verifiers keep only the digest in memory, so a
 * stray dump of a verifier object shows no token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export function tokenDigest(token: string): Buffer {
    return createHash('sha256').update(token, 'utf8').digest();
}

export function matchesDigest(presented: string, acceptedDigest: Buffer): boolean {
    return timingSafeEqual(tokenDigest(presented), acceptedDigest);
}
