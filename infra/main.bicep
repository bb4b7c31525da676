// SCIM 2.0 service provider for Microsoft Entra ID provisioning: Azure Functions (Flex Consumption)
// on Azure Table Storage, bearer token, OAuth client secret and token-signing key in Key Vault,
// telemetry and alerts in Azure Monitor.
// Deployed into an existing resource group, the same template on all three paths (docs/deploy.md):
//   az deployment group create -g <rg> -f infra/main.bicep -p @infra/main.parameters.json
//   azd up                                    (azure.yaml at the repository root)
//   .github/workflows/deploy.yml              (push to main)
// infra/main.parameters.json is the one source of truth for every setting: siteConfig.appSettings
// replaces the whole list on each deployment, so a value set in the portal lasts until the next push.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(16)
@description('Short environment name (e.g. prod, test). Part of the unique resource-name suffix and the tags.')
param environmentName string

@description('Azure region for all resources; must offer the Flex Consumption plan.')
param location string = resourceGroup().location

// ---- scale and resilience ---------------------------------------------------------------------

@description('Always-ready instances for the HTTP functions. 1 keeps each 40-minute Entra provisioning cycle from starting cold; 0 scales to zero (cheapest, cold starts).')
@minValue(0)
@maxValue(20)
param alwaysReadyInstanceCount int = 1

// Azure rejects values below 40 outside a few preview regions; Microsoft's Flex samples use the same bounds.
@description('Maximum instances the function app scales out to (40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Zone redundancy: the Flex plan spreads instances over availability zones (at least two always-ready instances are then billed) and the storage account becomes Standard_ZRS. The region must support both.')
param zoneRedundant bool = false

// ---- settings the SCIM code reads (README "Settings"; one parameter each) ----------------------

@description('Table that holds users, groups and membership edges (SCIM_TABLE_NAME): 3-63 letters and digits, starting with a letter.')
@minLength(3)
@maxLength(63)
param scimTableName string = 'scim'

@description('Key Vault secret that holds the SCIM bearer token (SCIM_TOKEN_SECRET_NAME). Only the name: the value is written by the token command, never by this template.')
param scimTokenSecretName string = 'scim-token'

@description('Minutes the previous token version stays valid after a rotation (SCIM_TOKEN_GRACE_MINUTES).')
@minValue(0)
@maxValue(10080)
param scimTokenGraceMinutes int = 60

@description('Seconds a token read from Key Vault is used before a background refresh (SCIM_TOKEN_CACHE_SECONDS).')
@minValue(0)
@maxValue(86400)
param scimTokenCacheSeconds int = 300

@description('Public URL of the SCIM root, e.g. behind a gateway (SCIM_PUBLIC_BASE_URL). Empty: the app uses https://<its own host name>/scim.')
param scimPublicBaseUrl string = ''

@description('Key Vault secret that holds the change feed token (SCIM_FEED_TOKEN_SECRET_NAME). Only the name: the value is written by `npm run token -- rotate --feed`, never by this template.')
param feedTokenSecretName string = 'scim-feed-token'

@description('Days the change feed keeps events (SCIM_FEED_RETENTION_DAYS).')
@minValue(1)
@maxValue(365)
param feedRetentionDays int = 30

@description('Storage queue the change feed is pushed to (SCIM_FEED_QUEUE): created, and the app may send to it, when set. Empty: no queue, no push.')
param feedQueueName string = ''

@description('Attribute paths indexed for equality filters on top of the built-in set (SCIM_INDEXED_ATTRIBUTES, joined with commas), e.g. phoneNumbers[type eq "mobile"].value.')
param scimIndexedAttributes array = []

@description('Declared schema extensions, RFC 7643 section 7 shape plus "resourceType" (SCIM_SCHEMA_EXTENSIONS, written as JSON). Empty: none.')
param scimSchemaExtensions array = []

// ---- OAuth client credentials and workload identity federation (docs/entra.md) ------------------

@description('OAuth client id Entra authenticates as (SCIM_OAUTH_CLIENT_ID), from `npm run token -- client create`. Empty = no token endpoint: the Secret Token only.')
param oauthClientId string = ''

@description('Key Vault secret that holds the OAuth client secret (SCIM_OAUTH_CLIENT_SECRET_NAME). Only the name: `npm run token -- client create` writes the value.')
param oauthClientSecretName string = 'scim-oauth-client-secret'

@description('Minutes the previous OAuth client secret stays valid after a rotation (SCIM_OAUTH_SECRET_GRACE_MINUTES).')
@minValue(0)
@maxValue(43200)
param oauthSecretGraceMinutes int = 10080

@description('Key Vault key that signs OAuth access tokens (SCIM_OAUTH_SIGNING_KEY_NAME); this template creates it (RSA 2048, sign/verify only).')
param oauthSigningKeyName string = 'scim-oauth-signing-key'

@description('OAuth access token lifetime in minutes (SCIM_OAUTH_TOKEN_LIFETIME_MINUTES); Microsoft asks for 60 to 360.')
@minValue(60)
@maxValue(360)
param oauthTokenLifetimeMinutes int = 120

