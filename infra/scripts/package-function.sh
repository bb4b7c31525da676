#!/usr/bin/env bash
# Builds the Flex Consumption deployment package, the same for the pipeline and a manual deploy:
#   host.json + package.json + the bundle (dist/bundle/*.js: index.js and the files it loads on first use,
#   infra/scripts/bundle.mjs).
# No node_modules: every production dependency is inside the bundle, and @azure/functions-core, the one
# module left out of it, is provided by the Functions worker. No sources, tests, benches or dev tools.
# The source maps are written next to the zip (sourcemaps/), not into it: kept to read production stack traces.
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
mkdir -p "$pkg/dist/bundle" "$out/sourcemaps"

npm run --silent bundle
cp dist/bundle/*.js "$pkg/dist/bundle/"
cp dist/bundle/*.js.map "$out/sourcemaps/"
cp host.json "$pkg/"
# package.json for the host, which reads only "main" from it: the dependencies are in the bundle, so none
# are listed (nothing should try to install them).
node -e '
  const { name, version, description, license, main, engines } = require("./package.json");
  process.stdout.write(JSON.stringify({ name, version, description, license, private: true, main, engines }, null, 2) + "\n");
' > "$pkg/package.json"

main="$(node -p 'require("./package.json").main')"
test -f "$pkg/host.json" && test -f "$pkg/$main"
(cd "$pkg" && zip -q -X -r ../scim-functions.zip .)
echo "$out/scim-functions.zip"
