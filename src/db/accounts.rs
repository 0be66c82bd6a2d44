//! Accounts, and the check of a client's credentials. Changes are audited
//! (without the secret); accounts are not shared through the change feed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::accounts;
use super::write::{Action, Change, Precondition, Tx, unchanged};
use super::{AnyConnection, Backend, alliances, new_id, stored, utc};
use crate::auth::{Principal, Role, secret};
use crate::domain::account::{
    Account, AccountKind, AccountPatch, AccountStatus, AccountWithSecret, NewAccount,
};
use crate::error::ApiError;

const RESOURCE: &str = "account";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = accounts, treat_none_as_null = true)]
struct AccountRow {
    id: String,
    name: String,
    kind: String,
    role: String,
    alliances: String,
    organization: Option<String>,
    description: Option<String>,
    status: String,
    secret_hash: String,
    secret_rotated_at: NaiveDateTime,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl AccountRow {
    fn to_resource(&self) -> Result<Account, ApiError> {
        Ok(Account {
            id: self.id.clone(),
            name: self.name.clone(),
            kind: stored("kind", self.kind.parse::<AccountKind>())?,
            role: stored("role", self.role.parse::<Role>())?,
            alliances: serde_json::from_str(&self.alliances).map_err(ApiError::internal)?,
            organization: self.organization.clone(),
            description: self.description.clone(),
            status: stored("status", self.status.parse::<AccountStatus>())?,
            secret_rotated_at: utc(self.secret_rotated_at),
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
    }

    fn principal(&self) -> Result<Principal, ApiError> {
        let a = self.to_resource()?;
        Ok(Principal {
            subject: format!("account:{}", a.name),
            role: a.role,
            alliances: a.alliances,
            organization: a.organization,
        })
    }
}

/// A role's scope must fit it: a secretariat covers at least one alliance,
/// a member speaks for one organisation; the alliances must exist.
fn check_scope(
    conn: &mut AnyConnection,
    role: Role,
    alliance_keys: &[String],
    organization: Option<&str>,
) -> Result<(), ApiError> {
    for (i, key) in alliance_keys.iter().enumerate() {
        if let Err(ApiError::NotFound(m)) = alliances::find(conn, key) {
            return Err(ApiError::invalid(
                &format!("alliances[{i}]"),
                "not_found",
                m,
            ));
        }
    }
    if let Some(org) = organization
        && let Err(ApiError::NotFound(m)) = super::organizations::find(conn, org)
    {
        return Err(ApiError::invalid("organization", "not_found", m));
    }
    match role {
        Role::Secretariat if alliance_keys.is_empty() => Err(ApiError::invalid(
            "alliances",
            "required",
            "a secretariat account covers at least one alliance",
        )),
        Role::Member if organization.is_none() => Err(ApiError::invalid(
            "organization",
            "required",
            "a member account speaks for one organisation",
        )),
        _ => Ok(()),
    }
}

fn find_row(conn: &mut AnyConnection, key: &str) -> Result<AccountRow, ApiError> {
    accounts::table
        .filter(accounts::id.eq(key).or(accounts::name.eq(key)))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound(format!("there is no account `{key}`")))
}

pub fn find(conn: &mut AnyConnection, key: &str) -> Result<Account, ApiError> {
    find_row(conn, key)?.to_resource()
}

pub fn list(conn: &mut AnyConnection, page: &PageRequest) -> Result<Page<Account>, ApiError> {
    let mut query = accounts::table
        .select(AccountRow::as_select())
        .order(accounts::id.asc())
        .limit(page.limit + 1)
        .into_boxed::<Backend>();
    if let Some(after) = &page.after {
        query = query.filter(accounts::id.gt(after.clone()));
    }
    let rows = query.load::<AccountRow>(conn)?;
    let page = page.finish(rows, |r| &r.id);
    Ok(Page {
        items: page
            .items
            .iter()
            .map(AccountRow::to_resource)
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}

pub fn create(tx: &mut Tx<'_>, new: NewAccount) -> Result<AccountWithSecret, ApiError> {
    tx.principal.ensure_admin("manage accounts")?;
    check_scope(
        tx.conn,
        new.role,
        &new.alliances,
        new.organization.as_deref(),
    )?;
    let taken: i64 = accounts::table
        .filter(accounts::name.eq(&new.name))
        .count()
        .get_result(tx.conn)?;
    if taken > 0 {
        return Err(ApiError::conflict(
            "name",
            "taken",
            format!("there is already an account `{}`", new.name),
        ));
    }
    let client_secret = secret::generate();
    let row = AccountRow {
        id: new_id(),
        name: new.name,
        kind: new.kind.as_str().to_owned(),
        role: new.role.as_str().to_owned(),
        alliances: serde_json::to_string(&new.alliances).map_err(ApiError::internal)?,
        organization: new.organization,
        description: new.description,
        status: AccountStatus::Active.as_str().to_owned(),
        secret_hash: secret::hash(&client_secret).map_err(ApiError::internal)?,
        secret_rotated_at: tx.now(),
        version: 1,
        created_at: tx.now(),
        updated_at: tx.now(),
    };
    diesel::insert_into(accounts::table)
        .values(&row)
        .execute(tx.conn)?;
    let account = row.to_resource()?;
    audit(tx, Action::Created, None, &account)?;
    Ok(AccountWithSecret {
        account,
        client_secret,
    })
}

pub fn update(
    tx: &mut Tx<'_>,
    key: &str,
    patch: AccountPatch,
    pre: &Precondition,
) -> Result<Account, ApiError> {
    tx.principal.ensure_admin("manage accounts")?;
    let mut row = find_row(tx.conn, key)?;
    let before = row.to_resource()?;
    pre.check(&before)?;
    let mut after = before.clone();
    if let Some(role) = patch.role {
        after.role = role;
    }
    if let Some(alliances) = patch.alliances {
        after.alliances = alliances;
    }
    if let Some(organization) = patch.organization {
        after.organization = organization;
    }
    if let Some(description) = patch.description {
        after.description = description;
    }
    if let Some(status) = patch.status {
        after.status = status;
    }
    check_scope(
        tx.conn,
        after.role,
        &after.alliances,
        after.organization.as_deref(),
    )?;
    if unchanged(&before, &after) {
        return Ok(before);
    }
    row.role = after.role.as_str().to_owned();
    row.alliances = serde_json::to_string(&after.alliances).map_err(ApiError::internal)?;
    row.organization = after.organization.clone();
    row.description = after.description.clone();
    row.status = after.status.as_str().to_owned();
    row.version += 1;
    row.updated_at = tx.now();
    save(tx, &row)?;
    let after = row.to_resource()?;
    audit(tx, Action::Updated, Some(&before), &after)?;
    Ok(after)
}

/// Replaces an account's secret; the old one stops working at once.
pub fn rotate_secret(tx: &mut Tx<'_>, key: &str) -> Result<AccountWithSecret, ApiError> {
    tx.principal.ensure_admin("manage accounts")?;
    let mut row = find_row(tx.conn, key)?;
    let before = row.to_resource()?;
    let client_secret = secret::generate();
    row.secret_hash = secret::hash(&client_secret).map_err(ApiError::internal)?;
    row.secret_rotated_at = tx.now();
    row.version += 1;
    row.updated_at = tx.now();
    save(tx, &row)?;
    let account = row.to_resource()?;
    audit(tx, Action::Updated, Some(&before), &account)?;
    Ok(AccountWithSecret {
        account,
        client_secret,
    })
}

fn save(tx: &mut Tx<'_>, row: &AccountRow) -> Result<(), ApiError> {
    diesel::update(accounts::table.filter(accounts::id.eq(&row.id)))
        .set(row)
        .execute(tx.conn)?;
    Ok(())
}

/// The audit record of a change (the resource never holds the secret).
fn audit(
    tx: &mut Tx<'_>,
    action: Action,
    before: Option<&Account>,
    after: &Account,
) -> Result<(), ApiError> {
    tx.audit(&Change {
        action,
        resource_type: RESOURCE,
        resource_id: &after.id,
        alliance_id: None,
        version: after.version,
        before,
        after: Some(after),
    })?;
    Ok(())
}

/// What checking a client's credentials needs: the stored hash, whether
/// the account is active, and the principal its tokens carry. Read with a
/// connection; checked without one ([`authenticate`]), as hashing is slow.
pub struct Credentials {
    pub(crate) hash: String,
    pub(crate) active: bool,
    pub(crate) principal: Principal,
}

pub fn credentials(conn: &mut AnyConnection, name: &str) -> Result<Option<Credentials>, ApiError> {
    accounts::table
        .filter(accounts::name.eq(name))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .map(|row| {
            Ok(Credentials {
                active: row.status == AccountStatus::Active.as_str(),
                principal: row.principal()?,
                hash: row.secret_hash,
            })
        })
        .transpose()
}

/// The principal of an active account whose secret this is. Every failure
/// is the same 401, and an unknown name costs the same hashing as a wrong
/// secret, so neither says which accounts exist.
pub fn authenticate(
    found: Option<Credentials>,
    client_secret: &str,
) -> Result<Principal, ApiError> {
    let refused = || {
        ApiError::InvalidClient(
            "the client id or secret is wrong, or the account is disabled".into(),
        )
    };
    match found {
        Some(c) if secret::matches(client_secret, &c.hash) && c.active => Ok(c.principal),
        Some(_) => Err(refused()),
        None => {
            secret::matches(client_secret, secret::decoy());
            Err(refused())
        }
    }
}
