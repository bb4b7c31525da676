// Role assignments. The function app's system-assigned identity gets exactly what the SCIM service
// needs; the admins get the token (Key Vault Secrets Officer on this vault only); the deployment
// pipeline gets no more than its token bootstrap needs (see the two deployer assignments below).

@description('Principal (object) id of the function app\'s system-assigned identity.')
param appPrincipalId string

@description('Storage account that holds host storage, the deployment container and the SCIM table.')
param storageAccountName string

@description('Key Vault that holds the bearer-token secret.')
param keyVaultName string

@description('Application Insights component the app reports to.')
param applicationInsightsName string

@description('Key in the vault that signs OAuth access tokens.')
param oauthSigningKeyName string

@description('Name of the bearer-token secret (SCIM_TOKEN_SECRET_NAME).')
param scimTokenSecretName string

@description('Queue the change feed is pushed to; empty = push off, no assignment.')
param feedQueueName string = ''

@description('Object ids of the admins who read, rotate and revoke the token.')
param adminPrincipalIds array = []

@description('Type of the adminPrincipalIds.')
@allowed([
  'User'
  'Group'
])
param adminPrincipalType string = 'Group'

@description('Object id of the deployment pipeline\'s service principal. Empty = no assignment.')
param deployerPrincipalId string = ''

@description('Whether the token secret exists already: then the pipeline may only read it.')
param scimTokenSecretExists bool = false

// Built-in role definition ids (the same in every tenant).
// Storage Blob Data Owner: host storage (AzureWebJobsStorage) and the Flex deployment container.
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Storage Table Data Contributor: read and write the SCIM table.
var storageTableDataContributorRoleId = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// Key Vault Secrets User: read the bearer-token secret.
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
// Key Vault Crypto User: read the OAuth signing key's public half and sign with it (scoped to that key).
var keyVaultCryptoUserRoleId = '12338af0-0e69-4776-bea7-57ae8d297424'
// Key Vault Secrets Officer: create, rotate and disable versions of the bearer-token secret.
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
// Monitoring Metrics Publisher: send telemetry to Application Insights with Entra ID auth.
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'
// Storage Queue Data Message Sender: push change feed events to the feed queue (only that queue).
var storageQueueDataMessageSenderRoleId = 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'

// Only while the secret does not exist: a role cannot be scoped to a secret that is not there yet, and
// no built-in role narrower than Secrets Officer may create one. The pipeline deletes this assignment
// once the token exists (output deployerBootstrapAssignmentId).
var deployerBootstraps = !empty(deployerPrincipalId) && !scimTokenSecretExists
// Afterwards: read that one secret for the smoke test, nothing else in the vault.
var deployerReadsToken = !empty(deployerPrincipalId) && scimTokenSecretExists

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource keyVault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

resource tokenSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' existing = {
  parent: keyVault
  name: scimTokenSecretName
}

resource oauthSigningKey 'Microsoft.KeyVault/vaults/keys@2024-11-01' existing = {
  parent: keyVault
  name: oauthSigningKeyName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2024-01-01' existing = {
  parent: storageAccount
  name: 'default'
}

// Named only when push is on: the assignment below is skipped otherwise.
resource feedQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2024-01-01' existing = {
  parent: queueService
  name: empty(feedQueueName) ? 'none' : feedQueueName
}

resource appStorageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, appPrincipalId, storageBlobDataOwnerRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appStorageTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, appPrincipalId, storageTableDataContributorRoleId)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageTableDataContributorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appKeyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, appPrincipalId, keyVaultSecretsUserRoleId)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appKeyVaultCryptoUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(oauthSigningKey.id, appPrincipalId, keyVaultCryptoUserRoleId)
  scope: oauthSigningKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultCryptoUserRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appMonitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appPrincipalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appFeedQueueMessageSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(feedQueueName)) {
  name: guid(feedQueue.id, appPrincipalId, storageQueueDataMessageSenderRoleId)
  scope: feedQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataMessageSenderRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource adminKeyVaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for adminPrincipalId in adminPrincipalIds: {
  name: guid(keyVault.id, adminPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: adminPrincipalId
    principalType: adminPrincipalType
  }
}]

resource deployerTokenBootstrap 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployerBootstraps) {
  name: guid(keyVault.id, deployerPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: deployerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerTokenReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (deployerReadsToken) {
  name: guid(tokenSecret.id, deployerPrincipalId, keyVaultSecretsUserRoleId)
  scope: tokenSecret
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: deployerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output deployerBootstrapAssignmentId string = deployerBootstraps ? deployerTokenBootstrap.id : ''
