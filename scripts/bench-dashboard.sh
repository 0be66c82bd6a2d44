#!/usr/bin/env bash
# Benchmark: GET /api/v1/dashboard/kpis over 7 alliances × 10 years × 40
# KPIs with 100 000 activities on PostgreSQL, beside the same queries run
# as raw SQL by pgbench on the same database in the same run (the queries
# the endpoint sends: the grouped activity aggregate, the years' reports
# and entries, platforms and certified members). Figures are quoted as
# ratios; absolute numbers on a shared 2-core machine are noise.
#
#   scripts/bench-dashboard.sh           release build, 15 s per run
#   scripts/bench-dashboard.sh --smoke   debug build, 2 s per run
#
# Environment: see scripts/bench-lib.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release; secs="${BENCH_SECONDS:-15}"; conns="${BENCH_CONNECTIONS:-8}"
if [ "${1:-}" = "--smoke" ]; then profile=dev; secs=2; fi
threads=2
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v pgbench >/dev/null || { echo "pgbench is needed (PostgreSQL client tools)" >&2; exit 1; }

name=dash
source scripts/bench-lib.sh
export DATABASE_URL="$pg_url" ALLIANCE_JWT_SECRET="$secret"
"$bin" seed >/dev/null

echo "loading 100 000 activities, 40 KPIs, 70 report years…"
psql "$pg_url" -q -v ON_ERROR_STOP=1 <<'SQL'
-- 22 more KPIs (40 in all): a third entered by hand, a third counting
-- activities of a kind, a third summing person-times.
INSERT INTO kpi_definitions (code, name_zh, unit, direction, value_type, derivation,
                             evidence_required, source, version, created_at, updated_at)
SELECT 'bench_kpi_' || i, '基准指标' || i,
       CASE i % 3 WHEN 2 THEN 'person_times' ELSE 'count' END,
       'increase', 'integer',
       CASE i % 3
         WHEN 0 THEN NULL
         WHEN 1 THEN '{"source":"activity_count","activity_kind":"'
                     || (ARRAY['council_meeting','training','joint_research','order_class','competition','exchange'])[1 + i % 6] || '"}'
         ELSE '{"source":"activity_figure","activity_kind":"'
              || (ARRAY['training','exchange'])[1 + i % 2] || '","figure":"person_times"}'
       END,
       false, 'benchmark', 1, now(), now()
FROM generate_series(1, 22) AS i;

-- 100 000 activities over 7 alliances and 2016-2025, figures by kind.
WITH a AS (SELECT array_agg(id ORDER BY slug) AS ids FROM alliances),
g AS (
  SELECT i, (ARRAY['council_meeting','training','joint_research','order_class','competition','exchange'])[1 + i % 6] AS kind,
         2016 + (i / 7) % 10 AS year
  FROM generate_series(1, 100000) AS i
)
INSERT INTO activities (id, alliance_id, kind, title, starts_on, persons, person_times, hours,
                        students, awards, budget_cny, research_status, open_call,
                        resolutions, evidence, version, created_at, updated_at, start_year)
SELECT gen_random_uuid()::text, a.ids[1 + g.i % 7], g.kind, '基准活动' || g.i,
       make_date(g.year, 1 + g.i % 12, 1 + g.i % 28),
       CASE WHEN g.kind <> 'order_class' THEN 10 + g.i % 50 END,
       CASE WHEN g.kind IN ('training', 'exchange') THEN 3 * (10 + g.i % 50) END,
       CASE WHEN g.kind = 'training' THEN 16 END,
       CASE WHEN g.kind = 'order_class' THEN 30 + g.i % 30 END,
       CASE WHEN g.kind = 'competition' THEN g.i % 4 END,
       CASE WHEN g.kind = 'joint_research' THEN 100000 * (1 + g.i % 20) END,
       CASE WHEN g.kind = 'joint_research' THEN 'ongoing' END,
       CASE WHEN g.kind = 'joint_research' THEN g.i % 3 = 0 END,
       '[]', '[]', 1, now(), now(), g.year
FROM g, a;

-- A report for every alliance-year, with a target for every KPI (and an
-- actual for the hand-entered ones).
INSERT INTO annual_reports (id, alliance_id, year, status, version, created_at, updated_at)
SELECT gen_random_uuid()::text, al.id, y, 'draft', 1, now(), now()
FROM alliances al, generate_series(2016, 2025) AS y
ON CONFLICT (alliance_id, year) DO NOTHING;
INSERT INTO kpi_values (report_id, kpi_code, target, actual, note, evidence)
SELECT r.id, k.code, 100 + (abs(hashtext(r.id || k.code)) % 900),
       CASE WHEN k.derivation IS NULL AND k.unit <> 'percent' THEN 100 + (abs(hashtext(k.code || r.id)) % 900)
            WHEN k.unit = 'percent' THEN 90 END,
       NULL, '["https://example.org/evidence.pdf"]'
FROM annual_reports r, kpi_definitions k
ON CONFLICT (report_id, kpi_code) DO UPDATE SET evidence = EXCLUDED.evidence;
UPDATE kpi_values SET target = 95 WHERE kpi_code = 'employment_rate';
ANALYZE;
SQL

RUST_LOG=warn ALLIANCE_ADDR=127.0.0.1:18093 "$bin" & pids+=($!)
wait_for http://127.0.0.1:18093/readyz
admin=$("$bin" token --role admin --ttl 3600)
viewer=$("$bin" token --role viewer --ttl 3600)
api=http://127.0.0.1:18093/api/v1

