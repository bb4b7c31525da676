// Flex Consumption plan (FC1) + Linux function app running the SCIM endpoints on Node 22.
// Identity-based everywhere: host storage, deployment container, Table Storage, Key Vault and
// Application Insights all use the system-assigned identity (roles in rbac.bicep).

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

@description('Table that holds the SCIM data (SCIM_TABLE_NAME).')
param scimTableName string

@description('Key Vault secret that holds the bearer token (SCIM_TOKEN_SECRET_NAME).')
param scimTokenSecretName string

@description('Key Vault secret that holds the change feed token (SCIM_FEED_TOKEN_SECRET_NAME).')
param feedTokenSecretName string

@description('Days the change feed keeps events (SCIM_FEED_RETENTION_DAYS).')
param feedRetentionDays int

@description('Queue the change feed is pushed to (SCIM_FEED_QUEUE); empty = push off.')
param feedQueueName string

@description('Minutes the previous token version stays valid after a rotation (SCIM_TOKEN_GRACE_MINUTES).')
param scimTokenGraceMinutes int

@description('Always-ready instances for the HTTP trigger group (0 = scale to zero, cold starts).')
@minValue(0)
@maxValue(20)
param alwaysReadyInstanceCount int

@description('Upper limit of instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

// Always-ready instances are set per trigger group; all HTTP functions form the group 'http'.
var alwaysReadyHttp = [
  {
    name: 'http'
    instanceCount: alwaysReadyInstanceCount
  }
]

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
  }
}

resource functionApp 'Microsoft.Web/sites@2024-11-01' = {
  name: functionAppName
  location: location
  tags: tags
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
      // Flex Consumption: no FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION /
      // WEBSITE_RUN_FROM_PACKAGE here; the runtime lives in functionAppConfig below.
      appSettings: [
        // Host storage through the managed identity (system-assigned: the account name is enough).
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storageAccount.name
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: applicationInsights.properties.ConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'Authorization=AAD'
        }
        // Settings the SCIM code reads (shared/config.ts).
        {
          name: 'TABLES_ENDPOINT'
          value: storageAccount.properties.primaryEndpoints.table
        }
        {
          name: 'SCIM_TABLE_NAME'
          value: scimTableName
        }
        {
          name: 'KEY_VAULT_URL'
          value: keyVaultUri
        }
        {
          name: 'SCIM_TOKEN_SECRET_NAME'
          value: scimTokenSecretName
        }
        {
          name: 'SCIM_TOKEN_GRACE_MINUTES'
          value: string(scimTokenGraceMinutes)
        }
        // The change feed (docs/feed.md): its token's secret, retention, and push (off while SCIM_FEED_QUEUE is empty).
        {
          name: 'SCIM_FEED_TOKEN_SECRET_NAME'
          value: feedTokenSecretName
        }
        {
          name: 'SCIM_FEED_RETENTION_DAYS'
          value: string(feedRetentionDays)
        }
        {
          name: 'SCIM_FEED_QUEUE'
          value: feedQueueName
        }
        {
          name: 'QUEUES_ENDPOINT'
          value: storageAccount.properties.primaryEndpoints.queue
        }
      ]
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
