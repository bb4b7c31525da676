/**
 * azure.yaml (`azd up`): the same template, parameters, package and token bootstrap as the pipeline,
 * wired to what the Bicep declares (the service tag azd deploys by, the outputs its hook reads).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { infraDir, literal, outputs, parseBicep, repoRoot, variables } from './bicepTree';

interface Hook {
    shell?: string;
    run?: string;
}
interface AzureYaml {
    name?: string;
    infra?: { provider?: string; path?: string; module?: string };
    services?: Record<string, { project?: string; language?: string; host?: string; remoteBuild?: boolean; dist?: string; hooks?: Record<string, Hook> }>;
    hooks?: Record<string, Hook>;
}

const azureYaml = parse(readFileSync(path.join(repoRoot, 'azure.yaml'), 'utf8')) as AzureYaml;

describe('azure.yaml', () => {
    it('deploys infra/main.bicep with infra/main.parameters.json, like the other two paths', () => {
        expect(azureYaml.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
        expect(existsSync(path.join(repoRoot, 'infra', 'main.bicep'))).toBe(true);
        expect(existsSync(path.join(repoRoot, 'infra', 'main.parameters.json'))).toBe(true);
    });

    it('has one service "api": a TypeScript function app, found by the tag the Bicep sets', async () => {
        const services = Object.keys(azureYaml.services ?? {});
        expect(services).toEqual(['api']);
        const api = azureYaml.services!.api!;
        expect(api).toMatchObject({ project: '.', language: 'ts', host: 'function' });
        const fn = await parseBicep(readFileSync(path.join(infraDir, 'app', 'function.bicep'), 'utf8'));
        expect(literal(variables(fn).get('azdServiceName')?.value)).toBe('api');
    });

    it('ships the package the pipeline builds, without a build on the server', () => {
        const api = azureYaml.services!.api!;
        expect(api.remoteBuild).toBe(false);
        const prepackage = api.hooks?.prepackage?.run ?? '';
        const out = /bash infra\/scripts\/package-function\.sh (\S+)/.exec(prepackage)?.[1];
        expect(out, 'prepackage runs package-function.sh').toBeDefined();
        expect(prepackage.startsWith(`rm -rf ${out} && `), 'starts from an empty directory').toBe(true);
        // package-function.sh stages the files in <out>/package before zipping them.
        expect(api.dist).toBe(`${out}/package`);
        expect(readFileSync(path.join(repoRoot, 'infra', 'scripts', 'package-function.sh'), 'utf8')).toMatch(/pkg="\$out\/package"/);
        expect(readFileSync(path.join(repoRoot, '.gitignore'), 'utf8').split('\n')).toContain('.azure/');
    });

    it('creates the first token after deploying, from the template outputs, with the pipeline\'s script', async () => {
        const run = azureYaml.hooks?.postdeploy?.run ?? '';
        expect(run).toContain('bash infra/scripts/ensure-token.sh');
        const declared = new Set(outputs(await parseBicep(readFileSync(path.join(infraDir, 'main.bicep'), 'utf8'))).map((o) => o.name));
        const wiring = { KEY_VAULT_NAME: 'keyVaultName', KEY_VAULT_URL: 'keyVaultUrl', TOKEN_SECRET_NAME: 'scimTokenSecretName' };
        for (const [variable, output] of Object.entries(wiring)) {
            expect(declared.has(output), `main.bicep outputs ${output}`).toBe(true);
            expect(run, `${variable} from ${output}`).toContain(`${variable}="$${output}"`);
        }
        const script = readFileSync(path.join(repoRoot, 'infra', 'scripts', 'ensure-token.sh'), 'utf8');
        for (const variable of Object.keys(wiring)) expect(script).toContain(`\${${variable}:?}`);
    });
});
