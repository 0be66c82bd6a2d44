"""A member system's year, through the generated Python client only.

Run by scripts/client-check.sh against a live server, with the client
generated from openapi/openapi.json into `alliance_client` on PYTHONPATH.
Environment: ALLIANCE_URL, ADMIN_TOKEN, REVIEWER_TOKEN, VIEWER_TOKEN.
Every call below is a generated typed call, except the token, which
authlib fetches as any OAuth2 client would.
"""

import csv
import datetime
import io
import os
import sys
import uuid

import openpyxl
from authlib.integrations.httpx_client import OAuth2Client
from authlib.integrations.base_client.errors import OAuthError

from alliance_client import AuthenticatedClient, Client
from alliance_client.api.accounts import create_account
from alliance_client.api.activities import create_activity
from alliance_client.api.changes import list_changes
from alliance_client.api.imports import import_members, member_import_template
from alliance_client.api.kpis import get_kpi_year, put_kpi_year
from alliance_client.api.memberships import create_membership, export_alliance_memberships
from alliance_client.api.organizations import create_organization
from alliance_client.api.reports import approve_annual_report, export_annual_report, submit_annual_report
from alliance_client.api.operations import healthz
from alliance_client.api.postings import (
    accept_match,
    close_match,
    create_match,
    create_posting,
    export_city_supply_demand_summary,
    get_city_supply_demand_summary,
    publish_posting,
)
from alliance_client.models import (
    AccountKind,
    AccountWithSecret,
    ActivityFigures,
    AcceptMatch,
    ActivityKind,
    ChangePage,
    CloseMatch,
    CreateMatch,
    CreatePosting,
    CreateAccount,
    CreateActivity,
    CreateMembership,
    CreateOrganization,
    FileFormat,
    HeaderLanguage,
    ImportReport,
    KpiEntry,
    KpiYear,
    KpiYearInput,
    MatchOutcome,
    MatchSide,
    MatchStatus,
    OrganizationKind,
    Posting,
    PostingDetails,
    PostingKind,
    PostingMatch,
    PostingStatus,
    Problem,
    Role,
    SupplyDemandSummary,
)
from alliance_client.types import File

BASE = os.environ["ALLIANCE_URL"]
ALLIANCE = "teda-biomedicine"
YEAR = 2026
EVIDENCE = "https://www.teda.gov.cn/alliance/2026/evidence.pdf"
calls: set[str] = set()


def called(module, **kwargs):
    """A generated call, counted by its operation."""
    calls.add(module.__name__.rsplit(".", 1)[1])
    return module.sync_detailed(**kwargs)


def expect(response, status, kind):
    assert response.status_code == status, (response.status_code, response.content[:400])
    assert isinstance(response.parsed, kind), type(response.parsed)
    return response.parsed


admin = AuthenticatedClient(base_url=BASE, token=os.environ["ADMIN_TOKEN"])
reviewer = AuthenticatedClient(base_url=BASE, token=os.environ["REVIEWER_TOKEN"])
viewer = AuthenticatedClient(base_url=BASE, token=os.environ["VIEWER_TOKEN"])
anyone = Client(base_url=BASE)
expect(called(healthz, client=anyone), 200, object)
tag = uuid.uuid4().hex[:8]

# An account for the member system, and its token by client credentials.
account = expect(
    called(
        create_account,
        client=admin,
        body=CreateAccount(
            kind=AccountKind.SYSTEM, name=f"py-sync-{tag}", role=Role.SECRETARIAT, alliances=[ALLIANCE]
        ),
    ),
    201,
    AccountWithSecret,
)
token_url = f"{BASE}/api/v1/auth/token"
with OAuth2Client(account.name, "not-the-secret") as oauth:
    try:
        oauth.fetch_token(token_url, grant_type="client_credentials")
        sys.exit("a wrong secret got a token")
    except OAuthError as e:
        assert e.error == "invalid_client", e.error
with OAuth2Client(account.name, account.client_secret) as oauth:
    token = oauth.fetch_token(token_url, grant_type="client_credentials")
secretariat = AuthenticatedClient(base_url=BASE, token=token["access_token"])

