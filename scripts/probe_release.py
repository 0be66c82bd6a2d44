#!/usr/bin/env python3
"""The outside probe's shapes against a running release build (issue 15):
hostile spreadsheets (status, latency, the process's RSS), two zip bombs at
once with /healthz timed meanwhile, 40 refused uploads that never finish
their bodies, and a flood of wrong client secrets with reads timed
meanwhile, beside the same reads without the flood (the baseline, in the
same run).

    probe_release.py BASE PID SECRETARIAT_TOKEN VIEWER_TOKEN ADMIN_TOKEN
"""

import http.client
import io
import json
import socket
import statistics
import sys
import threading
import time
import zipfile

BASE, PID, SA, VIEWER, ADMIN = sys.argv[1:6]
HOST, PORT = BASE.removeprefix("http://").split(":")
PORT = int(PORT)
IMPORT = "/api/v1/alliances/teda-biomedicine/imports/members?dry_run=true"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rss_mib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssWatch:
    """The highest RSS seen while a block runs (sampled every 10 ms)."""

    def __enter__(self):
        self.peak, self.running = rss_mib(), True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self):
        while self.running:
            self.peak = max(self.peak, rss_mib())
            time.sleep(0.01)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def request(method, path, token=None, body=None, content_type=None, timeout=60):
    conn = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if content_type:
        headers["Content-Type"] = content_type
    started = time.monotonic()
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, data, time.monotonic() - started


PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
}
SHEET_HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
SHEET_TAIL = "</sheetData></worksheet>"
SST_HEAD = '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def workbook(sheet_rows, shared=""):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in PARTS.items():
            z.writestr(name, text)
        z.writestr("xl/sharedStrings.xml", SST_HEAD + shared + "</sst>")
        z.writestr("xl/worksheets/sheet1.xml", SHEET_HEAD + sheet_rows + SHEET_TAIL)
    return out.getvalue()


