/**
 * The layout rules, checked on the import graph of the code (test/support/importGraph.ts):
 * - no import cycle anywhere in functions/, shared/ and dev/;
 * - the protocol (shared/scim) imports nothing from Azure and nothing from the other folders: it owns its
 *   storage port (shared/scim/store.ts), the store implements it;
 * - the store (shared/store) imports from the protocol only types, plus the error mapping and the case fold;
 * - the deployed code (functions/, shared/) never imports dev-only code (dev/), tests or benchmarks.
 * Each rule is also run on a graph with one violation planted, so a checker that sees nothing fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCycles, importsOf, readImportGraph, type ImportGraph } from './support/importGraph';

const ROOT = path.resolve(__dirname, '..');
/**
 * The modules of shared/scim the store may take values from: its own error values and their mapping to SCIM
 * errors, and the one case fold, so uniqueness keys fold as the filter evaluator compares (issue 15).
 */
const STORE_MAY_IMPORT_VALUES_FROM = new Set(['shared/scim/storeErrors.ts', 'shared/scim/caseFold.ts']);

function layoutViolations(graph: ImportGraph): string[] {
    const violations = findCycles(graph).map((cycle) => `cycle: ${cycle.join(' → ')}`);
    for (const { from, to, typeOnly } of graph) {
        if (from.startsWith('shared/scim/') && to.startsWith('@azure/')) violations.push(`${from} imports ${to}: the protocol has no Azure imports`);
        if (from.startsWith('shared/scim/') && !to.startsWith('shared/scim/') && isLocal(to)) violations.push(`${from} imports ${to}: the protocol imports only itself`);
        if (from.startsWith('shared/store/') && to.startsWith('shared/scim/') && !typeOnly && !STORE_MAY_IMPORT_VALUES_FROM.has(to)) {
            violations.push(`${from} imports values from ${to}: the store takes only types (and the error mapping) from the protocol`);
        }
        if ((from.startsWith('functions/') || from.startsWith('shared/')) && /^(dev|test|bench)\//.test(to)) {
            violations.push(`${from} imports ${to}: deployed code never imports dev-only code, tests or benchmarks`);
        }
    }
    return violations;
}

function isLocal(target: string): boolean {
    return /^(functions|shared|dev|test|bench)\//.test(target);
}

const graph = readImportGraph(ROOT, ['functions', 'shared', 'dev']);

describe('the import graph', () => {
    it('is read from every file of functions/, shared/ and dev/', () => {
        const files = new Set(graph.map((edge) => edge.from));
        for (const file of ['functions/routes.ts', 'shared/app.ts', 'shared/scim/patch.ts', 'shared/store/TableResourceStore.ts', 'dev/serveLocally.ts']) {
            expect(files, file).toContain(file);
        }
        // A fact the store rule rests on: the store does take types from the protocol.
        expect(graph).toContainEqual({ from: 'shared/store/TableResourceStore.ts', to: 'shared/scim/store.ts', typeOnly: true });
    });

    it('follows every layout rule', () => {
        expect(layoutViolations(graph)).toEqual([]);
    });

    it('leaves dev/ out of the function build (tsconfig.build.json compiles what the host loads)', () => {
        const build = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
        expect(build.include).toEqual(['functions/**/*.ts', 'shared/**/*.ts']);
    });
});

describe('the checker catches a planted violation', () => {
    it('a cycle (the kind this layout removed: the store port importing back a protocol module that uses it)', () => {
        const planted = [...graph, { from: 'shared/scim/store.ts', to: 'shared/scim/attributeValues.ts', typeOnly: true }];
        const violations = layoutViolations(planted);
        expect(violations.some((line) => line.startsWith('cycle:') && line.includes('shared/scim/store.ts'))).toBe(true);
    });

    it('a cycle of two files, and a file importing itself', () => {
        expect(findCycles([{ from: 'a.ts', to: 'b.ts', typeOnly: false }, { from: 'b.ts', to: 'a.ts', typeOnly: true }])).toEqual([['a.ts', 'b.ts', 'a.ts']]);
        expect(findCycles([{ from: 'a.ts', to: 'a.ts', typeOnly: false }])).toEqual([['a.ts', 'a.ts']]);
        expect(findCycles([{ from: 'a.ts', to: 'b.ts', typeOnly: false }, { from: 'a.ts', to: 'c.ts', typeOnly: false }, { from: 'b.ts', to: 'c.ts', typeOnly: false }])).toEqual([]);
    });

    it('an Azure import in the protocol', () => {
        const planted = [...graph, { from: 'shared/scim/resourceEndpoint.ts', to: '@azure/data-tables', typeOnly: true }];
        expect(layoutViolations(planted)).toEqual(['shared/scim/resourceEndpoint.ts imports @azure/data-tables: the protocol has no Azure imports']);
    });

    it('a value import from the protocol into the store, but not a type import or the error mapping', () => {
        const planted = [
            ...graph,
            { from: 'shared/store/keys.ts', to: 'shared/scim/schemas.ts', typeOnly: false },
            { from: 'shared/store/keys.ts', to: 'shared/scim/patch.ts', typeOnly: true },
            ...[...STORE_MAY_IMPORT_VALUES_FROM].map((to) => ({ from: 'shared/store/keys.ts', to, typeOnly: false })),
        ];
        expect(layoutViolations(planted)).toEqual([
            'shared/store/keys.ts imports values from shared/scim/schemas.ts: the store takes only types (and the error mapping) from the protocol',
        ]);
    });

    it('deployed code importing dev/', () => {
        const planted = [...graph, { from: 'shared/http/registerRoute.ts', to: 'dev/localHost.ts', typeOnly: false }];
        expect(layoutViolations(planted)).toEqual(['shared/http/registerRoute.ts imports dev/localHost.ts: deployed code never imports dev-only code, tests or benchmarks']);
    });
});

describe('importsOf', () => {
    it('tells type-only imports from value imports, and sees re-exports, require and import()', () => {
        const source = [
            "import type { A } from './a';",
            "import { type B, type C } from './b';",
            "import { type D, e } from './d';",
            "import f from './f';",
            "import * as g from './g';",
            "import './h';",
            "export { i } from './i';",
            "export type { J } from './j';",
            "const k = require('./k');",
            "type L = typeof import('./l');",
            "const m = import('./m');",
        ].join('\n');
        expect(importsOf(source)).toEqual([
            { specifier: './a', typeOnly: true },
            { specifier: './b', typeOnly: true },
            { specifier: './d', typeOnly: false },
            { specifier: './f', typeOnly: false },
            { specifier: './g', typeOnly: false },
            { specifier: './h', typeOnly: false },
            { specifier: './i', typeOnly: false },
            { specifier: './j', typeOnly: true },
            { specifier: './k', typeOnly: false },
            { specifier: './l', typeOnly: true },
            { specifier: './m', typeOnly: false },
        ]);
    });
});
