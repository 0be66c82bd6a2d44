// The KPI dashboard: reads the public API with a viewer token and draws it
// with ECharts (served by the service itself; no network beyond it).
"use strict";

const TEXT = {
  zh: {
    title: "产教联合体年度指标看板", year: "年度", compare: "对比年度", alliance: "联合体",
    need_token: "请粘贴只读令牌（viewer token）以查看看板。", show: "查看",
    overview: "全市概览", kpi: "指标", unit: "单位", target: "目标值", actual: "实际值",
    attainment: "完成率", alliances: "联合体数", attainment_of: "指标完成情况", trend: "趋势",
    members: "成员构成", activities: "活动（按类型）", platforms: "平台（按类型，含规划）",
    source: "数据来源", none: "（无）", mean_attainment: "平均完成率", lang: "English",
    approved: "已审核", draft: "草稿", submitted: "审核中", returned: "已退回",
    bad_token: "令牌无效或已过期。", loaded: "已更新",
    supply_demand: "供需对接",
    sd: {
      demands: "发布需求", offers: "发布供给", demand_headcount: "需求人数", offer_headcount: "供给人数",
      demands_filled: "已满足需求", fill_rate: "满足率", matches_closed: "对接成功", students_placed: "对接就业学生",
    },
    units: { person_times: "人次", persons: "人", count: "个", cny10k: "万元", percent: "%" },
    kinds: {
      enterprise: "企业", university: "本科院校", vocational_college: "高职院校",
      secondary_vocational: "中职学校", research_institute: "科研院所", government: "政府部门",
      industry_association: "行业协会", other: "其他",
      council_meeting: "理事会会议", training: "培训", joint_research: "联合研发",
      order_class: "订单班", competition: "技能大赛", exchange: "交流研讨",
      joint_lab: "联合实验室", training_center: "公共实训中心", industry_college: "产业学院",
      innovation_base: "创新（孵化）基地", tech_innovation_center: "技术创新中心",
      engineering_research_center: "工程研究中心", apprenticeship: "学徒制项目", service_platform: "服务平台",
    },
  },
  en: {
    title: "Industry–Education Alliance KPI Dashboard", year: "Year", compare: "Compare with", alliance: "Alliance",
    need_token: "Paste a read-only (viewer) token to see the dashboard.", show: "Show",
    overview: "City overview", kpi: "KPI", unit: "Unit", target: "Target", actual: "Actual",
    attainment: "Attainment", alliances: "Alliances", attainment_of: "KPI attainment", trend: "Trend",
    members: "Members by kind", activities: "Activities by kind", platforms: "Platforms by kind (planned included)",
    source: "Source", none: "(none)", mean_attainment: "Mean attainment", lang: "中文",
    approved: "approved", draft: "draft", submitted: "submitted", returned: "returned",
    bad_token: "The token is not valid or has expired.", loaded: "Updated",
    supply_demand: "Supply and demand",
    sd: {
      demands: "Demands published", offers: "Offers published", demand_headcount: "People asked for", offer_headcount: "People offered",
      demands_filled: "Demands filled", fill_rate: "Fill rate", matches_closed: "Matches closed", students_placed: "Students placed",
    },
    units: { person_times: "person-times", persons: "persons", count: "count", cny10k: "CNY 10k", percent: "%" },
    kinds: {},
  },
};

const state = {
  lang: localStorage.getItem("alliance.lang") || "zh",
  token: localStorage.getItem("alliance.viewer_token") || "",
  catalogue: [], alliances: [], board: null, charts: {},
};

const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[state.lang][key] ?? TEXT.zh[key] ?? key;
const kind = (k) => (state.lang === "zh" ? TEXT.zh.kinds[k] : null) || k.replaceAll("_", " ");
const unit = (u) => TEXT[state.lang].units[u] || u;
const kpiName = (code) => {
  const k = state.catalogue.find((k) => k.code === code);
  if (!k) return code;
  return state.lang === "en" ? (k.name_en || k.code.replaceAll("_", " ")) : k.name_zh;
};
const allianceName = (a) => (state.lang === "en" ? (a.name_en || a.slug) : a.name_zh);
const pct = (v) => (v == null ? "–" : `${(v * 100).toFixed(1)}%`);
const colour = (v) => (v == null ? "#9aa5b1" : v >= 1 ? "#2e7d32" : v >= 0.8 ? "#f0a202" : "#c62828");

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
  if (res.status === 401) throw new Error("unauthorized");
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

async function allPages(path) {
  let items = [], cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(`${path}${sep}limit=200${cursor ? `&cursor=${cursor}` : ""}`);
    items = items.concat(page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

function chart(id) {
  if (!state.charts[id]) state.charts[id] = echarts.init($(id));
  return state.charts[id];
}

function translate() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("lang").textContent = t("lang");
}

async function start() {
  translate();
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("alliance.lang", state.lang);
    translate();
    if (state.board) render();
  });
  $("use-token").addEventListener("click", () => {
    state.token = $("token").value.trim();
    load();
  });
  for (const id of ["year", "compare", "alliance", "trend-kpi"]) $(id).addEventListener("change", render);
  window.addEventListener("resize", () => Object.values(state.charts).forEach((c) => c.resize()));
  if (!state.token) {
    // An operator may run the dashboard open to everyone (off by default).
    const res = await fetch("/dashboard/token", { method: "POST" });
    if (res.ok) state.token = (await res.json()).token;
  }
  if (state.token) load(); else showLogin("");
}

