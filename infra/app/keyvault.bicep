// Key Vault for the SCIM bearer token (secret SCIM_TOKEN_SECRET_NAME). The token value is never a
// template parameter or output: the pipeline or an admin writes it (see docs/deploy.md), so it does
// not end up in the deployment history.

@description('Key Vault name (3-24 characters).')
@minLength(3)
@maxLength(24)
param keyVaultName string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Log Analytics workspace that receives the vault\'s audit log.')
param logAnalyticsWorkspaceId string

resource keyVault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Azure RBAC, not access policies (older API versions default to access policies).
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Cannot be switched off again once on; a deleted vault keeps its name for the retention period.
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// Audit log (category AuditEvent): every read, write and failed attempt on the token, with the caller's
// identity and address, in the resource-specific table AZKVAuditLogs (docs/operate.md has the queries).
// https://learn.microsoft.com/azure/key-vault/general/logging
resource auditToLogAnalytics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: keyVault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}

output keyVaultName string = keyVault.name
output keyVaultUri string = keyVault.properties.vaultUri
