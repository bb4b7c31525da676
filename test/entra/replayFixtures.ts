/**
 * One vitest test per golden fixture step, in order, grouped by fixture file: the replay both Entra cycle suites
 * (Secret Token and OAuth access token) run. A known failure stays visible: `it.fails` turns red the day the step
 * starts passing.
 */
import { describe, expect, it } from 'vitest';
import type { FixtureFile, ProvisioningCycle } from './cycle';

/** Declares the step tests; `cycle` is read when each runs (it is built in beforeAll). Returns the number of steps. */
export function replayFixtures(fixtures: readonly FixtureFile[], cycle: () => ProvisioningCycle): number {
    let stepNumber = 0; // counted as vitest collects the describe blocks, after this function has returned
    for (const fixture of fixtures) {
        describe(fixture.name, () => {
            for (const step of fixture.steps) {
                const label = `${String(++stepNumber).padStart(3, '0')} ${step.name}`;
                const test = step.knownFailure ? it.fails : it;
                test(label, async () => {
                    const outcome = await cycle().runStep(step);
                    expect(outcome.failures, `${label}\n  ${outcome.failures.join('\n  ')}`).toEqual([]);
                });
            }
        });
    }
    return fixtures.reduce((steps, fixture) => steps + fixture.steps.length, 0);
}
