#!/usr/bin/env bash
# Uploads the deployment package to the Flex Consumption app (one deploy, Entra ID auth; basic
# publishing credentials are off). The pipeline and the manual path in docs/deploy.md both use it.
# Usage: bash infra/scripts/upload-package.sh <resource-group> <function-app-name> <package.zip>
#
# On a first deployment the platform writes the package to the deployment container with the app's
# brand-new identity seconds after its Storage Blob Data Owner role was granted, and storage answers
# 403 until the role has propagated (Azure/azure-functions-core-tools#4346). So a 403 is retried with
# backoff (UPLOAD_FIRST_WAIT_SECONDS, default 15, doubling up to 120) for at most UPLOAD_RETRY_SECONDS
# of waiting (default 600); any other failure, and a login error, stops at once.
set -euo pipefail
source "$(dirname "$0")/azure-cli-errors.sh"

resource_group="$1"
function_app="$2"
package="$3"
wait_seconds="${UPLOAD_FIRST_WAIT_SECONDS:-15}"
retry_budget="${UPLOAD_RETRY_SECONDS:-600}"
waited=0

while true; do
  if output="$(az functionapp deployment source config-zip --resource-group "$resource_group" --name "$function_app" --src "$package" 2>&1)"; then
    echo "Deployed $(basename "$package") to $function_app."
    exit 0
  fi
  if is_login_error "$output"; then
    echo "The Azure CLI login is missing or expired; log in again right before this step. $(error_excerpt "$output")" >&2
    exit 1
  fi
  if ! is_forbidden "$output"; then
    echo "Deployment failed: $(error_excerpt "$output")" >&2
    exit 1
  fi
  if [ $((waited + wait_seconds)) -gt "$retry_budget" ]; then
    echo "Storage still refuses the app's identity after ${waited}s of retries: check its Storage Blob Data Owner role. $(error_excerpt "$output")" >&2
    exit 1
  fi
  echo "Upload refused with 403 (the app's storage role is probably still propagating); retrying in ${wait_seconds}s."
  sleep "$wait_seconds"
  waited=$((waited + wait_seconds))
  wait_seconds=$((wait_seconds * 2 > 120 ? 120 : wait_seconds * 2))
done
