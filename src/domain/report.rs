//! A year of an alliance's KPIs and its annual report: targets and actuals,
//! attainment, the workflow (draft → submitted → approved, or returned),
//! and the frozen snapshot an approval leaves behind.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::Validate;

use super::activity::ActivityKind;
use super::council::Position;
use super::kpi::{Derivation, KpiDefinition, KpiDirection, KpiUnit, KpiValueType};
use super::organization::OrganizationKind;
use super::platform::{PlatformKind, PlatformStatus};
use super::{Url, text_enum};

/// The years a report may be for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

text_enum!(
    ReportStatus {
        /// Being filled in by the secretariat.
        Draft = "draft",
        /// Sent for review; the figures wait for a reviewer.
        Submitted = "submitted",
        /// Approved and frozen: the year is locked.
        Approved = "approved",
        /// Sent back with a comment; the secretariat edits and resubmits.
        Returned = "returned",
    }
);

text_enum!(
    ReportAction {
        /// Secretariat: draft or returned → submitted.
        Submit = "submit",
        /// Reviewer: submitted → returned (a comment is required).
        Return = "return",
        /// Reviewer: submitted → approved (freezes the snapshot).
        Approve = "approve",
        /// Reviewer: approved → draft (a reason is required).
        Reopen = "reopen",
    }
);

impl ReportAction {
    /// The states this action starts from and the state it leads to.
    pub fn transition(self) -> (&'static [ReportStatus], ReportStatus) {
        use ReportStatus::*;
        match self {
            ReportAction::Submit => (&[Draft, Returned], Submitted),
            ReportAction::Return => (&[Submitted], Returned),
            ReportAction::Approve => (&[Submitted], Approved),
            ReportAction::Reopen => (&[Approved], Draft),
        }
    }

    /// Whether the action needs a comment (why it was returned or reopened).
    pub fn needs_comment(self) -> bool {
        matches!(self, ReportAction::Return | ReportAction::Reopen)
    }
}

/// A KPI figure. Whole numbers are written without a fraction (`40`, not
/// `40.0`), so a canonical snapshot does not depend on how a value was typed.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Deserialize, ToSchema)]
#[schema(value_type = f64, example = 40)]
pub struct Figure(pub f64);

impl Serialize for Figure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.fract() == 0.0 && self.0.abs() < 9.0e15 {
            s.serialize_i64(self.0 as i64)
        } else {
            s.serialize_f64(self.0)
        }
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.fract() == 0.0 && self.0.abs() < 9.0e15 {
            write!(f, "{}", self.0 as i64)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// How far an actual went towards its target, honouring the KPI's
/// direction: `actual / target` when more is better, `target / actual`
/// when less is. `None` where the ratio is undefined (a zero divisor or a
/// missing figure); rounded to four places.
pub fn attainment(
    direction: KpiDirection,
    target: Option<f64>,
    actual: Option<f64>,
) -> Option<f64> {
    let (t, a) = (target?, actual?);
    let ratio = match direction {
        KpiDirection::Increase if t > 0.0 => a / t,
        KpiDirection::Decrease if a > 0.0 => t / a,
        _ => return None,
    };
    // `+ 0.0` turns a negative zero (an actual of -0 entered or summed)
    // into the zero every other view shows.
    Some((ratio * 10_000.0).round() / 10_000.0 + 0.0)
}

/// Whether the target is met, honouring direction; `None` without both figures.
pub fn attained(direction: KpiDirection, target: Option<f64>, actual: Option<f64>) -> Option<bool> {
    let (t, a) = (target?, actual?);
    Some(match direction {
        KpiDirection::Increase => a >= t,
        KpiDirection::Decrease => a <= t,
    })
}

/// One KPI of a year as a secretariat sets it.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "technical_service_income",
    "target": 500,
    "actual": 532.5,
    "note": "技术服务合同12项",
    "evidence": ["https://www.teda.gov.cn/alliance/2025/income.pdf"]
}))]
pub struct KpiEntry {
    /// A code of the catalogue.
    #[schema(example = "technical_service_income")]
    pub code: String,
    /// The year's target, in the KPI's unit.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub target: Option<f64>,
    /// The actual, for a KPI entered by hand; a derived KPI's actual comes
    /// from the records and may not be given.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub actual: Option<f64>,
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Links to the documents that back the figure.
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(value_type = Vec<String>, max_items = 20)]
    pub evidence: Vec<Url>,
}

