#!/usr/bin/env bash
# Benchmark: the search of postings, GET /api/v1/alliances/teda-biomedicine/
# postings?limit=50&q=细胞药物, over 20 000 postings of one alliance (a
# seventh of them naming 细胞药物) on PostgreSQL (trigram index) and SQLite
# (a scan of the alliance's postings), beside the page's two queries (the
# filtered page, then its organisations) run by `pgbench -f` in the same run,
# and the list without `q` on both engines.
#
#   scripts/bench-postings.sh           release build, 10 s per run
#   scripts/bench-postings.sh --smoke   debug build, 1 s per run, 700 postings
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release; secs="${BENCH_SECONDS:-10}"; conns="${BENCH_CONNECTIONS:-16}"; count=20000
if [ "${1:-}" = "--smoke" ]; then profile=dev; secs=1; count=700; fi
threads=2
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v pgbench >/dev/null || { echo "pgbench is needed" >&2; exit 1; }

name=postings
source scripts/bench-lib.sh
export ALLIANCE_JWT_SECRET="$secret" RUST_LOG=warn
DATABASE_URL="$pg_url" "$bin" seed --without-demo-figures >/dev/null
DATABASE_URL="$work/postings.db" "$bin" seed --without-demo-figures >/dev/null

# The same rows on both engines: published talent demands of teda's
# members, every seventh about cell therapy (细胞药物), in both languages.
rows() {
  python3 - "$count" "$1" <<'PY'
import sys, uuid, datetime
count, alliance, members = int(sys.argv[1]), *sys.argv[2].split("|", 1)
members = members.split(",")
topics = [("细胞药物", "cell therapy"), ("疫苗", "vaccines"), ("抗体", "antibodies"), ("制剂", "formulation"),
          ("质量检验", "quality control"), ("发酵", "fermentation"), ("医疗器械", "medical devices")]
now = datetime.datetime(2026, 3, 1, 8, 0, 0)
for i in range(count):
    zh, en = topics[i % len(topics)]
    title_zh, title_en = f"{zh}岗位{i}", f"{en} position {i}"
    search = " ".join([title_zh, title_en, "生物制药技术"]).lower()  # one line of the TSV
    at = (now + datetime.timedelta(seconds=i)).isoformat(sep=" ")
    print("\t".join([str(uuid.uuid7()) if hasattr(uuid, "uuid7") else f"0195{i:028x}", alliance, members[i % len(members)],
        "talent", "published", title_zh, title_en, '["生物制药技术"]', "3", '{}', "[]", "false", at, search, "1", at, at]))
PY
}
cols="id, alliance_id, organization_id, kind, status, title_zh, title_en, majors, headcount, details, attachments, public, published_at, search_text, version, created_at, updated_at"
pg_members=$(psql "$pg_url" -qAtc "SELECT a.id || '|' || string_agg(m.organization_id, ',') FROM alliances a JOIN memberships m ON m.alliance_id = a.id WHERE a.slug = 'teda-biomedicine' GROUP BY a.id")
rows "$pg_members" | psql "$pg_url" -q -v ON_ERROR_STOP=1 -c "COPY postings ($cols) FROM STDIN"
psql "$pg_url" -qAtc "ANALYZE postings" >/dev/null
sqlite_members=$(sqlite3 "$work/postings.db" "SELECT a.id || '|' || group_concat(m.organization_id, ',') FROM alliances a JOIN memberships m ON m.alliance_id = a.id WHERE a.slug = 'teda-biomedicine' GROUP BY a.id")
rows "$sqlite_members" > "$work/rows.tsv"
sqlite3 "$work/postings.db" <<SQL
CREATE TEMP TABLE staged ($cols);
.mode tabs
.import $work/rows.tsv staged
INSERT INTO postings ($cols) SELECT id, alliance_id, organization_id, kind, status, title_zh, title_en, majors,
  CAST(headcount AS INTEGER), details, attachments, 0, published_at, search_text, 1, created_at, updated_at FROM staged;