# A new enterprise, admitted, and an activity it took part in.
slug = f"py-enterprise-{tag}"
org = expect(
    called(
        create_organization,
        client=secretariat,
        body=CreateOrganization(kind=OrganizationKind.ENTERPRISE, name_zh=f"生成客户端测试企业{tag}", slug=slug),
    ),
    201,
    object,
)
admitted = called(
    create_membership,
    client=secretariat,
    id=ALLIANCE,
    body=CreateMembership(organization_id=org.id, joined_on=datetime.date(2026, 3, 1)),
)
assert admitted.status_code == 201, admitted.content
again = called(
    create_membership,
    client=secretariat,
    id=ALLIANCE,
    body=CreateMembership(organization_id=org.id, joined_on=datetime.date(2026, 3, 1)),
)
conflict = expect(again, 409, Problem)
assert conflict.type_.startswith("/problems/"), conflict
activity = called(
    create_activity,
    client=secretariat,
    id=ALLIANCE,
    body=CreateActivity(
        kind=ActivityKind.TRAINING,
        title=f"生成客户端培训{tag}",
        starts_on=datetime.date(2026, 4, 10),
        organizations=[slug],
        figures=ActivityFigures(persons=30, person_times=90),
    ),
)
assert activity.status_code == 201, activity.content

# A viewer may not register organisations: a typed 403.
refused = expect(
    called(
        create_organization,
        client=viewer,
        body=CreateOrganization(kind=OrganizationKind.ENTERPRISE, name_zh="不应写入", slug=f"py-no-{tag}"),
    ),
    403,
    Problem,
)
assert refused.status == 403

# A member import as CSV and as XLSX, each a dry run and then for real.
csv_file = f"slug,kind,name_zh,role,joined_on\npy-csv-{tag},enterprise,CSV导入企业{tag},member,2026-05-01\n"
template = called(member_import_template, client=secretariat, format_=FileFormat.XLSX)
assert template.status_code == 200
book = openpyxl.load_workbook(io.BytesIO(template.content))
sheet = book.active
headers = [c.value for c in sheet[1]]
row = {"slug": f"py-xlsx-{tag}", "kind": "enterprise", "name_zh": f"XLSX导入企业{tag}", "role": "member", "joined_on": "2026-05-02"}
sheet.append([row.get(h, None) for h in headers])
xlsx_file = io.BytesIO()
book.save(xlsx_file)
for name, content in (("members.csv", csv_file.encode()), ("members.xlsx", xlsx_file.getvalue())):
    for dry_run in (True, False):
        report = expect(
            called(
                import_members,
                client=secretariat,
                id=ALLIANCE,
                dry_run=dry_run,
                body=File(payload=io.BytesIO(content), file_name=name),
            ),
            200,
            ImportReport,
        )
        assert report.dry_run == dry_run, report
members = called(export_alliance_memberships, client=secretariat, id=ALLIANCE, format_=FileFormat.CSV)
assert members.status_code == 200
listed = members.content.decode("utf-8-sig")
assert f"py-xlsx-{tag}" in listed and f"py-csv-{tag}" in listed

# 供需对接: the secretariat posts a demand and an offer for two members,
# publishes both, matches them, accepts for both sides and closes the match;
# the city's summary as JSON and as a workbook say the same.
demand = expect(
    called(
        create_posting,
        client=secretariat,
        id=ALLIANCE,
        body=CreatePosting(
            kind=PostingKind.TALENT,
            organization="asymchem",
            title_zh=f"细胞药物研发技术员{tag}",
            title_en="Cell therapy R&D technicians",
            majors=["生物制药技术"],
            headcount=12,
            details=PostingDetails(positions=["细胞培养技术员"]),
            submit=True,
        ),
    ),
    201,
    Posting,
)
offer = expect(
    called(
        create_posting,
        client=secretariat,
        id=ALLIANCE,
        body=CreatePosting(
            kind=PostingKind.TALENT_SUPPLY,
            organization="tianjin-bioengineering-vocational-college",
            title_zh=f"生物制药技术专业毕业生{tag}",
            majors=["生物制药技术"],
            headcount=30,
            submit=True,
        ),
    ),
    201,
    Posting,
)
for posting in (demand, offer):
    published = expect(called(publish_posting, client=secretariat, id=posting.id), 200, Posting)
    assert published.status == PostingStatus.PUBLISHED, published.status
