// Storage account for three things, all reached with the function app's managed identity (no keys):
// the Functions host storage (AzureWebJobsStorage__accountName), the Flex Consumption deployment
// container, and the SCIM table (users, groups and membership edges in one table).

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param storageAccountName string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Zone-redundant storage (Standard_ZRS), required by a zone-redundant Flex plan; otherwise Standard_LRS.')
param zoneRedundant bool = false

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Table that holds the SCIM data (SCIM_TABLE_NAME).')
@minLength(3)
@maxLength(63)
param scimTableName string

@description('Queue the change feed is pushed to (SCIM_FEED_QUEUE); empty = push off, no queue.')
param feedQueueName string = ''

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    // ZRS keeps three copies in three zones, so host storage, the package and the SCIM table survive a
    // zone outage together with the zone-redundant plan; LRS keeps them in one datacenter.
    name: zoneRedundant ? 'Standard_ZRS' : 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Entra ID only: the host, the deployment and the SCIM store all use the managed identity.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    dnsEndpointType: 'Standard'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: storageAccount
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2024-01-01' = {
  parent: storageAccount
  name: 'default'
}

resource scimTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2024-01-01' = {
  parent: tableService
  name: scimTableName
}

// The change feed's push target (docs/feed.md): created only when push is on.
resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2024-01-01' = if (!empty(feedQueueName)) {
  parent: storageAccount
  name: 'default'
}

resource feedQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2024-01-01' = if (!empty(feedQueueName)) {
  parent: queueService
  name: feedQueueName
}

output storageAccountName string = storageAccount.name
output deploymentContainerName string = deploymentContainer.name
output scimTableName string = scimTable.name
output feedQueueName string = feedQueueName
