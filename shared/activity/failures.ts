/**
 * The recent failures the status page lists (docs/activity.md): one record per answer of 400 or more, with
 * what it means and what to do — the common Entra errors of docs/operate.md, "Entra errors and what they
 * mean here". A record holds the method, the operation, the resource type and id, the status and scimType and
 * the invocation id (to find the request's log line): never a detail text, which may quote a filter or a path
 * with a value in it.
 */
import { INDEXED_ATTRIBUTES_SETTING, type IndexConfiguration } from '../scim/attributeIndexes';
import { MAX_SCAN_RESOURCES } from '../scim/filterPlanner';
import { OPERATIONS, type Operation } from '../scim/operations';
import type { RequestActivity } from './requestActivity';

export interface FailureRecord {
    at: string;
    method: string;
    operation: Operation;
    resourceType?: string;
    resourceId?: string;
    status: number;
    scimType?: string;
    invocationId: string;
}

export interface FailureMeaning {
    meaning: string;
    action: string;
}

/**
 * The attribute paths the app indexes per resource type (its index configuration: the defaults plus
 * `SCIM_INDEXED_ATTRIBUTES`, shared/scim/attributeIndexes.ts), which a `tooMany` meaning names.
 */
export type IndexedAttributes = Readonly<Record<string, readonly string[] | undefined>>;

export function indexedAttributesOf(configuration: IndexConfiguration): IndexedAttributes {
    return { User: configuration.User.map((index) => index.path), Group: configuration.Group.map((index) => index.path) };
}

/** A resource id from a URL is the client's text: kept short in a record, like in a log line. */
const MAX_ID_LENGTH = 80;

export function failureOf(activity: RequestActivity): FailureRecord | undefined {
    if (activity.status < 400) return undefined;
    const record: FailureRecord = {
        at: new Date(activity.at).toISOString(),
        method: activity.method,
        operation: activity.operation,
        status: activity.status,
        invocationId: activity.invocationId,
    };
    if (activity.resourceType) record.resourceType = activity.resourceType;
    if (activity.resourceId) record.resourceId = activity.resourceId.slice(0, MAX_ID_LENGTH);
    if (activity.scimType) record.scimType = activity.scimType;
    return record;
}

/** A record read back from storage: only the known fields, only of the expected types. */
export function failureFromJson(json: string): FailureRecord | undefined {
    let raw: unknown;
    try {
        raw = JSON.parse(json);
    } catch {
        return undefined;
    }
    if (typeof raw !== 'object' || raw === null) return undefined;
    const value = raw as Record<string, unknown>;
    if (typeof value.at !== 'string' || Number.isNaN(Date.parse(value.at))) return undefined;
    if (typeof value.status !== 'number' || !Number.isInteger(value.status)) return undefined;
    const record: FailureRecord = {
        at: new Date(value.at).toISOString(),
        method: shortText(value.method, 10) ?? '?',
        operation: OPERATIONS.includes(value.operation as Operation) ? (value.operation as Operation) : 'other',
        status: value.status,
        invocationId: shortText(value.invocationId, 64) ?? '',
    };
    const resourceType = shortText(value.resourceType, 16);
    if (resourceType) record.resourceType = resourceType;
    const resourceId = shortText(value.resourceId, MAX_ID_LENGTH);
    if (resourceId) record.resourceId = resourceId;
    const scimType = shortText(value.scimType, 32);
    if (scimType) record.scimType = scimType;
    return record;
}

