//! Importing an alliance's members: one row per organisation, registering
//! or updating the organisation and admitting it (or changing its role).
//! A row names an existing organisation by USCC, external reference or
//! slug, so a re-run updates instead of duplicating.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::{Cells, Column, ImportReport, date_of};
use crate::db::schema::organizations as org_rows;
use crate::db::{alliances, memberships, organizations};
use crate::domain::membership::{MembershipPatch, MembershipRole, NewMembership};
use crate::domain::organization::{
    ExternalRef, NewOrganization, Organization, OrganizationKind, OrganizationPatch,
};
use crate::domain::{ExternalSystem, Name, Slug, Url, Uscc};
use crate::error::ApiError;
use crate::service::Precondition;
use crate::service::Tx;
use crate::tabular::Table;

pub const COLUMNS: &[Column] = &[
    Column {
        key: "slug",
        zh: "标识",
        required: false,
    },
    Column {
        key: "kind",
        zh: "类型",
        required: false,
    },
    Column {
        key: "name_zh",
        zh: "名称",
        required: true,
    },
    Column {
        key: "name_en",
        zh: "英文名称",
        required: false,
    },
    Column {
        key: "uscc",
        zh: "统一社会信用代码",
        required: false,
    },
    Column {
        key: "region",
        zh: "地区",
        required: false,
    },
    Column {
        key: "website",
        zh: "网站",
        required: false,
    },
    Column {
        key: "external_ref",
        zh: "外部编号",
        required: false,
    },
    Column {
        key: "role",
        zh: "角色",
        required: false,
    },
    Column {
        key: "joined_on",
        zh: "加入日期",
        required: false,
    },
    Column {
        key: "note",
        zh: "备注",
        required: false,
    },
];

/// One row, parsed: every cell is a valid value or absent.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub number: usize,
    pub slug: Option<Slug>,
    pub kind: Option<OrganizationKind>,
    pub name_zh: Name,
    pub name_en: Option<Name>,
    pub uscc: Option<Uscc>,
    pub region: Option<Name>,
    pub website: Option<Url>,
    pub external_ref: Option<ExternalRef>,
    pub role: Option<MembershipRole>,
    pub joined_on: Option<NaiveDate>,
    pub note: Option<String>,
}

fn kind_of(s: &str) -> Option<OrganizationKind> {
    s.parse().ok().or(match s {
        "企业" => Some(OrganizationKind::Enterprise),
        "高校" | "大学" | "普通高校" | "本科高校" => Some(OrganizationKind::University),
        "高职" | "高职院校" | "高等职业学校" => {
            Some(OrganizationKind::VocationalCollege)
        }
        "中职" | "中职学校" | "中等职业学校" => {
            Some(OrganizationKind::SecondaryVocational)
        }
        "科研机构" | "科研院所" | "研究院所" => {
            Some(OrganizationKind::ResearchInstitute)
        }
        "政府" | "政府部门" | "管委会" => Some(OrganizationKind::Government),
        "行业协会" | "协会" => Some(OrganizationKind::IndustryAssociation),
        "其他" => Some(OrganizationKind::Other),
        _ => None,
    })
}

fn role_of(s: &str) -> Option<MembershipRole> {
    s.parse().ok().or(match s {
        "牵头单位" | "牵头" => Some(MembershipRole::Lead),
        "共同牵头单位" | "共同牵头" => Some(MembershipRole::CoLead),
        "成员单位" | "成员" | "参与单位" => Some(MembershipRole::Member),
        _ => None,
    })
}

/// Parses the rows of a sheet whose columns were located; rejected cells
/// go into the report.
pub fn parse_row(c: &Cells<'_>, report: &mut ImportReport) -> Option<MemberRow> {
    let slug = c.parse(report, "slug", |t: &str| {
        Slug::parse(t).map_err(|e| e.to_string())
    });
    let kind = c.parse(report, "kind", |t: &str| {
        kind_of(t).ok_or(
        "not a kind: use enterprise (企业), university (高校), vocational_college (高职), secondary_vocational (中职), research_institute (科研机构), government (政府), industry_association (行业协会) or other (其他)"
    )
    });
    let name_zh = c.parse(report, "name_zh", |t: &str| Name::parse(t));
    let name_en = c.parse(report, "name_en", |t: &str| Name::parse(t));
    let uscc = c.parse(report, "uscc", |t: &str| {
        Uscc::parse(t).map_err(|e| e.to_string())
    });
    let region = c.parse(report, "region", |t: &str| Name::parse(t));
    let website = c.parse(report, "website", |t: &str| Url::parse(t));
    let external_ref = c.parse(report, "external_ref", |t: &str| {
        let (system, id) = t.split_once(':').ok_or("write it as system:id")?;
        Ok::<_, &str>(ExternalRef {
            system: ExternalSystem::parse(system.trim())?,
            id: Name::parse(id.trim())?,
        })
    });
    let role = c.parse(report, "role", |t: &str| {
        role_of(t)
            .ok_or("not a role: use lead (牵头单位), co_lead (共同牵头单位) or member (成员单位)")
    });
    let joined_on = c.parse(report, "joined_on", date_of);
    let note = c.parse(report, "note", |t: &str| {
        if t.chars().count() <= 2000 {
            Ok(t.to_owned())
        } else {
            Err("at most 2000 characters")
        }
    });
    if name_zh.is_none() && c.text("name_zh").is_none() {
        c.bad(report, "name_zh", "the name is required");
    }
    if c.rejected(report) {
        return None;
    }
    Some(MemberRow {
        number: c.number,
        slug,
        kind,
        name_zh: name_zh?,
        name_en,
        uscc,
        region,
        website,
        external_ref,
        role,
        joined_on,
        note,
    })
}

