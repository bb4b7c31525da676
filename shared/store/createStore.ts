/**
 * Chooses how the store reaches Table Storage (the one configuration decision, issue: deploy):
 * a connection string (Azurite locally, tests) or the table endpoint with the app's managed identity (Azure).
 */
import { managedIdentityCredential } from '../auth/managedIdentityCredential';
import type { StorageSettings } from '../config';
import { createTableResourceStore, type TableResourceStore } from './TableResourceStore';

export function createStoreFromSettings(storage: StorageSettings, managedIdentityClientId?: string): TableResourceStore {
    if (storage.connectionString) {
        const insecure = /TableEndpoint=http:\/\/(127\.0\.0\.1|localhost)[:/]/i.test(storage.connectionString) || storage.connectionString.includes('UseDevelopmentStorage=true');
        return createTableResourceStore({ tableName: storage.tableName, connectionString: storage.connectionString }, { allowInsecureConnection: insecure });
    }
    if (storage.endpoint) {
        // Only in Azure (TABLES_ENDPOINT set, no connection string): the identity endpoint exists only there.
        const credential = managedIdentityCredential(managedIdentityClientId || undefined);
        return createTableResourceStore({ tableName: storage.tableName, endpoint: storage.endpoint, credential });
    }
    throw new Error('No table storage configured: set TABLES_CONNECTION_STRING (local) or TABLES_ENDPOINT (Azure)');
}
