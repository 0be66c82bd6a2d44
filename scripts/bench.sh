#!/usr/bin/env bash
# Benchmark: GET /api/v1/alliances/{slug} with a bearer token, on SQLite and
# on PostgreSQL, beside two baselines measured in the same run on the same
# machine: `pgbench -S` (one indexed row by primary key) on the same
# PostgreSQL server, and a trivial actix handler returning a 2 KB body.
# Figures are quoted as ratios to those baselines; absolute numbers on a
# shared 2-core machine are noise.
#
#   scripts/bench.sh           release build, 15 s per run, 32 connections
#   scripts/bench.sh --smoke   debug build, 1 s per run (CI: it runs, no timings judged)
#
# Environment: BENCH_DATABASE_URL (or TEST_DATABASE_URL) names a PostgreSQL
# server where the script may create and drop a database; BENCH_DURATION,
# BENCH_CONNECTIONS override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release; duration="${BENCH_DURATION:-15s}"; conns="${BENCH_CONNECTIONS:-32}"
if [ "${1:-}" = "--smoke" ]; then profile=dev; duration=1s; fi
threads=2
slug="teda-biomedicine"

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; })
  fi
  command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
fi
command -v pgbench >/dev/null || { echo "pgbench is needed (PostgreSQL client tools)" >&2; exit 1; }

name=bench; build_also=(--example baseline)
source scripts/bench-lib.sh
baseline="$target_dir/examples/baseline"

rps() { awk '/Requests\/sec/ {print $2}'; }
run_wrk() { wrk -t"$threads" -c"$conns" -d"$duration" --latency "$@" | tee -a "$work/wrk.log" | rps; }

# 1. Trivial actix handler.
"$baseline" 127.0.0.1:18090 & pids+=($!)
wait_for http://127.0.0.1:18090/static
base_rps=$(run_wrk http://127.0.0.1:18090/static)

# 2. The service on SQLite (demo data loaded on first start), timed from
# launch to ready: once on a new store (migrations and demo data), once on
# the same store again.
ready_ms() { # launch to /readyz 200, polled every 10 ms
  local t0; t0=$(date +%s%N)
  for _ in $(seq 3000); do curl -sf "$1" >/dev/null 2>&1 && { echo $(( ($(date +%s%N) - t0) / 1000000 )); return; }; sleep 0.01; done
  echo "no answer from $1" >&2; exit 1
}
sqlite_env=(RUST_LOG=warn DATABASE_URL="$work/bench.db" ALLIANCE_JWT_SECRET="$secret" ALLIANCE_ADDR=127.0.0.1:18091)
env "${sqlite_env[@]}" "$bin" & first=$!
fresh_ms=$(ready_ms http://127.0.0.1:18091/readyz)
kill "$first"; wait "$first" 2>/dev/null || true
env "${sqlite_env[@]}" "$bin" & pids+=($!)
restart_ms=$(ready_ms http://127.0.0.1:18091/readyz)
sqlite_pid=${pids[-1]}
token=$(DATABASE_URL="$work/bench.db" ALLIANCE_JWT_SECRET="$secret" "$bin" token --role viewer --ttl 3600)
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:18091/api/v1/alliances/$slug" | grep -q "\"slug\":\"$slug\"" \
  || { echo "the SQLite service did not answer the benchmarked request" >&2; exit 1; }
sqlite_rps=$(run_wrk -H "Authorization: Bearer $token" "http://127.0.0.1:18091/api/v1/alliances/$slug")

# 3. The service on PostgreSQL.
DATABASE_URL="$pg_url" ALLIANCE_JWT_SECRET="$secret" "$bin" seed >/dev/null 2>&1
RUST_LOG=warn DATABASE_URL="$pg_url" ALLIANCE_JWT_SECRET="$secret" ALLIANCE_ADDR=127.0.0.1:18092 "$bin" & pids+=($!)
wait_for http://127.0.0.1:18092/readyz
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:18092/api/v1/alliances/$slug" | grep -q "\"slug\":\"$slug\"" \
  || { echo "the PostgreSQL service did not answer the benchmarked request" >&2; exit 1; }
pg_rps=$(run_wrk -H "Authorization: Bearer $token" "http://127.0.0.1:18092/api/v1/alliances/$slug")
pg_pid=${pids[-1]}
# Peak resident memory of each service process after its load run.
peak_mib() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
sqlite_rss=$(peak_mib "$sqlite_pid"); pg_rss=$(peak_mib "$pg_pid")

# 4. pgbench -S on the same server (its own tables in the bench database).
pgbench -q -i -s 1 "$pg_url" >/dev/null 2>&1
secs=${duration%s}
pgbench_tps=$(pgbench -S -n -c "$conns" -j "$threads" -T "$secs" "$pg_url" 2>/dev/null | awk '/^tps/ {print $3; exit}')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
cat <<REPORT

== GET /api/v1/alliances/$slug with a JWT: $conns connections, $duration each, wrk -t$threads, $(nproc) cores, $profile build
| workload                                  | req/s (tps) | vs pgbench -S | vs trivial actix |
|-------------------------------------------|-------------|---------------|------------------|
| trivial actix handler, 2 KB static body   | $base_rps | $(ratio "$base_rps" "$pgbench_tps") | 1.00 |
| pgbench -S (one row by primary key)       | $pgbench_tps | 1.00 | $(ratio "$pgbench_tps" "$base_rps") |
| alliance-api on SQLite                    | $sqlite_rps | $(ratio "$sqlite_rps" "$pgbench_tps") | $(ratio "$sqlite_rps" "$base_rps") |
| alliance-api on PostgreSQL                | $pg_rps | $(ratio "$pg_rps" "$pgbench_tps") | $(ratio "$pg_rps" "$base_rps") |
REPORT
cat <<REPORT

| measure                                   | SQLite | PostgreSQL | goal |
|-------------------------------------------|--------|------------|------|
| peak RSS after the load run (MiB)         | $sqlite_rss | $pg_rss | ≤ 64 |
| launch to ready, new store with demo data (ms) | $fresh_ms | – | – |
| launch to ready, existing store (ms)      | $restart_ms | – | ≤ 1000 |
REPORT
for v in "$base_rps" "$sqlite_rps" "$pg_rps" "$pgbench_tps"; do
  [ -n "$v" ] || { echo "a run produced no figure; see wrk output above" >&2; exit 1; }
done
errors=$(grep -c 'Non-2xx' "$work/wrk.log" || true)
[ "$errors" = 0 ] || { echo "some requests failed:"; grep 'Non-2xx' "$work/wrk.log"; exit 1; }
