#!/usr/bin/env python3
"""Drain throughput of the change feed: N events read through
GET /api/v1/changes (pages of 1000), beside reading the same rows straight
from the database in the same run (psql COPY for PostgreSQL, Python's
sqlite3 for SQLite). Release build; prints events/s for each.

    scripts/bench_feed.py [--events 100000] [--pg postgres://postgres@127.0.0.1:5432/postgres] [--smoke]
"""
import argparse, json, os, sqlite3, subprocess, tempfile, time, urllib.request

SECRET = "bench-secret-bench-secret-bench-secret-00"
PAYLOAD = ('{"id":"%s","slug":"org-%d","kind":"enterprise","name_zh":"天津滨海测试企业有限公司","name_en":"Binhai Test Co., Ltd.",'
           '"uscc":null,"region":"天津经济技术开发区","website":"https://example.org/","external_refs":[],"version":%d,'
           '"created_at":"2026-11-24T00:00:00Z","updated_at":"2026-11-24T00:00:00Z"}')

def run(cmd, env=None, **kw):
    return subprocess.run(cmd, check=True, env={**os.environ, **(env or {})}, **kw)

def drain(base, token, expect):
    after, seen, start = "0", 0, time.perf_counter()
    while True:
        req = urllib.request.Request(f"{base}/api/v1/changes?after={after}&limit=1000", headers={"Authorization": f"Bearer {token}"})
        page = json.load(urllib.request.urlopen(req))
        if not page["items"]:
            break
        seen += len(page["items"])
        after = page["next_cursor"]
    elapsed = time.perf_counter() - start
    assert seen == expect, (seen, expect)
    return elapsed

def serve(binary, url, port):
    env = {"DATABASE_URL": url, "ALLIANCE_JWT_SECRET": SECRET, "ALLIANCE_ADDR": f"127.0.0.1:{port}", "RUST_LOG": "warn", "ALLIANCE_DEMO_SEED": "off",
           # Rate limits on, but out of reach: the run measures their cost.
           "ALLIANCE_RATE_LIMIT_PER_TOKEN": "1000000000", "ALLIANCE_RATE_LIMIT_PER_ADDRESS": "1000000000"}
    proc = subprocess.Popen([binary], env={**os.environ, **env})
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz"); break
        except Exception:
            time.sleep(0.05)
    token = run([binary, "token", "--role", "admin"], env=env, capture_output=True, text=True).stdout.strip()
    return proc, token

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--pg", default=os.environ.get("BENCH_DATABASE_URL", os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")))
    ap.add_argument("--smoke", action="store_true", help="debug build, 2 000 events (CI: it runs)")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    profile, target = ("dev", "debug") if a.smoke else ("release", "release")
    if a.smoke:
        a.events = 2_000
    run(["cargo", "build", "-q", "--profile", profile, "--bin", "alliance-api"], cwd=root)
    binary = os.path.join(root, f"target/{target}/alliance-api")
    n, rows = a.events, []
    results = []

    # SQLite
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "feed.db")
        run([binary, "migrate"], env={"DATABASE_URL": path}, capture_output=True)
        db = sqlite3.connect(path)
        # Written with their feed positions, as the sequencer leaves them.
        db.executemany("INSERT INTO change_events (at, event_type, resource_type, resource_id, alliance_id, version, payload, actor, position) "
                       "VALUES ('2026-11-24 00:00:00', 'organization.updated', 'organization', ?, NULL, ?, ?, 'bench', ?)",
                       ((f"org-{i}", i, PAYLOAD % (f"org-{i}", i, i), i) for i in range(1, n + 1)))
        db.commit()
        start = time.perf_counter()
        raw = db.execute("SELECT seq, at, event_type, resource_type, resource_id, alliance_id, version, payload, actor FROM change_events ORDER BY position").fetchall()
        raw_s = time.perf_counter() - start
        assert len(raw) == n
        db.close()
        proc, token = serve(binary, path, 18180)
        try:
            api_s = drain("http://127.0.0.1:18180", token, n)
        finally:
            proc.terminate(); proc.wait()
        results.append(("SQLite", raw_s, api_s))

    # PostgreSQL
    name = f"alliance_feed_{os.getpid()}"
    admin = a.pg
    url = admin.rsplit("/", 1)[0] + "/" + name
    run(["psql", admin, "-qc", f"CREATE DATABASE {name}"])
    try:
        run([binary, "migrate"], env={"DATABASE_URL": url}, capture_output=True)
        payload_sql = PAYLOAD.replace("'", "''").replace('"%s"', '"\'||\'org-\'||g||\'"').replace("org-%d", "org-'||g||'").replace("%d", "'||g||'")
        run(["psql", url, "-qc", "INSERT INTO change_events (at, event_type, resource_type, resource_id, alliance_id, version, payload, actor, position) "
             f"SELECT now(), 'organization.updated', 'organization', 'org-'||g, NULL, g, '{payload_sql}', 'bench', g FROM generate_series(1,{n}) g"])
        run(["psql", url, "-qc", "VACUUM ANALYZE change_events"])
        start = time.perf_counter()
        run(["psql", url, "-qc", "COPY (SELECT * FROM change_events ORDER BY position) TO STDOUT"], stdout=subprocess.DEVNULL)
        raw_s = time.perf_counter() - start
        proc, token = serve(binary, url, 18181)
        try:
            api_s = drain("http://127.0.0.1:18181", token, n)
        finally:
            proc.terminate(); proc.wait()
        results.append(("PostgreSQL", raw_s, api_s))
    finally:
        run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])

    print(f"\n== drain {n} change events: GET /api/v1/changes?limit=1000 (one client, sequential) vs reading the table directly")
    print("| engine | direct read (events/s) | API drain (events/s) | API / direct |")
    print("|---|---|---|---|")
    for engine, raw_s, api_s in results:
        print(f"| {engine} | {n / raw_s:,.0f} | {n / api_s:,.0f} | {raw_s / api_s:.2f} |")

if __name__ == "__main__":
    main()
