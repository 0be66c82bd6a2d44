// The dashboard in a real browser: starts the service on a fresh demo store,
// opens /dashboard in Debian's chromium (playwright-core, no browser
// download), pastes a viewer token, and checks that the figures on the page
// are the API's, in Chinese and in English; saves a screenshot of each.
//
//   node tests/browser/dashboard.test.mjs [path/to/alliance-api]
// Environment: CHROMIUM (default /usr/bin/chromium), SCREENSHOTS (default target/).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import net from "node:net";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const bin = resolve(process.argv[2] || "target/debug/alliance-api");
const shots = resolve(process.env.SCREENSHOTS || "target");
mkdirSync(shots, { recursive: true });

const freePort = () =>
  new Promise((ok) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), "alliance-dashboard-"));
const env = { ...process.env, DATABASE_URL: join(dir, "demo.db"), RUST_LOG: "warn" };
delete env.ALLIANCE_JWT_SECRET;
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(bin, ["serve"], { env: { ...env, ALLIANCE_ADDR: `127.0.0.1:${port}` }, stdio: "inherit" });
let browser;
try {
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/readyz`)).ok) break; } catch {}
    assert.ok(i < 600, "the service never became ready");
    await new Promise((r) => setTimeout(r, 100));
  }
  const token = execFileSync(bin, ["token", "--role", "viewer"], { env }).toString().trim();
  const now = new Date().getFullYear();
  const board = await (await fetch(`${base}/api/v1/dashboard/kpis?from_year=${now - 9}&to_year=${now}`, {
    headers: { Authorization: `Bearer ${token}` },
  })).json();
  const approvedYears = board.rows.filter((r) => r.status === "approved").map((r) => r.year);
  const year = Math.max(...approvedYears);
  const totals = board.totals.filter((t) => t.year === year);
  assert.ok(totals.length >= 8, `the demo has figures for ${year}`);

  // 供需对接 this year: a demand and an offer in teda, published.
  const admin = execFileSync(bin, ["token", "--role", "admin"], { env }).toString().trim();
  const send = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method, body: body && JSON.stringify(body),
      headers: { Authorization: `Bearer ${admin}`, "Content-Type": "application/json" },
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  for (const posting of [
    { kind: "talent", organization: "asymchem", title_zh: "细胞药物研发技术员", headcount: 12, submit: true },
    { kind: "talent_supply", organization: "tianjin-bioengineering-vocational-college", title_zh: "生物制药技术专业毕业生", headcount: 30, submit: true },
  ]) {
    const created = await send("POST", "/api/v1/alliances/teda-biomedicine/postings", posting);
    await send("POST", `/api/v1/postings/${created.id}/publish`, {});
  }
  const teda = await send("GET", "/api/v1/alliances/teda-biomedicine");
  const supply = await send("GET", `/api/v1/alliances/teda-biomedicine/supply-demand/${now}`);
  assert.equal(supply.totals.demands, 1);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu"],
  });
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}/dashboard`);
  await page.locator("#login").waitFor({ state: "visible" });
  await page.fill("#token", token);
  await page.click("#use-token");
  await page.locator("#overview tbody tr").first().waitFor();

  assert.equal(await page.inputValue("#year"), String(year), "the latest approved year is shown first");
  const text = (sel) => page.locator(sel).innerText();
  // The city overview table: every total of the year, as the API gives it.
  for (const t of totals) {
    const row = `#overview tr[data-code="${t.kpi_code}"]`;
    assert.equal(await text(`${row} td[data-field="target"]`), String(t.target ?? "–"), `${t.kpi_code} target`);
    assert.equal(await text(`${row} td[data-field="actual"]`), String(t.actual ?? "–"), `${t.kpi_code} actual`);
  }
  assert.equal(await page.locator("#overview tbody tr").count(), totals.length);
  // The charts hold the API's numbers: the first alliance's attainment bars.
  const alliance = await page.inputValue("#alliance");
  const expected = board.rows
    .filter((r) => r.year === year && r.alliance_id === alliance && r.target != null)
    .map((r) => (r.attainment == null ? null : +(r.attainment * 100).toFixed(1)));
  const drawn = await page.evaluate(() => {
    const c = echarts.getInstanceByDom(document.getElementById("attainment-chart"));
    return c.getOption().series[0].data.map((d) => d.value);
  });
  assert.deepEqual(drawn, expected);
  assert.ok(expected.length >= 5);
  for (const id of ["overview-chart", "attainment-chart", "trend-chart", "members-chart", "activities-chart", "platforms-chart"]) {
    assert.ok(await page.locator(`#${id} canvas`).count(), `${id} is drawn`);
  }
  const members = await page.evaluate(() =>
    echarts.getInstanceByDom(document.getElementById("members-chart")).getOption().series[0].data.reduce((s, d) => s + d.value, 0));
  const memberList = await (await fetch(`${base}/api/v1/alliances/${alliance}/memberships?status=active&limit=200`, {
    headers: { Authorization: `Bearer ${token}` },
  })).json();
  assert.equal(members, memberList.items.length, "members by kind add up to the members");
  await page.waitForTimeout(500); // let the charts' entry animation finish
  await page.screenshot({ path: join(shots, "dashboard-zh.png"), fullPage: true });
  assert.equal(await text("h1"), "产教联合体年度指标看板");

  // The 供需对接 panel: this year's figures of teda, as the API gives them.
  await page.selectOption("#alliance", teda.id);
  await page.selectOption("#year", String(now));
  await page.locator('#supply-demand td[data-field="offers"]').getByText("1", { exact: true }).waitFor();
  for (const field of ["demands", "offers", "demand_headcount", "offer_headcount", "matches_closed"]) {
    assert.equal(await text(`#supply-demand td[data-field="${field}"]`), String(supply.totals[field]), `supply-demand ${field}`);
  }
  await page.locator("section:has(#supply-demand)").screenshot({ path: join(shots, "dashboard-supply-demand.png") });
  await page.selectOption("#year", String(year));
  await page.selectOption("#alliance", alliance);

  await page.click("#lang");
  assert.equal(await text("h1"), "Industry–Education Alliance KPI Dashboard");
  assert.equal(await text("#overview thead th:nth-child(3)"), "Target");
  const first = totals[0];
  assert.equal(await text(`#overview tr[data-code="${first.kpi_code}"] td[data-field="actual"]`), String(first.actual ?? "–"));
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(shots, "dashboard-en.png"), fullPage: true });
  assert.deepEqual(errors, [], "no script errors");
  console.log(`dashboard: ${totals.length} KPI totals for ${year} match the API, and the supply-demand panel; screenshots in ${shots}/dashboard-{zh,en,supply-demand}.png`);
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
