use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use validator::{Validate, ValidationError};

use super::{ExternalSystem, Name, Slug, Url, Uscc, Versioned, text_enum};

text_enum!(
    OrganizationKind {
        Enterprise = "enterprise",
        University = "university",
        /// 高职 (higher vocational college).
        VocationalCollege = "vocational_college",
        /// 中职 (secondary vocational school).
        SecondaryVocational = "secondary_vocational",
        ResearchInstitute = "research_institute",
        /// 管委会, 教委 and other public authorities.
        Government = "government",
        IndustryAssociation = "industry_association",
        Other = "other",
    }
);

/// The id a member organisation's own system uses for this organisation.
/// At most one organisation holds a given `{system, id}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"system": "kailaiying-hr", "id": "ORG-0001"}))]
pub struct ExternalRef {
    pub system: ExternalSystem,
    /// The member system's own id for the organisation.
    pub id: Name,
}

/// One real body (enterprise, college, authority…), shared by every alliance
/// it belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organization {
    #[schema(example = "0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b")]
    pub id: String,
    #[schema(example = "nankai-university")]
    pub slug: Slug,
    pub kind: OrganizationKind,
    #[schema(value_type = String, example = "南开大学")]
    pub name_zh: Name,
    #[schema(value_type = Option<String>, example = "Nankai University")]
    pub name_en: Option<Name>,
    /// 统一社会信用代码, checksum verified; unique when present.
    pub uscc: Option<Uscc>,
    #[schema(value_type = Option<String>, example = "天津市南开区")]
    pub region: Option<Name>,
    #[schema(value_type = Option<String>, example = "https://www.nankai.edu.cn/")]
    pub website: Option<Url>,
    pub external_refs: Vec<ExternalRef>,
    #[schema(example = 1)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for Organization {
    fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

impl Organization {
    pub fn summary(&self) -> OrganizationSummary {
        OrganizationSummary {
            id: self.id.clone(),
            slug: self.slug.clone(),
            kind: self.kind,
            name_zh: self.name_zh.clone(),
            name_en: self.name_en.clone(),
        }
    }
}

/// The few fields a list of memberships shows of each organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationSummary {
    pub id: String,
    #[schema(example = "nankai-university")]
    pub slug: Slug,
    pub kind: OrganizationKind,
    #[schema(value_type = String, example = "南开大学")]
    pub name_zh: Name,
    #[schema(value_type = Option<String>, example = "Nankai University")]
    pub name_en: Option<Name>,
}

/// Registers an organisation (admin or secretariat).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = CreateOrganization)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "kailaiying-pharma",
    "kind": "enterprise",
    "name_zh": "凯莱英医药集团（天津）股份有限公司",
    "name_en": "Asymchem Laboratories (Tianjin) Co., Ltd.",
    "uscc": "91120116MA05JR6K3W",
    "region": "天津经济技术开发区",
    "website": "https://www.asymchem.com/",
    "external_refs": [{"system": "kailaiying-hr", "id": "ORG-0001"}]
}))]
pub struct NewOrganization {
    /// Unchangeable once set.
    pub slug: Slug,
    pub kind: OrganizationKind,
    pub name_zh: Name,
    pub name_en: Option<Name>,
    pub uscc: Option<Uscc>,
    pub region: Option<Name>,
    pub website: Option<Url>,
    #[serde(default)]
    #[validate(
        length(max = 20, message = "at most 20 external references"),
        custom(function = "distinct_refs")
    )]
    pub external_refs: Vec<ExternalRef>,
}

/// Changes some fields of an organisation: absent fields stay as they are,
/// `null` clears an optional field; `external_refs` replaces the whole list.
/// An organisation's own member token may change only the member-owned
/// fields (`name_en`, `region`, `website`).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = UpdateOrganization)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"website": "https://www.nankai.edu.cn/", "region": null}))]
pub struct OrganizationPatch {
    /// Secretariat-owned: a member token changing it gets 403.
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub kind: Option<OrganizationKind>,
    /// Secretariat-owned: a member token changing it gets 403.
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub name_zh: Option<Name>,
    /// Member-owned; its own member token may change it.
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<Name>)]
    pub name_en: Option<Option<Name>>,
    /// Secretariat-owned: a member token changing it gets 403.
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<Uscc>)]
    pub uscc: Option<Option<Uscc>>,
    /// Member-owned; its own member token may change it.
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<Name>)]
    pub region: Option<Option<Name>>,
    /// Member-owned; its own member token may change it.
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<Url>)]
    pub website: Option<Option<Url>>,
    /// Secretariat-owned: a member token changing it gets 403.
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    #[validate(
        length(max = 20, message = "at most 20 external references"),
        custom(function = "distinct_refs")
    )]
    pub external_refs: Option<Vec<ExternalRef>>,
}

impl OrganizationPatch {
    pub fn apply(self, o: &mut Organization) {
        if let Some(v) = self.kind {
            o.kind = v;
        }
        if let Some(v) = self.name_zh {
            o.name_zh = v;
        }
        if let Some(v) = self.name_en {
            o.name_en = v;
        }
        if let Some(v) = self.uscc {
            o.uscc = v;
        }
        if let Some(v) = self.region {
            o.region = v;
        }
        if let Some(v) = self.website {
            o.website = v;
        }
        if let Some(v) = self.external_refs {
            o.external_refs = v;
        }
    }
}

/// The same `{system, id}` may not be listed twice.
fn distinct_refs(refs: &[ExternalRef]) -> Result<(), ValidationError> {
    let mut seen = std::collections::HashSet::new();
    if refs
        .iter()
        .all(|r| seen.insert((r.system.as_str(), r.id.as_str())))
    {
        Ok(())
    } else {
        Err(ValidationError::new("duplicate")
            .with_message("the same {system, id} is listed twice".into()))
    }
}
