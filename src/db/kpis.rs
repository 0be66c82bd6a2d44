//! Queries of the KPI catalogue.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::kpi_definitions;
use super::{AnyConnection, Stored, stored, utc};
use crate::domain::Name;
use crate::domain::kpi::KpiDefinition;
use crate::error::ApiError;

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = kpi_definitions, treat_none_as_null = true)]
struct KpiRow {
    code: String,
    name_zh: String,
    name_en: Option<String>,
    unit: String,
    direction: String,
    value_type: String,
    derivation: Option<String>,
    evidence_required: bool,
    source: Option<String>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl KpiRow {
    fn into_resource(self) -> Result<KpiDefinition, ApiError> {
        Ok(KpiDefinition {
            name_zh: stored("name_zh", Name::parse(&self.name_zh))?,
            name_en: stored(
                "name_en",
                self.name_en.as_deref().map(Name::parse).transpose(),
            )?,
            unit: stored("unit", self.unit.parse())?,
            direction: stored("direction", self.direction.parse())?,
            value_type: stored("value_type", self.value_type.parse())?,
            derivation: stored(
                "derivation",
                self.derivation
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose(),
            )?,
            code: self.code,
            evidence_required: self.evidence_required,
            source: self.source,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }

    fn from_resource(k: &KpiDefinition) -> Result<Self, ApiError> {
        Ok(KpiRow {
            code: k.code.clone(),
            name_zh: k.name_zh.to_string(),
            name_en: k.name_en.as_ref().map(ToString::to_string),
            unit: k.unit.as_str().to_owned(),
            direction: k.direction.as_str().to_owned(),
            value_type: k.value_type.as_str().to_owned(),
            derivation: k
                .derivation
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(ApiError::internal)?,
            evidence_required: k.evidence_required,
            source: k.source.clone(),
            version: k.version,
            created_at: k.created_at.naive_utc(),
            updated_at: k.updated_at.naive_utc(),
        })
    }
}

/// The whole catalogue, by code.
pub fn list(conn: &mut AnyConnection) -> Result<Vec<KpiDefinition>, ApiError> {
    kpi_definitions::table
        .order(kpi_definitions::code.asc())
        .select(KpiRow::as_select())
        .load(conn)?
        .into_iter()
        .map(KpiRow::into_resource)
        .collect()
}

pub fn find(conn: &mut AnyConnection, code: &str) -> Result<KpiDefinition, ApiError> {
    kpi_definitions::table
        .filter(kpi_definitions::code.eq(code))
        .select(KpiRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no KPI `{code}`")))?
        .into_resource()
}

/// Stores a new catalogue entry.
pub fn insert(conn: &mut AnyConnection, k: &KpiDefinition) -> Result<(), ApiError> {
    diesel::insert_into(kpi_definitions::table)
        .values(KpiRow::from_resource(k)?)
        .execute(conn)?;
    Ok(())
}

impl Stored for KpiDefinition {
    const RESOURCE: &'static str = "kpi_definition";
    const NAME: &'static str = "KPI";
    fn id(&self) -> &str {
        &self.code
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn next_version(&mut self, at: chrono::DateTime<chrono::Utc>) {
        self.version += 1;
        self.updated_at = at;
    }
    fn find(conn: &mut AnyConnection, code: &str) -> Result<Self, ApiError> {
        find(conn, code)
    }
    fn replace(conn: &mut AnyConnection, k: &Self, expected: i64) -> Result<bool, ApiError> {
        let updated = diesel::update(
            kpi_definitions::table
                .filter(kpi_definitions::code.eq(&k.code))
                .filter(kpi_definitions::version.eq(expected)),
        )
        .set(KpiRow::from_resource(k)?)
        .execute(conn)?;
        Ok(updated == 1)
    }
}
