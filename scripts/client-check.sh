#!/usr/bin/env bash
# Generates the Python and TypeScript clients from the committed
# openapi/openapi.json with pinned generators, fails on any generator
# warning, type-checks the TypeScript scenario (tsc --strict), and runs both
# scenarios against a live server (a fresh SQLite store with the demo data).
# Installs the generators from PyPI and npm on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools="${ALLIANCE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/alliance-api-tools}"
venv="$tools/client-venv"
if ! "$venv/bin/python" -c 'import authlib, openpyxl' 2>/dev/null ||
   ! cmp -s clients/python/requirements.txt "$venv/requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r clients/python/requirements.txt
  cp clients/python/requirements.txt "$venv/requirements.txt"
fi
(cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

work=$(mktemp -d -t alliance-clients-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work" clients/typescript/generated' EXIT

echo "== openapi-python-client"
PATH="$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate --path openapi/openapi.json \
  --meta none --output-path "$work/python/alliance_client" 2>&1 | tee "$work/python.log"
if grep -qiE 'warning|error' "$work/python.log"; then
  echo "CLIENT CHECK FAILED: openapi-python-client warned" >&2; exit 1
fi

echo "== @hey-api/openapi-ts"
(cd clients/typescript && npx openapi-ts 2>&1) | tee "$work/ts.log"
if grep -qiE 'warn|error' "$work/ts.log"; then
  echo "CLIENT CHECK FAILED: openapi-ts warned" >&2; exit 1
fi
echo "== tsc --noEmit --strict"
(cd clients/typescript && npx tsc --noEmit --strict -p .)

echo "== scenarios against a live server"
cargo build -q --bin alliance-api
port=$((20000 + RANDOM % 20000))
export DATABASE_URL="$work/clients.db"
RUST_LOG=warn ALLIANCE_ADDR="127.0.0.1:$port" target/debug/alliance-api >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$work/server.log"; exit 1; }
export ALLIANCE_URL="http://127.0.0.1:$port"
ADMIN_TOKEN=$(target/debug/alliance-api token --role admin)
REVIEWER_TOKEN=$(target/debug/alliance-api token --role reviewer)
VIEWER_TOKEN=$(target/debug/alliance-api token --role viewer)
export ADMIN_TOKEN REVIEWER_TOKEN VIEWER_TOKEN
PYTHONPATH="$work/python" "$venv/bin/python" clients/python/scenario.py
(cd clients/typescript && npx tsx scenario.ts)
