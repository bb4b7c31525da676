/**
 * Chooses how the store reaches Table Storage (the one configuration decision, issue: deploy):
 * a connection string (Azurite locally, tests) or the table endpoint with the app's managed identity (Azure).
 */
import type { ActivityStore } from '../activity/ActivityStore';
import { managedIdentityCredential } from '../auth/managedIdentityCredential';
import type { StorageSettings } from '../config';
import type { EqualityIndexes } from '../scim/store';
import type { TableOptions } from './EntityTable';
import { createTableActivityStore } from './TableActivityStore';
import { createTableResourceStore, type TableResourceStore } from './TableResourceStore';

export function createStoreFromSettings(storage: StorageSettings, indexes: EqualityIndexes, managedIdentityClientId?: string): TableResourceStore {
    const { options, extra } = tableConnection(storage, managedIdentityClientId);
    return createTableResourceStore(options, { ...extra, indexes });
}

/** The activity records (docs/activity.md): the same table, reached the same way, through a client of their own. */
export function createActivityStoreFromSettings(storage: StorageSettings, managedIdentityClientId?: string): ActivityStore {
    const { options, extra } = tableConnection(storage, managedIdentityClientId);
    return createTableActivityStore(options, extra);
}

function tableConnection(storage: StorageSettings, managedIdentityClientId: string | undefined): { options: TableOptions; extra: { allowInsecureConnection?: boolean } } {
    if (storage.connectionString) {
        const insecure = isLocalConnectionString(storage.connectionString);
        return { options: { tableName: storage.tableName, connectionString: storage.connectionString }, extra: { allowInsecureConnection: insecure } };
    }
    if (storage.endpoint) {
        // Only in Azure (TABLES_ENDPOINT set, no connection string): the identity endpoint exists only there.
        const credential = managedIdentityCredential(managedIdentityClientId || undefined);
        return { options: { tableName: storage.tableName, endpoint: storage.endpoint, credential }, extra: {} };
    }
    throw new Error('No table storage configured: set TABLES_CONNECTION_STRING (local) or TABLES_ENDPOINT (Azure)');
}

/** Azurite on this machine speaks http; the SDK refuses http unless told (only ever for loopback). */
export function isLocalConnectionString(connectionString: string): boolean {
    return /TableEndpoint=http:\/\/(127\.0\.0\.1|localhost)[:/]/i.test(connectionString) || connectionString.includes('UseDevelopmentStorage=true');
}
