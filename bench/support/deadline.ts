/**
 * Every benchmark loop is bounded twice: by a count and by time. A `Deadline` is the time half; loops
 * check `expired()` next to their count limit.
 */
export class Deadline {
    private readonly endsAt: number;

    constructor(readonly budgetMs: number) {
        this.endsAt = Date.now() + budgetMs;
    }

    expired(): boolean {
        return Date.now() >= this.endsAt;
    }

    remainingMs(): number {
        return Math.max(0, this.endsAt - Date.now());
    }
}

/** Reads `--name value` from the command line (`npm run bench:growth -- --users 10000`). */
export function numberFlag(name: string, fallback: number): number {
    const at = process.argv.indexOf(`--${name}`);
    if (at < 0) return fallback;
    const value = Number(process.argv[at + 1]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
    return value;
}

export function stringFlag(name: string, fallback: string): string {
    const at = process.argv.indexOf(`--${name}`);
    return at < 0 || process.argv[at + 1] === undefined ? fallback : process.argv[at + 1]!;
}
