/**
 * Latency statistics and ratio formatting. The benchmarks run on shared 2-core machines, so the README
 * reports ratios between runs in the same process (or the same script), never absolute times alone.
 */

export interface LatencySummary {
    count: number;
    p50: number;
    p99: number;
    mean: number;
}

/** Nearest-rank percentile of already sorted values (`p` in 0–100). */
export function percentile(sorted: readonly number[], p: number): number {
    if (sorted.length === 0) return NaN;
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
    const sorted = [...latenciesMs].sort((a, b) => a - b);
    const mean = sorted.reduce((sum, value) => sum + value, 0) / (sorted.length || 1);
    return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

export function median(values: readonly number[]): number {
    return percentile([...values].sort((a, b) => a - b), 50);
}

/** `1.23×`; a ratio with a zero or missing denominator prints as `—`. */
export function formatRatio(numerator: number, denominator: number): string {
    if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator === 0) return '—';
    return `${(numerator / denominator).toFixed(2)}×`;
}

export function formatMs(ms: number): string {
    if (!Number.isFinite(ms)) return '—';
    return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

export function formatCount(value: number): string {
    return value.toLocaleString('en-US');
}