# Approve 2016-2019 of every alliance through the API (frozen figures are
# half of what the dashboard reads).
echo "approving 28 report years…"
for slug in $(psql "$pg_url" -qAtc "SELECT slug FROM alliances ORDER BY slug"); do
  for year in 2016 2017 2018 2019; do
    for step in submit approve; do
      curl -sf -o /dev/null -X POST -H "Authorization: Bearer $admin" "$api/alliances/$slug/reports/$year/$step" \
        || { echo "$step $slug $year failed" >&2; curl -s -X POST -H "Authorization: Bearer $admin" "$api/alliances/$slug/reports/$year/$step" >&2; exit 1; }
    done
  done
done

url="$api/dashboard/kpis?from_year=2016&to_year=2025"
curl -sf -H "Authorization: Bearer $viewer" "$url" > "$work/board.json"
python3 - "$work/board.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["rows"]
alliances = {r["alliance_slug"] for r in rows}
kpis = {r["kpi_code"] for r in rows}
years = {r["year"] for r in rows}
approved = sum(r["status"] == "approved" for r in rows)
print(f"dashboard: {len(rows)} rows ({len(alliances)} alliances × {len(years)} years × {len(kpis)} KPIs), "
      f"{approved} from approved snapshots, {len(d['totals'])} totals")
assert len(alliances) == 7 and len(years) == 10 and len(kpis) == 40, "the benchmark data did not load"
PY

# The same queries as raw SQL.
cat > "$work/dashboard.sql" <<'SQL'
SELECT alliance_id, start_year, kind, COUNT(*), COUNT(CASE WHEN open_call THEN 1 END),
       CAST(COALESCE(SUM(persons), 0) AS BIGINT), CAST(COALESCE(SUM(person_times), 0) AS BIGINT),
       CAST(COALESCE(SUM(students), 0) AS BIGINT), CAST(COALESCE(SUM(awards), 0) AS BIGINT)
  FROM activities WHERE start_year BETWEEN 2016 AND 2025 GROUP BY alliance_id, start_year, kind;
SELECT id, alliance_id, year, status, snapshot_sha256, approved_figures
  FROM annual_reports WHERE year BETWEEN 2016 AND 2025;
SELECT v.report_id, v.kpi_code, v.target, v.actual FROM kpi_values v
  JOIN annual_reports r ON r.id = v.report_id WHERE r.year BETWEEN 2016 AND 2025;
SELECT alliance_id, kind, opened_on, closed_on FROM platforms
  WHERE opened_on <= DATE '2025-12-31' AND (closed_on IS NULL OR closed_on >= DATE '2016-01-01');
SELECT m.alliance_id, o.id, m.joined_on, m.left_on, o.certification_level, o.certified_on, o.certification_expires_on
  FROM memberships m JOIN organizations o ON o.id = m.organization_id
  WHERE o.certified_on <= DATE '2025-12-31' AND m.joined_on <= DATE '2025-12-31';
SQL

latency() { # median of 21 sequential requests, in ms
  for _ in $(seq 21); do curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $viewer" "$url"; done \
    | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[11]*1000}'
}
api_ms=$(latency)
sql_ms=$(pgbench -n -f "$work/dashboard.sql" -c 1 -j 1 -T "$secs" "$pg_url" 2>/dev/null | awk '/latency average/ {print $4}')
api_rps=$(wrk -t"$threads" -c"$conns" -d"${secs}s" -H "Authorization: Bearer $viewer" "$url" | tee "$work/wrk.log" | awk '/Requests\/sec/ {print $2}')
sql_tps=$(pgbench -n -f "$work/dashboard.sql" -c "$conns" -j "$threads" -T "$secs" "$pg_url" 2>/dev/null | awk '/^tps/ {print $3; exit}')
# A big screen polling with If-None-Match: 304 until a record changes.
etag=$(curl -sf -D - -o /dev/null -H "Authorization: Bearer $viewer" "$url" | awk -F': ' 'tolower($1) == "etag" {print $2}' | tr -d '\r')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $viewer" -H "If-None-Match: $etag" "$url")" = 304 ] \
  || { echo "polling with If-None-Match did not give 304" >&2; exit 1; }
poll_rps=$(wrk -t"$threads" -c"$conns" -d"${secs}s" -H "Authorization: Bearer $viewer" -H "If-None-Match: $etag" "$url" | tee -a "$work/wrk.log" | awk '/Requests\/sec/ {print $2}')
! grep -q 'Non-2xx' "$work/wrk.log" || { echo "some requests failed:"; cat "$work/wrk.log"; exit 1; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
cat <<REPORT

== GET /dashboard/kpis, 2016-2025, 7 alliances × 10 years × 40 KPIs, 100 000 activities, PostgreSQL, $profile build, $(nproc) cores
| measure                                   | /dashboard/kpis | raw SQL (pgbench) | ratio |
|-------------------------------------------|-----------------|-------------------|-------|
| one client: time per answer (ms, median / average) | $api_ms | $sql_ms | $(ratio "$api_ms" "$sql_ms") |
| $conns connections: answers per second      | $api_rps | $sql_tps | $(ratio "$api_rps" "$sql_tps") |
| $conns connections, polling (304) per second | $poll_rps | $sql_tps | $(ratio "$poll_rps" "$sql_tps") |
REPORT
for v in "$api_ms" "$sql_ms" "$api_rps" "$sql_tps" "$poll_rps"; do
  [ -n "$v" ] || { echo "a run produced no figure" >&2; exit 1; }
done
