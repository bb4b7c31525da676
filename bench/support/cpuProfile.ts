/**
 * Where a process's CPU time went, from a V8 CPU profile (`node --cpu-prof`, bench:load `--profile`): each
 * sample is charged to the first frame on its stack that belongs to a known part (our code, the Azure SDK,
 * Node's HTTP client or server, the Functions request objects), walking from the sampled frame towards the
 * root, so natives (JSON, crypto, socket writes) count for the part that called them.
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
    id: number;
    callFrame: { functionName: string; url: string };
    children?: number[];
}

interface CpuProfile {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
}

/** First match wins, so the more specific parts come first. */
const PARTS: [string, RegExp][] = [
    ['Functions request objects (@azure/functions HttpRequest/HttpResponse, undici, web streams)', /@azure\/functions\/|undici|webstreams|abort_controller|js_transferable/],
    ['local host: HTTP server and response writes (the Functions host in Azure)', /shared\/http\/localHost|dev\/localHost|_http_server|_http_incoming/],
    ['Azure SDK (data-tables, core-*, ts-http-runtime)', /@azure\/(data-tables|core-|logger)|@typespec\//],
    ['Node HTTP client (storage requests on the wire)', /_http_client|_http_agent/],
    ['ours: store', /dist\/shared\/store\//],
    ['ours: endpoint, auth and protocol', /dist\/(shared|functions)\//],
];

export interface ProfileShare {
    part: string;
    share: number;
}

/** Busy time (idle excluded) by part, largest first, as shares of the busy total. */
export function profileShares(file: string): ProfileShare[] {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    const partOf = new Map<number, string>();
    const classify = (id: number): string => {
        const known = partOf.get(id);
        if (known !== undefined) return known;
        const frame = nodes.get(id)!.callFrame;
        let part: string | undefined = frame.functionName === '(garbage collector)' ? 'garbage collection' : PARTS.find(([, pattern]) => pattern.test(frame.url))?.[0];
        if (part === undefined) {
            const parent = parents.get(id);
            part = parent === undefined ? 'other (event loop, timers, promise jobs)' : classify(parent);
        }
        partOf.set(id, part);
        return part;
    };
    const totals = new Map<string, number>();
    let busy = 0;
    profile.samples.forEach((id, index) => {
        if (nodes.get(id)!.callFrame.functionName === '(idle)') return;
        const delta = profile.timeDeltas[index] ?? 0;
        busy += delta;
        const part = classify(id);
        totals.set(part, (totals.get(part) ?? 0) + delta);
    });
    return [...totals].map(([part, time]) => ({ part, share: time / Math.max(1, busy) })).sort((a, b) => b.share - a.share);
}

/** The newest `.cpuprofile` in a directory (node writes one per process, named by time and pid). */
export function newestProfile(directory: string): string | undefined {
    const files = fs.readdirSync(directory).filter((file) => file.endsWith('.cpuprofile')).map((file) => path.join(directory, file));
    return files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
}
