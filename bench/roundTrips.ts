/**
 * Benchmark (not a test): how many storage requests each Entra operation costs, by kind.
 *
 * Every operation Entra sends during provisioning (docs/entra-protocol.md §3–§6) goes over HTTP to our endpoint on
 * the local host, on an in-process Azurite; the request counter's global listener classifies the storage
 * requests each one makes (point read, range read, scan, transaction, write). Requests are sent one at a
 * time, so every count belongs to exactly one SCIM request. A scan on any Entra path is a performance bug.
 *
 * Run: npm run bench:roundtrips
 */
import { randomUUID } from 'node:crypto';
import { markdownTable } from './support/markdown';
import { startLocalScim } from './support/localScim';
import { writeResultsSection } from './support/results';
import { ScimClient } from './support/scimClient';
import { recordStorageRequests, STORAGE_KIND_LABELS, STORAGE_KINDS, type StorageCounts } from './support/storageCounts';
import * as entra from './support/entraRequests';
import type { ScimRequestSpec } from './support/entraRequests';

interface Measured {
    operation: string;
    request: ScimRequestSpec;
    status: number;
    counts: StorageCounts;
}

/** How each request appears in the table: method and path, ids shortened, query decoded. */
function describe(request: ScimRequestSpec): string {
    const path = decodeURIComponent(request.path.replace(/\+/g, ' ')).replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{id}');
    return `${request.method} ${path.length > 90 ? `${path.slice(0, 87)}…` : path}`;
}

async function main(): Promise<void> {
    const scim = await startLocalScim();
    const client = new ScimClient(scim.base, scim.token, 1);
    const runId = entra.newRunId();
    const measured: Measured[] = [];

    /** Sends one request, checks its status, and keeps its storage request counts. */
    const measure = async (operation: string, request: ScimRequestSpec, ...statuses: number[]) => {
        const { result: reply, counts } = await recordStorageRequests(() => client.expect(request, ...statuses));
        measured.push({ operation, request, status: reply.status, counts });
        return reply;
    };
    /** Setup requests are sent but not reported. */
    const setup = (request: ScimRequestSpec, ...statuses: number[]) => client.expect(request, ...statuses);

    try {
        // The app creates its table on first use: one unreported request, so no row carries that one-off cost.
        await setup(entra.testConnection(), 200);
        // Test Connection: a random GUID that matches nobody, for users and for groups.
        const miss = await measure('Test Connection (userName eq random GUID)', entra.testConnection(), 200);
        if (miss.body.totalResults !== 0) throw new Error('Test Connection found a user');
        await measure('Test Connection, groups (displayName eq random GUID)', entra.lookupGroup(randomUUID()), 200);

        // A user's life: match (miss) → create → later lookups and updates → disable.
        await measure('User lookup, miss (before create)', entra.lookupUserName(entra.userNameOf(0, runId)), 200);
        const created = await measure('Create user', entra.createUser(0, runId), 201);
        const userId: string = created.body.id;
        const hit = await measure('User lookup: userName eq, other case (hit)', entra.lookupUserName(entra.userNameOf(0, runId).toUpperCase()), 200);
        if (hit.body.totalResults !== 1) throw new Error(`userName lookup in another case found ${hit.body.totalResults} users`);
        await measure('User lookup: externalId eq (hit)', entra.lookupExternalId(entra.externalIdOf(0, runId)), 200);
        await measure('GET user by id', entra.getUser(userId), 200);
        await measure('PATCH user, default dialect (6 ops)', entra.patchUserDefaultDialect(userId, 1), 200, 204);
        await measure('PATCH user, path-less dialect (aadOptscim062020)', entra.patchUserPathlessDialect(userId, 2), 200, 204);
        await measure('Disable user (active "False")', entra.disableUser(userId), 200, 204);

        // Groups: match (miss) → create → members in later PATCHes (docs/entra-protocol.md §6).
        const memberIds: string[] = [userId];
        for (let n = 1; n <= 3; n++) memberIds.push((await setup(entra.createUser(n, runId), 201)).body.id);
        await measure('Group lookup, miss (before create)', entra.lookupGroup(entra.groupNameOf(0, runId)), 200);
        const group = await measure('Create group', entra.createGroup(0, runId), 201);
        const groupId: string = group.body.id;
        await measure('Add 1 member', entra.addMembers(groupId, [memberIds[0]!]), 200, 204);
        await measure('Add 3 members (one PATCH)', entra.addMembers(groupId, memberIds.slice(1)), 200, 204);
        await measure('Remove 1 member (value array)', entra.removeMembers(groupId, [memberIds[3]!]), 200, 204);
        const found = await measure('Group lookup: displayName eq, excludedAttributes=members', entra.lookupGroup(entra.groupNameOf(0, runId).toLowerCase()), 200);
        if (found.body.totalResults !== 1 || found.body.Resources[0].members !== undefined) throw new Error('group lookup did not find the group without members');
        await measure('GET group excluding members', entra.getGroupExcludingMembers(groupId), 200);
        const probe = await measure('Membership probe, member', entra.membershipProbe(groupId, memberIds[1]!), 200);
        if (probe.body.totalResults !== 1) throw new Error('membership probe missed a member');
        await measure('Membership probe, not a member', entra.membershipProbe(groupId, memberIds[3]!), 200);

        // Hard deletes: a user that is a member of one group (its edges go too), then the group.
        await measure('Delete user (member of 1 group)', entra.deleteUser(userId), 204);
        await measure('Delete user (no groups)', entra.deleteUser(memberIds[3]!), 204);
        await measure('Delete group (2 members left)', entra.deleteGroup(groupId), 204);
    } finally {
        await client.close();
        await scim.close();
    }

    // Columns for the five kinds always; table creates and other requests only if some request made one.
    const kinds = STORAGE_KINDS.filter((kind) => STORAGE_KINDS.indexOf(kind) < 5 || measured.some((m) => m.counts[kind] > 0));
    const rows = measured.map((m) => [m.operation, `\`${describe(m.request)}\``, m.status, ...kinds.map((kind) => m.counts[kind] || '·'), m.counts.total]);
    const scans = measured.filter((m) => m.counts.scan > 0);
    const markdown = [
        '## Storage round trips per Entra operation',
        '',
        'Storage requests one SCIM request makes, by kind, counted by the request counter over HTTP against the local host on Azurite (`npm run bench:roundtrips`). `·` = none.',
        '',
        markdownTable(['Operation', 'Request', 'Status', ...kinds.map((kind) => STORAGE_KIND_LABELS[kind]), 'Total'], rows),
        '',
        scans.length === 0 ? 'No Entra operation scans.' : `**Scans:** ${scans.map((m) => `${m.operation} (${m.counts.scan})`).join('; ')} — a scan on an Entra path is a bug.`,
    ].join('\n');
    console.log(`\n${markdown}`);
    writeResultsSection('roundtrips', markdown);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
