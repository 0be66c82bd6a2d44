#!/usr/bin/env bash
# Benchmark: GET /api/v1/organizations?limit=100&q=科技 over 5 000
# organisations and 20 000 memberships on PostgreSQL, beside the same two
# queries the endpoint sends (the filtered page, then the page's external
# references) run as raw SQL by `pgbench -f` in the same run.
#
#   scripts/bench-organizations.sh           release build, 15 s per run
#   scripts/bench-organizations.sh --smoke   debug build, 2 s per run
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release; secs="${BENCH_SECONDS:-15}"; conns="${BENCH_CONNECTIONS:-32}"
if [ "${1:-}" = "--smoke" ]; then profile=dev; secs=2; fi
threads=2
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v pgbench >/dev/null || { echo "pgbench is needed" >&2; exit 1; }

name=orgs
source scripts/bench-lib.sh
export DATABASE_URL="$pg_url" ALLIANCE_JWT_SECRET="$secret"
"$bin" seed --without-demo-figures >/dev/null

psql "$pg_url" -q -v ON_ERROR_STOP=1 <<'SQL'
-- 5 000 organisations (a seventh of them "科技" companies), each a member
-- of four alliances: 20 000 memberships.
INSERT INTO organizations (id, slug, kind, name_zh, name_en, version, created_at, updated_at, former_names)
SELECT gen_random_uuid()::text, 'bench-org-' || i, 'enterprise',
       '天津' || (ARRAY['科技','医药','海工','信创','数字','能源','物流'])[1 + i % 7] || '有限公司' || i,
       'Tianjin Bench Company ' || i, 1, now(), now(), '[]'
FROM generate_series(1, 5000) AS i;
INSERT INTO organization_refs (organization_id, system, external_id)
SELECT id, 'bench-hr', slug FROM organizations WHERE slug LIKE 'bench-org-%';
WITH a AS (SELECT array_agg(id ORDER BY slug) AS ids FROM alliances),
o AS (SELECT id, row_number() OVER (ORDER BY slug) AS n FROM organizations WHERE slug LIKE 'bench-org-%')
INSERT INTO memberships (id, alliance_id, organization_id, role, status, joined_on, version, created_at, updated_at)
SELECT gen_random_uuid()::text, a.ids[1 + (o.n + k) % 7], o.id, 'member', 'active', DATE '2024-01-01', 1, now(), now()
FROM o, a, generate_series(0, 3) AS k;
ANALYZE;
SQL
echo "organisations: $(psql "$pg_url" -qAtc 'SELECT count(*) FROM organizations'), memberships: $(psql "$pg_url" -qAtc 'SELECT count(*) FROM memberships')"

RUST_LOG=warn ALLIANCE_ADDR=127.0.0.1:18095 "$bin" & pids+=($!)
wait_for http://127.0.0.1:18095/readyz
token=$("$bin" token --role viewer --ttl 3600)
url="http://127.0.0.1:18095/api/v1/organizations?limit=100&q=%E7%A7%91%E6%8A%80"
items=$(curl -sf -H "Authorization: Bearer $token" "$url" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
[ "$items" = 100 ] || { echo "the list gave $items items, not 100" >&2; exit 1; }

# The page's query, then its references by the page's ids (the endpoint
# sends the ids it just read; here they are read once beforehand).
filter="name_zh LIKE '%科技%' ESCAPE '\\' OR former_names LIKE '%科技%' ESCAPE '\\'
    OR lower(name_en) LIKE '%科技%' ESCAPE '\\' OR slug LIKE '%科技%' ESCAPE '\\'"
ids=$(psql "$pg_url" -qAtc "SELECT string_agg(quote_literal(id), ',') FROM (SELECT id FROM organizations WHERE $filter ORDER BY id LIMIT 100) p")
cat > "$work/orgs.sql" <<SQL
SELECT id, slug, kind, name_zh, name_en, uscc, region, website, version, created_at, updated_at,
       certification_level, certified_on, certification_expires_on, former_names
  FROM organizations WHERE $filter ORDER BY id LIMIT 101;
SELECT organization_id, system, external_id FROM organization_refs WHERE organization_id IN ($ids);
SQL
api_rps=$(wrk -t"$threads" -c"$conns" -d"${secs}s" -H "Authorization: Bearer $token" "$url" | tee "$work/wrk.log" | awk '/Requests\/sec/ {print $2}')
sql_tps=$(pgbench -n -f "$work/orgs.sql" -c "$conns" -j "$threads" -T "$secs" "$pg_url" 2>/dev/null | awk '/^tps/ {print $3; exit}')
! grep -q 'Non-2xx' "$work/wrk.log" || { echo "some requests failed:"; cat "$work/wrk.log"; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
cat <<REPORT

== GET /api/v1/organizations?limit=100&q=科技, 5 000 organisations, 20 000 memberships, PostgreSQL, $profile build, $conns connections, ${secs}s
| workload | per second | ratio |
|---|---|---|
| the endpoint (wrk) | $api_rps | $(ratio "$api_rps" "$sql_tps") |
| its two queries (pgbench -f) | $sql_tps | 1.00 |
REPORT
[ -n "$api_rps" ] && [ -n "$sql_tps" ] || { echo "a run produced no figure" >&2; exit 1; }