function showLogin(message) {
  $("login").hidden = false;
  $("board").hidden = true;
  $("login-error").textContent = message;
}

async function load() {
  try {
    const now = new Date().getFullYear();
    [state.catalogue, state.alliances, state.board] = await Promise.all([
      api("/api/v1/kpi-definitions").then((l) => l.items),
      allPages("/api/v1/alliances"),
      api(`/api/v1/dashboard/kpis?from_year=${now - 9}&to_year=${now}`),
    ]);
  } catch (e) {
    showLogin(e.message === "unauthorized" ? t("bad_token") : e.message);
    return;
  }
  if (!localStorage.getItem("alliance.viewer_token") && $("token").value) {
    localStorage.setItem("alliance.viewer_token", state.token);
  }
  $("login").hidden = true;
  $("board").hidden = false;
  // This year too: its postings and matches count before any KPI is entered.
  const years = [...new Set([...state.board.rows.map((r) => r.year), new Date().getFullYear()])].sort((a, b) => b - a);
  const approved = state.board.rows.filter((r) => r.status === "approved").map((r) => r.year);
  const initial = approved.length ? Math.max(...approved) : years[0];
  fill($("year"), years.map((y) => [y, y]), initial);
  fill($("compare"), [["", t("none")], ...years.map((y) => [y, y])], "");
  fill($("alliance"), state.alliances.map((a) => [a.id, allianceName(a)]), state.alliances[0]?.id);
  const codes = [...new Set(state.board.rows.map((r) => r.kpi_code))];
  fill($("trend-kpi"), codes.map((c) => [c, kpiName(c)]), codes.includes("teacher_training_person_times") ? "teacher_training_person_times" : codes[0]);
  render();
}

function fill(select, options, selected) {
  const keep = select.value;
  select.innerHTML = "";
  for (const [value, label] of options) {
    const o = document.createElement("option");
    o.value = value; o.textContent = label;
    select.appendChild(o);
  }
  select.value = keep && options.some(([v]) => String(v) === keep) ? keep : selected ?? "";
}

function render() {
  const year = Number($("year").value);
  const compare = $("compare").value ? Number($("compare").value) : null;
  const alliance = state.alliances.find((a) => a.id === $("alliance").value);
  // Labels follow the language.
  for (const o of $("alliance").options) o.textContent = allianceName(state.alliances.find((a) => a.id === o.value));
  for (const o of $("trend-kpi").options) o.textContent = kpiName(o.value);
  $("compare").options[0].textContent = t("none");
  renderOverview(year);
  if (alliance) {
    $("alliance-name").textContent = allianceName(alliance);
    renderAttainment(alliance, year, compare);
    renderTrend(alliance);
    renderRecords(alliance, year);
  }
  $("status").textContent = `${t("loaded")} ${new Date().toLocaleTimeString()}`;
}

function renderOverview(year) {
  const totals = state.board.totals.filter((x) => x.year === year);
  const body = $("overview").querySelector("tbody");
  body.innerHTML = "";
  for (const x of totals) {
    const tr = document.createElement("tr");
    tr.dataset.code = x.kpi_code;
    const cells = [
      ["name", kpiName(x.kpi_code)], ["unit", unit(x.unit)],
      ["target", x.target ?? "–"], ["actual", x.actual ?? "–"],
      ["attainment", pct(x.attainment)], ["alliances", x.alliances],
    ];
    for (const [field, value] of cells) {
      const td = document.createElement("td");
      td.dataset.field = field;
      td.textContent = value;
      if (field === "attainment" && x.attainment != null) {
        td.className = x.attainment >= 1 ? "good" : x.attainment >= 0.8 ? "fair" : "poor";
      }
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  // Mean attainment of each alliance's KPIs with a target, that year.
  const byAlliance = state.alliances.map((a) => {
    const rows = state.board.rows.filter((r) => r.year === year && r.alliance_id === a.id && r.attainment != null);
    const mean = rows.length ? rows.reduce((s, r) => s + Math.min(r.attainment, 2), 0) / rows.length : null;
    return [allianceName(a), mean];
  });
  chart("overview-chart").setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => `${v}%` },
    grid: { left: 8, right: 16, bottom: 8, top: 40, containLabel: true },
    xAxis: { type: "category", data: byAlliance.map((a) => a[0]), axisLabel: { interval: 0, width: 110, overflow: "break" } },
    yAxis: { type: "value", name: t("mean_attainment"), axisLabel: { formatter: "{value}%" } },
    series: [{
      type: "bar", name: t("mean_attainment"),
      data: byAlliance.map(([, m]) => ({ value: m == null ? null : +(m * 100).toFixed(1), itemStyle: { color: colour(m) } })),
      label: { show: true, position: "top", formatter: "{c}%" },
    }],
  }, true);
}

