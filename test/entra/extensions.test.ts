/**
 * Entra's custom-attribute traffic for ALVAO (fixtures/extensions/), replayed through the real app over
 * HTTP with the ALVAO-style example declared (docs/examples/alvao-schema-extensions.json). The smoke test
 * replays the same files against a deployment that declares it: `npm run smoke -- --fixtures test/entra/fixtures/extensions`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScimServer, type ScimTestServer } from '../support/scimServer';
import { FIXTURE_DIRECTORY, loadFixtureFiles, ProvisioningCycle } from './cycle';

const fixtures = loadFixtureFiles(path.join(FIXTURE_DIRECTORY, 'extensions'));
let server: ScimTestServer;
let cycle: ProvisioningCycle;

beforeAll(async () => {
    const declared = readFileSync(path.join(__dirname, '..', '..', 'docs', 'examples', 'alvao-schema-extensions.json'), 'utf8');
    server = await startScimServer({ settings: { SCIM_SCHEMA_EXTENSIONS: declared } });
    cycle = new ProvisioningCycle({ base: server.base, token: server.token });
});
afterAll(async () => {
    await server?.close();
});

it('finds the extension fixtures', () => {
    expect(fixtures.flatMap((fixture) => fixture.steps).length).toBeGreaterThanOrEqual(9);
});

for (const fixture of fixtures) {
    describe(fixture.name, () => {
        for (const [index, step] of fixture.steps.entries()) {
            const label = `${String(index + 1).padStart(2, '0')} ${step.name}`;
            it(label, async () => {
                const outcome = await cycle.runStep(step);
                expect(outcome.failures, `${label}\n  ${outcome.failures.join('\n  ')}`).toEqual([]);
            });
        }
    });
}

describe('after the cycle', () => {
    it('left nothing behind and logged no unexpected error', () => {
        expect(cycle.leftovers).toBe(0);
        expect(server.logs.filter((line) => line.includes('scim unexpected error'))).toEqual([]);
    });
});
