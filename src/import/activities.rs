//! Importing an alliance's activities: one row per activity. A row with the
//! kind, title and start day of a recorded activity updates it, so a re-run
//! does not duplicate.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::{Cells, Column, ImportReport, date_of};
use crate::db::schema::{activities as activity_rows, organizations as org_rows, platforms};
use crate::db::{activities, alliances};
use crate::domain::activity::{
    ActivityFigures, ActivityKind, ActivityPatch, NewActivity, ResearchStatus,
};
use crate::domain::{Name, Url};
use crate::error::ApiError;
use crate::service::Precondition;
use crate::service::Tx;
use crate::tabular::Table;

pub const COLUMNS: &[Column] = &[
    Column {
        key: "kind",
        zh: "类型",
        required: true,
    },
    Column {
        key: "title",
        zh: "名称",
        required: true,
    },
    Column {
        key: "starts_on",
        zh: "开始日期",
        required: true,
    },
    Column {
        key: "ends_on",
        zh: "结束日期",
        required: false,
    },
    Column {
        key: "platform",
        zh: "平台",
        required: false,
    },
    Column {
        key: "organizations",
        zh: "参与单位",
        required: false,
    },
    Column {
        key: "persons",
        zh: "人数（人）",
        required: false,
    },
    Column {
        key: "person_times",
        zh: "人次",
        required: false,
    },
    Column {
        key: "hours",
        zh: "学时",
        required: false,
    },
    Column {
        key: "students",
        zh: "学生数（人）",
        required: false,
    },
    Column {
        key: "awards",
        zh: "获奖（项）",
        required: false,
    },
    Column {
        key: "budget_cny",
        zh: "经费（元）",
        required: false,
    },
    Column {
        key: "research_status",
        zh: "研发状态",
        required: false,
    },
    Column {
        key: "open_call",
        zh: "揭榜挂帅",
        required: false,
    },
    Column {
        key: "resolutions",
        zh: "决议",
        required: false,
    },
    Column {
        key: "outcome",
        zh: "成效",
        required: false,
    },
    Column {
        key: "evidence",
        zh: "佐证材料",
        required: false,
    },
];

/// One row, parsed; names of platforms and organisations are resolved
/// when the row runs.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub number: usize,
    pub kind: ActivityKind,
    pub title: Name,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub platform: Option<String>,
    pub organizations: Vec<String>,
    pub figures: ActivityFigures,
    pub research_status: Option<ResearchStatus>,
    pub open_call: Option<bool>,
    pub resolutions: Vec<String>,
    pub outcome: Option<String>,
    pub evidence: Vec<Url>,
}

fn kind_of(s: &str) -> Option<ActivityKind> {
    s.parse().ok().or(match s {
        "理事会会议" | "理事会" => Some(ActivityKind::CouncilMeeting),
        "培训" => Some(ActivityKind::Training),
        "联合研发" | "揭榜挂帅" => Some(ActivityKind::JointResearch),
        "订单班" => Some(ActivityKind::OrderClass),
        "技能大赛" | "竞赛" | "大赛" => Some(ActivityKind::Competition),
        "交流" | "研讨" | "论坛" => Some(ActivityKind::Exchange),
        _ => None,
    })
}

fn count_of(s: &str) -> Result<i64, &'static str> {
    s.replace(',', "")
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or("a whole number, 0 or more")
}

