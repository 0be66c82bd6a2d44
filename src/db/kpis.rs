//! Queries of the KPI catalogue.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::kpi_definitions;
use super::write::{Action, Change, Precondition, Tx, unchanged};
use super::{AnyConnection, stored, utc};
use crate::domain::Name;
use crate::domain::kpi::{KpiDefinition, KpiDefinitionPatch, NewKpiDefinition, check};
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

fn checked(k: &KpiDefinition) -> Result<(), ApiError> {
    check(k).map_err(|(field, m)| ApiError::invalid(field, "inconsistent", m))
}

pub fn create(tx: &mut Tx<'_>, new: NewKpiDefinition) -> Result<KpiDefinition, ApiError> {
    tx.principal.ensure_admin("change the KPI catalogue")?;
    if find(tx.conn, &new.code).is_ok() {
        return Err(ApiError::conflict(
            "code",
            "taken",
            format!("the catalogue already has `{}`", new.code),
        ));
    }
    let now = utc(tx.now());
    let kpi = KpiDefinition {
        code: new.code,
        name_zh: new.name_zh,
        name_en: new.name_en,
        unit: new.unit,
        direction: new.direction,
        value_type: new.value_type,
        derivation: new.derivation,
        evidence_required: new.evidence_required,
        source: new.source,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    checked(&kpi)?;
    diesel::insert_into(kpi_definitions::table)
        .values(KpiRow::from_resource(&kpi)?)
        .execute(tx.conn)?;
    tx.record(Change {
        action: Action::Created,
        resource_type: "kpi_definition",
        resource_id: &kpi.code,
        alliance_id: None,
        version: kpi.version,
        before: None,
        after: Some(&kpi),
    })?;
    Ok(kpi)
}

pub fn update(
    tx: &mut Tx<'_>,
    code: &str,
    patch: KpiDefinitionPatch,
    pre: &Precondition,
) -> Result<KpiDefinition, ApiError> {
    tx.principal.ensure_admin("change the KPI catalogue")?;
    let before = find(tx.conn, code)?;
    pre.check(&before)?;
    let mut after = before.clone();
    if let Some(v) = patch.name_zh {
        after.name_zh = v;
    }
    if let Some(v) = patch.name_en {
        after.name_en = v;
    }
    if let Some(v) = patch.unit {
        after.unit = v;
    }
    if let Some(v) = patch.direction {
        after.direction = v;
    }
    if let Some(v) = patch.value_type {
        after.value_type = v;
    }
    if let Some(v) = patch.derivation {
        after.derivation = v;
    }
    if let Some(v) = patch.evidence_required {
        after.evidence_required = v;
    }
    if let Some(v) = patch.source {
        after.source = v;
    }
    if unchanged(&before, &after) {
        return Ok(before);
    }
    checked(&after)?;
    after.version += 1;
    after.updated_at = utc(tx.now());
    let updated = diesel::update(
        kpi_definitions::table
            .filter(kpi_definitions::code.eq(&before.code))
            .filter(kpi_definitions::version.eq(before.version)),
    )
    .set(KpiRow::from_resource(&after)?)
    .execute(tx.conn)?;
    if updated == 0 {
        return Err(ApiError::PreconditionFailed(
            "the KPI changed while this request ran; retry".into(),
        ));
    }
    tx.record(Change {
        action: Action::Updated,
        resource_type: "kpi_definition",
        resource_id: &after.code,
        alliance_id: None,
        version: after.version,
        before: Some(&before),
        after: Some(&after),
    })?;
    Ok(after)
}