/** What a failed answer means for an admin, and what to do about it; `indexed`: the app's index configuration. */
export function meaningOf(failure: { status: number; scimType?: string | undefined; resourceType?: string | undefined }, indexed: IndexedAttributes = {}): FailureMeaning {
    const { status, scimType } = failure;
    if (status === 404 && failure.resourceType === undefined) {
        return {
            meaning: 'The path is not a SCIM endpoint of this service. Entra quarantines a job whose Test Connection or lookups get 404.',
            action: 'Check the Tenant URL in Entra (Provisioning → Admin Credentials): it must be https://<app>/scim, with nothing after /scim.',
        };
    }
    if (status === 401) {
        return {
            meaning: 'The token Entra sent was refused: it is neither the current Secret Token nor, within the grace window after a rotation, the previous one (or, with OAuth, not a valid access token of this app).',
            action: 'Run `npm run token -- status`, paste the current token into Entra (Provisioning → Admin Credentials), then Test Connection. Repeated 401s quarantine the provisioning job.',
        };
    }
    if (status === 503) {
        return {
            meaning: 'Table Storage or Key Vault did not answer in time. Nothing was changed; Entra retries the request later.',
            action: 'If it repeats, check the storage account and Key Vault health and the app identity\'s roles (docs/operate.md, Alerts).',
        };
    }
    if (status >= 500) {
        return {
            meaning: 'An unexpected error in the service. Entra retries the object on a later cycle.',
            action: 'Look up the invocation id in Application Insights (`exceptions`, docs/logs.md) and report it.',
        };
    }
    switch (scimType) {
        case 'uniqueness':
            return {
                meaning: 'A user with this userName, or a group with this displayName, already exists here, but Entra did not match it to its object.',
                action: 'Usually two Entra objects map to the same value, or the matching attribute differs from the unique one: review the attribute mappings (docs/entra.md, Matching).',
            };
        case 'invalidFilter':
            return {
                meaning: 'A filter the service does not understand. Entra only sends eq and and, so this blocks the object.',
                action: 'Report it with the request from Entra\'s provisioning log.',
            };
        case 'tooMany':
            return tooManyMeaning(failure.resourceType, indexed);
        case 'invalidValue':
        case 'invalidSyntax':
        case 'invalidPath':
        case 'noTarget':
        case 'mutability':
            return {
                meaning: `A mapping sends a value or an attribute path the service rejects (${scimType}).`,
                action: 'Find the object in Entra\'s provisioning log and check the mapping of the attribute it names; fix the source value or the mapping.',
            };
    }
    switch (status) {
        case 404:
            return {
                meaning: 'The id Entra holds for this object does not exist here (deleted here, or the table was emptied).',
                action: 'Entra creates it again on a later cycle when it matches nothing; Restart provisioning clears Entra\'s cache of ids.',
            };
        case 412:
            return {
                meaning: 'The version sent in If-Match is out of date: someone changed the resource first. Entra is not known to send If-Match (docs/entra-protocol.md §9).',
                action: 'Another client writes to this endpoint; it should read the resource again and retry.',
            };
        case 413:
            return {
                meaning: 'The request or the resource is larger than the service accepts.',
                action: 'Check the mapping for very large attributes (photos, long multi-valued lists).',
            };
        case 405:
            return {
                meaning: 'A method this route does not support: not a request Entra sends.',
                action: 'Another client calls the endpoint wrongly; check the Tenant URL it uses.',
            };
        default:
            return {
                meaning: 'The request was refused as malformed.',
                action: 'Find the object in Entra\'s provisioning log; the request there shows what was sent.',
            };
    }
}

/**
 * A 400 tooMany (docs/operate.md, "Indexes"). For Entra it is a matching filter: on an attribute no complete index
 * serves, over more resources than a filter may scan, or on an indexed value so many resources share that the
 * lookup is refused. The record keeps no detail text (it may quote the value); the detail in Entra's
 * provisioning log names the attribute and the command to run.
 */
function tooManyMeaning(resourceType: string | undefined, indexed: IndexedAttributes): FailureMeaning {
    const paths = resourceType === undefined ? undefined : indexed[resourceType];
    const which = paths && paths.length > 0 ? `the ${resourceType} attributes indexed here (${paths.join(', ')})` : 'an indexed attribute';
    return {
        meaning: `A filter that no complete index answers would have to read more than ${MAX_SCAN_RESOURCES.toLocaleString('en-US')} resources, `
            + 'or an indexed value matched more resources than one lookup reads: Entra cannot match this object.',
        action: `Match on one of ${which} in the attribute mappings (docs/entra.md, Matching), with unique values. For another attribute, add it to `
            + `${INDEXED_ATTRIBUTES_SETTING} and run \`npm run index -- rebuild <attribute>\` (docs/operate.md, Indexes); the error in Entra's provisioning log names the attribute.`,
    };
}

function shortText(value: unknown, max: number): string | undefined {
    return typeof value === 'string' && value !== '' ? value.slice(0, max) : undefined;
}
