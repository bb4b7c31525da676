/**
 * Push (docs/feed.md, "Push"): forwards new events to a queue, at least once. The checkpoint moves only after
 * every message of a page was accepted by the queue, so a crash (or a failed send) resends the page instead of
 * losing it; each message carries the event `id` for de-duplication. A second forwarder running at the same time
 * (timers are singletons, but a deployment swap can overlap two) loses the conditional checkpoint write and stops.
 */
import type { ChangeEvent } from './events';
import type { ForwardableFeed } from './ChangeFeed';

export interface EventQueue {
    send(messageText: string): Promise<void>;
}

/** Events per page: one range read per stream, and one checkpoint write per page. */
const FORWARD_PAGE_SIZE = 200;
const SENDS_IN_FLIGHT = 8;
/**
 * A queue message is at most 64 KiB (Azure Storage queues), and it is sent base64-encoded (what Azure Functions
 * queue triggers decode by default): 48 KiB of JSON.
 */
const MAX_MESSAGE_JSON_BYTES = 48 * 1024;

export interface ForwardResult {
    forwarded: number;
    /** The feed had nothing more to forward when the run ended. */
    caughtUp: boolean;
    /** Another forwarder moved the checkpoint; this one stopped. */
    superseded: boolean;
}

/** `tenant`: the named tenant whose feed this is, carried in every message (absent for the default tenant). */
export async function forwardChanges(feed: ForwardableFeed, queue: EventQueue, deadline: number, tenant?: string): Promise<ForwardResult> {
    let checkpoint = await feed.readCheckpoint();
    let forwarded = 0;
    while (Date.now() < deadline) {
        const { events, next } = await feed.page(checkpoint.cursor, FORWARD_PAGE_SIZE);
        if (events.length === 0) return { forwarded, caughtUp: true, superseded: false };
        let index = 0;
        await Promise.all(
            Array.from({ length: Math.min(SENDS_IN_FLIGHT, events.length) }, async () => {
                while (index < events.length) await queue.send(queueMessage(events[index++]!, tenant));
            }),
        );
        const saved = await feed.saveCheckpoint(checkpoint, next);
        if (!saved) return { forwarded, caughtUp: false, superseded: true };
        checkpoint = saved;
        forwarded += events.length;
    }
    return { forwarded, caughtUp: false, superseded: false };
}

/**
 * The message for one event: the event as JSON, base64-encoded; a named tenant's events first name the tenant
 * (`"tenant": "acme"`), so one queue serves every tenant and a consumer routes by it (docs/feed.md, "Tenants").
 * An event too large for a message keeps everything but its attribute values (`attributesOmitted` names them);
 * the full event stays readable at `/changes`.
 */
export function queueMessage(event: ChangeEvent, tenant?: string): string {
    const message: ChangeEvent & { tenant?: string } = tenant === undefined ? event : { tenant, ...event };
    let json = JSON.stringify(message);
    if (Buffer.byteLength(json, 'utf8') > MAX_MESSAGE_JSON_BYTES && message.attributes) {
        const { attributes, ...rest } = message;
        json = JSON.stringify({ ...rest, attributesOmitted: Object.keys(attributes) });
    }
    return Buffer.from(json, 'utf8').toString('base64');
}
