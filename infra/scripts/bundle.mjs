// `npm run bundle`: the deployable app in dist/bundle/: index.js (package.json "main"), azureSdk.js and ajv.js.
//
// esbuild bundles functions/index.ts (every route and the timer) with its production dependencies into one
// minified CommonJS file, so the Functions host loads one file instead of dist/ plus ~70 MB of node_modules
// (bench/RESULTS.md "Cold start"). esbuild does not type-check; `npm run typecheck` does.
//
//   - @azure/functions-core is external: the Functions worker provides it at run time (its absence is how
//     @azure/functions knows it runs outside the host, in "test mode"; docs/azure-notes.md §2.3).
//   - What no cold start needs goes into files of its own, read only when the code that needs it first runs:
//       azureSdk.js  @azure/identity (with MSAL, half of all the code), @azure/keyvault-secrets and
//                    @azure/keyvault-keys, only used in Azure, imported with import() on first use
//                    (shared/auth/managedIdentityCredential.ts, shared/auth/createTokenVerifier.ts,
//                    shared/auth/oauth/signingKeys.ts);
//       ajv.js       Ajv, a fifth of the rest, required on the first validation (shared/scim/attributeTypeCheck.ts).
//     The main file stays small to read and compile at every cold start, and a SCIM_TOKEN run never reads
//     azureSdk.js at all. Loading one of these packages any other way (a static import) is refused here, so
//     it cannot creep back into the main file.
//   - Source maps: written beside each file (*.js.map) without a sourceMappingURL comment, so nothing loads
//     them in production; the pipeline keeps them as an artifact to map a production stack trace.
//   - *.meta.json list every input that went into each file (tests check that no test, bench or dev-only
//     code did). Neither maps nor meta files are packaged.
//
// Usage: node infra/scripts/bundle.mjs [--outdir dir]   (default dist/bundle; emptied first)
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { outdir: { type: 'string', default: path.join(root, 'dist', 'bundle') } } });
const outdir = path.resolve(values.outdir);
rmSync(outdir, { recursive: true, force: true }); // no stale file can be packaged
mkdirSync(outdir, { recursive: true });

/**
 * The files loaded on first use: the packages in each, how the app loads them (`dynamic-import` for import(),
 * `require-call` for a require inside a function) and the file's entry point, which exports what the app takes.
 */
const LAZY_FILES = [
    {
        file: 'azureSdk.js',
        kind: 'dynamic-import',
        packages: ['@azure/identity', '@azure/keyvault-secrets', '@azure/keyvault-keys'],
        entry: [
            "export { ManagedIdentityCredential } from '@azure/identity';",
            "export { SecretClient } from '@azure/keyvault-secrets';",
            "export { CryptographyClient, KeyClient } from '@azure/keyvault-keys';",
        ].join('\n'),
    },
    { file: 'ajv.js', kind: 'require-call', packages: ['ajv'], entry: "module.exports = require('ajv');" },
];

const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    sourcemap: 'external',
    external: ['@azure/functions-core'],
    metafile: true,
    logLevel: 'warning',
};

/** In the main file, the app's loads of those packages become loads of the lazy files; any other load is an error. */
const lazyFilesPlugin = {
    name: 'lazy-files',
    setup(pluginBuild) {
        const byPackage = new Map(LAZY_FILES.flatMap((lazy) => lazy.packages.map((name) => [name, lazy])));
        const filter = new RegExp(`^(${[...byPackage.keys()].map((name) => name.replace(/[/.]/g, '\\$&')).join('|')})$`);
        pluginBuild.onResolve({ filter }, (args) => {
            const lazy = byPackage.get(args.path);
            if (args.kind === lazy.kind) return { path: `./${lazy.file}`, external: true };
            const how = lazy.kind === 'dynamic-import' ? 'import()' : 'require() inside the function that needs it';
            return { errors: [{ text: `${args.path} must be loaded with ${how}: it is bundled apart, in ${lazy.file}` }] };
        });
    },
};

const builds = await Promise.all([
    build({ ...common, entryPoints: { index: 'functions/index.ts' }, outdir, plugins: [lazyFilesPlugin] }),
    ...LAZY_FILES.map((lazy) =>
        build({ ...common, stdin: { contents: lazy.entry, resolveDir: root, sourcefile: lazy.file, loader: 'js' }, outfile: path.join(outdir, lazy.file) }),
    ),
]);
for (const [index, result] of builds.entries()) {
    const name = index === 0 ? 'index.js' : LAZY_FILES[index - 1].file;
    writeFileSync(path.join(outdir, name.replace(/\.js$/, '.meta.json')), JSON.stringify(result.metafile));
}
for (const { metafile } of builds) {
    for (const [file, output] of Object.entries(metafile.outputs)) {
        if (file.endsWith('.js')) console.log(`bundle: ${file} (${Math.round(output.bytes / 1024)} KiB)`);
    }
}
