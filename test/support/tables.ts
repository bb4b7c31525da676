/** A fresh, uniquely named table on the shared Azurite for one test file or test. */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';

export function testTableName(prefix = 't'): string {
    // Table names: 3–63 alphanumeric characters, starting with a letter.
    return (prefix + randomUUID().replace(/-/g, '')).slice(0, 63);
}

export function testConnectionString(): string {
    return inject('tablesConnectionString');
}
