# Sourced by the scripts/bench*.sh after they set `profile` (release or dev)
# and `name` (one word for the work directory and the database), and
# optionally `build_also` (more cargo targets): builds the binary, makes a
# work directory and a throwaway PostgreSQL database, and on exit stops
# every process in `pids` and removes both.
#
# Environment: BENCH_DATABASE_URL (or TEST_DATABASE_URL) names a PostgreSQL
# server where the script may create and drop a database.

# Rate limits on, but out of reach: the runs measure their cost, not refusals.
export ALLIANCE_RATE_LIMIT_PER_TOKEN=1000000000 ALLIANCE_RATE_LIMIT_PER_ADDRESS=1000000000
pg_admin="${BENCH_DATABASE_URL:-${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
secret="bench-secret-bench-secret-bench-secret-00"

echo "building ($profile)…"
cargo build -q --profile "$profile" --bin alliance-api ${build_also[@]+"${build_also[@]}"}
target_dir=target/$([ "$profile" = dev ] && echo debug || echo release)
bin="$target_dir/alliance-api"

work=$(mktemp -d -t "alliance-$name-XXXXXX")
bench_db="alliance_${name}_$$"
pids=()
cleanup() {
  for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$pg_admin" -qAtc "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
pg_url="${pg_admin%/*}/$bench_db"
psql "$pg_admin" -qAtc "CREATE DATABASE $bench_db" >/dev/null

# Waits up to 10 s for a URL to answer 2xx.
wait_for() {
  for _ in $(seq 100); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done
  echo "no answer from $1" >&2
  exit 1
}

# Stops the process started last.
stop_last() {
  kill "${pids[-1]}"
  wait "${pids[-1]}" 2>/dev/null || true
  unset 'pids[-1]'
}
