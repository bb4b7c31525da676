// Alerts for the moments provisioning breaks, from the lines the app writes to Application Insights
// (docs/logs.md): a burst of 401s (Entra holds a wrong token and will quarantine the job), 5xx/503
// answers, failed Key Vault reads, and a group-delete sweep that does not finish. One action group
// mails them. Log search alert rules: https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-types

@description('Action group name.')
param actionGroupName string

@description('Azure region of the alert rules.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Application Insights component whose traces the rules query.')
param applicationInsightsName string

@description('E-mail addresses the action group notifies. Empty: no action group; the alerts still show in the portal.')
param alertEmailAddresses array = []

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmailAddresses)) {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    enabled: true
    groupShortName: 'scim-alerts' // at most 12 characters; shown in SMS and e-mail subjects
    emailReceivers: [for (address, i) in alertEmailAddresses: {
      name: 'email-${i}'
      emailAddress: address
      useCommonAlertSchema: true
    }]
  }
}

// The per-request summary line: `scim request {json}` (shared/http/scimEndpoint.ts).
var scimRequests = 'traces | where message startswith "scim request " | extend s = parse_json(substring(message, strlen("scim request "))) | extend status = toint(s.status)'

// Each rule counts the rows its query returns over the window and fires at `threshold` or more.
var rules = [
  {
    name: 'unauthorized-burst'
    displayName: 'SCIM: burst of 401 answers (Entra holds a wrong token)'
    description: 'Requests refused with 401. Entra quarantines the provisioning job on repeated credential failures: paste the current token (npm run token -- status; docs/operate.md).'
    severity: 1
    windowSize: 'PT15M'
    threshold: 5
    query: '${scimRequests} | where status == 401'
  }
  {
    name: 'server-errors'
    displayName: 'SCIM: 5xx and 503 answers'
    description: '503 means Key Vault or storage was unreachable (Entra retries); 500 is an unexpected error, see exceptions by invocationId (docs/operate.md).'
    severity: 2
    windowSize: 'PT15M'
    threshold: 3
    query: '${scimRequests} | where status >= 500'
  }
  {
    name: 'key-vault-read-failures'
    displayName: 'SCIM: the app cannot read its token from Key Vault'
    description: 'A token refresh from Key Vault failed (role, firewall or outage). Once the cached token is gone every request answers 503.'
    severity: 1
    windowSize: 'PT15M'
    threshold: 1
    // shared/auth/keyVaultTokenVerifier.ts: `SCIM token: reading secret '…' from Key Vault failed (…)`.
    query: 'traces | where message startswith "SCIM token: reading secret " and message has "from Key Vault failed"'
  }
  {
    name: 'group-delete-sweep-stuck'
    displayName: 'SCIM: group-delete sweep does not finish'
    description: 'For an hour every SweepDeletedGroups run left groups unfinished (usually storage throttling); their membership rows linger (docs/operate.md).'
    severity: 3
    windowSize: 'PT1H'
    threshold: 1
    // functions/SweepDeletedGroups.ts: `group delete sweep {json}` once per run (every 5 minutes).
    query: 'traces | where message startswith "group delete sweep " | extend s = parse_json(substring(message, strlen("group delete sweep "))) | summarize runs = count(), unfinished = countif(toint(s.groupsRemaining) > 0) | where runs >= 6 and unfinished == runs'
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for rule in rules: {
  name: 'scim-${rule.name}-${uniqueString(applicationInsights.id)}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: rule.displayName
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: rule.windowSize
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: 'Count'
          operator: 'GreaterThanOrEqual'
          threshold: rule.threshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: empty(alertEmailAddresses) ? [] : [
        actionGroup.id
      ]
    }
  }
}]
