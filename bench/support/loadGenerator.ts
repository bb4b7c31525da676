/**
 * A small, bounded load generator (autocannon is not installed): `concurrency` workers take tasks from
 * one list, in order, until the list, the request budget or the time budget runs out. A task is a short
 * sequence of dependent requests (Entra looks a user up, then creates it), so a worker sends one request
 * at a time and the number in flight never exceeds `concurrency`.
 */
import type { ScimRequestSpec } from './entraRequests';
import type { ScimClient, ScimReply } from './scimClient';
import { Deadline } from './deadline';
import { summarize, type LatencySummary } from './stats';

/** Sends one request, labelled with the operation it belongs to (for the per-operation breakdown). */
export type Send = (operation: string, request: ScimRequestSpec) => Promise<ScimReply>;
export type LoadTask = (send: Send) => Promise<void>;

export interface LoadLimits {
    concurrency: number;
    /** No new task starts once this many requests were sent (a running task may finish its last request). */
    maxRequests: number;
    budgetMs: number;
}

export interface OperationStats {
    latenciesMs: number[];
    errors: number;
}

export interface LoadResult {
    requests: number;
    /** HTTP status ≥ 400 or a failed request. */
    errors: number;
    elapsedMs: number;
    requestsPerSecond: number;
    latency: LatencySummary;
    byOperation: Map<string, OperationStats>;
    /** Tasks never started because a budget ran out. */
    tasksSkipped: number;
    /** The first few errors, for the report. */
    errorSamples: string[];
}

const ERROR_SAMPLES = 5;

export async function runLoad(client: ScimClient, tasks: readonly LoadTask[], limits: LoadLimits): Promise<LoadResult> {
    const deadline = new Deadline(limits.budgetMs);
    const latencies: number[] = [];
    const byOperation = new Map<string, OperationStats>();
    const errorSamples: string[] = [];
    let requests = 0;
    let errors = 0;
    let nextTask = 0;

    const recordError = (text: string) => {
        errors++;
        if (errorSamples.length < ERROR_SAMPLES) errorSamples.push(text);
    };
    const send: Send = async (operation, request) => {
        requests++;
        const stats = byOperation.get(operation) ?? { latenciesMs: [], errors: 0 };
        byOperation.set(operation, stats);
        try {
            const reply = await client.send(request);
            latencies.push(reply.ms);
            stats.latenciesMs.push(reply.ms);
            if (reply.status >= 400) {
                stats.errors++;
                recordError(`${operation}: ${reply.status} ${JSON.stringify(reply.body)?.slice(0, 200)}`);
            }
            return reply;
        } catch (error) {
            stats.errors++;
            recordError(`${operation}: ${error instanceof Error ? error.message : String(error)}`);
            throw error;
        }
    };

    const started = performance.now();
    const worker = async () => {
        while (nextTask < tasks.length && requests < limits.maxRequests && !deadline.expired()) {
            const task = tasks[nextTask++]!;
            // A failed request already counts as an error; the rest of its task is skipped.
            await task(send).catch(() => undefined);
        }
    };
    await Promise.all(Array.from({ length: limits.concurrency }, worker));
    const elapsedMs = performance.now() - started;
    return {
        requests,
        errors,
        elapsedMs,
        requestsPerSecond: (requests / elapsedMs) * 1000,
        latency: summarize(latencies),
        byOperation,
        tasksSkipped: tasks.length - nextTask,
        errorSamples,
    };
}
