/**
 * Whether a request came through the local host (`npm start`, tests) from this machine, with the status page
 * open without sign-in (docs/activity.md). Carried in AsyncLocalStorage, set by `localHost.ts` around each
 * handler call: a client cannot forge it with a header, and under the Functions host it is never set, so in
 * Azure `/admin` always asks for an Entra sign-in.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const caller = new AsyncLocalStorage<{ adminWithoutSignIn: boolean }>();

export function runAsLocalCaller<T>(adminWithoutSignIn: boolean, fn: () => T): T {
    return caller.run({ adminWithoutSignIn }, fn);
}

export function isTrustedLocalAdmin(): boolean {
    return caller.getStore()?.adminWithoutSignIn === true;
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopbackAddress(address: string | undefined): boolean {
    if (address === undefined) return false;
    const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
    return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