/// Items of a list cell, separated by `；`, `;` or a line break.
fn items(s: &str) -> Vec<String> {
    s.split(['；', ';', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn parse_row(c: &Cells<'_>, report: &mut ImportReport) -> Option<ActivityRow> {
    let kind = c.parse(report, "kind", |t: &str| {
        kind_of(t).ok_or(
        "not a kind: use council_meeting (理事会会议), training (培训), joint_research (联合研发), order_class (订单班), competition (技能大赛) or exchange (交流)"
    )
    });
    let title = c.parse(report, "title", |t: &str| Name::parse(t));
    let starts_on = c.parse(report, "starts_on", date_of);
    let ends_on = c.parse(report, "ends_on", date_of);
    let figures = ActivityFigures {
        persons: c.parse(report, "persons", count_of),
        person_times: c.parse(report, "person_times", count_of),
        hours: c.parse(report, "hours", count_of),
        students: c.parse(report, "students", count_of),
        awards: c.parse(report, "awards", count_of),
        budget_cny: c.parse(report, "budget_cny", count_of),
    };
    let research_status = c.parse(report, "research_status", |t: &str| {
        t.parse::<ResearchStatus>()
            .map_err(|_| "use proposed, ongoing, completed or terminated")
    });
    let open_call = c.parse(report, "open_call", |t: &str| match t {
        "true" | "是" | "yes" | "1" => Ok(true),
        "false" | "否" | "no" | "0" => Ok(false),
        _ => Err("use 是 or 否 (true or false)"),
    });
    let evidence = c.parse(report, "evidence", |t: &str| {
        t.split_whitespace()
            .map(Url::parse)
            .collect::<Result<Vec<_>, _>>()
    });
    let outcome = c.parse(report, "outcome", |t: &str| {
        if t.chars().count() <= 4000 {
            Ok(t.to_owned())
        } else {
            Err("at most 4000 characters")
        }
    });
    for (key, missing) in [
        ("kind", kind.is_none() && c.text("kind").is_none()),
        ("title", title.is_none() && c.text("title").is_none()),
        (
            "starts_on",
            starts_on.is_none() && c.text("starts_on").is_none(),
        ),
    ] {
        if missing {
            c.bad(report, key, "required");
        }
    }
    if c.rejected(report) {
        return None;
    }
    Some(ActivityRow {
        number: c.number,
        kind: kind?,
        title: title?,
        starts_on: starts_on?,
        ends_on,
        platform: c.text("platform"),
        organizations: c
            .text("organizations")
            .as_deref()
            .map(items)
            .unwrap_or_default(),
        figures,
        research_status,
        open_call,
        resolutions: c
            .text("resolutions")
            .as_deref()
            .map(items)
            .unwrap_or_default(),
        outcome,
        evidence: evidence.unwrap_or_default(),
    })
}

/// An organisation a cell names by slug, id or exact Chinese name.
fn organization_key(tx: &mut Tx<'_>, name: &str, i: usize) -> Result<String, ApiError> {
    let found: Vec<String> = org_rows::table
        .filter(
            org_rows::slug
                .eq(name)
                .or(org_rows::id.eq(name))
                .or(org_rows::name_zh.eq(name)),
        )
        .select(org_rows::id)
        .limit(2)
        .load(tx.conn)?;
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(ApiError::invalid(
            &format!("organizations[{i}]"),
            "not_found",
            format!("no organisation is called `{name}`"),
        )),
        _ => Err(ApiError::invalid(
            &format!("organizations[{i}]"),
            "ambiguous",
            format!("more than one organisation is called `{name}`; use its slug"),
        )),
    }
}

fn platform_id(tx: &mut Tx<'_>, alliance_id: &str, name: &str) -> Result<String, ApiError> {
    platforms::table
        .filter(platforms::alliance_id.eq(alliance_id))
        .filter(platforms::id.eq(name).or(platforms::name_zh.eq(name)))
        .select(platforms::id)
        .first(tx.conn)
        .optional()?
        .ok_or_else(|| {
            ApiError::invalid(
                "platform_id",
                "not_found",
                format!("the alliance has no platform called `{name}`"),
            )
        })
}

/// Runs the rows in the caller's transaction, each in a savepoint.
pub fn run(
    tx: &mut Tx<'_>,
    alliance_key: &str,
    rows: Vec<ActivityRow>,
    report: &mut ImportReport,
) -> Result<(), ApiError> {
    let alliance = alliances::find(tx.conn, alliance_key)?;
    crate::service::access::authorize(tx.principal, "create_activity", &alliance, String::new)?;
    for row in rows {
        let number = row.number;
        let principal = tx.principal.clone();
        let result = tx
            .conn
            .transaction(|conn| run_row(&mut Tx::new(conn, &principal), &alliance.id, row));
        match result {
            Ok(Outcome::Created) => report.activities_created += 1,
            Ok(Outcome::Updated) => report.activities_updated += 1,
            Ok(Outcome::Unchanged) => report.unchanged += 1,
            Err(e) => super::row_conflict(report, number, e, COLUMNS, column_of)?,
        }
    }
    Ok(())
}

/// The column of a field the write path names.
fn column_of(field: &str) -> &str {
    match field {
        "platform_id" => "platform",
        f if f.starts_with("figures.") => &f["figures.".len()..],
        f => f.split(['.', '[']).next().unwrap_or(f),
    }
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
}

fn run_row(tx: &mut Tx<'_>, alliance_id: &str, row: ActivityRow) -> Result<Outcome, ApiError> {
    let platform_id = row
        .platform
        .as_deref()
        .map(|p| platform_id(tx, alliance_id, p))
        .transpose()?;
    let organizations = row
        .organizations
        .iter()
        .enumerate()
        .map(|(i, o)| organization_key(tx, o, i))
        .collect::<Result<Vec<_>, _>>()?;
    let existing: Option<String> = activity_rows::table
        .filter(activity_rows::alliance_id.eq(alliance_id))
        .filter(activity_rows::kind.eq(row.kind.as_str()))
        .filter(activity_rows::title.eq(row.title.as_str()))
        .filter(activity_rows::starts_on.eq(row.starts_on))
        .select(activity_rows::id)
        .first(tx.conn)
        .optional()?;
    match existing {
        None => {
            crate::service::activities::create(
                tx,
                alliance_id,
                NewActivity {
                    kind: row.kind,
                    title: row.title,
                    starts_on: row.starts_on,
                    ends_on: row.ends_on,
                    platform_id,
                    organizations,
                    figures: row.figures,
                    research_status: row.research_status,
                    open_call: row.open_call,
                    resolutions: row.resolutions,
                    outcome: row.outcome,
                    evidence: row.evidence,
                },
            )?;
            Ok(Outcome::Created)
        }
        Some(id) => {
            let before = activities::find(tx.conn, &id)?;
            let after = crate::service::activities::update(
                tx,
                &id,
                ActivityPatch {
                    title: None,
                    starts_on: None,
                    ends_on: Some(row.ends_on),
                    platform_id: Some(platform_id),
                    organizations: Some(organizations),
                    figures: Some(row.figures),
                    research_status: Some(row.research_status),
                    open_call: Some(row.open_call),
                    resolutions: Some(row.resolutions),
                    outcome: Some(row.outcome),
                    evidence: Some(row.evidence),
                },
                &Precondition::None,
            )?;
            Ok(if after.version == before.version {
                Outcome::Unchanged
            } else {
                Outcome::Updated
            })
        }
    }
}

/// The columns and one example row.
pub fn template(zh: bool) -> Table<'static> {
    Table {
        sheet: "activities",
        headers: COLUMNS
            .iter()
            .map(|c| if zh { c.zh } else { c.key }.to_owned())
            .collect(),
        rows: vec![vec![
            "training".into(),
            "2025年生物医药骨干教师培训班".into(),
            "2025-07-14".into(),
            "2025-07-18".into(),
            "生物医药技术公共实训中心".into(),
            "nankai-university；asymchem".into(),
            "40".into(),
            "200".into(),
            "32".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "40名骨干教师完成细胞治疗工艺模块培训".into(),
            "https://www.teda.gov.cn/notice/2025-07-20.html".into(),
        ]],
        numeric: vec![],
    }
}