match = expect(
    called(create_match, client=secretariat, id=ALLIANCE, body=CreateMatch(demand_id=demand.id, offer_id=offer.id)),
    201,
    PostingMatch,
)
for side in (MatchSide.DEMAND, MatchSide.OFFER):
    accepted = expect(called(accept_match, client=secretariat, id=match.id, body=AcceptMatch(side=side)), 200, PostingMatch)
assert accepted.status == MatchStatus.ACCEPTED, accepted.status
closed = expect(
    called(
        close_match,
        client=secretariat,
        id=match.id,
        body=CloseMatch(closed_on=datetime.date(YEAR, 6, 30), outcome=MatchOutcome(students_placed=12)),
    ),
    200,
    PostingMatch,
)
assert closed.status == MatchStatus.CLOSED
published_year = published.published_at.astimezone(datetime.timezone(datetime.timedelta(hours=8))).year
summary = expect(called(get_city_supply_demand_summary, client=viewer, year=published_year), 200, SupplyDemandSummary)
assert summary.totals.demands >= 1 and summary.totals.offers >= 1, summary.totals
book = called(export_city_supply_demand_summary, client=viewer, year=published_year, format_=FileFormat.XLSX)
assert book.status_code == 200, book.content[:300]
sheets = openpyxl.load_workbook(io.BytesIO(book.content))
in_book = {row[0]: row[1] for row in sheets["totals"].iter_rows(min_row=2, values_only=True)}
in_json = summary.totals.to_dict()
for key, value in in_json.items():
    assert in_book[key] == value, (key, in_book[key], value)
assert in_book["year"] == published_year

# The year's KPIs with If-Match, submitted, approved.
year = called(get_kpi_year, client=secretariat, id=ALLIANCE, year=YEAR)
expect(year, 200, KpiYear)
etag = year.headers["etag"]
put = called(
    put_kpi_year,
    client=secretariat,
    id=ALLIANCE,
    year=YEAR,
    if_match=etag,
    body=KpiYearInput(
        kpis=[
            KpiEntry(code="technical_service_income", target=500, actual=532.5, evidence=[EVIDENCE]),
            KpiEntry(code="teacher_training_person_times", target=800, evidence=[EVIDENCE]),
        ]
    ),
)
expect(put, 200, KpiYear)
stale = called(
    put_kpi_year,
    client=secretariat,
    id=ALLIANCE,
    year=YEAR,
    if_match=etag,
    body=KpiYearInput(kpis=[]),
)
assert expect(stale, 412, Problem).status == 412
submitted = called(submit_annual_report, client=secretariat, id=ALLIANCE, year=YEAR)
assert submitted.status_code == 200, submitted.content
approved = called(approve_annual_report, client=reviewer, id=ALLIANCE, year=YEAR)
assert approved.status_code == 200, approved.content
locked = called(submit_annual_report, client=secretariat, id=ALLIANCE, year=YEAR)
assert expect(locked, 409, Problem).status == 409

# The report as a workbook and as CSV.
workbook = called(export_annual_report, client=reviewer, id=ALLIANCE, year=YEAR, format_=FileFormat.XLSX)
assert workbook.status_code == 200
sheets = openpyxl.load_workbook(io.BytesIO(workbook.content)).sheetnames
assert len(sheets) >= 2, sheets
table = called(
    export_annual_report,
    client=reviewer,
    id=ALLIANCE,
    year=YEAR,
    format_=FileFormat.CSV,
    header_language=HeaderLanguage.EN,
)
rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
assert any(r.get("code") == "technical_service_income" for r in rows), rows[:3]

# The change feed, followed to its head: every write above is in it.
cursor, seen = None, []
while True:
    kwargs = {"client": secretariat, "limit": 200}
    if cursor:
        kwargs["after"] = cursor
    page = expect(called(list_changes, **kwargs), 200, ChangePage)
    seen += page.items
    if not page.items:
        break
    cursor = page.next_cursor
types = {e.type_ for e in seen if e.resource_id in (org.id, activity.parsed.id)}
assert {"organization.created", "activity.created"} <= types, types

print(f"python scenario passed: {len(calls)} operations through the generated client")
