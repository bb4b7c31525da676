// `npm run bundle`: the deployable app, dist/bundle/index.js (package.json "main") and dist/bundle/azureSdk.js.
//
// esbuild bundles functions/index.ts (every route and the timer) with its production dependencies into one
// minified CommonJS file, so the Functions host loads one file instead of dist/ plus ~70 MB of node_modules
// (bench/RESULTS.md "Cold start"). esbuild does not type-check; `npm run typecheck` does.
//
//   - @azure/functions-core is external: the Functions worker provides it at run time (its absence is how
//     @azure/functions knows it runs outside the host, in "test mode").
//   - @azure/identity (with MSAL, half of all the code) and @azure/keyvault-secrets are only needed in Azure,
//     on first use, and the app imports them only with import() (shared/auth/managedIdentityCredential.ts,
//     shared/auth/createTokenVerifier.ts). They go into a second file, azureSdk.js, that those import()s
//     load: the main file stays small to read and compile at every cold start, and a SCIM_TOKEN run never
//     reads azureSdk.js at all. A static import of either package is refused here, so it cannot creep back.
//   - Source maps: written beside each file (*.js.map) without a sourceMappingURL comment, so nothing loads
//     them in production; the pipeline keeps them as an artifact to map a production stack trace.
//   - *.meta.json list every input that went into each file (tests check that no test, bench or dev-only
//     code did; `npx esbuild-visualizer`-style tools read them). Neither maps nor meta files are packaged.
//
// Usage: node infra/scripts/bundle.mjs [--outdir dir]   (default dist/bundle)
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { outdir: { type: 'string', default: path.join(root, 'dist', 'bundle') } } });
const outdir = path.resolve(values.outdir);
mkdirSync(outdir, { recursive: true });

/** The SDK packages that live in azureSdk.js, and what the app uses of each. */
const LAZY_SDK = { '@azure/identity': ['ManagedIdentityCredential'], '@azure/keyvault-secrets': ['SecretClient'] };
const SDK_FILE = 'azureSdk.js';

const common = {
    absWorkingDir: root,
    outdir,
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

/** In the app bundle, `import('@azure/identity')` becomes `import('./azureSdk.js')`; a static import is an error. */
const lazySdkPlugin = {
    name: 'lazy-azure-sdk',
    setup(pluginBuild) {
        const filter = new RegExp(`^(${Object.keys(LAZY_SDK).map((name) => name.replace('/', '\\/')).join('|')})$`);
        pluginBuild.onResolve({ filter }, (args) => {
            if (args.kind === 'dynamic-import') return { path: `./${SDK_FILE}`, external: true };
            return { errors: [{ text: `${args.path} must be loaded with import() (it is bundled apart, in ${SDK_FILE})` }] };
        });
    },
};

const sdkEntry = Object.entries(LAZY_SDK).map(([name, exports]) => `export { ${exports.join(', ')} } from '${name}';`).join('\n');

const [app, sdk] = await Promise.all([
    build({ ...common, entryPoints: { index: 'functions/index.ts' }, plugins: [lazySdkPlugin] }),
    build({ ...common, stdin: { contents: sdkEntry, resolveDir: root, sourcefile: 'azureSdk.ts', loader: 'ts' }, outfile: path.join(outdir, SDK_FILE), outdir: undefined }),
]);
writeFileSync(path.join(outdir, 'index.meta.json'), JSON.stringify(app.metafile));
writeFileSync(path.join(outdir, 'azureSdk.meta.json'), JSON.stringify(sdk.metafile));
for (const metafile of [app.metafile, sdk.metafile]) {
    for (const [file, output] of Object.entries(metafile.outputs)) {
        if (file.endsWith('.js')) console.log(`bundle: ${file} (${Math.round(output.bytes / 1024)} KiB)`);
    }
}
