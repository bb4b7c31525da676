/**
 * Which versions of the Key Vault secret are accepted as the SCIM token right now. One rule, used by the
 * verifier (to decide what to fetch) and by the admin command (to report it), so the two never disagree:
 *
 *   - current  = the newest usable version (enabled, not before its `notBefore`, not past its `expiresOn`);
 *   - previous = the version created just before it, accepted while it is usable and the grace window,
 *                counted from the current version's `createdOn` (the rotation time), has not run out.
 *
 * "Just before it" means in creation order among all versions: disabling a version revokes it without
 * bringing an older one back to life.
 */
import type { SecretClient, SecretProperties } from '@azure/keyvault-secrets';
import { statusCodeOf } from '../statusCodeOf';

/** Secret properties with the two fields the rule needs made non-optional. */
export type DatedSecretProperties = SecretProperties & { version: string; createdOn: Date };

export interface AcceptedVersions {
    current: DatedSecretProperties;
    previous?: { properties: DatedSecretProperties; acceptedUntil: Date };
}

export function selectAcceptedVersions(
    versions: readonly SecretProperties[],
    graceWindowMs: number,
    now: Date,
): AcceptedVersions | undefined {
    const newestFirst = versions
        .filter(isDated)
        .sort((a, b) => b.createdOn.getTime() - a.createdOn.getTime());
    const currentIndex = newestFirst.findIndex((properties) => isUsable(properties, now));
    const current = newestFirst[currentIndex];
    if (current === undefined) return undefined;

    const candidate = newestFirst[currentIndex + 1];
    const acceptedUntil = new Date(current.createdOn.getTime() + graceWindowMs);
    if (candidate !== undefined && isUsable(candidate, now) && now < acceptedUntil) {
        return { current, previous: { properties: candidate, acceptedUntil } };
    }
    return { current };
}

/** All versions' properties (no values), following every page; an absent secret has none. */
export async function listSecretVersions(client: SecretClient, secretName: string): Promise<SecretProperties[]> {
    const versions: SecretProperties[] = [];
    try {
        for await (const properties of client.listPropertiesOfSecretVersions(secretName)) {
            versions.push(properties);
        }
    } catch (error) {
        if (statusCodeOf(error) === 404) return [];
        throw error;
    }
    return versions;
}

function isDated(properties: SecretProperties): properties is DatedSecretProperties {
    return properties.version !== undefined && properties.createdOn !== undefined;
}

function isUsable(properties: SecretProperties, now: Date): boolean {
    if (properties.enabled !== true) return false;
    if (properties.notBefore !== undefined && properties.notBefore > now) return false;
    if (properties.expiresOn !== undefined && properties.expiresOn <= now) return false;
    return true;
}