@description('Scopes a token request may name (SCIM_OAUTH_SCOPE, joined with spaces). Empty: the scope parameter is ignored.')
param oauthScopes array = []

@description('Workload identity federation: the issuer Entra shows, https://login.microsoftonline.com/<tenant id>/v2.0 (SCIM_WIF_ISSUER). Empty = off.')
param wifIssuer string = ''

@description('Workload identity federation: the issuer\'s keys (SCIM_WIF_JWKS_URL). Empty: <issuer without /v2.0>/discovery/v2.0/keys.')
param wifJwksUrl string = ''

@description('Workload identity federation: the subject Entra shows, an object id (SCIM_WIF_SUBJECT).')
param wifSubject string = ''

@description('Workload identity federation: accepted audiences (SCIM_WIF_AUDIENCE, joined with commas), e.g. api://<app id> and <app id>.')
param wifAudiences array = []

// ---- the /admin status page (docs/operate.md, "Status page") -----------------------------------

@description('Client id of the app registration admins sign in to /admin with (SCIM_ADMIN_CLIENT_ID). Empty: /admin stays closed.')
param scimAdminClientId string = ''

@description('Entra tenant of that app registration (SCIM_ADMIN_TENANT_ID). Empty: the tenant of this deployment.')
param scimAdminTenantId string = ''

@description('Object ids of the users or groups allowed to open /admin (SCIM_ADMIN_PRINCIPAL_IDS). Empty: the adminPrincipalIds, who may also rotate the token.')
param scimAdminPrincipalIds array = []

@description('No request from Entra for longer than this many minutes is a warning on /admin (SCIM_QUIET_PERIOD_MINUTES). Entra sends nothing when nothing changed.')
@minValue(1)
@maxValue(43200)
param scimQuietPeriodMinutes int = 1440

// ---- who may touch the token -------------------------------------------------------------------

@description('Object ids of the admins (users or, better, one group) who read, rotate and revoke the token: Key Vault Secrets Officer on this vault only.')
param adminPrincipalIds array = []

@description('Type of the adminPrincipalIds.')
@allowed([
  'User'
  'Group'
])
param adminPrincipalType string = 'Group'

@description('Object id of the deployment pipeline\'s service principal. Empty = none. While the token secret does not exist it may create it (Key Vault Secrets Officer on the vault, removed again by the pipeline); afterwards it may only read that one secret, for the smoke test.')
param deployerPrincipalId string = ''

@description('Whether the token secret already exists (the pipeline looks it up before deploying). Chooses the deployer\'s narrow grant.')
param scimTokenSecretExists bool = false

// ---- operations ---------------------------------------------------------------------------------

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('E-mail addresses the alerts go to (one action group). Empty: alerts still fire and show in the portal, nobody is mailed.')
param alertEmailAddresses array = []

@description('Inbound access restriction: CIDR ranges ("203.0.113.0/24") and service tags ("AzureActiveDirectory") allowed to call the app; everything else gets 403. Empty (default): open to the internet, the bearer token is the gate. Entra\'s outbound addresses change: see docs/deploy.md.')
param allowedInboundAddresses array = []

@description('Extra tags for every resource.')
param tags object = {}

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var allTags = union(tags, {
  application: 'scim'
  environment: environmentName
})

var functionAppName = '${abbrs.webSitesFunctions}scim-${resourceToken}'
var planName = '${abbrs.webServerFarms}scim-${resourceToken}'
var storageAccountName = '${abbrs.storageStorageAccounts}scim${resourceToken}'
var keyVaultName = '${abbrs.keyVaultVaults}scim-${resourceToken}'
var logAnalyticsName = '${abbrs.operationalInsightsWorkspaces}scim-${resourceToken}'
var applicationInsightsName = '${abbrs.insightsComponents}scim-${resourceToken}'
var actionGroupName = '${abbrs.insightsActionGroups}scim-${resourceToken}'
var deploymentContainerName = 'app-package-${resourceToken}'

// Azure Table names: letters and digits, starting with a letter (length checked by the decorators).
var letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
var lettersAndDigits = '${letters}0123456789'
var scimTableNameIsValid = contains(letters, first(scimTableName)) && empty(filter(range(0, length(scimTableName)), i => !contains(lettersAndDigits, substring(scimTableName, i, 1))))
var validScimTableName = scimTableNameIsValid ? scimTableName : fail('scimTableName must be 3-63 letters and digits and start with a letter.')

