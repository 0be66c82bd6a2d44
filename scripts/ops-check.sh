#!/usr/bin/env bash
# The operator's checks, on a throwaway PostgreSQL of its own (so stopping
# it harms nothing else):
#   1. a load run of 5 000 requests (ab), then /metrics: the route's count
#      is exactly 5 000;
#   2. PostgreSQL stopped under load: /readyz goes 503 within its 2 s
#      bound, API requests get 503 problems with Retry-After within 2 s
#      (never 500, never a hang); started again: the first request succeeds
#      within 1 s, without a restart. Prints how long each took.
#
#   scripts/ops-check.sh            debug build (CI)
#   scripts/ops-check.sh --release
set -euo pipefail
# Rate limits on, but out of reach: the run is not about them.
export ALLIANCE_RATE_LIMIT_PER_TOKEN=1000000000 ALLIANCE_RATE_LIMIT_PER_ADDRESS=1000000000
cd "$(dirname "$0")/.."
profile=dev; [ "${1:-}" = "--release" ] && profile=release
command -v ab >/dev/null || { echo "ab is needed: apt-get install apache2-utils" >&2; exit 1; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pgbin/initdb" ] || { echo "initdb is needed (PostgreSQL server package)" >&2; exit 1; }

cargo build -q --profile "$profile" --bin alliance-api
bin=target/$([ "$profile" = dev ] && echo debug || echo release)/alliance-api

work=$(mktemp -d -t alliance-ops-XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres "$work"; as_pg=(runuser -u postgres --); fi
port=55433
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  "${as_pg[@]}" "$pgbin/pg_ctl" -s -D "$work/db" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
pg_start() { "${as_pg[@]}" "$pgbin/pg_ctl" -s -D "$work/db" -l "$work/pg.log" -o "-p $port -k $work -c listen_addresses=127.0.0.1" -w start; }
"${as_pg[@]}" "$pgbin/initdb" -D "$work/db" -U postgres -A trust >/dev/null
pg_start

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
export ALLIANCE_JWT_SECRET="ops-check-secret-ops-check-secret-0123"
"$bin" seed >/dev/null
app_port=18094
RUST_LOG=warn ALLIANCE_ADDR=127.0.0.1:$app_port ALLIANCE_DB_POOL_SIZE=4 "$bin" 2>"$work/service.log" & pid=$!
base=http://127.0.0.1:$app_port
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
token=$("$bin" token --role viewer --ttl 3600)
url="$base/api/v1/alliances/teda-biomedicine"

# 1. Load, then the count: ApacheBench sends an exact number of requests
# (wrk stops mid-flight, so its count is short by what was in flight).
n=5000; conns=8
ab -q -k -n "$n" -c "$conns" -H "Authorization: Bearer $token" "$url" > "$work/ab.log"
sent=$(awk '/^Complete requests:/ {print $3}' "$work/ab.log")
failed=$(awk '/^Failed requests:/ {print $3}' "$work/ab.log")
non2xx=$(awk '/^Non-2xx responses:/ {print $3}' "$work/ab.log"); non2xx=${non2xx:-0}
counted=$(curl -sf "$base/metrics" | awk '/^alliance_http_requests_total\{method="GET",route="\/api\/v1\/alliances\/\{id\}",status="200"\}/ {print $2}')
echo "ab completed $sent requests ($failed failed, $non2xx non-2xx); /metrics counts $counted for GET /api/v1/alliances/{id} with 200"
[ "$sent" = "$n" ] && [ "$failed" = 0 ] && [ "$non2xx" = 0 ] || { echo "the load run had failures" >&2; exit 1; }
[ "$counted" = "$n" ] || { echo "/metrics counts $counted, the load tool $n" >&2; exit 1; }

# 2. PostgreSQL goes away under load, then comes back. Each answer's
# status and time are kept; the bounds (issue 15): while the database is
# unreachable a 503 within 2 s, /readyz's 503 within its 2 s bound, and the
# first request after the database is back a success within 1 s.
load() {
  while :; do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 15 \
      -H "Authorization: Bearer $token" "$url"
  done
}
load > "$work/codes" & loader=$!
sleep 1
t0=$(date +%s.%N)
"${as_pg[@]}" "$pgbin/pg_ctl" -s -D "$work/db" -m fast stop
unready=""; readyz_slowest=0
for _ in $(seq 300); do
  read -r code took < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 15 "$base/readyz")
  readyz_slowest=$(awk -v a="$readyz_slowest" -v b="$took" 'BEGIN {print (b > a ? b : a)}')
  if [ "$code" = 503 ]; then unready=$(date +%s.%N); break; fi
  sleep 0.1
done
[ -n "$unready" ] || { echo "/readyz never went unready" >&2; exit 1; }
sleep 2
for _ in 1 2 3 4 5; do
  read -r code took < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 15 "$base/readyz")
  readyz_slowest=$(awk -v a="$readyz_slowest" -v b="$took" 'BEGIN {print (b > a ? b : a)}')
  [ "$code" = 503 ] || { echo "/readyz answered $code while PostgreSQL was down" >&2; exit 1; }
done
problem=$(curl -s -D "$work/headers" -w ' %{http_code}' --max-time 15 -H "Authorization: Bearer $token" "$url")
case "$problem" in
  *'"status":503'*' 503') ;;
  *) echo "while PostgreSQL is down the API answered: $problem" >&2; exit 1 ;;
esac
grep -qi '^retry-after:' "$work/headers" || { echo "the 503 has no Retry-After" >&2; exit 1; }
kill "$loader" 2>/dev/null || true; wait "$loader" 2>/dev/null || true
t1=$(date +%s.%N)
pg_start
up=$(date +%s.%N)
first_ok=""
for _ in $(seq 300); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 15 -H "Authorization: Bearer $token" "$url")" = 200 ]; then
    first_ok=$(date +%s.%N); break
  fi
done
[ -n "$first_ok" ] || { echo "no success after PostgreSQL came back" >&2; exit 1; }
ready=""
for _ in $(seq 600); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 15 "$base/readyz")" = 200 ]; then ready=$(date +%s.%N); break; fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "/readyz did not come back" >&2; exit 1; }
codes=$(awk '{print $1}' "$work/codes" | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')
slowest_503=$(awk '$1 == 503 && $2 > m {m = $2} END {printf "%.2f", m}' "$work/codes")
since() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
echo "PostgreSQL stopped: /readyz unready after $(since "$t0" "$unready") s; its slowest answer $readyz_slowest s"
echo "while down: the slowest 503 took $slowest_503 s (answers to the load: $codes)"
echo "PostgreSQL started (accepting after $(since "$t1" "$up") s): first success $(since "$up" "$first_ok") s later; /readyz ready $(since "$up" "$ready") s later, without a restart"
if grep -qv '^\(200\|503\) ' "$work/codes"; then
  echo "some answers were neither 200 nor 503" >&2; exit 1
fi
ok() { awk -v v="$1" -v max="$2" 'BEGIN {exit !(v <= max)}'; }
ok "$slowest_503" 2.0 || { echo "a 503 took $slowest_503 s (bound 2 s)" >&2; exit 1; }
ok "$readyz_slowest" 2.0 || { echo "/readyz took $readyz_slowest s (bound 2 s)" >&2; exit 1; }
ok "$(since "$up" "$first_ok")" 1.0 || { echo "the first success came $(since "$up" "$first_ok") s after PostgreSQL was back (bound 1 s)" >&2; exit 1; }
echo "ops-check passed"
