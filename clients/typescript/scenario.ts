// A member system's year, through the client @hey-api/openapi-ts generated
// from openapi/openapi.json (into ./generated), with no HTTP of its own.
// Run by scripts/client-check.sh against a live server; environment:
// ALLIANCE_URL, ADMIN_TOKEN, REVIEWER_TOKEN, VIEWER_TOKEN.
import { createClient } from "./generated/client";
import * as api from "./generated/sdk.gen";
import type { Problem } from "./generated/types.gen";

const base = process.env.ALLIANCE_URL!;
const ALLIANCE = "teda-biomedicine";
const YEAR = 2025;
const EVIDENCE = "https://www.teda.gov.cn/alliance/2025/evidence.pdf";
const calls = new Set<string>();

const as = (token: string) => createClient({ baseUrl: base, auth: token });
const admin = as(process.env.ADMIN_TOKEN!);
const reviewer = as(process.env.REVIEWER_TOKEN!);
const viewer = as(process.env.VIEWER_TOKEN!);
const anyone = createClient({ baseUrl: base });

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`scenario failed: ${what}`);
}

function counted<T>(name: string, call: Promise<T>): Promise<T> {
  calls.add(name);
  return call;
}

function problem(error: unknown, status: number): Problem {
  const p = error as Problem;
  check(p && p.status === status && p.type.startsWith("/problems/"), `a ${status} problem, got ${JSON.stringify(error)}`);
  return p;
}

const tag = Math.random().toString(16).slice(2, 10);

// An account, and its token by client credentials (a wrong secret is a typed OAuth2 error).
const account = await counted("create_account", api.createAccount({
  client: admin,
  body: { kind: "system", name: `ts-sync-${tag}`, role: "secretariat", alliances: [ALLIANCE] },
}));
check(account.response.status === 201 && account.data, "account created");
const wrong = await counted("issue_token", api.issueToken({
  client: anyone,
  body: { grant_type: "client_credentials", client_id: account.data.name, client_secret: "not-the-secret" },
}));
check(wrong.response.status === 401 && wrong.error?.error === "invalid_client", "a wrong secret is invalid_client");
const issued = await api.issueToken({
  client: anyone,
  body: { grant_type: "client_credentials", client_id: account.data.name, client_secret: account.data.client_secret },
});
check(issued.data?.token_type === "Bearer", "a token");
const secretariat = as(issued.data.access_token);

// A new enterprise, admitted (twice: 409), and an activity.
const slug = `ts-enterprise-${tag}`;
const org = await counted("create_organization", api.createOrganization({
  client: secretariat,
  body: { kind: "enterprise", name_zh: `类型脚本测试企业${tag}`, slug },
}));
check(org.response.status === 201 && org.data, "organisation created");
const orgId = org.data.id;
const admit = () => counted("create_membership", api.createMembership({
  client: secretariat,
  path: { id: ALLIANCE },
  body: { organization_id: orgId, joined_on: "2025-03-01" },
}));
check((await admit()).response.status === 201, "admitted");
problem((await admit()).error, 409);
const activity = await counted("create_activity", api.createActivity({
  client: secretariat,
  path: { id: ALLIANCE },
  body: {
    kind: "training", title: `类型脚本培训${tag}`, starts_on: "2025-04-10",
    organizations: [slug], figures: { persons: 30, person_times: 90 },
  },
}));
check(activity.response.status === 201 && activity.data, "activity recorded");
const activityId = activity.data.id;
problem((await api.createOrganization({
  client: viewer,
  body: { kind: "enterprise", name_zh: "不应写入", slug: `ts-no-${tag}` },
})).error, 403);

// Member imports: CSV, then the alliance's own member sheet as XLSX; each a dry run, then for real.
const csv = `slug,kind,name_zh,role,joined_on\nts-csv-${tag},enterprise,CSV导入企业${tag},member,2025-05-01\n`;
const sheet = await counted("export_members", api.exportMembers({
  client: secretariat, path: { id: ALLIANCE }, query: { format: "xlsx" },
}));
check(sheet.data instanceof Blob, "the member sheet is bytes");
for (const file of [new Blob([csv], { type: "text/csv" }), sheet.data as Blob]) {
  for (const dry_run of [true, false]) {
    const imported = await counted("import_members", api.importMembers({
      client: secretariat, path: { id: ALLIANCE }, query: { dry_run }, body: file,
    }));
    check(imported.response.status === 200 && imported.data?.dry_run === dry_run, `import: ${JSON.stringify(imported.error)}`);
  }
}

// The year's KPIs with If-Match; a stale tag is a typed 412; submitted and approved.
const year = await counted("get_kpi_year", api.getKpiYear({ client: secretariat, path: { id: ALLIANCE, year: YEAR } }));
const etag = year.response.headers.get("etag");
check(year.data && etag, "a KPI year with its ETag");
const body = {
  kpis: [
    { code: "technical_service_income", target: 500, actual: 532.5, evidence: [EVIDENCE] },
    { code: "teacher_training_person_times", target: 800, evidence: [EVIDENCE] },
  ],
};
const put = await counted("put_kpi_year", api.putKpiYear({
  client: secretariat, path: { id: ALLIANCE, year: YEAR }, headers: { "If-Match": etag }, body,
}));
check(put.response.status === 200, `KPIs put: ${JSON.stringify(put.error)}`);
problem((await api.putKpiYear({
  client: secretariat, path: { id: ALLIANCE, year: YEAR }, headers: { "If-Match": etag }, body,
})).error, 412);
const submitted = await counted("submit_annual_report", api.submitAnnualReport({ client: secretariat, path: { id: ALLIANCE, year: YEAR } }));
check(submitted.response.status === 200, `submitted: ${JSON.stringify(submitted.error)}`);
const approved = await counted("approve_annual_report", api.approveAnnualReport({
  client: reviewer, path: { id: ALLIANCE, year: YEAR }, body: { comment: "通过" },
}));
check(approved.response.status === 200 && approved.data?.status === "approved", "approved");

// The report as a workbook (a zip: PK) and as CSV.
const workbook = await counted("export_annual_report", api.exportAnnualReport({
  client: reviewer, path: { id: ALLIANCE, year: YEAR }, query: { format: "xlsx" },
}));
check(workbook.data instanceof Blob, "the workbook is bytes");
const magic = new Uint8Array(await (workbook.data as Blob).arrayBuffer()).slice(0, 2);
check(magic[0] === 0x50 && magic[1] === 0x4b, "the workbook is a zip");
const table = await api.exportAnnualReport({
  client: reviewer, path: { id: ALLIANCE, year: YEAR }, query: { format: "csv", header_language: "en" },
  parseAs: "blob", // the description types every download as bytes
});
check(table.data instanceof Blob, "the CSV is bytes");
const lines = (await table.data.text()).replace(/^\uFEFF/, "").trim().split("\n");
check(lines[0].split(",").includes("code") && lines.some((l) => l.startsWith("technical_service_income,")), "the KPI rows");

// The change feed, followed to its head.
let after: string | undefined;
const seen: string[] = [];
for (;;) {
  const page = await counted("list_changes", api.listChanges({ client: secretariat, query: { after, limit: 200 } }));
  check(page.data, "a feed page");
  if (page.data.items.length === 0) break;
  for (const e of page.data.items) if (e.resource_id === orgId || e.resource_id === activityId) seen.push(e.type);
  after = page.data.next_cursor;
}
check(seen.includes("organization.created") && seen.includes("activity.created"), `the feed: ${seen}`);

console.log(`typescript scenario passed: ${calls.size} operations through the generated client`);
