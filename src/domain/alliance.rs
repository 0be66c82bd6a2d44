use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::{Name, Slug, Url, Versioned, text_enum};

text_enum!(
    /// 区域产教联合体 (hosted by a development zone) or 产业链产教融合共同体
    /// (several co-leads along one industry chain).
    AllianceKind {
        RegionalConsortium = "regional_consortium",
        IndustryChainCommunity = "industry_chain_community",
    }
);

text_enum!(
    /// The industry an alliance serves.
    Sector {
        Biomedicine = "biomedicine",
        OffshoreEquipment = "offshore_equipment",
        ItInnovation = "it_innovation",
        DigitalEconomy = "digital_economy",
        HighEndEquipment = "high_end_equipment",
        NewEnergy = "new_energy",
        SmartSupplyChain = "smart_supply_chain",
        Aerospace = "aerospace",
        LightIndustry = "light_industry",
        Other = "other",
    }
);

text_enum!(
    AllianceStatus {
        Active = "active",
        Dissolved = "dissolved",
    }
);

text_enum!(
    /// 章程, 议事规则, 考核评价办法, or another founding document.
    DocumentKind {
        Charter = "charter",
        RulesOfProcedure = "rules_of_procedure",
        Assessment = "assessment",
        Other = "other",
    }
);

/// A governing document of an alliance: title, where to read it, when adopted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "charter", "title": "联合体章程", "url": "https://example.org/charter.pdf", "adopted_on": "2023-09-01"}))]
pub struct Document {
    pub kind: DocumentKind,
    pub title: Name,
    pub url: Url,
    pub adopted_on: Option<NaiveDate>,
}

/// An industry–education alliance as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Alliance {
    #[schema(example = "0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a5b")]
    pub id: String,
    pub slug: Slug,
    pub kind: AllianceKind,
    pub sector: Sector,
    /// The development zone that hosts a regional consortium.
    #[schema(value_type = Option<String>, example = "天津经济技术开发区")]
    pub host_zone: Option<Name>,
    #[schema(value_type = String, example = "天津经济技术开发区生物医药产教联合体")]
    pub name_zh: Name,
    #[schema(value_type = Option<String>, example = "TEDA Biomedicine Industry-Education Consortium")]
    pub name_en: Option<Name>,
    pub founded_on: Option<NaiveDate>,
    pub status: AllianceStatus,
    pub documents: Vec<Document>,
    /// Goes up by one with every change.
    #[schema(example = 1)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for Alliance {
    fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// Founds an alliance (admin only).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = CreateAlliance)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "teda-biomedicine",
    "kind": "regional_consortium",
    "sector": "biomedicine",
    "host_zone": "天津经济技术开发区",
    "name_zh": "天津经济技术开发区生物医药产教联合体",
    "name_en": "TEDA Biomedicine Industry-Education Consortium",
    "founded_on": "2023-09-01",
    "documents": [{"kind": "charter", "title": "联合体章程", "url": "https://example.org/charter.pdf", "adopted_on": "2023-09-01"}]
}))]
pub struct NewAlliance {
    /// Unchangeable once set; tokens and URLs use it.
    pub slug: Slug,
    pub kind: AllianceKind,
    pub sector: Sector,
    pub host_zone: Option<Name>,
    pub name_zh: Name,
    pub name_en: Option<Name>,
    pub founded_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 20, message = "at most 20 documents"))]
    pub documents: Vec<Document>,
}

/// Changes some fields of an alliance: absent fields stay as they are,
/// `null` clears an optional field. The slug cannot change.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = UpdateAlliance)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name_en": "TEDA Biomedicine Consortium", "status": "active"}))]
pub struct AlliancePatch {
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub kind: Option<AllianceKind>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub sector: Option<Sector>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<Name>)]
    pub host_zone: Option<Option<Name>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub name_zh: Option<Name>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<Name>)]
    pub name_en: Option<Option<Name>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub founded_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub status: Option<AllianceStatus>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    #[validate(length(max = 20, message = "at most 20 documents"))]
    pub documents: Option<Vec<Document>>,
}

impl AlliancePatch {
    pub fn apply(self, a: &mut Alliance) {
        if let Some(v) = self.kind {
            a.kind = v;
        }
        if let Some(v) = self.sector {
            a.sector = v;
        }
        if let Some(v) = self.host_zone {
            a.host_zone = v;
        }
        if let Some(v) = self.name_zh {
            a.name_zh = v;
        }
        if let Some(v) = self.name_en {
            a.name_en = v;
        }
        if let Some(v) = self.founded_on {
            a.founded_on = v;
        }
        if let Some(v) = self.status {
            a.status = v;
        }
        if let Some(v) = self.documents {
            a.documents = v;
        }
    }
}
