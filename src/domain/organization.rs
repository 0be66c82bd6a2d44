use chrono::{DateTime, NaiveDate, Utc};
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

text_enum!(
    CertificationLevel {
        /// 国家产教融合型企业.
        National = "national",
        /// 天津市产教融合型企业.
        Municipal = "municipal",
    }
);

/// The 产教融合型企业 certification of an enterprise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"level": "municipal", "certified_on": "2024-06-01", "expires_on": "2027-05-31"}))]
pub struct Certification {
    pub level: CertificationLevel,
    pub certified_on: NaiveDate,
    /// `null`: no expiry recorded.
    pub expires_on: Option<NaiveDate>,
}

impl Certification {
    /// Whether the certification holds on `day`.
    pub fn valid_on(&self, day: NaiveDate) -> bool {
        self.certified_on <= day && self.expires_on.is_none_or(|e| day <= e)
    }
}

/// A name the organisation went by (曾用名), up to the day it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name_zh": "天津开发区管委会", "used_until": "2019-12-31"}))]
pub struct FormerName {
    #[schema(value_type = String)]
    pub name_zh: Name,
    pub used_until: NaiveDate,
}

text_enum!(
    /// What the registration authority code of a USCC (its first two
    /// characters) says about the body: a hint, never applied to `kind`.
    RegistrationCategory {
        /// 11: 机关.
        GovernmentAgency = "government_agency",
        /// 12: 事业单位 (most public universities, colleges and institutes).
        PublicInstitution = "public_institution",
        /// 51: 社会团体 (associations).
        SocialOrganization = "social_organization",
        /// 52: 民办非企业单位 (many private schools).
        PrivateNonEnterprise = "private_non_enterprise",
        /// 53: 基金会.
        Foundation = "foundation",
        /// 91: 企业.
        Enterprise = "enterprise",
        /// 92: 个体工商户.
        IndividualBusiness = "individual_business",
        /// 93: 农民专业合作社.
        Cooperative = "cooperative",
        Other = "other",
    }
);

impl RegistrationCategory {
    pub fn of(uscc: &Uscc) -> RegistrationCategory {
        match uscc.as_str().get(..2) {
            Some("11") => RegistrationCategory::GovernmentAgency,
            Some("12") => RegistrationCategory::PublicInstitution,
            Some("51") => RegistrationCategory::SocialOrganization,
            Some("52") => RegistrationCategory::PrivateNonEnterprise,
            Some("53") => RegistrationCategory::Foundation,
            Some("91") => RegistrationCategory::Enterprise,
            Some("92") => RegistrationCategory::IndividualBusiness,
            Some("93") => RegistrationCategory::Cooperative,
            _ => RegistrationCategory::Other,
        }
    }
}

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
    /// 产教融合型企业 certification (enterprises only).
    pub certification: Option<Certification>,
    /// Names it went by before (曾用名); `q` finds them too.
    pub former_names: Vec<FormerName>,
    /// Read only: what the USCC's registration code says about the body.
    pub registration_category: Option<RegistrationCategory>,
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
    /// 产教融合型企业 certification; enterprises only.
    pub certification: Option<Certification>,
    #[serde(default)]
    #[validate(length(max = 20, message = "at most 20 former names"))]
    pub former_names: Vec<FormerName>,
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
    /// Secretariat-owned; enterprises only; `null` removes it.
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<Certification>)]
    pub certification: Option<Option<Certification>>,
    /// Secretariat-owned; replaces the list. Without it, a change of
    /// `name_zh` adds the old name, used until the day of the change.
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    #[validate(length(max = 20, message = "at most 20 former names"))]
    pub former_names: Option<Vec<FormerName>>,
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
        if let Some(v) = self.certification {
            o.certification = v;
        }
        if let Some(v) = self.former_names {
            o.former_names = v;
        }
        o.registration_category = o.uscc.as_ref().map(RegistrationCategory::of);
    }
}

/// The rules an organisation keeps whatever the request: only enterprises
/// are certified, and a certification does not expire before it starts.
pub fn check(o: &Organization) -> Result<(), (&'static str, String)> {
    if let Some(c) = &o.certification {
        if o.kind != OrganizationKind::Enterprise {
            return Err((
                "certification",
                format!(
                    "only enterprises are certified as 产教融合型企业, not a {}",
                    o.kind
                ),
            ));
        }
        if let Some(e) = c.expires_on
            && e < c.certified_on
        {
            return Err((
                "certification.expires_on",
                format!(
                    "expires_on ({e}) is before certified_on ({})",
                    c.certified_on
                ),
            ));
        }
    }
    Ok(())
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
