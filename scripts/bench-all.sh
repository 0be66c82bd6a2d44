#!/usr/bin/env bash
# The benchmark suite in one command: every workload of docs/PERFORMANCE.md,
# each beside its baseline measured in the same run, then the tables again
# together. Each part seeds its own volume in its own throwaway database.
#
#   scripts/bench-all.sh           release build (about 6 minutes after the build)
#   scripts/bench-all.sh --smoke   debug build, tiny volumes (CI: that it runs)
#
# Parts: bench.sh (GET one alliance vs pgbench -S and a trivial actix
# handler; memory; start-up), bench-writes.sh (creates at 1-32 clients vs
# pgbench -f of their statements; bytes per write), bench-organizations.sh (search vs its SQL in
# pgbench -f), bench-postings.sh (search of 20 000 postings on both engines vs its SQL), bench-dashboard.sh (dashboard vs its SQL), bench-import.sh
# (10 000 members vs COPY), bench_feed.py (draining 100 000 events vs
# reading the table).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
[ -z "$mode" ] || [ "$mode" = --smoke ] || { echo "usage: $0 [--smoke]" >&2; exit 2; }
log=$(mktemp -t alliance-bench-all-XXXXXX)
trap 'rm -f "$log"' EXIT
for part in bench.sh bench-writes.sh bench-organizations.sh bench-postings.sh bench-dashboard.sh bench-import.sh bench_feed.py; do
  echo "### scripts/$part $mode"
  "scripts/$part" $mode 2>&1 | tee -a "$log"
done
echo
echo "### all results ($(date -u +%F), $(nproc) cores${mode:+, smoke run: the figures mean nothing})"
grep -E '^(==|\|)' "$log"