def cell(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def shapes():
    yield "A1 and XFD1048576", XLSX, workbook(
        f'<row r="1">{cell("A1", "slug")}</row><row r="1048576">{cell("XFD1048576", "x")}</row>'
    )
    yield "A1 and Z1000000", XLSX, workbook(
        f'<row r="1">{cell("A1", "slug")}</row><row r="1000000">{cell("Z1000000", "x")}</row>'
    )
    yield "zip bomb (400 MB inflated)", XLSX, workbook(
        f'<row r="1">{cell("A1", "slug")}</row>' + "<row/>" * (400_000_000 // 6)
    )
    yield "5 M shared strings", XLSX, workbook(
        f'<row r="1">{cell("A1", "slug")}</row>', "<si><t>x</t></si>" * 5_000_000
    )
    yield "CSV header of 1 M unknown columns", "text/csv", (
        "slug," + ",".join(f"c{i}" for i in range(1_000_000)) + "\n"
    ).encode()


def hostile_files():
    print("| shape | bytes | status | latency | RSS before → peak (MiB) |")
    print("|---|---|---|---|---|")
    bombs = []
    for what, content_type, body in shapes():
        if what.startswith("zip bomb"):
            bombs.append(body)
        before = rss_mib()
        with RssWatch() as watch:
            status, data, took = request("POST", IMPORT, SA, body, content_type)
        detail = json.loads(data).get("detail", "")[:60]
        print(f"| {what} | {len(body):,} | {status} ({detail}) | {took * 1000:.0f} ms | {before:.0f} → {watch.peak:.0f} |")
    return bombs[0]


def two_bombs_and_healthz(bomb):
    """Two zip bombs at once, /healthz timed meanwhile."""
    latencies, done = [], threading.Event()

    def probe():
        while not done.is_set():
            _, _, took = request("GET", "/healthz")
            latencies.append(took)

    t = threading.Thread(target=probe)
    t.start()
    statuses = []
    with RssWatch() as watch:
        uploads = [
            threading.Thread(target=lambda: statuses.append(request("POST", IMPORT, SA, bomb, XLSX)[0]))
            for _ in range(2)
        ]
        for u in uploads:
            u.start()
        for u in uploads:
            u.join()
    done.set()
    t.join()
    print(
        f"\ntwo zip bombs at once: {sorted(statuses)}; /healthz meanwhile: {len(latencies)} answers, "
        f"slowest {max(latencies) * 1000:.0f} ms; RSS peak {watch.peak:.0f} MiB"
    )


def refused_slow_uploads():
    """40 viewer connections declare 16 MB and send 1 MB each, then stall."""
    before = rss_mib()
    socks, lines = [], []
    for _ in range(40):
        s = socket.create_connection((HOST, PORT))
        s.settimeout(10)
        s.sendall(
            (
                f"POST {IMPORT} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {VIEWER}\r\n"
                f"Content-Type: text/csv\r\nContent-Length: 16000000\r\n\r\n"
            ).encode()
        )
        try:
            s.sendall(b"x" * (1 << 20))
        except OSError:
            pass
        socks.append(s)
    for s in socks:
        try:
            lines.append(s.recv(64).split(b"\r\n")[0].decode())
        except OSError as e:
            lines.append(str(e))
    after = rss_mib()
    for s in socks:
        s.close()
    print(
        f"\n40 viewer uploads declaring 16 MB each: {len([l for l in lines if ' 403 ' in l])} answered 403 "
        f"before their bodies; RSS {before:.0f} → {after:.0f} MiB"
    )


def timed_reads(seconds, token):
    out, until = [], time.monotonic() + seconds
    while time.monotonic() < until:
        status, _, took = request("GET", "/api/v1/alliances/teda-biomedicine", token)
        assert status == 200, status
        out.append(took)
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000


def flood_during(reads_seconds, body_of, path):
    """Reads timed while 100 threads send `body_of(i)` to `path`."""
    done, answers = threading.Event(), []

    def flood(n):
        i = 0
        while not done.is_set():
            i += 1
            try:
                status, _, _ = request("POST", path, body=body_of(n, i),
                                       content_type="application/x-www-form-urlencoded", timeout=30)
                answers.append(status)
            except OSError:
                answers.append(0)

    flooders = [threading.Thread(target=flood, args=(n,)) for n in range(100)]
    for f in flooders:
        f.start()
    time.sleep(1)
    during = timed_reads(reads_seconds, VIEWER)
    done.set()
    for f in flooders:
        f.join()
    return during, {s: answers.count(s) for s in sorted(set(answers))}


def secret_flood():
    status, data, _ = request(
        "POST",
        "/api/v1/accounts",
        ADMIN,
        json.dumps({"name": "probe-flood", "kind": "system", "role": "viewer"}).encode(),
        "application/json",
    )
    assert status == 201, data
    client_id = json.loads(data)["name"]
    print("\n| reads of GET /alliances/teda-biomedicine | p50 | p99 | reads | flood answers |")
    print("|---|---|---|---|---|")
    alone = timed_reads(5, VIEWER)
    print(f"| alone | {pct(alone, .5):.1f} ms | {pct(alone, .99):.1f} ms | {len(alone)} | — |")
    for what, body in [
        ("100 clients sending the baseline's cost: an unknown grant (400, no hash)",
         lambda n, i: b"grant_type=password&client_id=x&client_secret=y"),
        ("100 clients guessing one account's secret",
         lambda n, i: f"grant_type=client_credentials&client_id={client_id}&client_secret=wrong".encode()),
        ("100 clients, each wrong secret for a new client id (a hash each)",
         lambda n, i: f"grant_type=client_credentials&client_id=nobody-{n}-{i}&client_secret=wrong".encode()),
    ]:
        during, answers = flood_during(10, body, "/api/v1/auth/token")
        print(f"| {what} | {pct(during, .5):.1f} ms | {pct(during, .99):.1f} ms | {len(during)} | {answers} |")


if __name__ == "__main__":
    print(f"idle RSS {rss_mib():.0f} MiB\n")
    bomb = hostile_files()
    two_bombs_and_healthz(bomb)
    refused_slow_uploads()
    secret_flood()
