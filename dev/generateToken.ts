/** A fresh SCIM Secret Token: what `npm run token -- rotate|generate` writes and what `npm start` prints when SCIM_TOKEN is unset. */
import { randomBytes } from 'node:crypto';

/** 256 random bits, base64url: 43 characters that survive copy-paste and HTTP headers unchanged. */
export function generateToken(): string {
    return randomBytes(32).toString('base64url');
}