// The app settings the SCIM code reads (shared/config.ts), one line each. The platform settings
// (host storage, Application Insights, storage and vault endpoints) are added in app/function.bicep.
var scimAppSettings = {
  SCIM_TABLE_NAME: validScimTableName
  SCIM_TOKEN_SECRET_NAME: scimTokenSecretName
  SCIM_TOKEN_GRACE_MINUTES: string(scimTokenGraceMinutes)
  SCIM_TOKEN_CACHE_SECONDS: string(scimTokenCacheSeconds)
  SCIM_PUBLIC_BASE_URL: scimPublicBaseUrl
  SCIM_INDEXED_ATTRIBUTES: join(scimIndexedAttributes, ',')
  SCIM_SCHEMA_EXTENSIONS: empty(scimSchemaExtensions) ? '' : string(scimSchemaExtensions)
  SCIM_OAUTH_CLIENT_ID: oauthClientId
  SCIM_OAUTH_CLIENT_SECRET_NAME: oauthClientSecretName
  SCIM_OAUTH_SECRET_GRACE_MINUTES: string(oauthSecretGraceMinutes)
  SCIM_OAUTH_SIGNING_KEY_NAME: oauthSigningKeyName
  SCIM_OAUTH_TOKEN_LIFETIME_MINUTES: string(oauthTokenLifetimeMinutes)
  SCIM_OAUTH_SCOPE: join(oauthScopes, ' ')
  SCIM_WIF_ISSUER: wifIssuer
  SCIM_WIF_JWKS_URL: wifJwksUrl
  SCIM_WIF_SUBJECT: wifSubject
  SCIM_WIF_AUDIENCE: join(wifAudiences, ',')
  SCIM_ADMIN_CLIENT_ID: scimAdminClientId
  SCIM_ADMIN_TENANT_ID: empty(scimAdminTenantId) ? tenant().tenantId : scimAdminTenantId
  SCIM_ADMIN_PRINCIPAL_IDS: join(empty(scimAdminPrincipalIds) ? adminPrincipalIds : scimAdminPrincipalIds, ',')
  SCIM_QUIET_PERIOD_MINUTES: string(scimQuietPeriodMinutes)
  SCIM_FEED_TOKEN_SECRET_NAME: feedTokenSecretName
  SCIM_FEED_RETENTION_DAYS: string(feedRetentionDays)
  SCIM_FEED_QUEUE: feedQueueName
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: logAnalyticsName
    applicationInsightsName: applicationInsightsName
    location: location
    tags: allTags
    retentionInDays: logRetentionInDays
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  params: {
    storageAccountName: storageAccountName
    location: location
    tags: allTags
    zoneRedundant: zoneRedundant
    deploymentContainerName: deploymentContainerName
    scimTableName: validScimTableName
    feedQueueName: feedQueueName
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    keyVaultName: keyVaultName
    location: location
    tags: allTags
    logAnalyticsWorkspaceId: monitoring.outputs.logAnalyticsId
    oauthSigningKeyName: oauthSigningKeyName
  }
}

module functionApp 'app/function.bicep' = {
  name: 'function'
  params: {
    functionAppName: functionAppName
    planName: planName
    location: location
    tags: allTags
    storageAccountName: storage.outputs.storageAccountName
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultUri: keyVault.outputs.keyVaultUri
    scimAppSettings: scimAppSettings
    alwaysReadyInstanceCount: alwaysReadyInstanceCount
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    zoneRedundant: zoneRedundant
    allowedInboundAddresses: allowedInboundAddresses
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  params: {
    appPrincipalId: functionApp.outputs.principalId
    storageAccountName: storage.outputs.storageAccountName
    keyVaultName: keyVault.outputs.keyVaultName
    // From the module that creates the key, so the role assignment waits for it.
    oauthSigningKeyName: keyVault.outputs.oauthSigningKeyName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    scimTokenSecretName: scimTokenSecretName
    feedQueueName: storage.outputs.feedQueueName
    adminPrincipalIds: adminPrincipalIds
    adminPrincipalType: adminPrincipalType
    deployerPrincipalId: deployerPrincipalId
    scimTokenSecretExists: scimTokenSecretExists
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  params: {
    actionGroupName: actionGroupName
    location: location
    tags: allTags
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    alertEmailAddresses: alertEmailAddresses
  }
}

// Non-secret values only.
@description('Tenant URL to paste into Entra provisioning (Admin Credentials).')
output tenantUrl string = 'https://${functionApp.outputs.defaultHostName}/scim'
@description('Function app name (deployment target).')
output functionAppName string = functionApp.outputs.functionAppName
@description('Key Vault that holds the bearer token.')
output keyVaultName string = keyVault.outputs.keyVaultName
@description('Its URL (KEY_VAULT_URL), for `npm run token -- rotate --vault-url`.')
output keyVaultUrl string = keyVault.outputs.keyVaultUri
@description('Name of the bearer-token secret in the vault.')
output scimTokenSecretName string = scimTokenSecretName
@description('Role assignment that lets the pipeline create the first token; the pipeline deletes it once the token exists. Empty when none was made.')
output tokenBootstrapAssignmentId string = rbac.outputs.deployerBootstrapAssignmentId
@description('OAuth token endpoint to paste into Entra (client credentials or workload identity federation).')
output oauthTokenEndpoint string = 'https://${functionApp.outputs.defaultHostName}/oauth/token'
@description('Name of the OAuth client-secret secret in the vault.')
output oauthClientSecretName string = oauthClientSecretName
