/**
 * What storage failures mean to the store (storageErrors.ts). The errors are the SDK's own, provoked on the
 * shared Azurite: the operation index is parsed from the SDK's message text, so a change in that text must
 * fail here rather than turn uniqueness clashes into 500s.
 */
import { TableClient } from '@azure/data-tables';
import { beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../shared/scim/storeErrors';
import { statusCodeOf } from '../../shared/statusCodeOf';
import { asStoreError, failedOperationIndex, isTransientStorageFailure } from '../../shared/store/storageErrors';
import { testConnectionString, testTableName } from '../support/tables';
import { unusedPort } from '../support/unusedPort';

const client = TableClient.fromConnectionString(testConnectionString(), testTableName('errors'), { allowInsecureConnection: true });

/** What `work` throws (fails the test if it does not). */
async function thrownBy(work: () => Promise<unknown>): Promise<unknown> {
    try {
        await work();
    } catch (error) {
        return error;
    }
    throw new Error('expected a failure');
}

beforeAll(async () => {
    await client.createTable();
    await client.createEntity({ partitionKey: 'p', rowKey: 'taken' });
});

describe('failures from Table Storage', () => {
    it('a transaction clash: 409, and the index of the operation that failed, read from the message', async () => {
        for (const index of [0, 1, 2]) {
            const actions = ['a', 'b', 'c'].map((key, position): ['create', { partitionKey: string; rowKey: string }] => ['create', { partitionKey: 'p', rowKey: position === index ? 'taken' : `${key}-${index}` }]);
            const error = await thrownBy(() => client.submitTransaction(actions));
            expect(statusCodeOf(error)).toBe(409);
            expect(failedOperationIndex(error)).toBe(index);
            expect(asStoreError(error)).toBe(error); // a clash means what the caller says it means (uniqueness, or a retry)
        }
    });

    it('a missing entity: 404 → notFound', async () => {
        const error = await thrownBy(() => client.getEntity('p', 'missing'));
        expect(statusCodeOf(error)).toBe(404);
        expect(asStoreError(error)).toMatchObject({ kind: 'notFound' });
        expect(failedOperationIndex(error)).toBeUndefined();
    });

    it('a stale ETag: 412 → versionConflict', async () => {
        const { etag } = await client.createEntity({ partitionKey: 'p', rowKey: 'versioned', n: 1 });
        await client.updateEntity({ partitionKey: 'p', rowKey: 'versioned', n: 2 }, 'Merge', { etag });
        const error = await thrownBy(() => client.updateEntity({ partitionKey: 'p', rowKey: 'versioned', n: 3 }, 'Merge', { etag }));
        expect(statusCodeOf(error)).toBe(412);
        expect(asStoreError(error)).toMatchObject({ kind: 'versionConflict' });
    });

    it('no storage listening: unavailable, with a retry-after', async () => {
        const port = await unusedPort();
        const down = TableClient.fromConnectionString(
            testConnectionString().replace(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+/, `TableEndpoint=http://127.0.0.1:${port}`),
            'down',
            { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } },
        );
        const error = await thrownBy(() => down.getEntity('p', 'r'));
        expect(statusCodeOf(error)).toBeUndefined();
        expect(isTransientStorageFailure(error)).toBe(true);
        const storeError = asStoreError(error);
        expect(storeError).toBeInstanceOf(StoreError);
        expect(storeError).toMatchObject({ kind: 'unavailable', retryAfterSeconds: 5 });
    });
});

describe('isTransientStorageFailure', () => {
    it.each([
        ['a 500', { statusCode: 500 }],
        ['a 503', { statusCode: 503 }],
        ['a request timeout', { statusCode: 408 }],
        ['throttling', { statusCode: 429 }],
        ['a reset connection', { code: 'ECONNRESET' }],
        ['an SDK send error', { code: 'REQUEST_SEND_ERROR' }],
        ['an aborted request', { name: 'AbortError' }],
        ['a timeout', { name: 'TimeoutError' }],
        ['a socket hang-up message', { message: 'socket hang up' }],
    ])('is true for %s', (_what, error) => {
        expect(isTransientStorageFailure(error)).toBe(true);
    });

    it.each([
        ['a 400', { statusCode: 400 }],
        ['a 409', { statusCode: 409, message: 'timed out' }], // the status wins over the text
        ['a programming error', new TypeError('x is undefined')],
        ['a string', 'ECONNRESET'],
        ['nothing', undefined],
    ])('is false for %s', (_what, error) => {
        expect(isTransientStorageFailure(error)).toBe(false);
    });
});

describe('asStoreError', () => {
    it('keeps a store error, and lets an unexpected failure through unchanged', () => {
        const own = new StoreError('uniqueness', 'taken');
        expect(asStoreError(own)).toBe(own);
        const unexpected = Object.assign(new Error('bad request'), { statusCode: 400 });
        expect(asStoreError(unexpected)).toBe(unexpected);
    });
});

describe('failedOperationIndex', () => {
    it('reads only a leading `<index>:`', () => {
        expect(failedOperationIndex({ message: '12:The specified entity already exists.' })).toBe(12);
        expect(failedOperationIndex({ message: 'The specified entity already exists. 12:' })).toBeUndefined();
        expect(failedOperationIndex({ message: 42 })).toBeUndefined();
        expect(failedOperationIndex(null)).toBeUndefined();
    });
});
