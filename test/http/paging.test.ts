/** Paging through all users (RFC 7644 §3.4.2.4), the way Microsoft's validator walks it (docs/entra-protocol.md §7). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimServer, type ScimTestServer } from '../support/scimServer';

let server: ScimTestServer;

beforeAll(async () => {
    server = await startScimServer();
});
afterAll(async () => {
    await server.close();
});

describe('paging (RFC 7644 §3.4.2.4)', () => {
    it('walks every user with count=5 in a stable order, startIndex echoed', async () => {
        const ids = new Set<string>();
        for (let i = 0; i < 12; i++) ids.add((await server.request('POST', '/Users', { userName: `page${i}@contoso.com` })).body.id);
        const seen: string[] = [];
        let startIndex = 1;
        for (let pages = 0; pages < 10; pages++) {
            const page = await server.request('GET', `/Users?startIndex=${startIndex}&count=5`);
            expect(page.status).toBe(200);
            expect(page.body.startIndex).toBe(startIndex);
            expect(page.body.totalResults).toBe(12);
            expect(page.body.itemsPerPage).toBe(page.body.Resources.length);
            seen.push(...page.body.Resources.map((u: { id: string }) => u.id));
            startIndex += page.body.Resources.length;
            if (startIndex > page.body.totalResults) break;
        }
        expect(seen).toHaveLength(12);
        expect(new Set(seen)).toEqual(ids);
        const countOnly = await server.request('GET', '/Users?count=0');
        expect(countOnly.body).toMatchObject({ totalResults: 12, itemsPerPage: 0, Resources: [] });
        expect((await server.request('GET', '/Users?count=abc')).body.scimType).toBe('invalidValue');
    });
});

