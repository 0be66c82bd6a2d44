//! Accounts (machine clients and people's logins), managed by admins, and
//! the check of a client's credentials. Changes are audited (without the
//! secret); accounts are not shared through the change feed.

use super::access::authorize_in;
use super::{Precondition, Tx, unchanged};
use crate::auth::{Principal, Role, secret};
use crate::db::accounts::{self, Credentials};
use crate::db::journal::{Action, Change};
use crate::db::{AnyConnection, alliances, new_id, organizations, utc};
use crate::domain::account::{Account, AccountPatch, AccountStatus, AccountWithSecret, NewAccount};
use crate::error::ApiError;

const RESOURCE: &str = "account";

/// The principal an account's tokens carry.
pub fn principal_of(a: &Account) -> Principal {
    Principal {
        subject: format!("account:{}", a.name),
        role: a.role,
        alliances: a.alliances.clone(),
        organization: a.organization.clone(),
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
        && let Err(ApiError::NotFound(m)) = organizations::find(conn, org)
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

pub fn create(tx: &mut Tx<'_>, new: NewAccount) -> Result<AccountWithSecret, ApiError> {
    authorize_in(tx.principal, "create_account", true, String::new)?;
    check_scope(
        tx.conn,
        new.role,
        &new.alliances,
        new.organization.as_deref(),
    )?;
    if accounts::name_taken(tx.conn, &new.name)? {
        return Err(ApiError::conflict(
            "name",
            "taken",
            format!("there is already an account `{}`", new.name),
        ));
    }
    let client_secret = secret::generate();
    let now = utc(tx.now());
    let account = Account {
        id: new_id(),
        name: new.name,
        kind: new.kind,
        role: new.role,
        alliances: new.alliances,
        organization: new.organization,
        description: new.description,
        status: AccountStatus::Active,
        secret_rotated_at: now,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let hash = secret::hash(&client_secret).map_err(ApiError::internal)?;
    accounts::insert(tx.conn, &account, &hash)?;
    let account = accounts::find(tx.conn, &account.id)?;
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
    authorize_in(tx.principal, "update_account", true, String::new)?;
    let before = accounts::find(tx.conn, key)?;
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
    after.version += 1;
    after.updated_at = utc(tx.now());
    accounts::store(tx.conn, &after, None)?;
    let after = accounts::find(tx.conn, &after.id)?;
    audit(tx, Action::Updated, Some(&before), &after)?;
    Ok(after)
}

/// Replaces an account's secret; the old one stops working at once.
pub fn rotate_secret(tx: &mut Tx<'_>, key: &str) -> Result<AccountWithSecret, ApiError> {
    authorize_in(tx.principal, "rotate_account_secret", true, String::new)?;
    let before = accounts::find(tx.conn, key)?;
    let client_secret = secret::generate();
    let hash = secret::hash(&client_secret).map_err(ApiError::internal)?;
    let mut after = before.clone();
    after.secret_rotated_at = utc(tx.now());
    after.version += 1;
    after.updated_at = utc(tx.now());
    accounts::store(tx.conn, &after, Some(&hash))?;
    let account = accounts::find(tx.conn, &after.id)?;
    audit(tx, Action::Updated, Some(&before), &account)?;
    Ok(AccountWithSecret {
        account,
        client_secret,
    })
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
        Some(c)
            if secret::matches(client_secret, &c.hash)
                && c.account.status == AccountStatus::Active =>
        {
            Ok(principal_of(&c.account))
        }
        Some(_) => Err(refused()),
        None => {
            secret::matches(client_secret, secret::decoy());
            Err(refused())
        }
    }
}
