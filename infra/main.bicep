// SCIM 2.0 service provider for Microsoft Entra ID provisioning: Azure Functions (Flex Consumption)
// on Azure Table Storage, bearer token in Key Vault, telemetry in Application Insights.
// Deployed into an existing resource group:
//   az deployment group create -g <rg> -f infra/main.bicep -p @infra/main.parameters.json
// See docs/deploy.md.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(16)
@description('Short environment name (e.g. prod, test). Part of the unique resource-name suffix and the tags.')
param environmentName string

@description('Azure region for all resources; must offer the Flex Consumption plan.')
param location string = resourceGroup().location

@description('Always-ready instances for the HTTP functions. 1 keeps each 40-minute Entra provisioning cycle from starting cold; 0 scales to zero (cheapest, cold starts).')
@minValue(0)
@maxValue(20)
param alwaysReadyInstanceCount int = 1

@description('Maximum instances the function app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Storage replication.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param storageSkuName string = 'Standard_LRS'

@description('Table that holds users, groups and membership edges (SCIM_TABLE_NAME).')
@minLength(3)
@maxLength(63)
param scimTableName string = 'scim'

@description('Key Vault secret that holds the SCIM bearer token (SCIM_TOKEN_SECRET_NAME). Only the name: the value is written by the pipeline or an admin, never by this template.')
param scimTokenSecretName string = 'scim-token'

@description('Minutes the previous token version stays valid after a rotation (SCIM_TOKEN_GRACE_MINUTES).')
@minValue(0)
@maxValue(10080)
param scimTokenGraceMinutes int = 60

@description('Key Vault secret that holds the change feed token (SCIM_FEED_TOKEN_SECRET_NAME); written by `npm run token -- rotate --feed`, never by this template.')
param feedTokenSecretName string = 'scim-feed-token'

@description('Days the change feed keeps events (SCIM_FEED_RETENTION_DAYS).')
@minValue(1)
@maxValue(365)
param feedRetentionDays int = 30

@description('Storage queue the change feed is pushed to (SCIM_FEED_QUEUE): created, with the app allowed to send to it, when set. Empty = push off.')
param feedQueueName string = ''

@description('Object id of the principal that may write the token secret (Key Vault Secrets Officer): the pipeline identity or an admin. Empty = none.')
param deployerPrincipalId string = ''

@description('Type of deployerPrincipalId.')
@allowed([
  'ServicePrincipal'
  'User'
  'Group'
])
param deployerPrincipalType string = 'ServicePrincipal'

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

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
var deploymentContainerName = 'app-package-${resourceToken}'

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
    skuName: storageSkuName
    deploymentContainerName: deploymentContainerName
    scimTableName: scimTableName
    feedQueueName: feedQueueName
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    keyVaultName: keyVaultName
    location: location
    tags: allTags
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
    scimTableName: storage.outputs.scimTableName
    scimTokenSecretName: scimTokenSecretName
    scimTokenGraceMinutes: scimTokenGraceMinutes
    feedTokenSecretName: feedTokenSecretName
    feedRetentionDays: feedRetentionDays
    feedQueueName: storage.outputs.feedQueueName
    alwaysReadyInstanceCount: alwaysReadyInstanceCount
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  params: {
    appPrincipalId: functionApp.outputs.principalId
    storageAccountName: storage.outputs.storageAccountName
    keyVaultName: keyVault.outputs.keyVaultName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    feedQueueName: storage.outputs.feedQueueName
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
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
