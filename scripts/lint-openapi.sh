#!/usr/bin/env bash
# Lints openapi/openapi.json with Redocly's recommended rules; fails on
# errors. Installs @redocly/cli into a cache folder on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="${ALLIANCE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/alliance-api-tools}"
if [ ! -x "$tools/node_modules/.bin/redocly" ]; then
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error @redocly/cli@2 >/dev/null
fi
"$tools/node_modules/.bin/redocly" lint openapi/openapi.json --format=summary 2>&1 | grep -vE 'Node\.js|nodejs\.org|^ *[║╔╚]|^$' || true
"$tools/node_modules/.bin/redocly" lint openapi/openapi.json --format=summary >/dev/null 2>&1
