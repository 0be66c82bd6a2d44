//! Platforms an alliance builds and runs: joint labs, public training
//! centres, industry colleges, innovation bases, …

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::organization::OrganizationSummary;
use super::{Name, Versioned, text_enum};

text_enum!(
    PlatformKind {
        /// 联合实验室 / 重点实验室.
        JointLab = "joint_lab",
        /// 公共实训中心 / 实训基地 / 实训平台.
        TrainingCenter = "training_center",
        /// 产业学院.
        IndustryCollege = "industry_college",
        /// 创新创业基地 / 孵化基地 / 就业见习基地.
        InnovationBase = "innovation_base",
        /// 技术创新中心 / 协同创新中心 / 企业技术中心.
        TechInnovationCenter = "tech_innovation_center",
        /// 工程研究中心 / 中试和工程化基地.
        EngineeringResearchCenter = "engineering_research_center",
        /// 中国特色学徒制 / 现场工程师项目.
        Apprenticeship = "apprenticeship",
        /// 共性技术服务平台 and other shared service platforms.
        ServicePlatform = "service_platform",
    }
);

text_enum!(
    PlatformStatus {
        /// Named in a plan, not yet open.
        Planned = "planned",
        Operating = "operating",
        /// Closed on `closed_on`; kept, never deleted once used.
        Closed = "closed",
    }
);

/// A platform of one alliance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Platform {
    pub id: String,
    pub alliance_id: String,
    pub kind: PlatformKind,
    #[schema(value_type = String, example = "生物医药技术公共实训中心")]
    pub name_zh: Name,
    #[schema(value_type = Option<String>, example = "Biomedicine Public Training Centre")]
    pub name_en: Option<Name>,
    /// The member organisation that runs it (a current member when set).
    pub host_organization: Option<OrganizationSummary>,
    /// Partner organisations (any registered organisation).
    pub partners: Vec<OrganizationSummary>,
    #[schema(example = json!(["细胞药物", "疫苗"]))]
    pub focus_areas: Vec<String>,
    pub status: PlatformStatus,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub description: Option<String>,
    #[schema(example = 1)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Versions of the embedded organisations, part of the ETag.
    #[serde(skip)]
    pub embedded_versions: i64,
}

impl Versioned for Platform {
    fn etag(&self) -> String {
        format!("\"{}.{}\"", self.version, self.embedded_versions)
    }
}

/// Records a platform of an alliance (admin or its secretariat).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = CreatePlatform)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "training_center",
    "name_zh": "生物医药技术公共实训中心",
    "host_organization": "tianjin-bohai-vocational-technical-college",
    "partners": ["kailaiying-pharma"],
    "focus_areas": ["细胞药物", "疫苗"],
    "status": "operating",
    "opened_on": "2024-09-01"
}))]
pub struct NewPlatform {
    pub kind: PlatformKind,
    pub name_zh: Name,
    pub name_en: Option<Name>,
    /// The host's id or slug.
    pub host_organization: Option<String>,
    /// Partners' ids or slugs (at most 50).
    #[serde(default)]
    #[validate(length(max = 50, message = "at most 50 partners"))]
    pub partners: Vec<String>,
    #[serde(default)]
    #[validate(custom(function = "check_focus_areas"))]
    pub focus_areas: Vec<String>,
    #[serde(default = "default_status")]
    #[schema(default = "operating")]
    pub status: PlatformStatus,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    #[validate(length(max = 4000))]
    pub description: Option<String>,
}

fn default_status() -> PlatformStatus {
    PlatformStatus::Operating
}

/// Changes a platform: absent fields stay, `null` clears; `partners` and
/// `focus_areas` replace the lists.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = UpdatePlatform)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "closed", "closed_on": "2026-06-30"}))]
pub struct PlatformPatch {
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub kind: Option<PlatformKind>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(value_type = Option<String>, nullable = false)]
    pub name_zh: Option<Name>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub name_en: Option<Option<Name>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub host_organization: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    #[validate(length(max = 50, message = "at most 50 partners"))]
    pub partners: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    #[validate(custom(function = "check_focus_areas"))]
    pub focus_areas: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub status: Option<PlatformStatus>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub opened_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub closed_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(length(max = 4000))]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

fn check_focus_areas(areas: &[String]) -> Result<(), ValidationError> {
    let ok = areas.len() <= 20
        && areas
            .iter()
            .all(|a| Name::parse(a).is_ok_and(|n| n.as_str().chars().count() <= 100));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("invalid")
            .with_message("at most 20 focus areas of 1-100 characters each".into()))
    }
}

/// The dates and status of a platform agree: `closed` has `closed_on` and
/// only `closed` has it; nothing closes before it opens. Returns the field
/// at fault and why.
pub fn check_dates(
    status: PlatformStatus,
    opened_on: Option<NaiveDate>,
    closed_on: Option<NaiveDate>,
) -> Result<(), (&'static str, String)> {
    match (status, closed_on) {
        (PlatformStatus::Closed, None) => {
            return Err(("closed_on", "a closed platform needs closed_on".into()));
        }
        (s, Some(_)) if s != PlatformStatus::Closed => {
            return Err((
                "closed_on",
                format!("closed_on goes with status `closed`, not `{s}`"),
            ));
        }
        _ => {}
    }
    if let (Some(open), Some(close)) = (opened_on, closed_on)
        && close < open
    {
        return Err((
            "closed_on",
            format!("closed_on ({close}) is before opened_on ({open})"),
        ));
    }
    Ok(())
}
