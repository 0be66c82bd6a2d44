//! Demo data: the alliances of seed 001, from `data/seed/alliances.toml`
//! (a file a secretariat can read and edit), loaded through the ordinary
//! write path so every row has its audit record and change event.

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::Principal;
use crate::db::schema::alliances as alliance_rows;
use crate::db::{Db, alliances, kpis, organizations, reports};
use crate::domain::activity::NewActivity;
use crate::domain::alliance::{AllianceKind, NewAlliance, Sector};
use crate::domain::kpi::{KpiValueType, NewKpiDefinition};
use crate::domain::membership::{MembershipRole, NewMembership};
use crate::domain::organization::{NewOrganization, OrganizationKind};
use crate::domain::platform::{NewPlatform, PlatformKind, PlatformStatus};
use crate::domain::report::{KpiEntry, KpiYearInput, ReportAction};
use crate::domain::{Name, Slug};
use crate::error::ApiError;
use crate::service::{Precondition, Tx};

/// The seed file, compiled in so the binary needs nothing beside it.
pub const SEED_TOML: &str = include_str!("../data/seed/alliances.toml");
pub const KPI_TOML: &str = include_str!("../data/seed/kpis.toml");
pub const DEMO_YEARS_TOML: &str = include_str!("../data/seed/demo_years.toml");

