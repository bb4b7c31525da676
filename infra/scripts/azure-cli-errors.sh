# Sourced by the deployment scripts: what an Azure CLI error message means for a retry loop.
# Each function reads the CLI's captured stderr from its first argument.

# The CLI is not logged in, or its federated (OIDC) login expired and cannot be renewed
# (Azure/azure-cli#28708): retrying cannot help, log in again (azure/login) and rerun.
is_login_error() {
  grep -qE 'AADSTS[0-9]+|az login|ExpiredAuthenticationToken|InvalidAuthenticationToken|No subscription found|Refresh token has expired' <<<"$1"
}

# Refused for lack of a role: right after a deployment usually a role assignment that has not
# propagated yet (Key Vault data roles, the app identity's Storage Blob Data Owner).
is_forbidden() {
  grep -qE '403|Forbidden|ForbiddenByRbac|not authorized|AuthorizationPermissionMismatch|AuthorizationFailure' <<<"$1"
}

# A short, single-paragraph excerpt of an error for the log (never a secret: these are CLI messages).
error_excerpt() {
  tr '\n' ' ' <<<"$1" | cut -c1-400
}
