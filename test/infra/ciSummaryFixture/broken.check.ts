// A sample file for test/infra/ciSummary.test.ts that fails to load: its tests never run.
import { it } from 'vitest';

throw new Error('this file does not load');
it('never runs', () => undefined);
