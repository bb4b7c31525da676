// Flex Consumption plan (FC1) + Linux function app running the SCIM endpoints on Node 22.
// Identity-based everywhere: host storage, deployment container, Table Storage, Key Vault and
// Application Insights all use the system-assigned identity (roles in rbac.bicep).
// Flex Consumption: https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to

@description('Function app name.')
param functionAppName string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Storage account for host storage, the deployment container and the SCIM table.')
param storageAccountName string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Application Insights component the app reports to.')
param applicationInsightsName string

@description('Key Vault URI (KEY_VAULT_URL).')
param keyVaultUri string

@description('The settings the SCIM code reads, name to string value (built in main.bicep from its parameters).')
param scimAppSettings object

@description('Always-ready instances for the HTTP trigger group (0 = scale to zero, cold starts).')
@minValue(0)
@maxValue(20)
param alwaysReadyInstanceCount int

@description('Upper limit of instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Spread the plan over availability zones (needs Standard_ZRS storage, set in storage.bicep).')
param zoneRedundant bool

@description('CIDR ranges and service tags allowed to call the app; empty = no restriction.')
param allowedInboundAddresses array

// Always-ready instances are set per trigger group; all HTTP functions form the group 'http'.
var alwaysReadyHttp = [
  {
    name: 'http'
    instanceCount: alwaysReadyInstanceCount
  }
]

// The service name azd deploys the code to (azure.yaml `services.api`); azd finds the app by this tag.
var azdServiceName = 'api'

// Settings the platform needs, one line each; the SCIM settings come from main.bicep. Flex Consumption
// takes no FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION / WEBSITE_RUN_FROM_PACKAGE: the runtime
// lives in functionAppConfig below.
var platformAppSettings = {
  // Host storage through the managed identity (system-assigned: the account name is enough).
  AzureWebJobsStorage__accountName: storageAccount.name
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  TABLES_ENDPOINT: storageAccount.properties.primaryEndpoints.table
  KEY_VAULT_URL: keyVaultUri
  // Where SCIM_FEED_QUEUE lives when the change feed's push is on (docs/feed.md).
  QUEUES_ENDPOINT: storageAccount.properties.primaryEndpoints.queue
}

// Inbound access restriction: an entry with a '/' is a CIDR range, anything else a service tag
// (e.g. AzureActiveDirectory). Off when the list is empty.
var inboundAllowRules = [for (entry, i) in allowedInboundAddresses: {
  name: 'allow-${i}'
  action: 'Allow'
  priority: 100 + i
  tag: contains(entry, '/') ? 'Default' : 'ServiceTag'
  ipAddress: entry
}]

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux
    zoneRedundant: zoneRedundant
  }
}

resource functionApp 'Microsoft.Web/sites@2024-11-01' = {
  name: functionAppName
  location: location
  tags: union(tags, { 'azd-service-name': azdServiceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // The whole list, every deployment: main.parameters.json is where a setting is changed.
      appSettings: [for setting in items(union(platformAppSettings, scimAppSettings)): {
        name: setting.key
        value: setting.value
      }]
      ipSecurityRestrictions: inboundAllowRules
      ipSecurityRestrictionsDefaultAction: empty(allowedInboundAddresses) ? 'Allow' : 'Deny'
      // The deployment endpoint (SCM) keeps its own, open list: the pipeline's runners have no fixed
      // addresses, and basic publishing credentials are off, so it only takes Entra ID tokens.
      scmIpSecurityRestrictionsUseMain: false
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        // Entra provisions about every 40 minutes; one warm instance keeps each cycle's first
        // requests (Test Connection included) free of cold starts. Billed as a baseline, see docs/deploy.md.
        alwaysReady: alwaysReadyInstanceCount > 0 ? alwaysReadyHttp : []
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Basic (user name/password) publishing is off for FTP and SCM; deployments authenticate with Entra ID.
resource ftpPublishingPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishingPolicy 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output functionAppName string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output principalId string = functionApp.identity.principalId
