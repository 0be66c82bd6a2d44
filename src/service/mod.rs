//! The service layer: what the API does, one file per resource. A call
//! here authorises the caller (the role and scope rules of
//! `service::access`, which the gate has already enforced per operation, and
//! the record-level rules that need the record: who may edit a shared
//! organisation, a webhook's owner), applies the domain rules, calls
//! storage (`db`, rows and queries only) and records the change — the
//! audit record and the change event — in the same transaction.
//!
//! Handlers parse the request and make one call here; the CLI, the seed and
//! the imports call the same functions.

pub mod access;
pub mod accounts;
pub mod activities;
pub mod alliances;
pub mod council;
pub mod kpis;
pub mod memberships;
pub mod organizations;
pub mod platforms;
pub mod postings;
pub mod reports;
pub mod scope;
mod tx;
pub mod webhooks;

pub use tx::{Precondition, Tx, deleted, unchanged, update};

use crate::auth::Principal;
use crate::db::{AnyConnection, Db};
use crate::error::ApiError;

/// Reads one alliance's records, named by the path (`key`), for a caller
/// who may read them (403 otherwise; see [`scope::readable_alliance`]).
pub async fn read_alliance<T, F>(
    db: &Db,
    caller: Principal,
    key: String,
    f: F,
) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection, &str) -> Result<T, ApiError> + Send + 'static,
{
    db.read(move |c| {
        let alliance = scope::readable_alliance(c, &caller, &key)?;
        f(c, &alliance.id)
    })
    .await
}

/// Reads a record found by its own id, which a caller outside its alliance
/// is told does not exist (see [`scope::reveal`]).
pub async fn read_record<T, F>(db: &Db, caller: Principal, f: F) -> Result<T, ApiError>
where
    T: crate::db::Stored + Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
{
    db.read(move |c| {
        let record = f(c)?;
        scope::reveal(c, &caller, record)
    })
    .await
}

/// Runs a change on a blocking thread, in one transaction that also
/// appends the audit record and the change event (see [`Tx`]).
pub async fn write<T, F>(db: &Db, caller: Principal, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut Tx<'_>) -> Result<T, ApiError> + Send + 'static,
{
    let db = db.clone();
    actix_web::web::block(move || write_blocking(&db, &caller, f)).await?
}

/// [`write`] for callers already off the async workers (CLI, seed).
pub fn write_blocking<T, F>(db: &Db, caller: &Principal, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut Tx<'_>) -> Result<T, ApiError>,
{
    db.transact(|conn| f(&mut Tx::new(conn, caller)))
}
