#!/usr/bin/env bash
# Builds the Flex Consumption deployment package, the same for the pipeline and a manual deploy:
#   dist/ (compiled functions + shared code) + host.json + package.json + production node_modules.
# Usage: bash infra/scripts/package-function.sh [output-dir]   (a new or empty directory; default: a temp dir)
# Writes <output-dir>/scim-functions.zip and prints its path on the last line.
set -euo pipefail
cd "$(dirname "$0")/../.."

out="${1:-$(mktemp -d)}"
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  echo "output directory $out is not empty" >&2
  exit 2
fi
out="$(mkdir -p "$out" && cd "$out" && pwd)"
pkg="$out/package"
mkdir -p "$pkg"

npm run build
cp -R dist "$pkg/dist"
# Only what the host loads ("main": "dist/functions/*.js" and what it imports); no tests, benches, dev tools or maps.
rm -rf "$pkg/dist/test" "$pkg/dist/bench" "$pkg/dist/dev"
find "$pkg/dist" -name '*.js.map' -delete
cp host.json package.json package-lock.json "$pkg/"

# Production dependencies only. Optional ones (Core Tools) are a developer convenience, not runtime code.
(cd "$pkg" && npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund)

test -f "$pkg/host.json" && ls "$pkg"/dist/functions/*.js >/dev/null
(cd "$pkg" && zip -qr ../scim-functions.zip .)
echo "$out/scim-functions.zip"
