// Key Vault for the SCIM bearer token (secret SCIM_TOKEN_SECRET_NAME), the OAuth client secret (secret
// SCIM_OAUTH_CLIENT_SECRET_NAME) and the key that signs OAuth access tokens (SCIM_OAUTH_SIGNING_KEY_NAME).
// No secret value is ever a template parameter or output: the token command writes them (see
// docs/deploy.md), so they do not end up in the deployment history. The signing key is generated inside
// Key Vault and its private half never leaves it.

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

@description('Key that signs OAuth access tokens (SCIM_OAUTH_SIGNING_KEY_NAME).')
param oauthSigningKeyName string

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

// RSA 2048 for RS256 signatures, usable for sign/verify only and never exportable. ARM creates the first
// version only if the key does not exist yet and never touches an existing key, so redeploying neither
// rotates nor resets it. The rotation policy makes a new version every year; the app keeps accepting
// tokens of the previous version for one token lifetime (docs/operate.md).
// https://learn.microsoft.com/azure/key-vault/keys/how-to-configure-key-rotation
resource oauthSigningKey 'Microsoft.KeyVault/vaults/keys@2024-11-01' = {
  parent: keyVault
  name: oauthSigningKeyName
  tags: tags
  properties: {
    kty: 'RSA'
    keySize: 2048
    keyOps: [
      'sign'
      'verify'
    ]
    attributes: {
      enabled: true
      exportable: false
    }
    rotationPolicy: {
      lifetimeActions: [
        {
          trigger: {
            timeAfterCreate: 'P1Y'
          }
          action: {
            type: 'rotate'
          }
        }
      ]
      attributes: {
        expiryTime: 'P2Y'
      }
    }
  }
}

output keyVaultName string = keyVault.name
output keyVaultUri string = keyVault.properties.vaultUri
output oauthSigningKeyName string = oauthSigningKey.name
