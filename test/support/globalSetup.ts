/**
 * Vitest global setup: one in-process Azurite table service for the whole run. Each test file makes its
 * own table (see `test/support/tables.ts`), so files never see each other's data.
 */
import { startEmbeddedAzurite } from '../../dev/embeddedAzurite';

declare module 'vitest' {
    export interface ProvidedContext {
        tablesConnectionString: string;
    }
}

/** `project` is vitest's TestProject; only `provide` is used. */
export default async function setup(project: { provide(key: 'tablesConnectionString', value: string): void }): Promise<() => Promise<void>> {
    const azurite = await startEmbeddedAzurite();
    project.provide('tablesConnectionString', azurite.connectionString);
    return () => azurite.stop();
}