/// Demo yearly figures for every seeded alliance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoYears {
    pub years: Vec<DemoYear>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoYear {
    pub year: i32,
    pub approve: bool,
    #[serde(default)]
    pub activities: Vec<NewActivity>,
    pub kpis: Vec<KpiEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiFile {
    pub kpis: Vec<NewKpiDefinition>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    pub source: Source,
    pub organizations: Vec<SeedOrganization>,
    pub alliances: Vec<SeedAlliance>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub joined_on: NaiveDate,
    pub note: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedOrganization {
    pub slug: Slug,
    pub kind: OrganizationKind,
    pub name_zh: Name,
    pub name_en: Option<Name>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAlliance {
    pub slug: Slug,
    pub kind: AllianceKind,
    pub sector: Sector,
    pub host_zone: Option<Name>,
    pub name_zh: Name,
    pub name_en: Option<Name>,
    pub members: Vec<SeedMember>,
    /// The platforms the plan names for the alliance (recorded as planned).
    #[serde(default)]
    pub platforms: Vec<SeedPlatform>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPlatform {
    pub kind: PlatformKind,
    pub name_zh: Name,
    pub host: Option<Slug>,
    #[serde(default)]
    pub partners: Vec<Slug>,
    #[serde(default)]
    pub focus_areas: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMember {
    pub org: Slug,
    #[serde(default = "member")]
    pub role: MembershipRole,
}

fn member() -> MembershipRole {
    MembershipRole::Member
}

impl SeedFile {
    /// Parses the file and checks that every member names an organisation.
    pub fn parse(text: &str) -> anyhow::Result<SeedFile> {
        let file: SeedFile = toml::from_str(text)?;
        let known: HashMap<_, _> = file
            .organizations
            .iter()
            .map(|o| (o.slug.as_str(), ()))
            .collect();
        for a in &file.alliances {
            let named = a.members.iter().map(|m| &m.org).chain(
                a.platforms
                    .iter()
                    .flat_map(|p| p.host.iter().chain(&p.partners)),
            );
            for org in named {
                anyhow::ensure!(
                    known.contains_key(org.as_str()),
                    "alliance `{}` names unknown organization `{}`",
                    a.slug,
                    org
                );
            }
        }
        Ok(file)
    }
}

/// What a seed run added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub organizations: usize,
    pub alliances: usize,
    pub memberships: usize,
    pub platforms: usize,
    pub kpi_definitions: usize,
    pub demo_years: usize,
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "added {} alliances, {} organizations, {} memberships, {} platforms, {} KPI definitions, {} demo report years",
            self.alliances,
            self.organizations,
            self.memberships,
            self.platforms,
            self.kpi_definitions,
            self.demo_years
        )
    }
}

pub fn store_is_empty(db: &Db) -> anyhow::Result<bool> {
    let mut conn = db.conn()?;
    let n: i64 = alliance_rows::table.count().get_result(&mut *conn)?;
    Ok(n == 0)
}

/// Loads the seed file in one transaction. Idempotent: alliances and
/// organisations that exist (by slug) and open memberships are left alone.
pub fn load(db: &Db) -> anyhow::Result<SeedReport> {
    load_with(db, true)
}

/// [`load`], with or without the invented demo figures (yearly KPIs and
/// the activities behind them).
pub fn load_with(db: &Db, demo_figures: bool) -> anyhow::Result<SeedReport> {
    let file = SeedFile::parse(SEED_TOML)?;
    let catalogue: KpiFile = toml::from_str(KPI_TOML)?;
    let demo: DemoYears = toml::from_str(DEMO_YEARS_TOML)?;
    let principal = Principal::system("seed");
    crate::service::write_blocking(db, &principal, |tx| {
        let mut report = apply(tx, &file)?;
        for kpi in &catalogue.kpis {
            match crate::service::kpis::create(tx, kpi.clone()) {
                Ok(_) => report.kpi_definitions += 1,
                // Already in the catalogue (an earlier run, or an admin's).
                Err(ApiError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if demo_figures {
            report.demo_years = demo_years(tx, &file, &demo)?;
        }
        Ok(report)
    })
    .map_err(|e| anyhow::anyhow!("seeding failed: {e}"))
}

/// Gives every seeded alliance the demo years it does not have yet.
/// Returns how many alliance-years it added.
fn demo_years(tx: &mut Tx<'_>, file: &SeedFile, demo: &DemoYears) -> Result<usize, ApiError> {
    let catalogue = kpis::list(tx.conn)?;
    let mut added = 0;
    for (i, a) in file.alliances.iter().enumerate() {
        let alliance = alliances::find(tx.conn, a.slug.as_str())?;
        // Alliances differ a little, so a dashboard shows differences.
        let scale = [1.0, 1.25, 1.5, 0.75][i % 4];
        for y in &demo.years {
            if reports::find_row(tx.conn, &alliance.id, y.year)?.is_some() {
                continue;
            }
            for activity in &y.activities {
                crate::service::activities::create(tx, &alliance.id, activity.clone())?;
            }
            let kpis = y
                .kpis
                .iter()
                .map(|e| {
                    let value_type = catalogue
                        .iter()
                        .find(|k| k.code == e.code)
                        .map(|k| k.value_type);
                    let scaled = |v: Option<f64>| {
                        v.map(|v| match value_type {
                            Some(KpiValueType::Percent) => v,
                            Some(KpiValueType::Integer) => (v * scale).round(),
                            _ => (v * scale * 10.0).round() / 10.0,
                        })
                    };
                    KpiEntry {
                        target: scaled(e.target),
                        actual: scaled(e.actual),
                        ..e.clone()
                    }
                })
                .collect();
            crate::service::reports::put_year(
                tx,
                &alliance.id,
                y.year,
                KpiYearInput { kpis },
                crate::service::reports::Entries::Replace,
                &Precondition::None,
            )?;
            if y.approve {
                crate::service::reports::act(tx, &alliance.id, y.year, ReportAction::Submit, None)?;
                crate::service::reports::act(
                    tx,
                    &alliance.id,
                    y.year,
                    ReportAction::Approve,
                    None,
                )?;
            }
            added += 1;
        }
    }
    Ok(added)
}

fn apply(tx: &mut Tx<'_>, file: &SeedFile) -> Result<SeedReport, ApiError> {
    let mut report = SeedReport::default();
    let mut org_ids = HashMap::new();
    for o in &file.organizations {
        let org = match organizations::find(tx.conn, o.slug.as_str()) {
            Ok(existing) => existing,
            Err(ApiError::NotFound(_)) => {
                report.organizations += 1;
                crate::service::organizations::create(
                    tx,
                    NewOrganization {
                        slug: o.slug.clone(),
                        kind: o.kind,
                        name_zh: o.name_zh.clone(),
                        name_en: o.name_en.clone(),
                        uscc: None,
                        region: None,
                        website: None,
                        external_refs: vec![],
                        certification: None,
                        former_names: vec![],
                    },
                )?
            }
            Err(e) => return Err(e),
        };
        org_ids.insert(o.slug.as_str(), org.id);
    }
    for a in &file.alliances {
        let alliance = match alliances::find(tx.conn, a.slug.as_str()) {
            Ok(existing) => existing,
            Err(ApiError::NotFound(_)) => {
                report.alliances += 1;
                crate::service::alliances::create(
                    tx,
                    NewAlliance {
                        slug: a.slug.clone(),
                        kind: a.kind,
                        sector: a.sector,
                        host_zone: a.host_zone.clone(),
                        name_zh: a.name_zh.clone(),
                        name_en: a.name_en.clone(),
                        founded_on: None,
                        documents: vec![],
                    },
                )?
            }
            Err(e) => return Err(e),
        };
        for m in &a.members {
            let new = NewMembership {
                organization_id: org_ids[m.org.as_str()].clone(),
                role: m.role,
                joined_on: file.source.joined_on,
                note: Some(file.source.note.clone()),
            };
            match crate::service::memberships::create(tx, &alliance.id, new) {
                Ok(_) => report.memberships += 1,
                // Already a member: an earlier run (or a secretariat) put it there.
                Err(ApiError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        for p in &a.platforms {
            let new = NewPlatform {
                kind: p.kind,
                name_zh: p.name_zh.clone(),
                name_en: None,
                host_organization: p.host.as_ref().map(|s| s.to_string()),
                partners: p.partners.iter().map(|s| s.to_string()).collect(),
                focus_areas: p.focus_areas.clone(),
                status: PlatformStatus::Planned,
                opened_on: None,
                closed_on: None,
                description: Some(file.source.note.clone()),
            };
            match crate::service::platforms::create(tx, &alliance.id, new) {
                Ok(_) => report.platforms += 1,
                // Already recorded by an earlier run.
                Err(ApiError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_file_parses_and_names_seven_alliances() {
        let file = SeedFile::parse(SEED_TOML).unwrap();
        assert_eq!(file.alliances.len(), 7);
        let counts: Vec<usize> = file.alliances.iter().map(|a| a.members.len()).collect();
        assert_eq!(counts, vec![14, 13, 12, 16, 12, 12, 18]);
        let platforms: Vec<usize> = file.alliances.iter().map(|a| a.platforms.len()).collect();
        assert_eq!(platforms, vec![4, 3, 3, 5, 2, 4, 2]);
        let catalogue: KpiFile = toml::from_str(KPI_TOML).unwrap();
        assert_eq!(catalogue.kpis.len(), 18);
        for kpi in &catalogue.kpis {
            validator::Validate::validate(kpi).unwrap();
        }
    }
}
