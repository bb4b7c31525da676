/**
 * The command line of the dev commands (token, client, tenant, index, feed, activity): positional words, options
 * written `--flag value` or `--flag=value`, and switches written `--flag` alone (`--feed`, `--from-start`,
 * `--json`). One parser, so every command refuses an unknown option, an option without a value or a switch with
 * one in the same words.
 */
export interface CommandLine {
    positional: string[];
    options: Record<string, string>;
    /** The switches given (among those the command knows). */
    switches: Set<string>;
}

/** The split command line, or a message saying what is wrong with it. */
export function splitCommandLine(argv: readonly string[], knownOptions: readonly string[], knownSwitches: readonly string[] = []): CommandLine | string {
    const options: Record<string, string> = {};
    const positional: string[] = [];
    const switches = new Set<string>();
    for (let index = 0; index < argv.length; index += 1) {
        const argument = argv[index]!;
        if (!argument.startsWith('--')) {
            positional.push(argument);
            continue;
        }
        const [flag, inlineValue] = argument.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
        if (knownSwitches.includes(flag)) {
            if (inlineValue !== undefined) return `Option --${flag} takes no value.`;
            switches.add(flag);
            continue;
        }
        if (!knownOptions.includes(flag)) return `Unknown option --${flag}.`;
        const value = inlineValue ?? argv[(index += 1)];
        if (value === undefined || value === '') return `Option --${flag} needs a value.`;
        options[flag] = value;
    }
    return { positional, options, switches };
}
