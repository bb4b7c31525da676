/**
 * The Azure Storage queue the change feed is pushed to (docs/feed.md, "Push"): `@azure/storage-queue`, with
 * the app's managed identity in Azure (role Storage Queue Data Message Sender on that queue, infra/) or a
 * connection string locally (Azurite's queue service). Only sends; creates the queue only locally, where no
 * deployment did.
 */
import { QueueClient, type StoragePipelineOptions } from '@azure/storage-queue';
import { managedIdentityCredential } from '../auth/managedIdentityCredential';
import type { EventQueue } from '../feed/forwardChanges';
import type { FeedSettings } from '../config';

/** Same fail-fast policy as the table client: two quick retries, then the timer tries again next run. */
const PIPELINE_OPTIONS: StoragePipelineOptions = { retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1000, tryTimeoutInMs: 5000 } };

export function createEventQueue(feed: FeedSettings, managedIdentityClientId?: string): EventQueue | undefined {
    if (!feed.queueName) return undefined;
    if (feed.queueConnectionString) {
        const client = new QueueClient(feed.queueConnectionString, feed.queueName, PIPELINE_OPTIONS);
        let created: Promise<unknown> | undefined;
        return {
            async send(text) {
                created ??= client.createIfNotExists().catch((error: unknown) => {
                    created = undefined;
                    throw error;
                });
                await created;
                await client.sendMessage(text);
            },
        };
    }
    if (feed.queueEndpoint) {
        // Only in Azure (QUEUES_ENDPOINT, no connection string): the managed identity, loaded on first use as for the table.
        const client = new QueueClient(`${feed.queueEndpoint.replace(/\/+$/, '')}/${feed.queueName}`, managedIdentityCredential(managedIdentityClientId), PIPELINE_OPTIONS);
        return { send: async (text) => void (await client.sendMessage(text)) };
    }
    throw new Error('SCIM_FEED_QUEUE is set but neither QUEUES_CONNECTION_STRING (local) nor QUEUES_ENDPOINT (Azure) says where the queue is');
}
