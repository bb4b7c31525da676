/**
 * The admin docs stay in step with the templates and the code: every Bicep parameter and output is
 * documented, the log queries use the prefix the code actually writes, and relative links resolve.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { infraDir, outputs, params, parseBicep, repoRoot } from './bicepTree';

const doc = (name: string): string => readFileSync(path.join(repoRoot, 'docs', name), 'utf8');
const DOCS = ['deploy.md', 'entra.md', 'operate.md', 'entra-protocol.md', 'azure-notes.md'];

/** Rows of the markdown table whose header row contains `headerCell`, as trimmed cells. */
function tableRows(markdown: string, headerCell: string): string[][] {
    const lines = markdown.split('\n');
    const start = lines.findIndex((l) => l.startsWith('|') && l.includes(headerCell));
    if (start < 0) return [];
    const rows: string[][] = [];
    for (const line of lines.slice(start + 2)) {
        if (!line.startsWith('|')) break;
        rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
    }
    return rows;
}

describe('docs/deploy.md', () => {
    it('documents every parameter and output of infra/main.bicep', async () => {
        const root = await parseBicep(readFileSync(path.join(infraDir, 'main.bicep'), 'utf8'));
        const text = doc('deploy.md');
        for (const p of params(root)) expect(text, `parameter ${p.name}`).toContain(`\`${p.name}\``);
        for (const o of outputs(root)) expect(text, `output ${o.name}`).toContain(`\`${o.name}\``);
    });

    it('covers prerequisites, the three deployment paths and costs', () => {
        const text = doc('deploy.md');
        for (const phrase of [
            'federated credential',
            'repo:<owner>/<repo>:environment:production',
            'repo:<owner>/<repo>:pull_request',
            'required reviewers',
            'azd up',
            'azure.yaml',
            'AZURE_WHATIF_CLIENT_ID',
            'adminPrincipalIds',
            'Azure/azure-cli#28708',
            'Role Based Access Control Administrator',
            'AZURE_CLIENT_ID',
            'AZURE_DEPLOYER_OBJECT_ID',
            'az deployment group create',
            'az deployment group what-if',
            'az functionapp deployment source config-zip',
            'infra/scripts/package-function.sh',
            '.github/workflows/deploy.yml',
            'always-ready',
            'Key Vault Secrets Officer',
            'Storage Blob Data Owner',
            'Storage Table Data Contributor',
            'Key Vault Secrets User',
            'Monitoring Metrics Publisher',
        ]) {
            expect(text, phrase).toContain(phrase);
        }
        expect(text).toMatch(/## Costs[\s\S]*Flex Consumption[\s\S]*Storage[\s\S]*Key Vault/);
    });

    it('warns that Entra\'s addresses change before anyone restricts inbound traffic', () => {
        const section = doc('deploy.md').split('### Inbound access restriction')[1]?.split('\n## ')[0] ?? '';
        expect(section).toContain('AzureActiveDirectory');
        expect(section).toMatch(/change/);
        expect(section).toContain('quarantine');
    });

    it('names every alert rule the template creates', () => {
        const alerts = readFileSync(path.join(infraDir, 'app', 'alerts.bicep'), 'utf8');
        const names = [...alerts.matchAll(/^\s*name: '([a-z-]+)'$/gm)].map((m) => m[1]!);
        expect(names.length).toBe(4);
        for (const name of names) expect(doc('deploy.md'), name).toContain(`scim-${name}-`);
    });
});

describe('docs/entra.md', () => {
    const text = doc('entra.md');

    it('gives the Tenant URL, the Secret Token source and Test connection', () => {
        expect(text).toContain('https://<function app host>/scim');
        expect(text).toContain('az keyvault secret show');
        expect(text).toContain('npm run token -- rotate');
        expect(text).toContain('Test connection');
        expect(text).toContain('aadOptscim062020');
    });

    it('sets up OAuth client credentials and workload identity federation, with the values each side shows', () => {
        const oauth = text.slice(text.indexOf('## 10. OAuth 2.0 client credentials'));
        expect(oauth.length, 'section 10 exists').toBeGreaterThan(0);
        for (const phrase of ['https://<function app host>/oauth/token', 'oauthTokenEndpoint', 'npm run token -- client create', 'grant_type=client_credentials', 'Client secret']) {
            expect(oauth, phrase).toContain(phrase);
        }
        const federation = text.slice(text.indexOf('## 11. Workload identity federation (preview)'));
        expect(federation.length, 'section 11 exists').toBeGreaterThan(0);
        for (const setting of ['SCIM_WIF_ISSUER', 'SCIM_WIF_JWKS_URL', 'SCIM_WIF_SUBJECT', 'SCIM_WIF_AUDIENCE', 'oauthClientId', 'tenantUrl']) {
            expect(federation, setting).toContain(setting);
        }
        expect(federation).toMatch(/preview/i);
        expect(doc('deploy.md')).toContain('Key Vault Crypto User');
        expect(doc('operate.md')).toContain('## Rotating the OAuth client secret');
    });

    it('follows today\'s admin center, in the tutorial\'s order', () => {
        // Microsoft's SCIM tutorial, "Integrate your SCIM endpoint with the Microsoft Entra provisioning service".
        const steps = ['+ New configuration', '**Tenant URL**', '**Secret Token**', '**Test connection**', 'select **Create**',
            '**Attribute mapping**', '**Provision on demand**', '**Notification email**', '**Accidental deletions prevention**', '**Start provisioning**',
            'Quarantine and how to recover', '**Restart provisioning**'];
        let from = 0;
        for (const step of steps) {
            const at = text.indexOf(step, from);
            expect(at, `"${step}" after the step before it`).toBeGreaterThanOrEqual(0);
            from = at;
        }
    });

    it('maps users with userName as the filterable, required matching attribute', () => {
        const rows = tableRows(text, 'Entra attribute (source)');
        const byTarget = new Map(rows.map((r) => [r[0]!.replace(/`/g, ''), r]));
        const userName = byTarget.get('userName');
        expect(userName?.[1]).toContain('userPrincipalName');
        expect(userName?.[2]).toBe('✓');
        expect(userName?.[3]).toBe('✓');
        expect(userName?.[4]).toContain('precedence 1');
        for (const target of ['externalId', 'active', 'displayName', 'emails[type eq "work"].value', 'name.givenName', 'name.familyName']) {
            expect(byTarget.has(target), `user mapping ${target}`).toBe(true);
        }
        for (const r of rows) expect(r, 'five columns').toHaveLength(5);
    });

    it('maps groups with displayName as the matching attribute', () => {
        const groupSection = text.slice(text.indexOf('### Groups'));
        const rows = tableRows(groupSection, 'Entra attribute (source)');
        const displayName = rows.find((r) => r[0] === '`displayName`');
        expect(displayName?.[2]).toBe('✓');
        expect(displayName?.[4]).toContain('precedence 1');
        expect(rows.some((r) => r[0] === '`members`')).toBe(true);
    });
});

describe('log queries', () => {
    it('use the summary-line prefix the code writes', () => {
        const code = readFileSync(path.join(repoRoot, 'shared', 'http', 'summaryLine.ts'), 'utf8');
        const prefix = /SUMMARY_PREFIX = '(scim request )'/.exec(code)?.[1];
        expect(prefix, 'summary line prefix in shared/http/summaryLine.ts').toBe('scim request ');
        for (const name of ['entra.md', 'operate.md']) {
            expect(doc(name), name).toContain(`message startswith "${prefix}"`);
        }
    });
});

describe('docs/operate.md', () => {
    it('covers rotation with the grace window, errors and quarantine', () => {
        const text = doc('operate.md');
        for (const phrase of ['npm run token -- rotate', 'npm run token -- status', 'SCIM_TOKEN_GRACE_MINUTES', 'Quarantine', 'EntryConflict', 'InvalidAnchor', '401', '503']) {
            expect(text, phrase).toContain(phrase);
        }
    });
});

describe('links', () => {
    it.each(DOCS)('%s links only to files that exist', (name) => {
        for (const m of doc(name).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
            const target = m[1]!;
            if (/^[a-z]+:/.test(target)) continue;
            expect(existsSync(path.join(repoRoot, 'docs', target)), `${name} → ${target}`).toBe(true);
        }
    });
});
