/**
 * Per-file setup. Importing a function module outside the Functions host makes @azure/functions print
 * "Switching to test mode" / "Skipping call to register function" warnings; they are expected here.
 */
import { vi } from 'vitest';

const originalWarn = console.warn;
vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    const first = typeof args[0] === 'string' ? args[0] : '';
    if (first.includes('test mode') || first.includes('Skipping call to register function')) return;
    originalWarn(...args);
});
