#!/usr/bin/env bash
# First deployment only: creates the SCIM Secret Token when the Key Vault secret does not exist yet, with
# the same command an admin uses to rotate it. An existing token is left alone (rotation is an admin
# task, docs/operate.md). The value is never printed: an admin reads it from Key Vault for Entra.
#
# Environment: KEY_VAULT_NAME, KEY_VAULT_URL, TOKEN_SECRET_NAME; optional TOKEN_COMMAND (default
# "npm run --silent token --"), TOKEN_ATTEMPTS (default 20) and TOKEN_RETRY_SECONDS (default 30).
# Used by .github/workflows/deploy.yml and by azd (azure.yaml, postdeploy hook).
#
# Waits while Key Vault answers 403 (a role assignment made by the deployment that has not propagated
# yet), bounded by TOKEN_ATTEMPTS; stops at once on a login error, which waiting cannot fix.
set -euo pipefail
source "$(dirname "$0")/azure-cli-errors.sh"

: "${KEY_VAULT_NAME:?}" "${KEY_VAULT_URL:?}" "${TOKEN_SECRET_NAME:?}"
read -r -a token_command <<<"${TOKEN_COMMAND:-npm run --silent token --}"
attempts="${TOKEN_ATTEMPTS:-20}"
retry_seconds="${TOKEN_RETRY_SECONDS:-30}"

for attempt in $(seq 1 "$attempts"); do
  if error="$(az keyvault secret show --vault-name "$KEY_VAULT_NAME" --name "$TOKEN_SECRET_NAME" --query id --output none 2>&1)"; then
    echo "Secret '$TOKEN_SECRET_NAME' exists; not rotating."
    exit 0
  fi
  if is_login_error "$error"; then
    echo "The Azure CLI login is missing or expired; log in again right before this step. $(error_excerpt "$error")" >&2
    exit 1
  fi
  if grep -q SecretNotFound <<<"$error"; then
    # The command prints only the token on stdout (its explanations go to stderr).
    token="$("${token_command[@]}" rotate --vault-url "$KEY_VAULT_URL" --secret-name "$TOKEN_SECRET_NAME" | tail -n 1)"
    if [ "${GITHUB_ACTIONS:-}" = "true" ] && [ -n "$token" ]; then echo "::add-mask::$token"; fi
    if [ -z "$token" ]; then
      echo "The token command printed no token." >&2
      exit 1
    fi
    echo "Created the first version of '$TOKEN_SECRET_NAME'. Read it from Key Vault to paste into Entra (docs/entra.md)."
    exit 0
  fi
  if ! is_forbidden "$error"; then
    echo "Key Vault answered an error that waiting will not fix: $(error_excerpt "$error")" >&2
    exit 1
  fi
  echo "Key Vault refuses access so far (attempt $attempt of $attempts; a new role assignment can take minutes)."
  if [ "$attempt" -lt "$attempts" ]; then sleep "$retry_seconds"; fi
done
echo "Key Vault still refuses access after $attempts attempts: check the deployer's role on the vault (docs/deploy.md)." >&2
exit 1
