//! Queries of accounts and of a client's stored credentials.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::page::{Page, PageRequest};
use super::schema::accounts;
use super::{AnyConnection, Backend, stored, utc};
use crate::domain::account::{Account, AccountKind, AccountStatus};
use crate::domain::role::Role;
use crate::error::ApiError;

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

pub fn name_taken(conn: &mut AnyConnection, name: &str) -> Result<bool, ApiError> {
    let n: i64 = accounts::table
        .filter(accounts::name.eq(name))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Stores a new account with the hash of its secret.
pub fn insert(conn: &mut AnyConnection, a: &Account, secret_hash: &str) -> Result<(), ApiError> {
    let row = AccountRow {
        id: a.id.clone(),
        name: a.name.clone(),
        kind: a.kind.as_str().to_owned(),
        role: a.role.as_str().to_owned(),
        alliances: serde_json::to_string(&a.alliances).map_err(ApiError::internal)?,
        organization: a.organization.clone(),
        description: a.description.clone(),
        status: a.status.as_str().to_owned(),
        secret_hash: secret_hash.to_owned(),
        secret_rotated_at: a.secret_rotated_at.naive_utc(),
        version: a.version,
        created_at: a.created_at.naive_utc(),
        updated_at: a.updated_at.naive_utc(),
    };
    diesel::insert_into(accounts::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Stores a changed account; with `secret_hash`, its new secret too.
pub fn store(
    conn: &mut AnyConnection,
    a: &Account,
    secret_hash: Option<&str>,
) -> Result<(), ApiError> {
    let target = accounts::table.filter(accounts::id.eq(&a.id));
    diesel::update(target)
        .set((
            accounts::role.eq(a.role.as_str()),
            accounts::alliances
                .eq(serde_json::to_string(&a.alliances).map_err(ApiError::internal)?),
            accounts::organization.eq(&a.organization),
            accounts::description.eq(&a.description),
            accounts::status.eq(a.status.as_str()),
            accounts::secret_rotated_at.eq(a.secret_rotated_at.naive_utc()),
            accounts::version.eq(a.version),
            accounts::updated_at.eq(a.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    if let Some(hash) = secret_hash {
        diesel::update(target)
            .set(accounts::secret_hash.eq(hash))
            .execute(conn)?;
    }
    Ok(())
}

/// What checking a client's credentials needs: the stored hash and the
/// account. Read with a connection; checked without one, as hashing is slow.
pub struct Credentials {
    pub hash: String,
    pub account: Account,
}

pub fn credentials(conn: &mut AnyConnection, name: &str) -> Result<Option<Credentials>, ApiError> {
    accounts::table
        .filter(accounts::name.eq(name))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .map(|row| {
            Ok(Credentials {
                account: row.to_resource()?,
                hash: row.secret_hash,
            })
        })
        .transpose()
}
