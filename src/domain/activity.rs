//! What an alliance does: council meetings, trainings, joint R&D, order-based
//! classes, competitions, exchanges. Head-counts carry their unit in their
//! name, and each kind takes only the figures that mean something for it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::organization::OrganizationSummary;
use super::{Name, Url, Versioned, text_enum};

text_enum!(
    ActivityKind {
        /// 理事会会议: attendance (`persons`, participating organisations) and `resolutions`.
        CouncilMeeting = "council_meeting",
        /// 培训: `persons` (人), `person_times` (人次), `hours` (学时).
        Training = "training",
        /// 联合研发 (揭榜挂帅 with `open_call`): `research_status`, `budget_cny`, `persons`.
        JointResearch = "joint_research",
        /// 订单班: `students` (人).
        OrderClass = "order_class",
        /// 技能大赛: `persons` (人), `awards` (项).
        Competition = "competition",
        /// 交流 / 研讨 / 论坛: `persons` (人), `person_times` (人次).
        Exchange = "exchange",
    }
);

text_enum!(
    ResearchStatus {
        Proposed = "proposed",
        Ongoing = "ongoing",
        Completed = "completed",
        Terminated = "terminated",
    }
);

/// Figures of an activity, each in the unit its name says. A kind takes
/// only some of them (see `ActivityKind`); the others must be absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityFigures {
    /// Distinct persons (人).
    #[validate(range(min = 0, max = 10_000_000))]
    #[schema(minimum = 0, maximum = 10_000_000, example = 40)]
    pub persons: Option<i64>,
    /// Attendances counted per session (人次).
    #[validate(range(min = 0, max = 100_000_000))]
    #[schema(minimum = 0, maximum = 100_000_000, example = 120)]
    pub person_times: Option<i64>,
    /// Class hours (学时) per participant.
    #[validate(range(min = 0, max = 100_000))]
    #[schema(minimum = 0, maximum = 100_000, example = 16)]
    pub hours: Option<i64>,
    /// Students enrolled (人), for order-based classes.
    #[validate(range(min = 0, max = 1_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000, example = 45)]
    pub students: Option<i64>,
    /// Awards won (项), for competitions.
    #[validate(range(min = 0, max = 100_000))]
    #[schema(minimum = 0, maximum = 100_000, example = 3)]
    pub awards: Option<i64>,
    /// Budget in yuan (元), for joint research.
    #[validate(range(min = 0, max = 1_000_000_000_000_i64))]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64, example = 2_000_000)]
    pub budget_cny: Option<i64>,
}

impl ActivityFigures {
    fn present(&self) -> Vec<&'static str> {
        let mut names = vec![];
        let fields = [
            ("persons", self.persons.is_some()),
            ("person_times", self.person_times.is_some()),
            ("hours", self.hours.is_some()),
            ("students", self.students.is_some()),
            ("awards", self.awards.is_some()),
            ("budget_cny", self.budget_cny.is_some()),
        ];
        for (name, set) in fields {
            if set {
                names.push(name);
            }
        }
        names
    }
}

impl ActivityKind {
    /// The figures this kind takes.
    pub fn figures(self) -> &'static [&'static str] {
        match self {
            ActivityKind::CouncilMeeting => &["persons"],
            ActivityKind::Training => &["persons", "person_times", "hours"],
            ActivityKind::JointResearch => &["persons", "budget_cny"],
            ActivityKind::OrderClass => &["students"],
            ActivityKind::Competition => &["persons", "awards"],
            ActivityKind::Exchange => &["persons", "person_times"],
        }
    }
}

/// One activity of an alliance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Activity {
    pub id: String,
    pub alliance_id: String,
    pub kind: ActivityKind,
    #[schema(value_type = String, example = "2025年生物医药骨干教师培训班")]
    pub title: Name,
    pub starts_on: NaiveDate,
    /// The last day, for an activity longer than one day.
    pub ends_on: Option<NaiveDate>,
    /// The platform it ran on, one of the alliance's.
    pub platform_id: Option<String>,
    /// Participating (or, for a council meeting, attending) organisations.
    pub organizations: Vec<OrganizationSummary>,
    pub figures: ActivityFigures,
    /// Joint research only.
    pub research_status: Option<ResearchStatus>,
    /// Joint research only: chosen by open call (揭榜挂帅).
    pub open_call: Option<bool>,
    /// Council meetings only: the resolutions adopted.
    pub resolutions: Vec<String>,
    #[schema(example = "40名骨干教师完成细胞治疗工艺模块培训")]
    pub outcome: Option<String>,
    /// Links to minutes, photos, notices.
    #[schema(value_type = Vec<String>)]
    pub evidence: Vec<Url>,
    #[schema(example = 1)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub embedded_versions: i64,
}