function renderAttainment(alliance, year, compare) {
  const rows = (y) => state.board.rows.filter((r) => r.year === y && r.alliance_id === alliance.id && r.target != null);
  const main = rows(year);
  const other = compare ? new Map(rows(compare).map((r) => [r.kpi_code, r])) : null;
  const series = [{
    type: "bar", name: String(year),
    data: main.map((r) => ({
      value: r.attainment == null ? null : +(r.attainment * 100).toFixed(1),
      itemStyle: { color: colour(r.attainment) },
      raw: `${r.actual ?? "–"} / ${r.target} ${unit(r.unit)}`,
    })),
    label: { show: true, position: "right", formatter: (p) => p.data.raw },
  }];
  if (other) {
    series.push({
      type: "bar", name: String(compare), itemStyle: { color: "#9aa5b1" },
      data: main.map((r) => {
        const o = other.get(r.kpi_code);
        return { value: o?.attainment == null ? null : +(o.attainment * 100).toFixed(1), raw: o ? `${o.actual ?? "–"} / ${o.target}` : "" };
      }),
    });
  }
  chart("attainment-chart").setOption({
    tooltip: { trigger: "axis", formatter: (ps) => ps.map((p) => `${p.seriesName} ${kpiName(main[p.dataIndex].kpi_code)}: ${p.value ?? "–"}% (${p.data.raw})`).join("<br>") },
    legend: { show: !!other },
    grid: { left: 8, right: 120, bottom: 8, top: 24, containLabel: true },
    yAxis: { type: "category", data: main.map((r) => kpiName(r.kpi_code)), inverse: true },
    xAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
    series,
  }, true);
}

function renderTrend(alliance) {
  const code = $("trend-kpi").value;
  const rows = state.board.rows.filter((r) => r.alliance_id === alliance.id && r.kpi_code === code).sort((a, b) => a.year - b.year);
  chart("trend-chart").setOption({
    tooltip: { trigger: "axis" },
    legend: { data: [t("target"), t("actual")] },
    grid: { left: 8, right: 16, bottom: 8, top: 32, containLabel: true },
    xAxis: { type: "category", data: rows.map((r) => String(r.year)) },
    yAxis: { type: "value", name: rows[0] ? unit(rows[0].unit) : "" },
    series: [
      { type: "line", name: t("target"), data: rows.map((r) => r.target), lineStyle: { type: "dashed" } },
      { type: "line", name: t("actual"), data: rows.map((r) => r.actual), label: { show: true } },
    ],
  }, true);
}

async function renderRecords(alliance, year) {
  const [members, report, platforms, supply] = await Promise.all([
    allPages(`/api/v1/alliances/${alliance.id}/memberships?status=active`),
    api(`/api/v1/alliances/${alliance.id}/reports/${year}`),
    allPages(`/api/v1/alliances/${alliance.id}/platforms`),
    api(`/api/v1/alliances/${alliance.id}/supply-demand/${year}`),
  ]);
  renderSupplyDemand(supply.totals);
  const count = (items) => Object.entries(items.reduce((m, k) => ({ ...m, [k]: (m[k] || 0) + 1 }), {}));
  chart("members-chart").setOption({
    tooltip: { trigger: "item" },
    series: [{
      type: "pie", radius: ["35%", "65%"],
      data: count(members.map((m) => m.organization.kind)).map(([k, n]) => ({ name: kind(k), value: n })),
      label: { formatter: "{b}: {c}" },
    }],
  }, true);
  const bars = (id, pairs) => chart(id).setOption({
    tooltip: { trigger: "axis" },
    grid: { left: 8, right: 16, bottom: 8, top: 16, containLabel: true },
    xAxis: { type: "category", data: pairs.map(([k]) => kind(k)), axisLabel: { interval: 0, rotate: 20 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: pairs.map(([, n]) => n), label: { show: true, position: "top" }, itemStyle: { color: "#0b3c5d" } }],
  }, true);
  bars("activities-chart", report.activities.map((a) => [a.kind, a.count]));
  // Every platform the alliance has recorded, planned ones included.
  bars("platforms-chart", count(platforms.map((p) => p.kind)));
}

// The year's 供需对接 figures of the alliance, as the summary gives them.
function renderSupplyDemand(totals) {
  const body = $("supply-demand").querySelector("tbody");
  body.innerHTML = "";
  for (const [field, label] of Object.entries(t("sd"))) {
    const tr = document.createElement("tr");
    const name = document.createElement("th");
    name.textContent = label;
    const value = document.createElement("td");
    value.dataset.field = field;
    value.textContent = field === "fill_rate" ? pct(totals[field]) : totals[field];
    tr.append(name, value);
    body.appendChild(tr);
  }
}

start();
