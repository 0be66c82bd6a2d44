//! Bulk entry of yearly KPI figures: one row per year and KPI. A row sets
//! that KPI's target, actual, note and evidence for the year; KPIs the file
//! does not name keep what they have.

use std::collections::{BTreeMap, HashMap};

use super::{Cells, Column, ImportReport};
use crate::db::{alliances, kpis};
use crate::domain::Url;
use crate::domain::report::{KpiEntry, KpiYearInput, YEARS, check_entry};
use crate::error::ApiError;
use crate::service::Precondition;
use crate::service::Tx;
use crate::service::reports::Entries;
use crate::tabular::Table;

pub const COLUMNS: &[Column] = &[
    Column {
        key: "year",
        zh: "年度",
        required: true,
    },
    Column {
        key: "code",
        zh: "指标代码",
        required: true,
    },
    Column {
        key: "target",
        zh: "目标值",
        required: false,
    },
    Column {
        key: "actual",
        zh: "实际值",
        required: false,
    },
    Column {
        key: "note",
        zh: "说明",
        required: false,
    },
    Column {
        key: "evidence",
        zh: "佐证材料",
        required: false,
    },
];

#[derive(Debug, Clone)]
pub struct KpiRow {
    pub number: usize,
    pub year: i32,
    pub entry: KpiEntry,
}

fn figure_of(s: &str) -> Result<f64, &'static str> {
    s.replace(',', "")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or("a number")
}

fn year_of(s: &str) -> Result<i32, &'static str> {
    s.parse::<i32>()
        .ok()
        .filter(|y| YEARS.contains(y))
        .ok_or("a year from 2000 to 2100")
}

/// Links separated by spaces, `；`, `;` or line breaks.
fn links_of(s: &str) -> Result<Vec<Url>, &'static str> {
    s.split(['；', ';', '\n', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Url::parse)
        .collect()
}

pub fn parse_row(c: &Cells<'_>, report: &mut ImportReport) -> Option<KpiRow> {
    let year = c.parse(report, "year", year_of);
    let code = c.text("code");
    for (key, missing) in [("year", c.text("year").is_none()), ("code", code.is_none())] {
        if missing {
            c.bad(report, key, "required");
        }
    }
    let target = c.parse(report, "target", figure_of);
    let actual = c.parse(report, "actual", figure_of);
    let evidence = c.parse(report, "evidence", links_of);
    if c.rejected(report) {
        return None;
    }
    Some(KpiRow {
        number: c.number,
        year: year?,
        entry: KpiEntry {
            code: code?,
            target,
            actual,
            note: c.text("note"),
            evidence: evidence.unwrap_or_default(),
        },
    })
}

pub fn run(
    tx: &mut Tx<'_>,
    alliance_key: &str,
    rows: Vec<KpiRow>,
    report: &mut ImportReport,
) -> Result<(), ApiError> {
    let alliance = alliances::find(tx.conn, alliance_key)?;
    crate::service::access::authorize(tx.principal, "put_kpi_year", &alliance, String::new)?;
    let catalogue: HashMap<String, _> = kpis::list(tx.conn)?
        .into_iter()
        .map(|k| (k.code.clone(), k))
        .collect();
    let mut years: BTreeMap<i32, Vec<KpiEntry>> = BTreeMap::new();
    let mut first_row: HashMap<(i32, String), usize> = HashMap::new();
    for row in rows {
        let Some(kpi) = catalogue.get(&row.entry.code) else {
            report.conflict(
                row.number,
                Some("code"),
                "unknown_kpi",
                format!("the catalogue has no KPI `{}`", row.entry.code),
            );
            continue;
        };
        if let Err((field, code, message)) = check_entry(kpi, &row.entry) {
            report.conflict(row.number, Some(field), code, message);
            continue;
        }
        if let Some(earlier) = first_row.insert((row.year, row.entry.code.clone()), row.number) {
            report.conflict(
                row.number,
                Some("code"),
                "duplicate",
                format!(
                    "row {earlier} already sets `{}` for {}",
                    row.entry.code, row.year
                ),
            );
            continue;
        }
        years.entry(row.year).or_default().push(row.entry);
    }
    for (year, kpis) in years {
        let n = kpis.len();
        // A year under review or approved refuses the whole import (409).
        crate::service::reports::put_year(
            tx,
            &alliance.id,
            year,
            KpiYearInput { kpis },
            Entries::Merge,
            &Precondition::None,
        )?;
        report.kpi_entries_set += n;
    }
    Ok(())
}

/// The columns and two example rows.
pub fn template(zh: bool) -> Table<'static> {
    Table {
        sheet: "kpis",
        headers: COLUMNS
            .iter()
            .map(|c| if zh { c.zh } else { c.key }.to_owned())
            .collect(),
        rows: vec![
            vec![
                "2025".into(),
                "technical_service_income".into(),
                "500".into(),
                "532.5".into(),
                "技术服务合同12项".into(),
                "https://www.teda.gov.cn/alliance/2025/income.pdf".into(),
            ],
            vec![
                "2025".into(),
                "teacher_training_person_times".into(),
                "800".into(),
                String::new(),
                "实际值按培训活动记录自动计算".into(),
                "https://www.teda.gov.cn/alliance/2025/training.pdf".into(),
            ],
        ],
        numeric: vec![0, 2, 3],
    }
}
