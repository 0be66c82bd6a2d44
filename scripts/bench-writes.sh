#!/usr/bin/env bash
# Benchmark: POST /api/v1/alliances/teda-biomedicine/activities (a training
# with figures) at 1, 4, 16 and 32 clients on PostgreSQL and SQLite, beside
# `pgbench -f` of the statements that create runs (scripts/bench-writes.sql,
# taken from the server's statement log) at the same concurrency in the same
# run; and first the bytes each write leaves behind (tables and WAL) over
# 1 000 `PUT …/kpis/2025` and 1 000 activity creates.
#
#   scripts/bench-writes.sh           release build, 10 s per run
#   scripts/bench-writes.sh --smoke   debug build, 1 s per run, 50 writes
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release; secs="${BENCH_SECONDS:-10}"; writes=1000
if [ "${1:-}" = "--smoke" ]; then profile=dev; secs=1; writes=50; fi
clients=(${BENCH_CLIENTS:-1 4 16 32})
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v pgbench >/dev/null || { echo "pgbench is needed" >&2; exit 1; }

name=writes
source scripts/bench-lib.sh
export ALLIANCE_JWT_SECRET="$secret" RUST_LOG=warn
DATABASE_URL="$pg_url" "$bin" seed >/dev/null
DATABASE_URL="$pg_url" ALLIANCE_ADDR=127.0.0.1:18096 "$bin" & pids+=($!)
DATABASE_URL="$work/writes.db" ALLIANCE_ADDR=127.0.0.1:18097 "$bin" & pids+=($!)
wait_for http://127.0.0.1:18096/readyz
wait_for http://127.0.0.1:18097/readyz
token=$(DATABASE_URL="$pg_url" "$bin" token --role secretariat --alliance teda-biomedicine --subject bench-writer --ttl 3600)
path=/api/v1/alliances/teda-biomedicine/activities
body='{"kind":"training","title":"2025年生物医药骨干教师培训班","starts_on":"2025-07-14","ends_on":"2025-07-18","figures":{"persons":40,"person_times":200,"hours":32}}'
cat > "$work/create.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
for port in 18096 18097; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$port$path")
  [ "$code" = 201 ] || { echo "the create answered $code on port $port" >&2; exit 1; }
done

# The create's statements, with the alliance and year of the request.
alliance_id=$(psql "$pg_url" -qAtc "SELECT id FROM alliances WHERE slug = 'teda-biomedicine'")
sed "s/:alliance_id/'$alliance_id'/g" scripts/bench-writes.sql > "$work/create.sql"

# Bytes per write: tables and WAL on PostgreSQL, the file and its WAL on
# SQLite, before and after a run of sequential writes.
pg_bytes() { psql "$pg_url" -qAtc "SELECT sum(pg_total_relation_size(oid)) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"; }
pg_lsn() { psql "$pg_url" -qAtc "SELECT pg_current_wal_lsn()"; }
sqlite_bytes() { du -cb "$work"/writes.db* | awk 'END {print $1}'; }
# The year's whole catalogue, as a secretariat enters it: a target, a note
# and a link for every KPI, and a new actual each time for the hand-entered.
kpi_body=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:18096/api/v1/kpi-definitions?limit=100" | python3 -c '
import json, sys
entries = []
for k in json.load(sys.stdin)["items"]:
    e = {"code": k["code"], "target": 100, "note": "年度目标", "evidence": ["https://example.org/2025/" + k["code"]]}
    if k.get("derivation") is None:
        e["actual"] = "@"
    entries.append(e)
print(json.dumps({"kpis": entries}, ensure_ascii=False).replace("\"@\"", "{i}"))')
measure() { # label method path body
  local before_t before_w before_s
  before_t=$(pg_bytes); before_w=$(pg_lsn); before_s=$(sqlite_bytes)
  python3 - "$2" "$3" "$4" "$token" "$writes" <<'PY'
import http.client, sys
method, path, body, token, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
for port in (18096, 18097):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(n):
        # A new figure each time: an unchanged year is not written at all.
        conn.request(method, path, body.replace("{i}", str(1 + i % 90)).encode(), {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        r = conn.getresponse(); r.read()
        if r.status not in (200, 201):
            sys.exit(f"{method} {path} answered {r.status} on {port}")
PY
  local tables wal sqlite
  tables=$(( $(pg_bytes) - before_t ))
  wal=$(psql "$pg_url" -qAtc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$before_w')::bigint")
  sqlite=$(( $(sqlite_bytes) - before_s ))
  bytes_rows+=("| $1 | $(printf %s "$4" | wc -c) | $(( tables / writes )) | $(( wal / writes )) | $(( sqlite / writes )) |")
}
bytes_rows=()
# The year first, while 2025 holds only the demo records (a derived
# figure's provenance lists every record it counts).
measure "PUT …/kpis/2025" PUT /api/v1/alliances/teda-biomedicine/kpis/2025 "$kpi_body"
measure "POST …/activities" POST "$path" "$body"

# Median and 99th percentile from wrk --latency, in ms.
latency() { awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.1f", v }' "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
rows=()
for c in "${clients[@]}"; do
  t=$(( c < 2 ? 1 : 2 ))
  for port in 18096 18097; do
    wrk -t"$t" -c"$c" -d"${secs}s" --latency -s "$work/create.lua" "http://127.0.0.1:$port$path" > "$work/wrk-$port-$c.log"
    ! grep -q 'Non-2xx' "$work/wrk-$port-$c.log" || { echo "some creates failed:"; cat "$work/wrk-$port-$c.log"; exit 1; }
  done
  pg_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-18096-$c.log")
  sqlite_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-18097-$c.log")
  sql_tps=$(pgbench -n -f "$work/create.sql" -c "$c" -j "$t" -T "$secs" "$pg_url" 2>/dev/null | awk '/^tps/ {print $3; exit}')
  [ -n "$pg_rps" ] && [ -n "$sqlite_rps" ] && [ -n "$sql_tps" ] || { echo "a run produced no figure" >&2; exit 1; }
  [ "$c" = "${clients[0]}" ] && first_pg=$pg_rps
  rows+=("| $c | $pg_rps | $(ratio "$pg_rps" "$first_pg") | $(latency 50% "$work/wrk-18096-$c.log") / $(latency 99% "$work/wrk-18096-$c.log") | $sql_tps | $(ratio "$pg_rps" "$sql_tps") | $sqlite_rps | $(latency 50% "$work/wrk-18097-$c.log") / $(latency 99% "$work/wrk-18097-$c.log") |")
done

cat <<REPORT

== POST $path, a training with figures, $profile build, $(nproc) cores, ${secs}s per run
| clients | PostgreSQL req/s | vs ${clients[0]} client(s) | p50 / p99 ms | pgbench -f same statements, tps | ratio | SQLite req/s | p50 / p99 ms |
|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${rows[@]}")
REPORT


cat <<REPORT

== bytes left per write, over $writes sequential writes each (SQLite: the file and its WAL; request body in bytes)
| write | request body | PostgreSQL tables | PostgreSQL WAL | SQLite |
|---|---|---|---|---|
$(printf '%s\n' "${bytes_rows[@]}")
REPORT
