#!/usr/bin/env bash
# Benchmark: importing 10 000 members from CSV (each row registers a new
# organisation with a USCC and an external reference, and admits it), on
# PostgreSQL and on SQLite, beside PostgreSQL's own `COPY` of the rows the
# import wrote, in the same run:
#   - the member data: the organisations, their references and memberships;
#   - everything the import wrote: those plus the audit records and change
#     events.
# The COPY baseline loads into empty copies of the tables with the same
# indexes and constraints (`LIKE … INCLUDING ALL`).
#
#   scripts/bench-import.sh           release build, 10 000 rows
#   scripts/bench-import.sh --smoke   debug build, 300 rows (CI: it runs)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release; rows="${BENCH_ROWS:-10000}"
if [ "${1:-}" = "--smoke" ]; then profile=dev; rows=300; fi
alliance="teda-biomedicine"

name=import
source scripts/bench-lib.sh

# The file: valid USCCs (check character computed), one reference each.
python3 - "$rows" > "$work/members.csv" <<'PY'
import sys
alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
def uscc(n):
    body = "911201167" + format(n, "08d")
    s = sum(alphabet.index(c) * w for c, w in zip(body, weights))
    return body + alphabet[(31 - s % 31) % 31]
print("slug,kind,name_zh,name_en,uscc,region,website,external_ref,role,joined_on,note")
for i in range(1, int(sys.argv[1]) + 1):
    print(f"bench-member-{i},enterprise,天津滨海测试企业{i}有限公司,Tianjin Bench Member {i} Co.,"
          f"{uscc(i)},天津经济技术开发区,https://member{i}.example.cn/,bench-hr:M-{i},member,2025-03-01,")
PY
echo "file: $rows rows, $(du -k "$work/members.csv" | cut -f1) KiB"

# POSTs the file and prints the milliseconds the request took.
import_ms() { # url token
  local out
  out=$(curl -s -o "$work/report.json" -w '%{http_code} %{time_total}' \
    -H "Authorization: Bearer $2" -H 'Content-Type: text/csv' \
    --data-binary @"$work/members.csv" "$1/api/v1/alliances/$alliance/imports/members")
  [ "${out%% *}" = 200 ] || { echo "the import answered ${out%% *}: $(head -c 600 "$work/report.json")" >&2; exit 1; }
  python3 - "$work/report.json" "$rows" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert r["organizations_created"] == n and r["memberships_created"] == n and not r["conflicts"], r
PY
  awk -v t="${out#* }" 'BEGIN { printf "%.0f", t * 1000 }'
}
serve() { # database-url port
  DATABASE_URL="$1" ALLIANCE_JWT_SECRET="$secret" "$bin" seed --without-demo-figures >/dev/null
  RUST_LOG=warn DATABASE_URL="$1" ALLIANCE_JWT_SECRET="$secret" ALLIANCE_ADDR="127.0.0.1:$2" "$bin" & pids+=($!)
  wait_for "http://127.0.0.1:$2/readyz"
}
token=$(DATABASE_URL="$work/token.db" ALLIANCE_JWT_SECRET="$secret" "$bin" token --role admin --ttl 3600)

serve "$work/bench.db" 18096
sqlite_ms=$(import_ms http://127.0.0.1:18096 "$token")
stop_last
serve "$pg_url" 18097
audit_mark=$(psql "$pg_url" -qAtc 'SELECT coalesce(max(id), 0) FROM audit_records')
event_mark=$(psql "$pg_url" -qAtc 'SELECT coalesce(max(seq), 0) FROM change_events')
pg_ms=$(import_ms http://127.0.0.1:18097 "$token")
stop_last
[ "$(psql "$pg_url" -qAtc "SELECT count(*) FROM memberships m JOIN organizations o ON o.id = m.organization_id WHERE o.slug LIKE 'bench-member-%'")" = "$rows" ] \
  || { echo "the PostgreSQL import did not leave $rows memberships" >&2; exit 1; }

# The baseline: COPY the rows the import wrote into empty copies of their
# tables, one psql process per table set, timed from launch to exit.
member_tables=(organizations organization_refs memberships membership_changes)
all_tables=("${member_tables[@]}" audit_records change_events)
bench_orgs="SELECT id FROM organizations WHERE slug LIKE 'bench-member-%'"
bench_memberships="SELECT id FROM memberships WHERE organization_id IN ($bench_orgs)"
declare -A written_by=(
  [organizations]="SELECT * FROM organizations WHERE id IN ($bench_orgs)"
  [organization_refs]="SELECT * FROM organization_refs WHERE organization_id IN ($bench_orgs)"
  [memberships]="SELECT * FROM memberships WHERE id IN ($bench_memberships)"
  [membership_changes]="SELECT * FROM membership_changes WHERE membership_id IN ($bench_memberships)"
  [audit_records]="SELECT * FROM audit_records WHERE id > $audit_mark"
  [change_events]="SELECT * FROM change_events WHERE seq > $event_mark"
)
for t in "${all_tables[@]}"; do
  psql "$pg_url" -qAt -v ON_ERROR_STOP=1 >/dev/null <<SQL
\copy (${written_by[$t]}) TO '$work/$t.copy'
CREATE TABLE copy_$t (LIKE $t INCLUDING ALL);
SQL
done
copy_ms() { # tables…
  local script="" t0
  for t in "$@"; do script+="\\copy copy_$t FROM '$work/$t.copy'"$'\n'; done
  psql "$pg_url" -qAtc "TRUNCATE $(printf 'copy_%s,' "$@" | sed 's/,$//')" >/dev/null
  t0=$(date +%s%N)
  printf '%s' "$script" | psql "$pg_url" -qAt -v ON_ERROR_STOP=1 >/dev/null
  echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
present=()
for t in "${member_tables[@]}"; do [ -s "$work/$t.copy" ] && present+=("$t"); done
member_copy_ms=$(copy_ms "${present[@]}")
all_copy_ms=$(copy_ms "${all_tables[@]}")
written=$(for t in "${all_tables[@]}"; do wc -l < "$work/$t.copy"; done | awk "{s += \$1} END {print s}")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
cat <<REPORT

== import $rows members (CSV, new organisations): $profile build, $(nproc) cores; the import wrote $written rows in all
| workload                                        | ms    | vs COPY of the member rows | vs COPY of all rows written |
|-------------------------------------------------|-------|----------------------------|-----------------------------|
| COPY of the member rows (${present[*]}) | $member_copy_ms | 1.0 | – |
| COPY of every row the import wrote              | $all_copy_ms | $(ratio "$all_copy_ms" "$member_copy_ms") | 1.0 |
| import on PostgreSQL                            | $pg_ms | $(ratio "$pg_ms" "$member_copy_ms") | $(ratio "$pg_ms" "$all_copy_ms") |
| import on SQLite                                | $sqlite_ms | $(ratio "$sqlite_ms" "$member_copy_ms") | $(ratio "$sqlite_ms" "$all_copy_ms") |
REPORT
