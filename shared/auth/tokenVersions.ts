/**
 * Which versions of the Key Vault secret are accepted as the SCIM token right now. One rule, used by the
 * verifier (to decide what to fetch) and by the admin command (to report it), so the two never disagree:
 *
 *   - the newest version in effect decides (versions whose `notBefore` is still ahead are scheduled, not yet
 *     in effect, and skipped);
 *   - if it is enabled and not past its `expiresOn`, it is current, and the version created just before it
 *     (in creation order among the versions in effect) is also accepted while it is usable and the grace
 *     window, counted from the current version's `createdOn` (the rotation time), has not run out;
 *   - if it is disabled or expired, nothing is accepted (`refused`): an older version never becomes current
 *     again on its own, however long ago it was rotated out. Only the admin brings a token back, by
 *     re-enabling that version or rotating.
 */
import type { SecretProperties } from '@azure/keyvault-secrets';
import { statusCodeOf } from '../statusCodeOf';

/** Secret properties with the two fields the rule needs made non-optional. */
export type DatedSecretProperties = SecretProperties & { version: string; createdOn: Date };

export type AcceptedVersions =
    | {
        current: DatedSecretProperties;
        previous?: { properties: DatedSecretProperties; acceptedUntil: Date };
        refused?: undefined;
    }
    | {
        current?: undefined;
        previous?: undefined;
        /** The newest version in effect is disabled or expired: every token is refused until an admin acts. */
        refused: { newest: DatedSecretProperties; reason: 'disabled' | 'expired' };
    };

/** Undefined when the secret has no version at all (or none in effect yet). */
export function selectAcceptedVersions(
    versions: readonly SecretProperties[],
    graceWindowMs: number,
    now: Date,
): AcceptedVersions | undefined {
    const inEffectNewestFirst = versions
        .filter(isDated)
        .filter((properties) => properties.notBefore === undefined || properties.notBefore <= now)
        .sort((a, b) => b.createdOn.getTime() - a.createdOn.getTime());
    const [current, candidate] = inEffectNewestFirst;
    if (current === undefined) return undefined;
    if (current.enabled !== true) return { refused: { newest: current, reason: 'disabled' } };
    if (isExpired(current, now)) return { refused: { newest: current, reason: 'expired' } };

    const acceptedUntil = new Date(current.createdOn.getTime() + graceWindowMs);
    if (candidate !== undefined && candidate.enabled === true && !isExpired(candidate, now) && now < acceptedUntil) {
        return { current, previous: { properties: candidate, acceptedUntil } };
    }
    return { current };
}

/** All versions' properties (no values), following every page; an absent secret has none. */
export async function listSecretVersions(client: { listPropertiesOfSecretVersions(secretName: string): AsyncIterable<SecretProperties> }, secretName: string): Promise<SecretProperties[]> {
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

/** Has the version id and creation time every rule here orders by. */
export function isDated(properties: SecretProperties): properties is DatedSecretProperties {
    return properties.version !== undefined && properties.createdOn !== undefined;
}

function isExpired(properties: SecretProperties, now: Date): boolean {
    return properties.expiresOn !== undefined && properties.expiresOn <= now;
}
