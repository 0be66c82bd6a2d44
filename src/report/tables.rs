//! The annual report as tables: one per section, for a workbook (one sheet
//! each) or a CSV file (one section).

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::report::{ActualSource, AnnualReport, Figure, unit_zh};
use crate::tabular::Table;

/// A section of the annual report, as a file holds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Status and approval.
    Summary,
    /// The KPI table (the default).
    #[default]
    Kpis,
    /// Members joined and left, by kind.
    Membership,
    /// The council on 31 December.
    Council,
    /// Platforms open in the year.
    Platforms,
    /// Activities by kind.
    Activities,
}

impl Section {
    pub const ALL: [Section; 6] = [
        Section::Summary,
        Section::Kpis,
        Section::Membership,
        Section::Council,
        Section::Platforms,
        Section::Activities,
    ];
}

/// `(key, Chinese header)` of each column, the sheet name, and which
/// columns hold numbers.
struct Layout {
    sheet: &'static str,
    columns: &'static [(&'static str, &'static str)],
    numeric: &'static [usize],
}

fn layout(section: Section) -> Layout {
    match section {
        Section::Summary => Layout {
            sheet: "概况",
            columns: &[("item", "项目"), ("value", "内容")],
            numeric: &[],
        },
        Section::Kpis => Layout {
            sheet: "指标",
            columns: &[
                ("code", "指标代码"),
                ("name_zh", "指标名称"),
                ("unit", "单位"),
                ("direction", "方向"),
                ("target", "目标值"),
                ("actual", "实际值"),
                ("attainment", "完成率"),
                ("attained", "是否达标"),
                ("actual_source", "数据来源"),
                ("records", "计入记录数"),
                ("note", "说明"),
                ("evidence", "佐证材料"),
            ],
            numeric: &[4, 5, 6, 9],
        },
        Section::Membership => Layout {
            sheet: "成员变动",
            columns: &[
                ("movement", "变动"),
                ("kind", "单位类型"),
                ("count", "数量（家）"),
            ],
            numeric: &[2],
        },
        Section::Council => Layout {
            sheet: "理事会",
            columns: &[
                ("position", "职务"),
                ("person_name_zh", "姓名"),
                ("organization_name_zh", "单位"),
                ("term_number", "届次"),
                ("term_starts_on", "任期开始"),
                ("term_ends_on", "任期结束"),
            ],
            numeric: &[3],
        },
        Section::Platforms => Layout {
            sheet: "平台",
            columns: &[
                ("name_zh", "名称"),
                ("kind", "类型"),
                ("status", "状态"),
                ("opened_on", "启用日期"),
                ("closed_on", "关闭日期"),
            ],
            numeric: &[],
        },
        Section::Activities => Layout {
            sheet: "活动",
            columns: &[
                ("kind", "活动类型"),
                ("count", "次数"),
                ("persons", "人数（人）"),
                ("person_times", "人次"),
                ("students", "学生（人）"),
                ("awards", "获奖（项）"),
            ],
            numeric: &[1, 2, 3, 4, 5],
        },
    }
}

fn figure(f: Option<Figure>) -> String {
    f.map(|f| f.to_string()).unwrap_or_default()
}

fn rows(r: &AnnualReport, section: Section, zh: bool) -> Vec<Vec<String>> {
    let c = &r.content;
    match section {
        Section::Summary => {
            let approval = r.approval.as_ref();
            let pairs = [
                ("联合体", c.alliance_name_zh.clone()),
                ("年度", c.year.to_string()),
                ("状态", r.status.to_string()),
                ("版本", r.version.to_string()),
                (
                    "审核时间",
                    approval
                        .map(|a| a.approved_at.to_rfc3339())
                        .unwrap_or_default(),
                ),
                (
                    "审核人",
                    approval.map(|a| a.approved_by.clone()).unwrap_or_default(),
                ),
                (
                    "快照 SHA-256",
                    approval
                        .map(|a| a.snapshot_sha256.clone())
                        .unwrap_or_default(),
                ),
                ("意见", r.comment.clone().unwrap_or_default()),
            ];
            pairs
                .into_iter()
                .map(|(k, v)| vec![k.to_owned(), v])
                .collect()
        }
        Section::Kpis => c
            .kpis
            .iter()
            .map(|k| {
                vec![
                    k.code.clone(),
                    k.name_zh.clone(),
                    if zh {
                        unit_zh(k.unit).to_owned()
                    } else {
                        k.unit.to_string()
                    },
                    k.direction.to_string(),
                    figure(k.target),
                    figure(k.actual),
                    k.attainment.map(|a| a.to_string()).unwrap_or_default(),
                    k.attained.map(|a| a.to_string()).unwrap_or_default(),
                    match (k.actual_source, zh) {
                        (ActualSource::Derived, true) => "按记录计算".to_owned(),
                        (ActualSource::Manual, true) => "填报".to_owned(),
                        (s, false) => s.to_string(),
                    },
                    k.provenance
                        .as_ref()
                        .map(|p| p.len().to_string())
                        .unwrap_or_default(),
                    k.note.clone().unwrap_or_default(),
                    k.evidence
                        .iter()
                        .map(|u| u.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ]
            })
            .collect(),
        Section::Membership => {
            let m = &c.membership;
            let mut out = vec![
                vec!["at_start".into(), String::new(), m.at_start.to_string()],
                vec!["at_end".into(), String::new(), m.at_end.to_string()],
            ];
            for (movement, counts) in [("joined", &m.joined), ("left", &m.left)] {
                for k in counts {
                    out.push(vec![
                        movement.into(),
                        k.kind.to_string(),
                        k.count.to_string(),
                    ]);
                }
            }
            out
        }
        Section::Council => c
            .council
            .iter()
            .map(|s| {
                vec![
                    s.position.to_string(),
                    s.person_name_zh.clone(),
                    s.organization_name_zh.clone(),
                    s.term_number.to_string(),
                    s.term_starts_on.to_string(),
                    s.term_ends_on.to_string(),
                ]
            })
            .collect(),
        Section::Platforms => c
            .platforms
            .iter()
            .map(|p| {
                vec![
                    p.name_zh.clone(),
                    p.kind.to_string(),
                    p.status.to_string(),
                    p.opened_on.map(|d| d.to_string()).unwrap_or_default(),
                    p.closed_on.map(|d| d.to_string()).unwrap_or_default(),
                ]
            })
            .collect(),
        Section::Activities => c
            .activities
            .iter()
            .map(|a| {
                vec![
                    a.kind.to_string(),
                    a.count.to_string(),
                    a.persons.to_string(),
                    a.person_times.to_string(),
                    a.students.to_string(),
                    a.awards.to_string(),
                ]
            })
            .collect(),
    }
}

/// One section of the report as a table.
pub fn table(r: &AnnualReport, section: Section, zh: bool) -> Table<'static> {
    let l = layout(section);
    Table {
        sheet: l.sheet,
        headers: l
            .columns
            .iter()
            .map(|(key, h)| if zh { *h } else { *key }.to_owned())
            .collect(),
        rows: rows(r, section, zh),
        numeric: l.numeric.to_vec(),
    }
}