/// The whole of a year's entries: KPIs not listed have no target and no
/// hand-entered actual afterwards.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kpis": [
    {"code": "teacher_training_person_times", "target": 800, "evidence": ["https://www.teda.gov.cn/alliance/2025/training.pdf"]},
    {"code": "technical_service_income", "target": 500, "actual": 532.5, "note": "技术服务合同12项"}
]}))]
pub struct KpiYearInput {
    #[validate(length(max = 500), nested)]
    #[schema(max_items = 500)]
    pub kpis: Vec<KpiEntry>,
}

/// Checks one entry against its KPI: figures in range and of the KPI's
/// value type, no hand-typed actual for a derived KPI. Returns the field
/// (within the entry) and why.
pub fn check_entry(
    kpi: &KpiDefinition,
    entry: &KpiEntry,
) -> Result<(), (&'static str, &'static str, String)> {
    if kpi.derivation.is_some() && entry.actual.is_some() {
        return Err((
            "actual",
            "derived",
            format!(
                "`{}` is derived from the year's records; its actual cannot be typed",
                kpi.code
            ),
        ));
    }
    for (field, value) in [("target", entry.target), ("actual", entry.actual)] {
        let Some(v) = value else { continue };
        let max = if kpi.value_type == KpiValueType::Percent {
            100.0
        } else {
            1.0e12
        };
        if !(0.0..=max).contains(&v) {
            return Err((
                field,
                "out_of_range",
                format!("must be between 0 and {max}"),
            ));
        }
        if kpi.value_type == KpiValueType::Integer && v.fract() != 0.0 {
            return Err((
                field,
                "not_integer",
                format!("`{}` counts whole {}; {v} is not whole", kpi.code, kpi.unit),
            ));
        }
    }
    Ok(())
}

text_enum!(
    ActualSource {
        /// Typed in by the secretariat.
        Manual = "manual",
        /// Computed from the year's records.
        Derived = "derived",
    }
);

text_enum!(
    RecordType {
        Activity = "activity",
        Platform = "platform",
        Organization = "organization",
        /// A closed match of a demand and an offer (供需对接).
        PostingMatch = "posting_match",
    }
);

/// One record a derived figure counts, and what it adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contribution {
    pub record_type: RecordType,
    pub id: String,
    #[schema(example = "2025年生物医药骨干教师培训班")]
    pub title: String,
    /// The activity's first day or the platform's opening day.
    pub date: Option<NaiveDate>,
    pub value: Figure,
}

/// One KPI of a year: target, actual, attainment and where the actual
/// comes from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KpiLine {
    pub code: String,
    #[schema(example = "校长和骨干教师培训")]
    pub name_zh: String,
    pub name_en: Option<String>,
    pub unit: KpiUnit,
    pub direction: KpiDirection,
    pub value_type: KpiValueType,
    pub target: Option<Figure>,
    pub actual: Option<Figure>,
    pub actual_source: ActualSource,
    /// `actual / target` (or `target / actual` when less is better);
    /// `null` when either is missing or the divisor is zero.
    #[schema(example = 1.065)]
    pub attainment: Option<f64>,
    /// Whether the target is met; `null` without both figures.
    pub attained: Option<bool>,
    pub note: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub evidence: Vec<Url>,
    pub evidence_required: bool,
    pub derivation: Option<Derivation>,
    /// The records a derived actual counts (`null` for a manual KPI).
    pub provenance: Option<Vec<Contribution>>,
    /// Where the indicator comes from.
    pub source: Option<String>,
}

/// A KPI's figures as approved, kept beside the snapshot for the
/// dashboard: the organisations a count names let totals count each once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApprovedFigure {
    pub target: Option<Figure>,
    pub actual: Option<Figure>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organizations: Vec<String>,
}

/// Who approved a year, when, and the hash of what they approved.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    pub approved_at: DateTime<Utc>,
    pub approved_by: String,
    /// SHA-256 (hex) of the snapshot's canonical JSON.
    #[schema(example = "9f2c4e…")]
    pub snapshot_sha256: String,
}

/// A year's KPIs of one alliance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiYear {
    pub alliance_id: String,
    #[schema(example = 2025)]
    pub year: i32,
    pub status: ReportStatus,
    /// +1 on each change of the year's entries or status; 0 for a year
    /// nothing has been entered for.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
    pub approval: Option<Approval>,
    pub items: Vec<KpiLine>,
}

impl super::Versioned for KpiYear {
    fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// Organisations that joined or left in the year, of one kind.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KindCount {
    pub kind: OrganizationKind,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MembershipMovement {
    /// Members on 1 January.
    pub at_start: i64,
    /// Members on 31 December.
    pub at_end: i64,
    pub joined: Vec<KindCount>,
    pub left: Vec<KindCount>,
}

/// A council seat as of 31 December.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CouncilLine {
    pub position: Position,
    pub person_name_zh: String,
    pub organization_id: String,
    pub organization_name_zh: String,
    pub term_number: i32,
    pub term_starts_on: NaiveDate,
    pub term_ends_on: NaiveDate,
}