SQL
echo "postings: $(psql "$pg_url" -qAtc 'SELECT count(*) FROM postings') (PostgreSQL), $(sqlite3 "$work/postings.db" 'SELECT count(*) FROM postings') (SQLite)"

DATABASE_URL="$pg_url" ALLIANCE_ADDR=127.0.0.1:18098 "$bin" & pids+=($!)
DATABASE_URL="$work/postings.db" ALLIANCE_ADDR=127.0.0.1:18099 "$bin" & pids+=($!)
wait_for http://127.0.0.1:18098/readyz
wait_for http://127.0.0.1:18099/readyz
token=$(DATABASE_URL="$pg_url" "$bin" token --role viewer --ttl 3600)
path="/api/v1/alliances/teda-biomedicine/postings?limit=50"
search="$path&q=%E7%BB%86%E8%83%9E%E8%8D%AF%E7%89%A9"
for port in 18098 18099; do
  items=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port$search" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
  [ "$items" = 50 ] || { echo "the search gave $items items on port $port, not 50" >&2; exit 1; }
done

# The page's queries as the service sends them (from its statement log):
# the filtered page, then the page's organisations.
alliance_id=${pg_members%%|*}
filter="alliance_id = '$alliance_id' AND search_text LIKE '%细胞药物%' ESCAPE '\\'"
orgs=$(psql "$pg_url" -qAtc "SELECT string_agg(DISTINCT quote_literal(organization_id), ',') FROM (SELECT organization_id FROM postings WHERE $filter ORDER BY id LIMIT 51) p")
cat > "$work/search.sql" <<SQL
SELECT id, alliance_id, organization_id, kind, status, close_reason, title_zh, title_en, description_zh, description_en,
       majors, level, region, headcount, opens_on, closes_on, details, attachments, external_ref, public, review_comment,
       published_at, search_text, version, created_at, updated_at
  FROM postings WHERE $filter ORDER BY id LIMIT 51;
SELECT id, slug, kind, name_zh, name_en, version FROM organizations WHERE id IN ($orgs);
SQL
plan=$(psql "$pg_url" -qAtc "EXPLAIN SELECT id FROM postings WHERE $filter ORDER BY id LIMIT 51" | grep -oE 'Index Scan using [a-z_]+|Bitmap Index Scan on [a-z_]+|Seq Scan on [a-z_]+' | head -2 | paste -sd ';')
run() { wrk -t"$threads" -c"$conns" -d"${secs}s" -H "Authorization: Bearer $token" "$1" | tee "$work/wrk.log" | awk '/Requests\/sec/ {print $2}'; ! grep -q 'Non-2xx' "$work/wrk.log"; }
pg_search=$(run "http://127.0.0.1:18098$search")
sqlite_search=$(run "http://127.0.0.1:18099$search")
pg_list=$(run "http://127.0.0.1:18098$path")
sqlite_list=$(run "http://127.0.0.1:18099$path")
sql_tps=$(pgbench -n -f "$work/search.sql" -c "$conns" -j "$threads" -T "$secs" "$pg_url" 2>/dev/null | awk '/^tps/ {print $3; exit}')
[ -n "$pg_search" ] && [ -n "$sqlite_search" ] && [ -n "$sql_tps" ] || { echo "a run produced no figure" >&2; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
cat <<REPORT

== GET …/postings?limit=50&q=细胞药物, $count postings in one alliance, $profile build, $conns connections, ${secs}s (PostgreSQL plan: $plan)
| workload | PostgreSQL, per second | vs pgbench | SQLite, per second |
|---|---|---|---|
| the search (wrk) | $pg_search | $(ratio "$pg_search" "$sql_tps") | $sqlite_search |
| its two queries (pgbench -f) | $sql_tps | 1.00 | |
| the list without q (wrk) | $pg_list | $(ratio "$pg_list" "$sql_tps") | $sqlite_list |
REPORT
