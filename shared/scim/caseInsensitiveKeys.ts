/**
 * Attribute names are case-insensitive (RFC 7643 §2.1): the one place that finds, sets and removes an
 * object's key by name in any letter case. Resources we store use schema case, so the exact name is tried
 * first; only a client's spelling (`"Value"`, `"DisplayName"`) needs the case-insensitive search.
 */

/** The own key of `object` that spells `name` in any case, or undefined. Never an inherited property. */
export function keyNamed(object: Record<string, unknown>, name: string): string | undefined {
    if (Object.hasOwn(object, name)) return name;
    const wanted = name.toLowerCase();
    // Comparing lengths first spares lower-casing every key of a resource on every lookup.
    return Object.keys(object).find((key) => key.length === name.length && key.toLowerCase() === wanted);
}

/** The value under `name` in any spelling (see `keyNamed`). */
export function valueNamed(object: Record<string, unknown>, name: string): unknown {
    const key = keyNamed(object, name);
    return key === undefined ? undefined : object[key];
}

/**
 * Sets (or with undefined, deletes) `name` in an object the caller owns, dropping other spellings of it;
 * `touched` collects the keys affected.
 */
export function replaceKey(object: Record<string, unknown>, name: string, value: unknown, touched?: Set<string>): void {
    const wanted = name.toLowerCase();
    for (const key of Object.keys(object)) {
        if (key.length === name.length && key !== name && key.toLowerCase() === wanted) {
            delete object[key];
            touched?.add(key);
        }
    }
    if (value === undefined) delete object[name];
    else object[name] = value;
    touched?.add(name);
}

/** A copy of `object` with `name` set (or deleted), in the given case. */
export function withKey(object: Record<string, unknown>, name: string, value: unknown): Record<string, unknown> {
    const copy = { ...object };
    replaceKey(copy, name, value);
    return copy;
}