/// What one row did.
#[derive(Default)]
struct RowOutcome {
    org_created: bool,
    org_updated: bool,
    membership_created: bool,
    membership_updated: bool,
}

/// Runs the rows in the caller's transaction, adding to the report. Errors
/// a row's data causes become conflicts; others stop the import.
pub fn run(
    tx: &mut Tx<'_>,
    alliance_key: &str,
    rows: Vec<MemberRow>,
    report: &mut ImportReport,
) -> Result<(), ApiError> {
    let alliance = alliances::find(tx.conn, alliance_key)?;
    crate::service::access::authorize(tx.principal, "create_membership", &alliance, String::new)?;
    let (fresh, mut rest) = split_fresh(tx, rows)?;
    if !fresh.is_empty() {
        // The new organisations go in with multi-row inserts, in one
        // savepoint. If any check refuses the batch, its rows go one by one
        // below instead, so that the report names each row at fault.
        let principal = tx.principal.clone();
        let batch = tx
            .conn
            .transaction(|conn| admit_new(&mut Tx::new(conn, &principal), &alliance.id, &fresh));
        match batch {
            Ok(n) => {
                report.organizations_created += n;
                report.memberships_created += n;
            }
            Err(_) => {
                rest.extend(fresh);
                rest.sort_by_key(|r| r.number);
            }
        }
    }
    for row in rest {
        let number = row.number;
        // Each row in a savepoint: a row that fails leaves nothing behind,
        // and on PostgreSQL the transaction stays usable for the next row.
        let principal = tx.principal.clone();
        let result = tx
            .conn
            .transaction(|conn| run_row(&mut Tx::new(conn, &principal), &alliance.id, row));
        match result {
            Ok(o) => {
                report.organizations_created += usize::from(o.org_created);
                report.organizations_updated += usize::from(o.org_updated);
                report.memberships_created += usize::from(o.membership_created);
                report.memberships_updated += usize::from(o.membership_updated);
                if !(o.org_created || o.org_updated || o.membership_created || o.membership_updated)
                {
                    report.unchanged += 1;
                }
            }
            Err(e) => super::row_conflict(report, number, e, COLUMNS, column_of)?,
        }
    }
    Ok(())
}