impl Versioned for Activity {
    fn etag(&self) -> String {
        format!("\"{}.{}\"", self.version, self.embedded_versions)
    }
}

/// Records an activity of an alliance (admin or its secretariat).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = CreateActivity)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "training",
    "title": "2025年生物医药骨干教师培训班",
    "starts_on": "2025-07-14",
    "ends_on": "2025-07-18",
    "organizations": ["nankai-university", "kailaiying-pharma"],
    "figures": {"persons": 40, "person_times": 200, "hours": 32},
    "outcome": "40名骨干教师完成细胞治疗工艺模块培训",
    "evidence": ["https://www.teda.gov.cn/notice/2025-07-20.html"]
}))]
pub struct NewActivity {
    pub kind: ActivityKind,
    pub title: Name,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    /// A platform of the same alliance (id).
    pub platform_id: Option<String>,
    /// Organisations' ids or slugs (at most 200).
    #[serde(default)]
    #[validate(length(max = 200, message = "at most 200 organizations"))]
    pub organizations: Vec<String>,
    #[serde(default)]
    #[validate(nested)]
    pub figures: ActivityFigures,
    pub research_status: Option<ResearchStatus>,
    pub open_call: Option<bool>,
    #[serde(default)]
    #[validate(custom(function = "check_texts"))]
    pub resolutions: Vec<String>,
    #[validate(length(max = 4000))]
    pub outcome: Option<String>,
    #[serde(default)]
    #[validate(length(max = 20, message = "at most 20 links"))]
    #[schema(value_type = Vec<String>)]
    pub evidence: Vec<Url>,
}

/// Changes an activity: absent fields stay, `null` clears; lists and
/// `figures` are replaced whole.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = UpdateActivity)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"figures": {"persons": 42, "person_times": 210, "hours": 32}}))]
pub struct ActivityPatch {
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(value_type = Option<String>, nullable = false)]
    pub title: Option<Name>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub starts_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub platform_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    #[validate(length(max = 200, message = "at most 200 organizations"))]
    pub organizations: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    #[validate(nested)]
    pub figures: Option<ActivityFigures>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<ResearchStatus>)]
    pub research_status: Option<Option<ResearchStatus>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<bool>)]
    pub open_call: Option<Option<bool>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    #[validate(custom(function = "check_texts"))]
    pub resolutions: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(length(max = 4000))]
    #[schema(value_type = Option<String>)]
    pub outcome: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(value_type = Option<Vec<String>>, nullable = false)]
    #[validate(length(max = 20, message = "at most 20 links"))]
    pub evidence: Option<Vec<Url>>,
}

fn check_texts(texts: &[String]) -> Result<(), ValidationError> {
    let ok = texts.len() <= 50
        && texts
            .iter()
            .all(|t| !t.trim().is_empty() && t.chars().count() <= 2000);
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("invalid")
            .with_message("at most 50 entries of 1-2000 characters each".into()))
    }
}

/// The rules an activity keeps whatever the request: dates in order, and
/// each kind only its own figures and fields. Returns the field and why.
pub fn check(a: &Activity) -> Result<(), (String, String)> {
    if let Some(end) = a.ends_on
        && end < a.starts_on
    {
        return Err((
            "ends_on".into(),
            format!("ends_on ({end}) is before starts_on ({})", a.starts_on),
        ));
    }
    let allowed = a.kind.figures();
    if let Some(extra) = a
        .figures
        .present()
        .into_iter()
        .find(|f| !allowed.contains(f))
    {
        return Err((
            format!("figures.{extra}"),
            format!(
                "a {} does not record {extra}; it takes {}",
                a.kind,
                allowed.join(", ")
            ),
        ));
    }
    if let (Some(persons), Some(times)) = (a.figures.persons, a.figures.person_times)
        && times < persons
    {
        return Err((
            "figures.person_times".into(),
            format!("{times} person-times (人次) cannot be fewer than {persons} persons (人)"),
        ));
    }
    let research = a.kind == ActivityKind::JointResearch;
    if research && a.research_status.is_none() {
        return Err((
            "research_status".into(),
            "joint research needs a research_status".into(),
        ));
    }
    if !research && a.research_status.is_some() {
        return Err((
            "research_status".into(),
            format!(
                "only joint research has a research_status, not a {}",
                a.kind
            ),
        ));
    }
    if !research && a.open_call.is_some() {
        return Err((
            "open_call".into(),
            format!(
                "only joint research is chosen by open call, not a {}",
                a.kind
            ),
        ));
    }
    if a.kind != ActivityKind::CouncilMeeting && !a.resolutions.is_empty() {
        return Err((
            "resolutions".into(),
            format!("only council meetings adopt resolutions, not a {}", a.kind),
        ));
    }
    Ok(())
}
