#!/usr/bin/env bash
# The outside probe of issue 15 against a release build on a new SQLite demo
# store: hostile spreadsheets (status, latency, RSS), two zip bombs at once
# with /healthz timed meanwhile, 40 refused uploads that stall their bodies,
# and reads timed during a flood of wrong client secrets beside the same
# reads alone (scripts/probe_release.py prints the tables).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release name=probe
. scripts/bench-lib.sh

env RUST_LOG=warn DATABASE_URL="$work/probe.db" ALLIANCE_JWT_SECRET="$secret" \
  ALLIANCE_ADDR=127.0.0.1:18191 "$bin" & pids+=($!)
wait_for http://127.0.0.1:18191/healthz
token() { DATABASE_URL="$work/probe.db" ALLIANCE_JWT_SECRET="$secret" "$bin" token --ttl 3600 "$@" 2>/dev/null; }
python3 scripts/probe_release.py http://127.0.0.1:18191 "${pids[-1]}" \
  "$(token --role secretariat --alliance teda-biomedicine)" \
  "$(token --role viewer)" "$(token --role admin)"