/// A platform open at some time in the year.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlatformLine {
    pub id: String,
    pub kind: PlatformKind,
    pub name_zh: String,
    pub status: PlatformStatus,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
}

/// The activities of one kind in the year and their summed figures.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActivityLine {
    pub kind: ActivityKind,
    pub count: i64,
    pub persons: i64,
    pub person_times: i64,
    pub students: i64,
    pub awards: i64,
}

/// What a report says: the part an approval freezes and hashes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportContent {
    pub alliance_id: String,
    pub alliance_slug: String,
    pub alliance_name_zh: String,
    pub year: i32,
    pub kpis: Vec<KpiLine>,
    pub membership: MembershipMovement,
    pub council: Vec<CouncilLine>,
    pub platforms: Vec<PlatformLine>,
    pub activities: Vec<ActivityLine>,
}

impl ReportContent {
    /// The canonical JSON of the content: keys sorted at every level (the
    /// order `serde_json`'s map keeps), no spaces, whole numbers without
    /// fractions.
    pub fn canonical_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_value(self).and_then(|v| serde_json::to_string(&v))
    }
}

/// SHA-256 of a text, as lower-case hex.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// One step of a report's workflow.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportEvent {
    pub at: DateTime<Utc>,
    /// The token subject that acted.
    pub actor: String,
    pub action: ReportAction,
    pub from_status: ReportStatus,
    pub to_status: ReportStatus,
    pub comment: Option<String>,
    /// On approval: the hash of the snapshot frozen.
    pub snapshot_sha256: Option<String>,
}

/// The annual report of one alliance and year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnnualReport {
    pub status: ReportStatus,
    /// The year's version (shared with `/kpis/{year}`).
    pub version: i64,
    pub approval: Option<Approval>,
    /// The last return comment or reopening reason.
    pub comment: Option<String>,
    pub history: Vec<ReportEvent>,
    /// `true`: the content is the approved snapshot, byte for byte what
    /// `approval.snapshot_sha256` hashes (not for a viewer, who gets the
    /// council's names masked).
    pub frozen: bool,
    #[serde(flatten)]
    pub content: ReportContent,
}

impl super::PersonalData for AnnualReport {
    /// The council's names masked; the content is then no longer the
    /// snapshot byte for byte, so it is not `frozen` (unless no name was
    /// there to mask).
    fn masked(mut self) -> Self {
        for line in &mut self.content.council {
            let masked = super::mask_person_name(&line.person_name_zh);
            if masked != line.person_name_zh {
                line.person_name_zh = masked;
                self.frozen = false;
            }
        }
        self
    }
}

impl super::Versioned for AnnualReport {
    fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// A workflow step's request body.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "请补充技术服务收入的合同清单"}))]
pub struct ReportActionInput {
    /// Why the report is returned or reopened (required for those two).
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub comment: Option<String>,
}

/// The unit a KPI's figures are in, as a report shows it to people.
pub fn unit_zh(unit: KpiUnit) -> &'static str {
    match unit {
        KpiUnit::PersonTimes => "人次",
        KpiUnit::Persons => "人",
        KpiUnit::Count => "个",
        KpiUnit::Cny10k => "万元",
        KpiUnit::Percent => "%",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attainment_honours_direction_and_never_divides_by_zero() {
        use KpiDirection::*;
        assert_eq!(attainment(Increase, Some(800.0), Some(840.0)), Some(1.05));
        assert_eq!(attainment(Increase, Some(0.0), Some(10.0)), None);
        assert_eq!(attainment(Decrease, Some(5.0), Some(4.0)), Some(1.25));
        assert_eq!(attainment(Decrease, Some(5.0), Some(0.0)), None);
        assert_eq!(attainment(Increase, None, Some(1.0)), None);
        let zero = attainment(Increase, Some(1.0), Some(-0.0)).unwrap();
        assert!(zero == 0.0 && zero.is_sign_positive(), "{zero}");
        assert_eq!(attained(Decrease, Some(5.0), Some(0.0)), Some(true));
        assert_eq!(attained(Increase, Some(5.0), Some(4.0)), Some(false));
    }

    #[test]
    fn whole_figures_serialise_without_a_fraction() {
        let v = serde_json::to_string(&[Figure(40.0), Figure(532.5)]).unwrap();
        assert_eq!(v, "[40,532.5]");
    }

    #[test]
    fn every_action_leads_somewhere_else() {
        for a in ReportAction::ALL {
            let (from, to) = a.transition();
            assert!(!from.contains(&to), "{a}");
        }
    }
}
