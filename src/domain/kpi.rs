//! The KPI catalogue: what alliances set targets for and report on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::activity::ActivityKind;
use super::organization::CertificationLevel;
use super::platform::PlatformKind;
use super::{Name, Versioned, text_enum};

text_enum!(
    KpiUnit {
        /// 人次: attendances counted per session.
        PersonTimes = "person_times",
        /// 人: distinct persons.
        Persons = "persons",
        /// 个 / 项 / 家: a count of things.
        Count = "count",
        /// 万元.
        Cny10k = "cny10k",
        /// %.
        Percent = "percent",
    }
);

text_enum!(
    KpiDirection {
        /// More is better.
        Increase = "increase",
        /// Less is better.
        Decrease = "decrease",
    }
);

text_enum!(
    KpiValueType {
        Integer = "integer",
        Decimal = "decimal",
        Percent = "percent",
    }
);

text_enum!(
    ActivityFigure {
        Persons = "persons",
        PersonTimes = "person_times",
        Students = "students",
        Awards = "awards",
    }
);

/// How a derived KPI's actual comes from the year's records; it is never
/// typed by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum Derivation {
    /// The sum of one figure over the activities of a kind that start in the year.
    ActivityFigure {
        activity_kind: ActivityKind,
        figure: ActivityFigure,
    },
    /// The number of activities of a kind that start in the year
    /// (`open_call`: only those chosen by open call, 揭榜挂帅).
    ActivityCount {
        activity_kind: ActivityKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        open_call: Option<bool>,
    },
    /// The number of the alliance's platforms of a kind open at some time in the year.
    OpenPlatforms { platform_kind: PlatformKind },
    /// The number of member enterprises whose certification holds at year end.
    CertifiedMembers {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<CertificationLevel>,
    },
    /// The number of matches of a demand and an offer (供需对接) closed in the year.
    ClosedMatches,
    /// The students placed by the matches closed in the year.
    StudentsPlaced,
}

impl Derivation {
    /// The unit the derived figure is in.
    pub fn unit(&self) -> KpiUnit {
        match self {
            Derivation::ActivityFigure { figure, .. } => match figure {
                ActivityFigure::PersonTimes => KpiUnit::PersonTimes,
                ActivityFigure::Persons | ActivityFigure::Students => KpiUnit::Persons,
                ActivityFigure::Awards => KpiUnit::Count,
            },
            Derivation::StudentsPlaced => KpiUnit::Persons,
            _ => KpiUnit::Count,
        }
    }
}

/// One KPI of the catalogue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KpiDefinition {
    /// Stable code, lower case: `teacher_training_person_times`.
    #[schema(example = "teacher_training_person_times")]
    pub code: String,
    #[schema(value_type = String, example = "校长和骨干教师培训")]
    pub name_zh: Name,
    #[schema(value_type = Option<String>, example = "Principal and teacher training")]
    pub name_en: Option<Name>,
    pub unit: KpiUnit,
    pub direction: KpiDirection,
    pub value_type: KpiValueType,
    /// `null`: entered by hand each year.
    pub derivation: Option<Derivation>,
    /// Submitting a year's report needs evidence for this KPI.
    pub evidence_required: bool,
    /// Where the indicator comes from (a plan and its clause).
    #[schema(example = "seed 001 §三(一)4: 每年不少于5000人次")]
    pub source: Option<String>,
    #[schema(example = 1)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for KpiDefinition {
    fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// Adds a KPI to the catalogue (admin).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = CreateKpiDefinition)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "order_class_students",
    "name_zh": "订单班学生",
    "unit": "persons",
    "direction": "increase",
    "value_type": "integer",
    "derivation": {"source": "activity_figure", "activity_kind": "order_class", "figure": "students"}
}))]
pub struct NewKpiDefinition {
    #[validate(custom(function = "check_code"))]
    pub code: String,
    pub name_zh: Name,
    pub name_en: Option<Name>,
    pub unit: KpiUnit,
    pub direction: KpiDirection,
    pub value_type: KpiValueType,
    pub derivation: Option<Derivation>,
    #[serde(default)]
    pub evidence_required: bool,
    #[validate(length(max = 500))]
    pub source: Option<String>,
}

/// Changes a KPI (admin); the code stays.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = UpdateKpiDefinition)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"evidence_required": true}))]
pub struct KpiDefinitionPatch {
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(value_type = Option<String>, nullable = false)]
    pub name_zh: Option<Name>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub name_en: Option<Option<Name>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub unit: Option<KpiUnit>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub direction: Option<KpiDirection>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub value_type: Option<KpiValueType>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<Derivation>)]
    pub derivation: Option<Option<Derivation>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub evidence_required: Option<bool>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(length(max = 500))]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
}

fn check_code(code: &str) -> Result<(), ValidationError> {
    let ok = (2..=64).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("invalid")
            .with_message("2-64 lower-case letters, digits and `_`, starting with a letter".into()))
    }
}

/// A KPI's parts agree: a derived figure is in the KPI's unit, and a
/// percent is a percent. Returns the field and why.
pub fn check(k: &KpiDefinition) -> Result<(), (&'static str, String)> {
    if let Some(d) = &k.derivation
        && d.unit() != k.unit
    {
        return Err((
            "unit",
            format!("the derivation gives {}, not {}", d.unit(), k.unit),
        ));
    }
    if (k.unit == KpiUnit::Percent) != (k.value_type == KpiValueType::Percent) {
        return Err((
            "value_type",
            "a percent unit goes with the percent value type, and only with it".into(),
        ));
    }
    Ok(())
}
