#!/usr/bin/env bash
# The wall time of the README's test command in a checkout, as issue 16
# measured it: warm the build (`cargo test --no-run`), touch every source
# and test file (so the crate and its test binaries are rebuilt and
# relinked, the dependencies are not), then time `cargo test` on both
# engines. Prints the wall time and how many test binaries ran.
#
#   scripts/test-time.sh [DIR]      (DIR: a checkout; default: this one)
#
# Compare two checkouts one after the other on a quiet machine, e.g. a
# clone of an older commit in /tmp/base and this one.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export ALLIANCE_REQUIRE_POSTGRES=1
log=$(mktemp)
cargo test --no-run >/dev/null 2>&1
find src tests -name '*.rs' -exec touch {} +
start=$(date +%s.%N)
cargo test >"$log" 2>&1
end=$(date +%s.%N)
printf 'cargo test: %.1f s wall, %s test binaries run, %s tests passed\n' \
  "$(echo "$end - $start" | bc)" \
  "$(grep -c '^     Running' "$log")" \
  "$(grep -cE '^test .* ok$' "$log")"
