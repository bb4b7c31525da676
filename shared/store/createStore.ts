/**
 * Chooses how the store reaches Table Storage (the one configuration decision, issue: deploy):
 * a connection string (Azurite locally, tests) or the table endpoint with the app's managed identity (Azure).
 */
import type { StorageSettings } from '../config';
import type { IndexConfiguration } from '../scim/attributeIndexes';
import type { ResourceStore } from './ResourceStore';
import { createTableResourceStore } from './TableResourceStore';

export function createStoreFromSettings(storage: StorageSettings, indexes?: IndexConfiguration): ResourceStore {
    if (storage.connectionString) {
        const insecure = isLocalConnectionString(storage.connectionString);
        return createTableResourceStore({ tableName: storage.tableName, connectionString: storage.connectionString }, { allowInsecureConnection: insecure, ...(indexes ? { indexes } : {}) });
    }
    if (storage.endpoint) {
        // Constructed only in Azure (TABLES_ENDPOINT set, no connection string): the identity endpoint it
        // talks to exists only there. Required lazily so tests and the local host never load it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
        const clientId = process.env.AZURE_CLIENT_ID;
        const credential = clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
        return createTableResourceStore({ tableName: storage.tableName, endpoint: storage.endpoint, credential }, indexes ? { indexes } : {});
    }
    throw new Error('No table storage configured: set TABLES_CONNECTION_STRING (local) or TABLES_ENDPOINT (Azure)');
}

/** Azurite on this machine speaks http; the SDK refuses http unless told (only ever for loopback). */
export function isLocalConnectionString(connectionString: string): boolean {
    return /TableEndpoint=http:\/\/(127\.0\.0\.1|localhost)[:/]/i.test(connectionString) || connectionString.includes('UseDevelopmentStorage=true');
}
