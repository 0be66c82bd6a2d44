//! The KPI catalogue: what alliances report each year, changed by admins.

use super::access::authorize_in;
use super::{Precondition, Tx, update as versioned_update};
use crate::db::{kpis, utc};
use crate::domain::kpi::{KpiDefinition, KpiDefinitionPatch, NewKpiDefinition, check};
use crate::error::ApiError;

fn checked(k: &KpiDefinition) -> Result<(), ApiError> {
    check(k).map_err(|(field, m)| ApiError::invalid(field, "inconsistent", m))
}

pub fn create(tx: &mut Tx<'_>, new: NewKpiDefinition) -> Result<KpiDefinition, ApiError> {
    authorize_in(tx.principal, "create_kpi_definition", true, String::new)?;
    if kpis::find(tx.conn, &new.code).is_ok() {
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
    kpis::insert(tx.conn, &kpi)?;
    tx.created(&kpi)?;
    Ok(kpi)
}

pub fn update(
    tx: &mut Tx<'_>,
    code: &str,
    patch: KpiDefinitionPatch,
    pre: &Precondition,
) -> Result<KpiDefinition, ApiError> {
    authorize_in(tx.principal, "update_kpi_definition", true, String::new)?;
    let before = kpis::find(tx.conn, code)?;
    versioned_update(tx, &before, pre, |_, after| {
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
        checked(after)
    })
}