/// Splits the rows into those that register a new organisation and admit
/// it, touching nothing another row or a recorded organisation holds (the
/// bulk path), and the rest, in file order.
fn split_fresh(
    tx: &mut Tx<'_>,
    rows: Vec<MemberRow>,
) -> Result<(Vec<MemberRow>, Vec<MemberRow>), ApiError> {
    fn keys(row: &MemberRow) -> [Option<String>; 3] {
        [
            row.slug.as_ref().map(|s| format!("slug:{s}")),
            row.uscc.as_ref().map(|u| format!("uscc:{u}")),
            row.external_ref
                .as_ref()
                .map(|r| format!("ref:{}:{}", r.system, r.id)),
        ]
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for key in rows.iter().flat_map(keys).flatten() {
        *seen.entry(key).or_default() += 1;
    }
    let slugs: Vec<String> = rows
        .iter()
        .filter_map(|r| r.slug.as_ref().map(|s| s.to_string()))
        .collect();
    let usccs: Vec<String> = rows
        .iter()
        .filter_map(|r| r.uscc.as_ref().map(|u| u.to_string()))
        .collect();
    let refs: Vec<(String, String)> = rows
        .iter()
        .filter_map(|r| r.external_ref.as_ref())
        .map(|r| (r.system.to_string(), r.id.to_string()))
        .collect();
    let held = organizations::held(tx.conn, &slugs, &usccs, &refs)?;
    Ok(rows.into_iter().partition(|row| {
        let new = row
            .slug
            .as_ref()
            .is_some_and(|s| !held.slugs.contains(s.as_str()))
            && row
                .uscc
                .as_ref()
                .is_none_or(|u| !held.usccs.contains(u.as_str()))
            && row.external_ref.as_ref().is_none_or(|r| {
                !held
                    .refs
                    .contains(&(r.system.to_string(), r.id.to_string()))
            });
        new && row.kind.is_some()
            && row.joined_on.is_some()
            && keys(row).iter().flatten().all(|k| seen[k] == 1)
    }))
}

/// Registers and admits the fresh rows' organisations; returns how many.
fn admit_new(tx: &mut Tx<'_>, alliance_id: &str, rows: &[MemberRow]) -> Result<usize, ApiError> {
    // `split_fresh` let through only rows with a slug, a kind and a date.
    let incomplete = || ApiError::internal("a fresh row lacks its slug, kind or joining date");
    let news = rows
        .iter()
        .map(|row| match (&row.slug, row.kind) {
            (Some(slug), Some(kind)) => Ok(row.new_organization(slug.clone(), kind)),
            _ => Err(incomplete()),
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let orgs = crate::service::organizations::create_many(tx, news)?;
    let admissions = orgs
        .iter()
        .zip(rows)
        .map(|(org, row)| {
            let joined_on = row.joined_on.ok_or_else(incomplete)?;
            Ok((org, row.new_membership(&org.id, joined_on)))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(crate::service::memberships::create_many(tx, alliance_id, admissions)?.len())
}

impl MemberRow {
    /// The organisation a row registers, when it names none recorded.
    fn new_organization(&self, slug: Slug, kind: OrganizationKind) -> NewOrganization {
        NewOrganization {
            slug,
            kind,
            name_zh: self.name_zh.clone(),
            name_en: self.name_en.clone(),
            uscc: self.uscc.clone(),
            region: self.region.clone(),
            website: self.website.clone(),
            external_refs: self.external_ref.clone().into_iter().collect(),
            certification: None,
            former_names: vec![],
        }
    }

    /// The membership a row opens for `organization_id`.
    fn new_membership(&self, organization_id: &str, joined_on: NaiveDate) -> NewMembership {
        NewMembership {
            organization_id: organization_id.to_owned(),
            role: self.role.unwrap_or(MembershipRole::Member),
            joined_on,
            note: self.note.clone(),
        }
    }
}

/// The column of a field the write path names.
fn column_of(field: &str) -> &str {
    match field {
        "organization_id" => "name_zh",
        "external_refs" => "external_ref",
        f => f.split(['.', '[']).next().unwrap_or(f),
    }
}

fn find_by_uscc(tx: &mut Tx<'_>, uscc: &Uscc) -> Result<Option<Organization>, ApiError> {
    let id: Option<String> = org_rows::table
        .filter(org_rows::uscc.eq(uscc.as_str()))
        .select(org_rows::id)
        .first(tx.conn)
        .optional()?;
    id.map(|id| organizations::find(tx.conn, &id)).transpose()
}

/// The organisation a row names, if it exists; two different ones is a
/// conflict.
fn existing(tx: &mut Tx<'_>, row: &MemberRow) -> Result<Option<Organization>, ApiError> {
    let mut found: Vec<(&str, Organization)> = vec![];
    if let Some(u) = &row.uscc
        && let Some(o) = find_by_uscc(tx, u)?
    {
        found.push(("uscc", o));
    }
    if let Some(r) = &row.external_ref
        && let Some(o) = organizations::find_by_ref(tx.conn, &r.system, &r.id)?
    {
        found.push(("external_ref", o));
    }
    if let Some(s) = &row.slug {
        match organizations::find(tx.conn, s.as_str()) {
            Ok(o) => found.push(("slug", o)),
            Err(ApiError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    if let Some((column, other)) = found.iter().find(|(_, o)| o.id != found[0].1.id) {
        return Err(ApiError::conflict(
            column,
            "ambiguous",
            format!(
                "the row names two organisations: `{}` by {} and `{}` by {}",
                found[0].1.slug, found[0].0, other.slug, column
            ),
        ));
    }
    Ok(found.into_iter().next().map(|(_, o)| o))
}

fn run_row(tx: &mut Tx<'_>, alliance_id: &str, row: MemberRow) -> Result<RowOutcome, ApiError> {
    let mut out = RowOutcome::default();
    let org = match existing(tx, &row)? {
        Some(org) => org,
        None => {
            let slug = row.slug.clone().ok_or_else(|| {
                ApiError::invalid("slug", "required", "a new organisation needs a slug (标识)")
            })?;
            let kind = row.kind.ok_or_else(|| {
                ApiError::invalid("kind", "required", "a new organisation needs a kind (类型)")
            })?;
            out.org_created = true;
            crate::service::organizations::create(tx, row.new_organization(slug, kind))?
        }
    };
    // Membership first: a secretariat may edit an organisation once it is
    // a member of the secretariat's alliance.
    match memberships::open_membership(tx.conn, alliance_id, &org.id)? {
        Some(id) => {
            let current = memberships::find(tx.conn, &id)?;
            if let Some(role) = row.role.filter(|r| *r != current.role) {
                crate::service::memberships::update(
                    tx,
                    &id,
                    MembershipPatch {
                        role: Some(role),
                        status: None,
                        left_on: None,
                        note: None,
                        reason: Some(format!("import, row {}", row.number)),
                    },
                    &Precondition::None,
                )?;
                out.membership_updated = true;
            }
        }
        None => {
            let joined_on = row.joined_on.ok_or_else(|| {
                ApiError::invalid(
                    "joined_on",
                    "required",
                    "a new membership needs joined_on (加入日期)",
                )
            })?;
            crate::service::memberships::create(
                tx,
                alliance_id,
                row.new_membership(&org.id, joined_on),
            )?;
            out.membership_created = true;
        }
    }
    if !out.org_created {
        if let (Some(stored), Some(given)) = (&org.uscc, &row.uscc)
            && stored != given
        {
            return Err(ApiError::conflict(
                "uscc",
                "conflict",
                format!(
                    "`{}` is recorded with USCC {stored}, the row says {given}",
                    org.slug
                ),
            ));
        }
        let mut refs = org.external_refs.clone();
        let new_ref = row.external_ref.filter(|r| !refs.contains(r));
        let patch = OrganizationPatch {
            kind: row.kind,
            name_zh: Some(row.name_zh),
            name_en: row.name_en.map(Some),
            uscc: row.uscc.map(Some),
            region: row.region.map(Some),
            website: row.website.map(Some),
            external_refs: new_ref.map(|r| {
                refs.push(r);
                refs
            }),
            certification: None,
            former_names: None,
        };
        let after = crate::service::organizations::update(tx, &org.id, patch, &Precondition::None)?;
        out.org_updated = after.version != org.version;
    }
    Ok(out)
}

/// The members of an alliance in the import's own columns, so an export
/// edited in Excel can be imported again. `zh`: Chinese headers.
pub fn export(
    conn: &mut crate::db::AnyConnection,
    alliance_key: &str,
    zh: bool,
) -> Result<Table<'static>, ApiError> {
    let alliance = alliances::find(conn, alliance_key)?;
    let mut rows = vec![];
    let mut page = crate::db::page::PageRequest {
        limit: crate::db::page::MAX_LIMIT,
        after: None,
    };
    loop {
        let batch = memberships::list(
            conn,
            &memberships::Owner::Alliance(alliance.id.clone()),
            &memberships::MembershipFilter {
                status: Some(crate::domain::membership::MembershipStatus::Active),
                ..Default::default()
            },
            &page,
        )?;
        for m in &batch.items {
            let o = organizations::find(conn, &m.organization_id)?;
            rows.push(vec![
                o.slug.to_string(),
                o.kind.to_string(),
                o.name_zh.to_string(),
                o.name_en.map(|n| n.to_string()).unwrap_or_default(),
                o.uscc.map(|u| u.to_string()).unwrap_or_default(),
                o.region.map(|n| n.to_string()).unwrap_or_default(),
                o.website.map(|u| u.to_string()).unwrap_or_default(),
                o.external_refs
                    .first()
                    .map(|r| format!("{}:{}", r.system, r.id))
                    .unwrap_or_default(),
                m.role.to_string(),
                m.joined_on.to_string(),
                m.note.clone().unwrap_or_default(),
            ]);
        }
        match batch.next_cursor {
            Some(_) => page.after = batch.items.last().map(|m| m.id.clone()),
            None => break,
        }
    }
    Ok(Table {
        sheet: "members",
        headers: headers(zh),
        rows,
        numeric: vec![],
    })
}

pub fn headers(zh: bool) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|c| if zh { c.zh } else { c.key }.to_owned())
        .collect()
}

/// An empty sheet with the columns, and one example row.
pub fn template(zh: bool) -> Table<'static> {
    Table {
        sheet: "members",
        headers: headers(zh),
        rows: vec![vec![
            "kailaiying-pharma".into(),
            "enterprise".into(),
            "凯莱英医药集团（天津）股份有限公司".into(),
            "Asymchem Laboratories (Tianjin) Co., Ltd.".into(),
            "91120116MA05JR6K3W".into(),
            "天津经济技术开发区".into(),
            "https://www.asymchem.com/".into(),
            "kailaiying-hr:ORG-0001".into(),
            "member".into(),
            "2023-05-08".into(),
            "".into(),
        ]],
        numeric: vec![],
    }
}
