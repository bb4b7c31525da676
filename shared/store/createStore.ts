/**
 * Chooses how the store reaches Table Storage (the one configuration decision, issue: deploy):
 * a connection string (Azurite locally, tests) or the table endpoint with the app's managed identity (Azure).
 */
import { managedIdentityCredential } from '../auth/managedIdentityCredential';
import type { StorageSettings } from '../config';
import type { EqualityIndexes } from '../scim/store';
import { createTableResourceStore, type TableResourceStore } from './TableResourceStore';

export function createStoreFromSettings(storage: StorageSettings, indexes: EqualityIndexes, managedIdentityClientId?: string): TableResourceStore {
    if (storage.connectionString) {
        const insecure = isLocalConnectionString(storage.connectionString);
        return createTableResourceStore({ tableName: storage.tableName, connectionString: storage.connectionString }, { allowInsecureConnection: insecure, indexes });
    }
    if (storage.endpoint) {
        // Only in Azure (TABLES_ENDPOINT set, no connection string): the identity endpoint exists only there.
        const credential = managedIdentityCredential(managedIdentityClientId || undefined);
        return createTableResourceStore({ tableName: storage.tableName, endpoint: storage.endpoint, credential }, { indexes });
    }
    throw new Error('No table storage configured: set TABLES_CONNECTION_STRING (local) or TABLES_ENDPOINT (Azure)');
}

/** Azurite on this machine speaks http; the SDK refuses http unless told (only ever for loopback). */
export function isLocalConnectionString(connectionString: string): boolean {
    return /TableEndpoint=http:\/\/(127\.0\.0\.1|localhost)[:/]/i.test(connectionString) || connectionString.includes('UseDevelopmentStorage=true');
}
