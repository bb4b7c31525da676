/**
 * Structural tests of infra/**.bicep (issues #8 and #18). There is no Bicep compiler on this machine, so every
 * template is parsed with tree-sitter-bicep and the security, identity and wiring settings are asserted
 * on the syntax tree. Each check is a function over the parsed file; the "mutations" block at the end
 * feeds each check a deliberately weakened copy of the template and expects it to fail, so removing a
 * setting cannot go unnoticed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
    arrayItems,
    bicepFiles,
    decoratorArguments,
    forLoop,
    descendants,
    functionsCalledIn,
    identifiersIn,
    infraDir,
    leadingComment,
    literal,
    modules,
    objectEntries,
    outputs,
    params,
    parseBicep,
    prop,
    propLiteral,
    repoRoot,
    resources,
    stringValue,
    syntaxErrors,
    variables,
    type Node,
    type ResourceDecl,
} from './bicepTree';

const file = (rel: string): string => path.join(infraDir, rel);
const read = (rel: string): string => readFileSync(file(rel), 'utf8');

function only(root: Node, type: string): ResourceDecl {
    const found = resources(root).filter((r) => r.type === type && !r.existing);
    expect(found, `exactly one ${type}`).toHaveLength(1);
    return found[0]!;
}

/** The (string) literal a var holds, e.g. a role GUID. */
function varLiteral(root: Node, name: string): unknown {
    const v = variables(root).get(name);
    return v ? literal(v.value) : undefined;
}

// ---- the checks, one per concern ------------------------------------------------------------------

type Check = (root: Node) => void;

const storageSecurity: Check = (root) => {
    const st = only(root, 'Microsoft.Storage/storageAccounts');
    expect(propLiteral(st.body, 'properties.allowSharedKeyAccess')).toBe(false);
    expect(propLiteral(st.body, 'properties.minimumTlsVersion')).toBe('TLS1_2');
    expect(propLiteral(st.body, 'properties.supportsHttpsTrafficOnly')).toBe(true);
    expect(propLiteral(st.body, 'properties.allowBlobPublicAccess')).toBe(false);
    expect(propLiteral(st.body, 'properties.defaultToOAuthAuthentication')).toBe(true);
    expect(propLiteral(st.body, 'kind')).toBe('StorageV2');
};

