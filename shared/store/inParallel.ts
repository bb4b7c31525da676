/**
 * The store's one worker pool: runs `work` over `items`, at most `concurrency` at a time, in order of
 * start, starting none once `stop()` is true (those running then still finish). Returns how many it started.
 * Bounded concurrency keeps a large request (100,000 edge rows, 1,000 point reads) from flooding a partition.
 */
export async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>, stop: () => boolean = () => false): Promise<number> {
    let next = 0;
    const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
        while (next < items.length && !stop()) await work(items[next++]!);
    });
    await Promise.all(workers);
    return next;
}
