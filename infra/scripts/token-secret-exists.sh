#!/usr/bin/env bash
# Prints "true" when this environment's Key Vault already holds the SCIM token secret, "false" when it
# does not (or there is no vault yet). Asks Azure Resource Manager only, so Reader on the resource group
# is enough. The deployment uses the answer to give the pipeline its narrow Key Vault grant
# (infra/app/rbac.bicep: create the first version, or afterwards only read that one secret).
# Usage: bash infra/scripts/token-secret-exists.sh <resource-group> <environment-name> <secret-name>
set -euo pipefail
source "$(dirname "$0")/azure-cli-errors.sh"

resource_group="$1"
environment_name="$2"
secret_name="$3"

# The vault carries the template's tags (infra/main.bicep: application=scim, environment=<name>).
vault_id="$(az keyvault list --resource-group "$resource_group" \
  --query "[?tags.application=='scim' && tags.environment=='$environment_name'].id | [0]" --output tsv)"
if [ -z "$vault_id" ]; then
  echo false
  exit 0
fi

if error="$(az resource show --ids "$vault_id/secrets/$secret_name" --query id --output tsv 2>&1 >/dev/null)"; then
  echo true
elif grep -qE 'NotFound' <<<"$error" && ! is_login_error "$error"; then
  echo false
else
  echo "Could not look up the token secret: $(error_excerpt "$error")" >&2
  exit 1
fi