const storageContainersAndTable: Check = (root) => {
    const container = only(root, 'Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(propLiteral(container.body, 'properties.publicAccess')).toBe('None');
    expect(prop(container.body, 'name')?.text).toBe('deploymentContainerName');
    const table = only(root, 'Microsoft.Storage/storageAccounts/tableServices/tables');
    expect(prop(table.body, 'name')?.text).toBe('scimTableName');
    // The change feed's queue exists only when push is on.
    const queue = only(root, 'Microsoft.Storage/storageAccounts/queueServices/queues');
    expect(prop(queue.body, 'name')?.text).toBe('feedQueueName');
    expect(queue.condition?.text).toBe('(!empty(feedQueueName))');
};

const planIsFlexConsumption: Check = (root) => {
    const plan = only(root, 'Microsoft.Web/serverfarms');
    expect(propLiteral(plan.body, 'sku.name')).toBe('FC1');
    expect(propLiteral(plan.body, 'sku.tier')).toBe('FlexConsumption');
    expect(propLiteral(plan.body, 'properties.reserved')).toBe(true);
};

const functionAppSecurity: Check = (root) => {
    const site = only(root, 'Microsoft.Web/sites');
    expect(propLiteral(site.body, 'kind')).toBe('functionapp,linux');
    expect(propLiteral(site.body, 'identity.type')).toBe('SystemAssigned');
    expect(propLiteral(site.body, 'properties.httpsOnly')).toBe(true);
    expect(propLiteral(site.body, 'properties.siteConfig.minTlsVersion')).toBe('1.2');
    expect(propLiteral(site.body, 'properties.siteConfig.scmMinTlsVersion')).toBe('1.2');
    expect(propLiteral(site.body, 'properties.siteConfig.ftpsState')).toBe('Disabled');
    expect(prop(site.body, 'properties.serverFarmId')?.text).toBe('plan.id');
};

const functionAppRuntimeAndDeployment: Check = (root) => {
    const site = only(root, 'Microsoft.Web/sites');
    const config = prop(site.body, 'properties.functionAppConfig');
    expect(propLiteral(config, 'runtime.name')).toBe('node');
    expect(propLiteral(config, 'runtime.version')).toBe('22');
    expect(propLiteral(config, 'deployment.storage.type')).toBe('blobContainer');
    expect(propLiteral(config, 'deployment.storage.authentication.type')).toBe('SystemAssignedIdentity');
    const target = prop(config, 'deployment.storage.value');
    expect(target?.text).toContain('primaryEndpoints.blob');
    expect(target && identifiersIn(target).has('deploymentContainerName')).toBe(true);
};

/** `alwaysReady` holds `{ name: 'http', instanceCount: alwaysReadyInstanceCount }`, directly or via a var/ternary. */
const alwaysReadyHttp: Check = (root) => {
    const site = only(root, 'Microsoft.Web/sites');
    const value = prop(site.body, 'properties.functionAppConfig.scaleAndConcurrency.alwaysReady');
    expect(value, 'alwaysReady is set').toBeDefined();
    const vars = variables(root);
    const candidates: Node[] = [];
    const collect = (n: Node): void => {
        if (n.type === 'identifier' && vars.has(n.text)) collect(vars.get(n.text)!.value);
        else if (n.type === 'ternary_expression') {
            collect(n.childForFieldName('consequence')!);
            collect(n.childForFieldName('alternative')!);
        } else if (n.type === 'array') candidates.push(...arrayItems(n));
    };
    collect(value!);
    const http = candidates.find((o) => propLiteral(o, 'name') === 'http');
    expect(http, "an always-ready entry for the 'http' group").toBeDefined();
    expect(prop(http, 'instanceCount')?.text).toBe('alwaysReadyInstanceCount');
    expect(prop(site.body, 'properties.functionAppConfig.scaleAndConcurrency.maximumInstanceCount')).toBeDefined();
};

const basicPublishingDisabled: Check = (root) => {
    const policies = resources(root).filter((r) => r.type === 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');
    const byName = new Map(policies.map((p) => [propLiteral(p.body, 'name'), p]));
    for (const name of ['ftp', 'scm']) {
        const policy = byName.get(name);
        expect(policy, `${name} basicPublishingCredentialsPolicies`).toBeDefined();
        expect(propLiteral(policy!.body, 'properties.allow')).toBe(false);
        expect(prop(policy!.body, 'parent')?.text).toBe('functionApp');
    }
};

/** Settings the platform needs, set in app/function.bicep's `platformAppSettings`. */
const PLATFORM_APP_SETTINGS = [
    'AzureWebJobsStorage__accountName',
    'APPLICATIONINSIGHTS_CONNECTION_STRING',
    'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
    'TABLES_ENDPOINT',
    'KEY_VAULT_URL',
    'QUEUES_ENDPOINT',
];
/** Local-only settings, secrets, and settings Flex Consumption rejects or ignores. */
const FORBIDDEN_APP_SETTINGS = [
    'SCIM_TOKEN',
    'SCIM_OAUTH_CLIENT_SECRET',
    'SCIM_FEED_TOKEN',
    'QUEUES_CONNECTION_STRING',
    'TABLES_CONNECTION_STRING',
    'AzureWebJobsStorage',
    'AZURE_CLIENT_ID',
    'FUNCTIONS_WORKER_RUNTIME',
    'FUNCTIONS_EXTENSION_VERSION',
    'WEBSITE_RUN_FROM_PACKAGE',
    'WEBSITE_NODE_DEFAULT_VERSION',
    'SCM_DO_BUILD_DURING_DEPLOYMENT',
    'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
];

/** name → value node of an object var (`var x = { NAME: value }`). */
function objectVar(root: Node, name: string): Map<string, Node> {
    const v = variables(root).get(name);
    expect(v?.value.type, `var ${name} is an object`).toBe('object');
    return objectEntries(v!.value);
}

/** The app settings are the whole list, built from the platform and SCIM objects, one line per setting. */
const appSettingsForTheCode: Check = (root) => {
    const site = only(root, 'Microsoft.Web/sites');
    const loop = forLoop(prop(site.body, 'properties.siteConfig.appSettings'));
    expect(loop, 'appSettings is a for-expression').toBeDefined();
    expect(loop!.over.text.replace(/\s+/g, '')).toBe('items(union(platformAppSettings,scimAppSettings))');
    expect(prop(loop!.body, 'name')?.text).toMatch(/\.key$/);
    expect(prop(loop!.body, 'value')?.text).toMatch(/\.value$/);
    expect(params(root).find((p) => p.name === 'scimAppSettings')?.type).toBe('object');
    const settings = objectVar(root, 'platformAppSettings');
    for (const name of PLATFORM_APP_SETTINGS) expect(settings.has(name), `app setting ${name}`).toBe(true);
    for (const name of FORBIDDEN_APP_SETTINGS) expect(settings.has(name), `no app setting ${name}`).toBe(false);
    expect(settings.get('TABLES_ENDPOINT')?.text).toContain('primaryEndpoints.table');
    expect(settings.get('AzureWebJobsStorage__accountName')?.text).toBe('storageAccount.name');
    expect(settings.get('KEY_VAULT_URL')?.text).toBe('keyVaultUri');
    expect(literal(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING'))).toBe('Authorization=AAD');
};

/** main.bicep: every SCIM setting comes from its own parameter; nothing secret or local-only. */
const SCIM_SETTING_PARAMETERS: Record<string, string> = {
    SCIM_TABLE_NAME: 'scimTableName',
    SCIM_TOKEN_SECRET_NAME: 'scimTokenSecretName',
    SCIM_TOKEN_GRACE_MINUTES: 'scimTokenGraceMinutes',
    SCIM_TOKEN_CACHE_SECONDS: 'scimTokenCacheSeconds',
    SCIM_PUBLIC_BASE_URL: 'scimPublicBaseUrl',
    SCIM_INDEXED_ATTRIBUTES: 'scimIndexedAttributes',
    SCIM_SCHEMA_EXTENSIONS: 'scimSchemaExtensions',
    SCIM_OAUTH_CLIENT_ID: 'oauthClientId',
    SCIM_OAUTH_CLIENT_SECRET_NAME: 'oauthClientSecretName',
    SCIM_OAUTH_SECRET_GRACE_MINUTES: 'oauthSecretGraceMinutes',
    SCIM_OAUTH_SIGNING_KEY_NAME: 'oauthSigningKeyName',
    SCIM_OAUTH_TOKEN_LIFETIME_MINUTES: 'oauthTokenLifetimeMinutes',
    SCIM_OAUTH_SCOPE: 'oauthScopes',
    SCIM_WIF_ISSUER: 'wifIssuer',
    SCIM_WIF_JWKS_URL: 'wifJwksUrl',
    SCIM_WIF_SUBJECT: 'wifSubject',
    SCIM_WIF_AUDIENCE: 'wifAudiences',
    SCIM_ADMIN_CLIENT_ID: 'scimAdminClientId',
    SCIM_ADMIN_TENANT_ID: 'scimAdminTenantId',
    SCIM_ADMIN_PRINCIPAL_IDS: 'scimAdminPrincipalIds',
    SCIM_QUIET_PERIOD_MINUTES: 'scimQuietPeriodMinutes',
    SCIM_FEED_TOKEN_SECRET_NAME: 'feedTokenSecretName',
    SCIM_FEED_RETENTION_DAYS: 'feedRetentionDays',
    SCIM_FEED_QUEUE: 'feedQueueName',
};

const scimSettingsFromParameters: Check = (root) => {
    const settings = objectVar(root, 'scimAppSettings');
    const declared = new Set(params(root).map((p) => p.name));
    for (const [setting, param] of Object.entries(SCIM_SETTING_PARAMETERS)) {
        const value = settings.get(setting);
        expect(value, `scimAppSettings.${setting}`).toBeDefined();
        expect(declared.has(param), `param ${param}`).toBe(true);
        // SCIM_TABLE_NAME goes through the name check first (validScimTableName).
        const ids = identifiersIn(value!);
        expect(ids.has(param) || (setting === 'SCIM_TABLE_NAME' && ids.has('validScimTableName')), `${setting} comes from ${param}`).toBe(true);
    }
    for (const name of [...FORBIDDEN_APP_SETTINGS, ...PLATFORM_APP_SETTINGS]) expect(settings.has(name), `no ${name} here`).toBe(false);
    const fn = modules(root).find((m) => m.path === 'app/function.bicep');
    expect(prop(fn?.body, 'params.scimAppSettings')?.text).toBe('scimAppSettings');
};

/** Flex accepts 40-1000 instances outside a few preview regions (Microsoft's samples use the same bounds). */
const flexScaleBounds: Check = (root) => {
    const p = params(root).find((d) => d.name === 'maximumInstanceCount');
    expect(p, 'param maximumInstanceCount').toBeDefined();
    const decorators = decoratorArguments(p!.node);
    expect(literal(decorators.get('minValue')?.[0]), '@minValue(40)').toBe(40);
    expect(literal(decorators.get('maxValue')?.[0]), '@maxValue(1000)').toBe(1000);
    const fallback = literal(p!.defaultValue);
    if (fallback !== undefined) expect(fallback as number).toBeGreaterThanOrEqual(40);
};

/** The table name is checked (letters and digits, a letter first) before anything uses it. */
const tableNameValidated: Check = (root) => {
    const p = params(root).find((d) => d.name === 'scimTableName')!;
    const decorators = decoratorArguments(p.node);
    expect(literal(decorators.get('minLength')?.[0])).toBe(3);
    expect(literal(decorators.get('maxLength')?.[0])).toBe(63);
    const vars = variables(root);
    const valid = vars.get('validScimTableName')?.value;
    expect(valid?.type, 'validScimTableName is a ternary').toBe('ternary_expression');
    expect(valid!.childForFieldName('condition')?.text).toBe('scimTableNameIsValid');
    expect(valid!.childForFieldName('consequence')?.text).toBe('scimTableName');
    expect([...functionsCalledIn(valid!.childForFieldName('alternative')!)]).toEqual(['fail']);
    const check = vars.get('scimTableNameIsValid')?.value;
    expect(check, 'var scimTableNameIsValid').toBeDefined();
    for (const fn of ['first', 'contains', 'filter', 'substring']) expect(functionsCalledIn(check!).has(fn), `uses ${fn}()`).toBe(true);
    expect(identifiersIn(check!).has('scimTableName')).toBe(true);
    expect(literal(vars.get('letters')?.value)).toBe('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ');
    expect(vars.get('lettersAndDigits')?.value.text).toBe("'${letters}0123456789'");
    const storage = modules(root).find((m) => m.path === 'app/storage.bicep');
    expect(prop(storage?.body, 'params.scimTableName')?.text).toBe('validScimTableName');
};

const zoneRedundantPlan: Check = (root) => {
    const plan = only(root, 'Microsoft.Web/serverfarms');
    expect(prop(plan.body, 'properties.zoneRedundant')?.text).toBe('zoneRedundant');
    expect(params(root).find((p) => p.name === 'zoneRedundant')?.type).toBe('bool');
};

/** Zone-redundant storage exactly when the plan is zone-redundant. */
const zoneRedundantStorage: Check = (root) => {
    const st = only(root, 'Microsoft.Storage/storageAccounts');
    const sku = prop(st.body, 'sku.name');
    expect(sku?.type).toBe('ternary_expression');
    expect(sku!.childForFieldName('condition')?.text).toBe('zoneRedundant');
    expect(literal(sku!.childForFieldName('consequence')!)).toBe('Standard_ZRS');
    expect(literal(sku!.childForFieldName('alternative')!)).toBe('Standard_LRS');
};

/** Optional inbound restriction: off (Allow) when the list is empty, else only the listed sources. */
const inboundRestriction: Check = (root) => {
    const site = only(root, 'Microsoft.Web/sites');
    expect(prop(site.body, 'properties.siteConfig.ipSecurityRestrictions')?.text).toBe('inboundAllowRules');
    const fallback = prop(site.body, 'properties.siteConfig.ipSecurityRestrictionsDefaultAction');
    expect(fallback?.type).toBe('ternary_expression');
    expect(fallback!.childForFieldName('condition')?.text).toBe('empty(allowedInboundAddresses)');
    expect(literal(fallback!.childForFieldName('consequence')!)).toBe('Allow');
    expect(literal(fallback!.childForFieldName('alternative')!)).toBe('Deny');
    const loop = forLoop(variables(root).get('inboundAllowRules')?.value);
    expect(loop?.over.text).toBe('allowedInboundAddresses');
    expect(propLiteral(loop!.body, 'action')).toBe('Allow');
    const tag = prop(loop!.body, 'tag');
    expect(tag?.type).toBe('ternary_expression');
    expect(literal(tag!.childForFieldName('alternative')!)).toBe('ServiceTag');
    expect(literal(tag!.childForFieldName('consequence')!)).toBe('Default');
};

/** azd finds the app to deploy to by the tag azd-service-name = the service in azure.yaml. */
const azdServiceTag: Check = (root) => {
    const site = only(root, 'Microsoft.Web/sites');
    const tags = prop(site.body, 'tags');
    expect(tags && functionsCalledIn(tags).has('union')).toBe(true);
    const added = tags!.descendantsOfType('object')[0];
    expect(prop(added, 'azd-service-name')?.text).toBe('azdServiceName');
    expect(literal(variables(root).get('azdServiceName')?.value)).toBe('api');
};

const keyVaultSecurity: Check = (root) => {
    const kv = only(root, 'Microsoft.KeyVault/vaults');
    expect(propLiteral(kv.body, 'properties.enableRbacAuthorization')).toBe(true);
    expect(propLiteral(kv.body, 'properties.enableSoftDelete')).toBe(true);
    expect(propLiteral(kv.body, 'properties.enablePurgeProtection')).toBe(true);
    expect(propLiteral(kv.body, 'properties.softDeleteRetentionInDays')).toBe(90);
    expect(propLiteral(kv.body, 'properties.sku.name')).toBe('standard');
    expect(prop(kv.body, 'properties.tenantId')?.text).toBe('tenant().tenantId');
    expect(prop(kv.body, 'properties.accessPolicies'), 'no access policies with RBAC').toBeUndefined();
};

/** Who read or rotated the token: the vault's AuditEvent log goes to Log Analytics. */
const keyVaultAuditLog: Check = (root) => {
    const diag = only(root, 'Microsoft.Insights/diagnosticSettings');
    expect(prop(diag.body, 'scope')?.text).toBe('keyVault');
    expect(prop(diag.body, 'properties.workspaceId')?.text).toBe('logAnalyticsWorkspaceId');
    const logs = arrayItems(prop(diag.body, 'properties.logs'));
    const audit = logs.find((l) => propLiteral(l, 'category') === 'AuditEvent');
    expect(audit, 'AuditEvent category').toBeDefined();
    expect(propLiteral(audit, 'enabled')).toBe(true);
};

/** What each alert rule must look for, by the rule's name (infra/app/alerts.bicep `rules`). */
const ALERT_QUERIES: Record<string, RegExp> = {
    'unauthorized-burst': /status == 401/,
    'server-errors': /status >= 500/,
    'key-vault-read-failures': /SCIM token: reading secret [\s\S]*from Key Vault failed/,
    'group-delete-sweep-stuck': /group delete sweep [\s\S]*groupsRemaining/,
};

const alertRules: Check = (root) => {
    const group = only(root, 'Microsoft.Insights/actionGroups');
    expect(group.condition?.text).toBe('(!empty(alertEmailAddresses))');
    const receivers = forLoop(prop(group.body, 'properties.emailReceivers'));
    expect(receivers?.over.text).toBe('alertEmailAddresses');
    expect(prop(receivers!.body, 'emailAddress')?.text).toBe('address');
    const rule = only(root, 'Microsoft.Insights/scheduledQueryRules');
    expect(rule.loopOver?.text).toBe('rules');
    expect(prop(rule.body, 'properties.scopes')?.text.replace(/\s+/g, '')).toBe('[applicationInsights.id]');
    expect(prop(rule.body, 'properties.actions.actionGroups')?.text).toContain('actionGroup.id');
    expect(propLiteral(rule.body, 'properties.enabled')).toBe(true);
    const defined = new Map<string, Node>();
    for (const item of arrayItems(variables(root).get('rules')?.value)) {
        const name = propLiteral(item, 'name');
        if (typeof name === 'string') defined.set(name, item);
    }
    const scimRequests = stringValue(variables(root).get('scimRequests')?.value) ?? '';
    for (const [name, pattern] of Object.entries(ALERT_QUERIES)) {
        const item = defined.get(name);
        expect(item, `alert rule ${name}`).toBeDefined();
        const query = prop(item, 'query')!;
        const text = (literal(query) as string | undefined) ?? query.text.replace('${scimRequests}', scimRequests);
        expect(text, `${name} query`).toMatch(pattern);
        expect(typeof propLiteral(item, 'threshold'), `${name} threshold`).toBe('number');
    }
    expect(scimRequests).toContain('message startswith "scim request "');
};

/** The OAuth signing key: RSA for RS256, sign/verify only, never exportable, rotated by Key Vault. */
const oauthSigningKey: Check = (root) => {
    const key = only(root, 'Microsoft.KeyVault/vaults/keys');
    expect(prop(key.body, 'parent')?.text).toBe('keyVault');
    expect(prop(key.body, 'name')?.text).toBe('oauthSigningKeyName');
    expect(propLiteral(key.body, 'properties.kty')).toBe('RSA');
    expect(propLiteral(key.body, 'properties.keySize')).toBeGreaterThanOrEqual(2048);
    expect(arrayItems(prop(key.body, 'properties.keyOps')).map((n) => literal(n)).sort()).toEqual(['sign', 'verify']);
    expect(propLiteral(key.body, 'properties.attributes.exportable')).toBe(false);
    const rotate = arrayItems(prop(key.body, 'properties.rotationPolicy.lifetimeActions'))
        .find((action) => propLiteral(action, 'action.type') === 'rotate');
    expect(rotate, 'a rotate lifetime action').toBeDefined();
};

const monitoringLocalAuthDisabled: Check = (root) => {
    const appi = only(root, 'Microsoft.Insights/components');
    expect(propLiteral(appi.body, 'properties.DisableLocalAuth')).toBe(true);
    expect(prop(appi.body, 'properties.WorkspaceResourceId')?.text).toBe('logAnalytics.id');
    const log = only(root, 'Microsoft.OperationalInsights/workspaces');
    expect(propLiteral(log.body, 'properties.features.disableLocalAuth')).toBe(true);
    expect(propLiteral(log.body, 'properties.sku.name')).toBe('PerGB2018');
};

/** Built-in role definition ids (the same in every tenant), each a named, commented var in rbac.bicep. */
const ROLE_IDS: Record<string, { guid: string; roleName: string }> = {
    storageBlobDataOwnerRoleId: { guid: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', roleName: 'Storage Blob Data Owner' },
    storageTableDataContributorRoleId: { guid: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', roleName: 'Storage Table Data Contributor' },
    keyVaultSecretsUserRoleId: { guid: '4633458b-17de-408a-b874-0445c86b69e6', roleName: 'Key Vault Secrets User' },
    keyVaultSecretsOfficerRoleId: { guid: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7', roleName: 'Key Vault Secrets Officer' },
    keyVaultCryptoUserRoleId: { guid: '12338af0-0e69-4776-bea7-57ae8d297424', roleName: 'Key Vault Crypto User' },
    monitoringMetricsPublisherRoleId: { guid: '3913510d-42f4-4e42-8a64-420c390055eb', roleName: 'Monitoring Metrics Publisher' },
    storageQueueDataMessageSenderRoleId: { guid: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a', roleName: 'Storage Queue Data Message Sender' },
};

interface ExpectedAssignment {
    symbol: string;
    role: keyof typeof ROLE_IDS;
    scopeType: string;
    principal: string;
    principalType: string;
    /** The `if (...)` text, or undefined for an unconditional assignment. */
    condition?: string;
    /** The collection a looped assignment iterates over. */
    loopOver?: string;
}

const EXPECTED_ASSIGNMENTS: ExpectedAssignment[] = [
    { symbol: 'appStorageBlobDataOwner', role: 'storageBlobDataOwnerRoleId', scopeType: 'Microsoft.Storage/storageAccounts', principal: 'appPrincipalId', principalType: "'ServicePrincipal'" },
    { symbol: 'appStorageTableDataContributor', role: 'storageTableDataContributorRoleId', scopeType: 'Microsoft.Storage/storageAccounts', principal: 'appPrincipalId', principalType: "'ServicePrincipal'" },
    { symbol: 'appKeyVaultSecretsUser', role: 'keyVaultSecretsUserRoleId', scopeType: 'Microsoft.KeyVault/vaults', principal: 'appPrincipalId', principalType: "'ServicePrincipal'" },
    // Signing OAuth access tokens: that one key only.
    { symbol: 'appKeyVaultCryptoUser', role: 'keyVaultCryptoUserRoleId', scopeType: 'Microsoft.KeyVault/vaults/keys', principal: 'appPrincipalId', principalType: "'ServicePrincipal'" },
    { symbol: 'appMonitoringMetricsPublisher', role: 'monitoringMetricsPublisherRoleId', scopeType: 'Microsoft.Insights/components', principal: 'appPrincipalId', principalType: "'ServicePrincipal'" },
    // The change feed's push: send to that one queue, only when it exists.
    { symbol: 'appFeedQueueMessageSender', role: 'storageQueueDataMessageSenderRoleId', scopeType: 'Microsoft.Storage/storageAccounts/queueServices/queues', principal: 'appPrincipalId', principalType: "'ServicePrincipal'", condition: '(!empty(feedQueueName))' },
    // Admins read, rotate and revoke the token: this vault only.
    { symbol: 'adminKeyVaultSecretsOfficer', role: 'keyVaultSecretsOfficerRoleId', scopeType: 'Microsoft.KeyVault/vaults', principal: 'adminPrincipalId', principalType: 'adminPrincipalType', loopOver: 'adminPrincipalIds' },
    // The pipeline: create the first token while none exists, afterwards read that one secret only.
    { symbol: 'deployerTokenBootstrap', role: 'keyVaultSecretsOfficerRoleId', scopeType: 'Microsoft.KeyVault/vaults', principal: 'deployerPrincipalId', principalType: "'ServicePrincipal'", condition: '(deployerBootstraps)' },
    { symbol: 'deployerTokenReader', role: 'keyVaultSecretsUserRoleId', scopeType: 'Microsoft.KeyVault/vaults/secrets', principal: 'deployerPrincipalId', principalType: "'ServicePrincipal'", condition: '(deployerReadsToken)' },
];

const roleAssignments: Check = (root) => {
    const all = resources(root);
    const vars = variables(root);
    for (const [variable, { guid, roleName }] of Object.entries(ROLE_IDS)) {
        const decl = vars.get(variable);
        expect(decl, `var ${variable}`).toBeDefined();
        expect(literal(decl!.value), `${variable} GUID`).toBe(guid);
        expect(leadingComment(decl!.node), `comment naming ${roleName}`).toContain(roleName);
    }
    const assignments = all.filter((r) => r.type === 'Microsoft.Authorization/roleAssignments');
    expect(assignments.map((a) => a.symbol).sort()).toEqual(EXPECTED_ASSIGNMENTS.map((e) => e.symbol).sort());
    for (const expected of EXPECTED_ASSIGNMENTS) {
        const a = assignments.find((r) => r.symbol === expected.symbol)!;
        const roleDefinition = prop(a.body, 'properties.roleDefinitionId');
        expect(roleDefinition?.text).toMatch(/^subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions',/);
        expect(identifiersIn(roleDefinition!).has(expected.role), `${expected.symbol} grants ${ROLE_IDS[expected.role]!.roleName}`).toBe(true);
        expect(prop(a.body, 'properties.principalId')?.text, `${expected.symbol} principal`).toBe(expected.principal);
        expect(prop(a.body, 'properties.principalType')?.text, `${expected.symbol} principal type`).toBe(expected.principalType);

        const scope = prop(a.body, 'scope')?.text;
        expect(all.find((r) => r.symbol === scope)?.type, `${expected.symbol} scope`).toBe(expected.scopeType);

        // Deterministic, idempotent name: guid(scope.id, principal, role).
        const name = prop(a.body, 'name');
        expect(name?.text.startsWith('guid(')).toBe(true);
        const nameIds = identifiersIn(name!);
        for (const id of [scope!, expected.principal, expected.role]) expect(nameIds.has(id), `${expected.symbol} name uses ${id}`).toBe(true);

        expect(a.condition?.text, `${expected.symbol} condition`).toBe(expected.condition);
        expect(a.loopOver?.text, `${expected.symbol} loop`).toBe(expected.loopOver);
    }
    // The two deployer grants exclude each other, and neither exists without a deployer.
    expect(vars.get('deployerBootstraps')?.value.text).toBe('!empty(deployerPrincipalId) && !scimTokenSecretExists');
    expect(vars.get('deployerReadsToken')?.value.text).toBe('!empty(deployerPrincipalId) && scimTokenSecretExists');
    const secret = all.find((r) => r.symbol === 'tokenSecret');
    expect(secret?.existing, 'the token secret is referenced, never created').toBe(true);
    expect(prop(secret!.body, 'name')?.text).toBe('scimTokenSecretName');
    expect(prop(secret!.body, 'parent')?.text).toBe('keyVault');
    const bootstrapOutput = outputs(root).find((o) => o.name === 'deployerBootstrapAssignmentId');
    expect(bootstrapOutput?.value.text).toBe("deployerBootstraps ? deployerTokenBootstrap.id : ''");
};

// ---- file-level tests -----------------------------------------------------------------------------

const allFiles = bicepFiles();
const rel = (f: string): string => path.relative(repoRoot, f);

describe('every .bicep file', () => {
    it('exists at the expected places', () => {
        expect(allFiles.map(rel)).toEqual(
            expect.arrayContaining([
                'infra/main.bicep',
                'infra/app/function.bicep',
                'infra/app/keyvault.bicep',
                'infra/app/monitoring.bicep',
                'infra/app/rbac.bicep',
                'infra/app/storage.bicep',
                'infra/app/alerts.bicep',
            ]),
        );
    });

    it.each(allFiles.map((f) => [rel(f), f]))('%s parses with no ERROR or MISSING node', async (_name, f) => {
        const root = await parseBicep(readFileSync(f, 'utf8'));
        expect(syntaxErrors(root)).toEqual([]);
        expect(root.hasError).toBe(false);
    });

    it.each(allFiles.map((f) => [rel(f), f]))('%s references only local modules that exist', async (_name, f) => {
        const root = await parseBicep(readFileSync(f, 'utf8'));
        for (const m of modules(root)) {
            expect(m.path, 'no registry or template-spec modules').not.toMatch(/^(br|ts)[:/]/);
            expect(existsSync(path.resolve(path.dirname(f), m.path)), `${m.path} exists`).toBe(true);
        }
        expect(readFileSync(f, 'utf8')).not.toContain('br/public:');
    });

    it.each(allFiles.map((f) => [rel(f), f]))('%s tags every taggable resource it creates', async (_name, f) => {
        const root = await parseBicep(readFileSync(f, 'utf8'));
        for (const r of resources(root)) {
            const topLevel = r.type.split('/').length === 2;
            // Role assignments and diagnostic settings are extension resources: they take no tags.
            if (r.existing || !topLevel || r.type.startsWith('Microsoft.Authorization/') || r.type === 'Microsoft.Insights/diagnosticSettings') continue;
            const tags = prop(r.body, 'tags');
            expect(tags?.text === 'tags' || (tags !== undefined && tags.text.startsWith('union(tags,')), `${r.symbol} has tags`).toBe(true);
        }
    });

    it.each(allFiles.map((f) => [rel(f), f]))('%s hard-codes no cloud host names and no location', async (_name, f) => {
        const text = readFileSync(f, 'utf8');
        expect(text).not.toMatch(/core\.windows\.net|azurewebsites\.net|vault\.azure\.net|management\.azure\.com/);
        const root = await parseBicep(text);
        for (const r of resources(root)) {
            const location = prop(r.body, 'location');
            // Action groups are global resources: 'global' is their only location.
            if (location && r.type !== 'Microsoft.Insights/actionGroups') expect(location.type, `${r.symbol} location is not a literal`).not.toBe('string');
        }
    });

    it.each(allFiles.map((f) => [rel(f), f]))('%s has no unused parameter, variable or existing resource', async (_name, f) => {
        // Mirrors the no-unused-* linter rules (errors in bicepconfig.json), which CI's `az bicep lint` enforces.
        const root = await parseBicep(readFileSync(f, 'utf8'));
        const uses = new Map<string, number>();
        const count = (n: Node): void => {
            const isKey = n.parent?.type === 'object_property' && n.parent.namedChildren[0]?.equals(n);
            if (n.type === 'identifier' && !isKey) uses.set(n.text, (uses.get(n.text) ?? 0) + 1);
            for (const c of n.namedChildren) count(c);
        };
        count(root);
        const declared = [
            ...params(root).map((p) => p.name),
            ...[...variables(root).keys()],
            ...resources(root).filter((r) => r.existing).map((r) => r.symbol),
        ];
        for (const name of declared) expect(uses.get(name) ?? 0, `${name} is used`).toBeGreaterThan(1);
    });

    it.each(allFiles.map((f) => [rel(f), f]))('%s outputs no secret', async (_name, f) => {
        const root = await parseBicep(readFileSync(f, 'utf8'));
        const secure = new Set(params(root).filter((p) => p.decorators.includes('secure')).map((p) => p.name));
        for (const o of outputs(root)) {
            const used = identifiersIn(o.value);
            for (const s of secure) expect(used.has(s), `output ${o.name} exposes @secure() ${s}`).toBe(false);
            expect(o.name).not.toMatch(/secret(?!Name)|password|connectionString|key$/i);
            const calls = [...functionsCalledIn(o.value)];
            expect(calls.filter((c) => /^list/i.test(c)), `output ${o.name} calls list*()`).toEqual([]);
            expect(o.value.text).not.toMatch(/ConnectionString|InstrumentationKey|primaryKey/i);
        }
    });
});

describe('the parser check can fail', () => {
    it('reports a missing closing brace', async () => {
        const root = await parseBicep("resource st 'Microsoft.Storage/storageAccounts@2024-01-01' = {\n  name: 'x'\n");
        expect(syntaxErrors(root).length).toBeGreaterThan(0);
    });

    it('reports an unterminated string and a stray token', async () => {
        expect(syntaxErrors(await parseBicep("param a string = 'open\n")).length).toBeGreaterThan(0);
        expect(syntaxErrors(await parseBicep('var x = = 1\n')).length).toBeGreaterThan(0);
    });

    it('rejects object spread, which the parser does not support (use union())', async () => {
        const root = await parseBicep("var a = {\n  ...b\n  c: 1\n}\n");
        expect(syntaxErrors(root).length).toBeGreaterThan(0);
    });
});

describe('infra/main.bicep', () => {
    const mainPromise = parseBicep(read('main.bicep'));

    it('targets a resource group', async () => {
        const root = await mainPromise;
        const scope = root.namedChildren.find((n) => n.type === 'target_scope_assignment');
        expect(stringValue(scope?.namedChildren[0])).toBe('resourceGroup');
    });

    it('names resources from abbreviations.json and a uniqueString token', async () => {
        const root = await mainPromise;
        const vars = variables(root);
        expect(vars.get('abbrs')?.value.text).toBe("loadJsonContent('abbreviations.json')");
        const token = vars.get('resourceToken')?.value;
        expect(token && functionsCalledIn(token).has('uniqueString')).toBe(true);
        const abbreviations = JSON.parse(read('abbreviations.json')) as Record<string, string>;
        const used = [...read('main.bicep').matchAll(/abbrs\.(\w+)/g)].map((m) => m[1]!);
        expect(used.length).toBeGreaterThanOrEqual(6);
        for (const key of used) expect(abbreviations, `abbreviations.json has ${key}`).toHaveProperty(key);
        for (const name of ['functionAppName', 'planName', 'storageAccountName', 'keyVaultName', 'logAnalyticsName', 'applicationInsightsName']) {
            const v = vars.get(name)?.value;
            expect(v && identifiersIn(v).has('resourceToken'), `${name} uses resourceToken`).toBe(true);
            expect(v && identifiersIn(v).has('abbrs'), `${name} uses abbrs`).toBe(true);
        }
    });

    it('wires modules together (identity to RBAC, endpoints to the app)', async () => {
        const root = await mainPromise;
        const byPath = new Map(modules(root).map((m) => [m.path, m]));
        expect([...byPath.keys()].sort()).toEqual([
            'app/alerts.bicep',
            'app/function.bicep',
            'app/keyvault.bicep',
            'app/monitoring.bicep',
            'app/rbac.bicep',
            'app/storage.bicep',
        ]);
        const fn = byPath.get('app/function.bicep')!;
        const fnSymbol = fn.symbol;
        expect(prop(fn.body, 'params.alwaysReadyInstanceCount')?.text).toBe('alwaysReadyInstanceCount');
        expect(prop(fn.body, 'params.keyVaultUri')?.text).toMatch(/\.outputs\.keyVaultUri$/);
        expect(prop(fn.body, 'params.scimAppSettings')?.text).toBe('scimAppSettings');
        expect(prop(fn.body, 'params.zoneRedundant')?.text).toBe('zoneRedundant');
        expect(prop(fn.body, 'params.allowedInboundAddresses')?.text).toBe('allowedInboundAddresses');
        expect(prop(byPath.get('app/storage.bicep')!.body, 'params.zoneRedundant')?.text).toBe('zoneRedundant');
        expect(prop(byPath.get('app/keyvault.bicep')!.body, 'params.logAnalyticsWorkspaceId')?.text).toMatch(/\.outputs\.logAnalyticsId$/);
        expect(prop(byPath.get('app/alerts.bicep')!.body, 'params.alertEmailAddresses')?.text).toBe('alertEmailAddresses');
        const rbac = byPath.get('app/rbac.bicep')!;
        expect(prop(rbac.body, 'params.appPrincipalId')?.text).toBe(`${fnSymbol}.outputs.principalId`);
        for (const name of ['deployerPrincipalId', 'scimTokenSecretExists', 'adminPrincipalIds', 'adminPrincipalType', 'scimTokenSecretName']) {
            expect(prop(rbac.body, `params.${name}`)?.text, `rbac gets ${name}`).toBe(name);
        }
        // The signing key's name comes out of the module that creates it, so its role assignment waits for it.
        expect(prop(byPath.get('app/keyvault.bicep')!.body, 'params.oauthSigningKeyName')?.text).toBe('oauthSigningKeyName');
        expect(prop(rbac.body, 'params.oauthSigningKeyName')?.text).toMatch(/\.outputs\.oauthSigningKeyName$/);
        for (const m of byPath.values()) {
            const tags = prop(m.body, 'params.tags');
            if (m.path !== 'app/rbac.bicep') expect(tags?.text, `${m.path} gets tags`).toBe('allTags');
        }
    });

    it('declares the parameters with safe defaults and takes no secret', async () => {
        const root = await mainPromise;
        const byName = new Map(params(root).map((p) => [p.name, p]));
        expect(literal(byName.get('alwaysReadyInstanceCount')?.defaultValue)).toBe(1);
        expect(byName.get('alwaysReadyInstanceCount')?.type).toBe('int');
        expect(literal(byName.get('scimTableName')?.defaultValue)).toBe('scim');
        expect(literal(byName.get('scimTokenSecretName')?.defaultValue)).toBe('scim-token');
        expect(literal(byName.get('scimTokenGraceMinutes')?.defaultValue)).toBe(60);
        expect(literal(byName.get('deployerPrincipalId')?.defaultValue)).toBe('');
        expect(literal(byName.get('scimTokenSecretExists')?.defaultValue)).toBe(false);
        expect(byName.get('adminPrincipalIds')?.defaultValue?.text).toBe('[]');
        expect(byName.get('allowedInboundAddresses')?.defaultValue?.text, 'no inbound restriction by default').toBe('[]');
        expect(literal(byName.get('zoneRedundant')?.defaultValue)).toBe(false);
        expect(literal(byName.get('scimTokenCacheSeconds')?.defaultValue)).toBe(300);
        expect(literal(byName.get('scimPublicBaseUrl')?.defaultValue), 'the code derives the public URL').toBe('');
        expect(byName.get('scimIndexedAttributes')?.defaultValue?.text).toBe('[]');
        expect(byName.get('scimSchemaExtensions')?.defaultValue?.text).toBe('[]');
        expect(literal(byName.get('oauthClientId')?.defaultValue), 'OAuth is off unless a client is named').toBe('');
        expect(literal(byName.get('oauthTokenLifetimeMinutes')?.defaultValue)).toBe(120);
        expect(literal(byName.get('wifIssuer')?.defaultValue), 'federation is off by default').toBe('');
        expect(byName.get('location')?.defaultValue?.text).toBe('resourceGroup().location');
        for (const p of byName.values()) {
            expect(p.decorators, `${p.name} is documented`).toContain('description');
            expect(p.decorators, `${p.name}: no secret is a parameter`).not.toContain('secure');
            expect(p.name).not.toMatch(/(password|token|secret|key|connectionString)$/i);
        }
    });

    it('outputs the Tenant URL, the function app and the vault name', async () => {
        const root = await mainPromise;
        const byName = new Map(outputs(root).map((o) => [o.name, o]));
        const tenantUrl = byName.get('tenantUrl');
        expect(tenantUrl?.type).toBe('string');
        expect(tenantUrl?.value.text).toMatch(/^'https:\/\/\$\{\w+\.outputs\.defaultHostName\}\/scim'$/);
        expect(byName.get('functionAppName')?.value.text).toMatch(/\.outputs\.functionAppName$/);
        expect(byName.get('keyVaultName')?.value.text).toMatch(/\.outputs\.keyVaultName$/);
        expect(byName.get('keyVaultUrl')?.value.text).toMatch(/\.outputs\.keyVaultUri$/);
        expect(byName.get('scimTokenSecretName')?.value.text).toBe('scimTokenSecretName');
        expect(byName.get('tokenBootstrapAssignmentId')?.value.text).toBe('rbac.outputs.deployerBootstrapAssignmentId');
        expect(byName.get('oauthTokenEndpoint')?.value.text).toMatch(/^'https:\/\/\$\{\w+\.outputs\.defaultHostName\}\/oauth\/token'$/);
    });
});

describe('infra/main.parameters.json', () => {
    it('names only parameters main.bicep declares, and sets every required one', async () => {
        const json = JSON.parse(read('main.parameters.json')) as { parameters: Record<string, { value: unknown }> };
        const declared = params(await parseBicep(read('main.bicep')));
        const names = new Set(declared.map((p) => p.name));
        for (const key of Object.keys(json.parameters)) expect(names.has(key), `${key} is declared`).toBe(true);
        for (const p of declared.filter((d) => !d.defaultValue)) {
            expect(json.parameters, `${p.name} has no default`).toHaveProperty(p.name);
        }
        for (const [key, entry] of Object.entries(json.parameters)) {
            expect(entry, `${key} is a plain value, not a Key Vault reference`).toHaveProperty('value');
        }
    });

    it('sets every app-setting parameter, with the type main.bicep declares and no placeholder', async () => {
        // The one source of truth: a setting changed in the portal is replaced by the next deployment.
        const json = JSON.parse(read('main.parameters.json')) as { parameters: Record<string, { value: unknown }> };
        const declared = new Map(params(await parseBicep(read('main.bicep'))).map((p) => [p.name, p]));
        const typeOf = (v: unknown): string => (Array.isArray(v) ? 'array' : typeof v === 'number' ? 'int' : typeof v === 'boolean' ? 'bool' : typeof v);
        for (const param of Object.values(SCIM_SETTING_PARAMETERS)) {
            expect(json.parameters, `main.parameters.json sets ${param}`).toHaveProperty(param);
        }
        for (const [key, { value }] of Object.entries(json.parameters)) {
            expect(typeOf(value), `${key} type`).toBe(declared.get(key)!.type);
        }
        // azd would substitute ${VAR}; az would pass it literally. The file works unchanged for both.
        expect(read('main.parameters.json')).not.toMatch(/\$\{/);
    });

    it('covers every setting the README lists for Azure', () => {
        const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
        const rows = readme.split('\n').filter((l) => /^\| `[A-Za-z_]+` \|/.test(l)).map((l) => l.split('|').map((c) => c.trim()));
        const azureSettings = rows.filter((r) => /Azure|both/.test(r[2] ?? '')).map((r) => r[1]!.replace(/`/g, ''));
        expect(azureSettings.length, 'README settings rows found').toBeGreaterThanOrEqual(6);
        // AZURE_CLIENT_ID is for a user-assigned identity; the template uses the system-assigned one.
        const fromResources = new Set([...PLATFORM_APP_SETTINGS, 'AZURE_CLIENT_ID']);
        for (const setting of azureSettings) {
            expect(fromResources.has(setting) || setting in SCIM_SETTING_PARAMETERS,
                `${setting}: add a parameter to infra/main.bicep, one line to scimAppSettings, and a value to main.parameters.json`).toBe(true);
        }
    });
});

describe('bicepconfig.json', () => {
    it('turns the security linter rules into errors', () => {
        const config = JSON.parse(readFileSync(file('bicepconfig.json'), 'utf8')) as {
            analyzers: { core: { enabled: boolean; rules: Record<string, { level: string }> } };
        };
        expect(config.analyzers.core.enabled).toBe(true);
        for (const rule of [
            'no-hardcoded-env-urls',
            'outputs-should-not-contain-secrets',
            'secure-secrets-in-params',
            'secure-parameter-default',
            'secure-params-in-nested-deploy',
            'protect-commandtoexecute-secrets',
            'no-unused-params',
            'no-unused-vars',
            'no-hardcoded-location',
        ]) {
            expect(config.analyzers.core.rules[rule]?.level, rule).toBe('error');
        }
    });
});

const CHECKS: Record<string, { file: string; check: Check }> = {
    'storage account security': { file: 'app/storage.bicep', check: storageSecurity },
    'deployment container and SCIM table': { file: 'app/storage.bicep', check: storageContainersAndTable },
    'Flex Consumption plan': { file: 'app/function.bicep', check: planIsFlexConsumption },
    'function app security': { file: 'app/function.bicep', check: functionAppSecurity },
    'function app runtime and deployment storage': { file: 'app/function.bicep', check: functionAppRuntimeAndDeployment },
    'always-ready http instances': { file: 'app/function.bicep', check: alwaysReadyHttp },
    'basic publishing credentials off': { file: 'app/function.bicep', check: basicPublishingDisabled },
    'app settings the code reads': { file: 'app/function.bicep', check: appSettingsForTheCode },
    'SCIM settings from parameters': { file: 'main.bicep', check: scimSettingsFromParameters },
    'Flex scale bounds (main)': { file: 'main.bicep', check: flexScaleBounds },
    'Flex scale bounds (function)': { file: 'app/function.bicep', check: flexScaleBounds },
    'table name validated': { file: 'main.bicep', check: tableNameValidated },
    'zone-redundant plan': { file: 'app/function.bicep', check: zoneRedundantPlan },
    'ZRS storage when zone-redundant': { file: 'app/storage.bicep', check: zoneRedundantStorage },
    'inbound access restriction': { file: 'app/function.bicep', check: inboundRestriction },
    'azd service tag': { file: 'app/function.bicep', check: azdServiceTag },
    'Key Vault audit log': { file: 'app/keyvault.bicep', check: keyVaultAuditLog },
    'alert rules and action group': { file: 'app/alerts.bicep', check: alertRules },
    'Key Vault security': { file: 'app/keyvault.bicep', check: keyVaultSecurity },
    'OAuth signing key': { file: 'app/keyvault.bicep', check: oauthSigningKey },
    'monitoring local auth disabled': { file: 'app/monitoring.bicep', check: monitoringLocalAuthDisabled },
    'role assignments (GUID, comment, scope, principal)': { file: 'app/rbac.bicep', check: roleAssignments },
};

describe('security and identity settings', () => {
    it.each(Object.entries(CHECKS))('%s', async (_name, { file: f, check }) => {
        check(await parseBicep(read(f)));
    });
});

/**
 * Each mutation weakens one setting in a copy of the template; the matching check must then fail.
 * `from` must occur in the file (so a refactor that renames things breaks this table loudly).
 */
const MUTATIONS: { check: string; from: string | RegExp; to: string }[] = [
    { check: 'storage account security', from: 'allowSharedKeyAccess: false', to: 'allowSharedKeyAccess: true' },
    { check: 'deployment container and SCIM table', from: "queues@2024-01-01' = if (!empty(feedQueueName)) {", to: "queues@2024-01-01' = {" },
    { check: 'storage account security', from: "minimumTlsVersion: 'TLS1_2'", to: "minimumTlsVersion: 'TLS1_0'" },
    { check: 'storage account security', from: 'supportsHttpsTrafficOnly: true', to: 'supportsHttpsTrafficOnly: false' },
    { check: 'storage account security', from: 'allowBlobPublicAccess: false', to: 'allowBlobPublicAccess: true' },
    { check: 'deployment container and SCIM table', from: "publicAccess: 'None'", to: "publicAccess: 'Blob'" },
    { check: 'Flex Consumption plan', from: "name: 'FC1'", to: "name: 'Y1'" },
    { check: 'function app security', from: 'httpsOnly: true', to: 'httpsOnly: false' },
    { check: 'function app security', from: "      minTlsVersion: '1.2'", to: "      minTlsVersion: '1.0'" },
    { check: 'function app security', from: "ftpsState: 'Disabled'", to: "ftpsState: 'AllAllowed'" },
    { check: 'function app security', from: "type: 'SystemAssigned'\n", to: "type: 'None'\n" },
    { check: 'function app runtime and deployment storage', from: "version: '22'", to: "version: '18'" },
    { check: 'function app runtime and deployment storage', from: "type: 'SystemAssignedIdentity'", to: "type: 'StorageAccountConnectionString'" },
    { check: 'always-ready http instances', from: "name: 'http'", to: "name: 'function:Users'" },
    { check: 'always-ready http instances', from: 'instanceCount: alwaysReadyInstanceCount', to: 'instanceCount: 0' },
    { check: 'basic publishing credentials off', from: /allow: false(?![\s\S]*allow: false)/, to: 'allow: true' },
    { check: 'basic publishing credentials off', from: "name: 'scm'", to: "name: 'scm2'" },
    { check: 'app settings the code reads', from: '  TABLES_ENDPOINT: storageAccount', to: '  TABLES_CONNECTION_STRING: storageAccount' },
    { check: 'app settings the code reads', from: '  KEY_VAULT_URL: keyVaultUri', to: '  SCIM_TOKEN: keyVaultUri' },
    { check: 'app settings the code reads', from: '  KEY_VAULT_URL: keyVaultUri\n', to: "  KEY_VAULT_URL: keyVaultUri\n  FUNCTIONS_WORKER_RUNTIME: 'node'\n" },
    { check: 'app settings the code reads', from: 'items(union(platformAppSettings, scimAppSettings))', to: 'items(platformAppSettings)' },
    { check: 'SCIM settings from parameters', from: '  SCIM_TOKEN_CACHE_SECONDS: string(scimTokenCacheSeconds)\n', to: '' },
    { check: 'SCIM settings from parameters', from: 'SCIM_PUBLIC_BASE_URL: scimPublicBaseUrl', to: "SCIM_PUBLIC_BASE_URL: ''" },
    { check: 'SCIM settings from parameters', from: "SCIM_INDEXED_ATTRIBUTES: join(scimIndexedAttributes, ',')", to: "SCIM_INDEXED_ATTRIBUTES: ''" },
    { check: 'SCIM settings from parameters', from: '  SCIM_TABLE_NAME: validScimTableName\n', to: "  SCIM_TABLE_NAME: validScimTableName\n  SCIM_TOKEN: 'dev'\n" },
    { check: 'SCIM settings from parameters', from: "SCIM_ADMIN_PRINCIPAL_IDS: join(empty(scimAdminPrincipalIds) ? adminPrincipalIds : scimAdminPrincipalIds, ',')", to: "SCIM_ADMIN_PRINCIPAL_IDS: join(adminPrincipalIds, ',')" },
    { check: 'SCIM settings from parameters', from: '  SCIM_QUIET_PERIOD_MINUTES: string(scimQuietPeriodMinutes)\n', to: '' },
    { check: 'Flex scale bounds (main)', from: /@minValue\(40\)(\n@maxValue\(1000\)\nparam maximumInstanceCount)/, to: '@minValue(1)$1' },
    { check: 'Flex scale bounds (function)', from: /@minValue\(40\)(\n@maxValue\(1000\)\nparam maximumInstanceCount)/, to: '@minValue(1)$1' },
    { check: 'table name validated', from: /(var validScimTableName = )scimTableNameIsValid \? scimTableName : fail\([^)]*\)/, to: '$1scimTableName' },
    { check: 'table name validated', from: /(module storage[\s\S]*?scimTableName: )validScimTableName/, to: '$1scimTableName' },
    { check: 'table name validated', from: 'contains(letters, first(scimTableName)) && ', to: '' },
    { check: 'zone-redundant plan', from: '    zoneRedundant: zoneRedundant\n', to: '' },
    { check: 'ZRS storage when zone-redundant', from: "zoneRedundant ? 'Standard_ZRS' : 'Standard_LRS'", to: "'Standard_LRS'" },
    { check: 'inbound access restriction', from: "empty(allowedInboundAddresses) ? 'Allow' : 'Deny'", to: "'Allow'" },
    { check: 'inbound access restriction', from: 'ipSecurityRestrictions: inboundAllowRules', to: 'ipSecurityRestrictions: []' },
    { check: 'inbound access restriction', from: "tag: contains(entry, '/') ? 'Default' : 'ServiceTag'", to: "tag: 'Default'" },
    { check: 'azd service tag', from: "var azdServiceName = 'api'", to: "var azdServiceName = 'web'" },
    { check: 'azd service tag', from: "tags: union(tags, { 'azd-service-name': azdServiceName })", to: 'tags: tags' },
    { check: 'Key Vault audit log', from: "category: 'AuditEvent'", to: "category: 'AzurePolicyEvaluationDetails'" },
    { check: 'Key Vault audit log', from: '  scope: keyVault\n', to: '' },
    { check: 'Key Vault audit log', from: /(category: 'AuditEvent'\s*enabled: )true/, to: '$1false' },
    { check: 'alert rules and action group', from: 'if (!empty(alertEmailAddresses)) ', to: '' },
    { check: 'OAuth signing key', from: 'exportable: false', to: 'exportable: true' },
    { check: 'OAuth signing key', from: "kty: 'RSA'", to: "kty: 'oct'" },
    { check: 'OAuth signing key', from: "      'sign'\n", to: "      'decrypt'\n" },
    { check: 'OAuth signing key', from: "type: 'rotate'", to: "type: 'notify'" },
    { check: 'role assignments (GUID, comment, scope, principal)', from: /(appKeyVaultCryptoUser[\s\S]*?scope: )oauthSigningKey/, to: '$1keyVault' },
    { check: 'SCIM settings from parameters', from: 'SCIM_OAUTH_CLIENT_ID: oauthClientId', to: "SCIM_OAUTH_CLIENT_ID: ''" },
    { check: 'alert rules and action group', from: 'status == 401', to: 'status == 403' },
    { check: 'alert rules and action group', from: /(message has ")from Key Vault failed/, to: '$1from Key Vault' },
    { check: 'alert rules and action group', from: "name: 'group-delete-sweep-stuck'", to: "name: 'group-delete-sweep'" },
    { check: 'alert rules and action group', from: /actionGroups: empty\(alertEmailAddresses\) \? \[\] : \[\s*actionGroup\.id\s*\]/, to: 'actionGroups: []' },
    { check: 'Key Vault security', from: 'enableRbacAuthorization: true', to: 'enableRbacAuthorization: false' },
    { check: 'Key Vault security', from: 'enablePurgeProtection: true', to: 'enablePurgeProtection: false' },
    { check: 'Key Vault security', from: 'enableSoftDelete: true', to: 'enableSoftDelete: false' },
    { check: 'monitoring local auth disabled', from: 'DisableLocalAuth: true', to: 'DisableLocalAuth: false' },
    { check: 'monitoring local auth disabled', from: 'disableLocalAuth: true', to: 'disableLocalAuth: false' },
    { check: 'role assignments (GUID, comment, scope, principal)', from: '4633458b-17de-408a-b874-0445c86b69e6', to: '00000000-0000-0000-0000-000000000000' },
    { check: 'role assignments (GUID, comment, scope, principal)', from: '// Key Vault Secrets User:', to: '// Reader:' },
    { check: 'role assignments (GUID, comment, scope, principal)', from: /(appKeyVaultSecretsUser[\s\S]*?scope: )keyVault/, to: '$1storageAccount' },
    { check: 'role assignments (GUID, comment, scope, principal)', from: /(appStorageTableDataContributor[\s\S]*?principalId: )appPrincipalId/, to: "$1'00000000-0000-0000-0000-000000000000'" },
    { check: 'role assignments (GUID, comment, scope, principal)', from: 'if (deployerBootstraps) ', to: '' },
    { check: 'role assignments (GUID, comment, scope, principal)', from: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a', to: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' },
    { check: 'role assignments (GUID, comment, scope, principal)', from: /(appFeedQueueMessageSender[\s\S]*?scope: )feedQueue/, to: '$1storageAccount' },
    { check: 'role assignments (GUID, comment, scope, principal)', from: "= if (!empty(feedQueueName)) {\n  name: guid(feedQueue.id", to: "= {\n  name: guid(feedQueue.id" },
    { check: 'role assignments (GUID, comment, scope, principal)', from: 'var deployerReadsToken = !empty(deployerPrincipalId) && scimTokenSecretExists', to: 'var deployerReadsToken = !empty(deployerPrincipalId)' },
    { check: 'role assignments (GUID, comment, scope, principal)', from: /(deployerTokenReader[\s\S]*?scope: )tokenSecret/, to: '$1keyVault' },
    { check: 'role assignments (GUID, comment, scope, principal)', from: 'principalType: adminPrincipalType', to: "principalType: 'User'" },
    { check: 'role assignments (GUID, comment, scope, principal)', from: /(adminKeyVaultSecretsOfficer[\s\S]*?scope: )keyVault/, to: '$1storageAccount' },
];

describe('mutations: every check fails on a weakened template', () => {
    it('covers every check', () => {
        expect(new Set(MUTATIONS.map((m) => m.check))).toEqual(new Set(Object.keys(CHECKS)));
    });

    it.each(MUTATIONS.map((m) => [m.check, String(m.from), m] as const))('%s: %s', async (_c, _f, m) => {
        const { file: f, check } = CHECKS[m.check]!;
        const original = read(f);
        const mutated = original.replace(m.from, m.to);
        expect(mutated, 'the mutation applies').not.toBe(original);
        const root = await parseBicep(mutated);
        expect(syntaxErrors(root), 'the mutated template still parses').toEqual([]);
        expect(() => check(root)).toThrow();
    });
});

describe('no secret value anywhere in infra', () => {
    it('has no token-looking literal and no secret resource', async () => {
        for (const f of allFiles) {
            const root = await parseBicep(readFileSync(f, 'utf8'));
            // An `existing` reference (a role scoped to the token secret) is fine; creating one would put its value in the deployment.
            expect(resources(root).filter((r) => r.type === 'Microsoft.KeyVault/vaults/secrets' && !r.existing), rel(f)).toEqual([]);
            for (const s of descendants(root, 'string')) {
                const v = stringValue(s);
                if (v === undefined || /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/.test(v)) continue; // role GUIDs
                const opaque = /^[A-Za-z0-9+/=_-]{32,}$/.test(v) && /\d/.test(v) && /[A-Za-z]/.test(v);
                expect(opaque, `${rel(f)}: token-like literal ${v.slice(0, 6)}…`).toBe(false);
            }
        }
        const paramsJson = read('main.parameters.json');
        expect(paramsJson).not.toMatch(/"reference"\s*:|"secretName"/);
    });
});

// Keep `objectEntries` honest: a quoted key is read like an identifier key.
describe('bicepTree helper', () => {
    it('reads quoted and bare keys, nested paths and literals', async () => {
        const root = await parseBicep("var o = {\n  'a-b': 'x'\n  c: {\n    d: true\n    e: 3\n  }\n}\n");
        const o = variables(root).get('o')!.value;
        expect([...objectEntries(o).keys()]).toEqual(['a-b', 'c']);
        expect(propLiteral(o, 'a-b')).toBe('x');
        expect(propLiteral(o, 'c.d')).toBe(true);
        expect(propLiteral(o, 'c.e')).toBe(3);
        expect(prop(o, 'c.f')).toBeUndefined();
        expect(varLiteral(root, 'o')).toBeUndefined();
    });
});
