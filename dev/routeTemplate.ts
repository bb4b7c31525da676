/**
 * Route templates as the Functions host writes them (ASP.NET Core style): `scim/Users/{id?}`,
 * `scim/{*path}`, `{name:constraint}`. Matching is case-insensitive and allows a trailing slash.
 */
export interface CompiledRoute {
    isCatchAll: boolean;
    /** Route parameters (percent-decoded) if the path matches, else undefined. */
    match(pathname: string): Record<string, string> | undefined;
}

export function compileRouteTemplate(template: string): CompiledRoute {
    const names: string[] = [];
    let isCatchAll = false;
    let pattern = '';
    for (const segment of template.split('/').filter((s) => s !== '')) {
        const parameter = /^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?(\??)\}$/.exec(segment);
        if (!parameter) {
            pattern += '/' + segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            continue;
        }
        const [, star, name, optional] = parameter;
        names.push(name!);
        if (star) {
            isCatchAll = true;
            pattern += '(?:/(.*))?';
        } else if (optional) {
            pattern += '(?:/([^/]+))?';
        } else {
            pattern += '/([^/]+)';
        }
    }
    const regex = new RegExp(`^${pattern}/?$`, 'i');
    return {
        isCatchAll,
        match(pathname) {
            const found = regex.exec(pathname);
            if (!found) return undefined;
            const params: Record<string, string> = {};
            names.forEach((name, index) => {
                const raw = found[index + 1];
                if (raw !== undefined && raw !== '') params[name] = safeDecode(raw);
            });
            return params;
        },
    };
}

function safeDecode(text: string): string {
    try {
        return decodeURIComponent(text);
    } catch {
        return text; // a malformed escape stays as sent; the handler answers 404 for an unknown id
    }
}
