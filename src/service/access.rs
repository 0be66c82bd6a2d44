//! Who may call what: one entry per operation of the description, saying
//! for each role what it gets on a record within its token's scope and on
//! one outside it. This table is the policy, and the only copy of it: the
//! gate (`api::gate`) answers from it before a body is read, the service
//! functions authorise from it ([`authorize`]) whoever calls them, the
//! description shows it under each operation ("Access"), and
//! `tests/api/authorization.rs` calls every operation with every role, in
//! and out of scope, and holds the answers to it. An operation without an
//! entry fails the tests.

use crate::auth::{Principal, Role};
use crate::domain::alliance::Alliance;
use crate::error::ApiError;

/// What a role gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Allowed,
    /// 403: the role or the scope does not allow it.
    Forbidden,
    /// 404: the record is outside what the token may read, so for it the
    /// record does not exist.
    Hidden,
}

use Outcome::{Allowed as A, Forbidden as F, Hidden as H};

/// What "in scope" means for an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Nothing: every record is the same to every token.
    None,
    /// The alliance the path, body or query names, or the record's alliance:
    /// one the token names, or another.
    Alliance,
    /// The organisation: the member token's own (for a secretariat, one in
    /// its alliances), or another.
    Organization,
    /// The caller's own record (webhook subscriptions), or someone else's.
    Owner,
}

/// The outcomes of one operation.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    /// Answers without a token (anyone else gets 401 without one).
    pub public: bool,
    pub scope: Scope,
    /// (in scope, outside it) for admin, reviewer, secretariat, member,
    /// viewer.
    grants: [(Outcome, Outcome); 5],
}

impl Access {
    const fn new(scope: Scope, grants: [(Outcome, Outcome); 5]) -> Self {
        Access {
            public: false,
            scope,
            grants,
        }
    }

    /// What a token of this role gets, on a record in its scope or outside.
    pub fn outcome(&self, role: Role, in_scope: bool) -> Outcome {
        let (inside, outside) = self.grants[role_index(role)];
        if in_scope { inside } else { outside }
    }

    /// The refusals this entry can answer with (401, 403, 404), so the
    /// description declares each of them.
    pub fn refusals(&self) -> Vec<u16> {
        let outcomes = || self.grants.iter().flat_map(|(i, o)| [*i, *o]);
        let mut statuses = Vec::new();
        if !self.public {
            statuses.push(401);
        }
        if outcomes().any(|o| o == F) {
            statuses.push(403);
        }
        if outcomes().any(|o| o == H) {
            statuses.push(404);
        }
        statuses
    }

    /// The "Access" line of the operation's description.
    pub fn describe(&self) -> String {
        if self.public {
            return "**Access:** anyone; no token needed.".into();
        }
        if self.grants.iter().all(|g| *g == (A, A)) {
            return "**Access:** every role.".into();
        }
        let who: Vec<String> = ROLES
            .iter()
            .filter_map(|role| match self.grants[role_index(*role)] {
                (A, A) => Some(role.to_string()),
                (A, _) => Some(format!("{role} ({})", self.scope_words(*role))),
                _ => None,
            })
            .collect();
        let hidden = self.grants.iter().any(|(_, outside)| *outside == H);
        format!(
            "**Access:** {}.{}",
            if who.is_empty() {
                "nobody".to_owned()
            } else {
                who.join(", ")
            },
            if hidden {
                " Outside its scope a token gets 404, as if the record did not exist."
            } else {
                ""
            }
        )
    }
}

impl Access {
    /// What "in scope" is for a role, in the description's words.
    fn scope_words(&self, role: Role) -> &'static str {
        match (self.scope, role) {
            (Scope::Organization, Role::Member) => "its own organisation",
            (Scope::Organization, _) => "organisations in its alliances",
            (Scope::Owner, _) => "its own",
            _ => "its alliances",
        }
    }
}

pub const ROLES: [Role; 5] = [
    Role::Admin,
    Role::Reviewer,
    Role::Secretariat,
    Role::Member,
    Role::Viewer,
];

fn role_index(role: Role) -> usize {
    match role {
        Role::Admin => 0,
        Role::Reviewer => 1,
        Role::Secretariat => 2,
        Role::Member => 3,
        Role::Viewer => 4,
    }
}

//                                           admin   reviewer secretariat member  viewer
const PUBLIC: Access = Access {
    public: true,
    ..Access::new(Scope::None, [(A, A), (A, A), (A, A), (A, A), (A, A)])
};
const ANY_TOKEN: Access = Access::new(Scope::None, [(A, A), (A, A), (A, A), (A, A), (A, A)]);
const ADMIN: Access = Access::new(Scope::None, [(A, A), (F, F), (F, F), (F, F), (F, F)]);
const AUDITORS: Access = Access::new(Scope::None, [(A, A), (A, A), (F, F), (F, F), (F, F)]);
/// An alliance's records, the alliance named in the path.
const READ_ALLIANCE: Access =
    Access::new(Scope::Alliance, [(A, A), (A, A), (A, F), (A, F), (A, A)]);
/// An alliance's record, named by its own id.
const READ_RECORD: Access = Access::new(Scope::Alliance, [(A, A), (A, A), (A, H), (A, H), (A, A)]);
/// An organisation's memberships: a scoped token sees those in its alliances.
const READ_FILTERED: Access =
    Access::new(Scope::Alliance, [(A, A), (A, A), (A, A), (A, A), (A, A)]);
const WRITE_ALLIANCE: Access =
    Access::new(Scope::Alliance, [(A, A), (F, F), (A, F), (F, F), (F, F)]);
const WRITE_RECORD: Access = Access::new(Scope::Alliance, [(A, A), (F, F), (A, H), (F, H), (F, F)]);
const REVIEW: Access = Access::new(Scope::Alliance, [(A, A), (A, A), (F, F), (F, F), (F, F)]);
const REGISTER_ORGANIZATION: Access = Access::new(
    Scope::Organization,
    [(A, A), (F, F), (A, A), (A, F), (F, F)],
);
const EDIT_ORGANIZATION: Access = Access::new(
    Scope::Organization,
    [(A, A), (F, F), (A, F), (A, F), (F, F)],
);
const SUBSCRIBE: Access = Access::new(Scope::Alliance, [(A, A), (F, F), (A, F), (A, F), (F, F)]);
/// A posting or a match: the secretariat, or a member token for its own
/// organisation (the service checks whose the posting is).
const POST_AS_MEMBER: Access =
    Access::new(Scope::Alliance, [(A, A), (F, F), (A, F), (A, F), (F, F)]);
const EDIT_AS_MEMBER: Access =
    Access::new(Scope::Alliance, [(A, A), (F, F), (A, H), (A, H), (F, F)]);
const OWN_SUBSCRIPTIONS: Access =
    Access::new(Scope::Owner, [(A, A), (A, A), (A, A), (A, A), (A, A)]);
const OWN_SUBSCRIPTION: Access =
    Access::new(Scope::Owner, [(A, A), (H, H), (A, H), (A, H), (H, H)]);

/// Every operation of the description, by operation id.
pub const TABLE: &[(&str, Access)] = &[
    // operations and the dashboard page
    ("healthz", PUBLIC),
    ("readyz", PUBLIC),
    ("metrics", PUBLIC),
    ("dashboard_page", PUBLIC),
    ("dashboard_asset", PUBLIC),
    ("dashboard_token", PUBLIC),
    // accounts and tokens
    ("issue_token", PUBLIC),
    ("list_accounts", ADMIN),
    ("create_account", ADMIN),
    ("get_account", ADMIN),
    ("update_account", ADMIN),
    ("rotate_account_secret", ADMIN),
    ("list_audit_records", AUDITORS),
    // alliances
    ("list_alliances", ANY_TOKEN),
    ("get_alliance", ANY_TOKEN),
    ("create_alliance", ADMIN),
    ("update_alliance", WRITE_ALLIANCE),
    // organisations
    ("list_organizations", ANY_TOKEN),
    ("export_organizations", ANY_TOKEN),
    ("get_organization", ANY_TOKEN),
    ("create_organization", REGISTER_ORGANIZATION),
    ("update_organization", EDIT_ORGANIZATION),
    ("upsert_organization_by_ref", EDIT_ORGANIZATION),
    ("delete_organization", ADMIN),
    ("list_organization_memberships", READ_FILTERED),
    ("export_organization_memberships", READ_FILTERED),
    // memberships
    ("list_alliance_memberships", READ_ALLIANCE),
    ("export_alliance_memberships", READ_ALLIANCE),
    ("create_membership", WRITE_ALLIANCE),
    ("get_membership", READ_RECORD),
    ("update_membership", WRITE_RECORD),
    ("list_membership_history", READ_RECORD),
    // council
    ("get_council", READ_ALLIANCE),
    ("list_council_seats", READ_ALLIANCE),
    ("export_council_seats", READ_ALLIANCE),
    ("create_council_seat", WRITE_ALLIANCE),
    ("get_council_seat", READ_RECORD),
    ("update_council_seat", WRITE_RECORD),
    ("delete_council_seat", WRITE_RECORD),
    // platforms
    ("list_platforms", READ_ALLIANCE),
    ("export_platforms", READ_ALLIANCE),
    ("create_platform", WRITE_ALLIANCE),
    ("get_platform", READ_RECORD),
    ("update_platform", WRITE_RECORD),
    ("delete_platform", WRITE_RECORD),
    // activities
    ("list_activities", READ_ALLIANCE),
    ("export_activities", READ_ALLIANCE),
    ("create_activity", WRITE_ALLIANCE),
    ("get_activity", READ_RECORD),
    ("update_activity", WRITE_RECORD),
    ("delete_activity", WRITE_RECORD),
    // 供需对接: postings and matches
    ("list_public_postings", PUBLIC),
    ("list_postings", READ_ALLIANCE),
    ("export_postings", READ_ALLIANCE),
    ("create_posting", POST_AS_MEMBER),
    ("upsert_posting_by_ref", POST_AS_MEMBER),
    ("get_posting", READ_RECORD),
    ("update_posting", EDIT_AS_MEMBER),
    ("submit_posting", EDIT_AS_MEMBER),
    ("publish_posting", WRITE_RECORD),
    ("return_posting", WRITE_RECORD),
    ("close_posting", EDIT_AS_MEMBER),
    ("list_posting_suggestions", READ_RECORD),
    ("list_matches", READ_ALLIANCE),
    ("create_match", POST_AS_MEMBER),
    ("get_match", READ_RECORD),
    ("accept_match", EDIT_AS_MEMBER),
    ("close_match", EDIT_AS_MEMBER),
    ("get_supply_demand_summary", READ_ALLIANCE),
    ("export_supply_demand_summary", READ_ALLIANCE),
    ("get_city_supply_demand_summary", ANY_TOKEN),
    ("export_city_supply_demand_summary", ANY_TOKEN),
    // spreadsheets
    ("member_import_template", ANY_TOKEN),
    ("activity_import_template", ANY_TOKEN),
    ("kpi_import_template", ANY_TOKEN),
    ("import_members", WRITE_ALLIANCE),
    ("import_activities", WRITE_ALLIANCE),
    ("import_kpis", WRITE_ALLIANCE),
    ("export_members", READ_ALLIANCE),
    // KPIs and reports
    ("list_kpi_definitions", ANY_TOKEN),
    ("get_kpi_definition", ANY_TOKEN),
    ("create_kpi_definition", ADMIN),
    ("update_kpi_definition", ADMIN),
    ("get_kpi_year", READ_ALLIANCE),
    ("put_kpi_year", WRITE_ALLIANCE),
    ("get_annual_report", READ_ALLIANCE),
    ("export_annual_report", READ_ALLIANCE),
    ("submit_annual_report", WRITE_ALLIANCE),
    ("approve_annual_report", REVIEW),
    ("return_annual_report", REVIEW),
    ("reopen_annual_report", REVIEW),
    ("dashboard_kpis", READ_ALLIANCE),
    ("export_dashboard_kpis", READ_ALLIANCE),
    // the change feed and webhooks
    ("list_changes", ANY_TOKEN),
    ("list_webhooks", OWN_SUBSCRIPTIONS),
    ("create_webhook", SUBSCRIBE),
    ("get_webhook", OWN_SUBSCRIPTION),
    ("update_webhook", OWN_SUBSCRIPTION),
    ("delete_webhook", OWN_SUBSCRIPTION),
    ("list_webhook_deliveries", OWN_SUBSCRIPTION),
    ("redeliver_webhook_event", OWN_SUBSCRIPTION),
    ("get_webhook_delivery", OWN_SUBSCRIPTION),
];

/// The entry of an operation.
pub fn of(operation_id: &str) -> Option<&'static Access> {
    TABLE
        .iter()
        .find_map(|(id, access)| (*id == operation_id).then_some(access))
}

/// Authorises `caller` for `operation` on the records of `alliance`: the
/// table's outcome for the caller's role, inside the token's scope (an
/// alliance it names) or outside it. A hidden record answers as `missing`.
pub fn authorize(
    caller: &Principal,
    operation: &str,
    alliance: &Alliance,
    missing: impl FnOnce() -> String,
) -> Result<(), ApiError> {
    let covered = caller.covers_alliance(&alliance.id, alliance.slug.as_str());
    decide(caller, operation, covered, missing, || {
        format!("this token does not cover the alliance `{}`", alliance.slug)
    })
}

/// Authorises `caller` for an operation whose scope is not an alliance
/// (`in_scope`: what the operation's scope says of this record; `outside`:
/// why a token outside it is refused).
pub fn authorize_in(
    caller: &Principal,
    operation: &str,
    in_scope: bool,
    outside: impl FnOnce() -> String,
) -> Result<(), ApiError> {
    decide(
        caller,
        operation,
        in_scope,
        || "there is no such resource".to_owned(),
        outside,
    )
}

fn decide(
    caller: &Principal,
    operation: &str,
    in_scope: bool,
    missing: impl FnOnce() -> String,
    outside: impl FnOnce() -> String,
) -> Result<(), ApiError> {
    // Denied by default: an operation without an entry is refused (and
    // fails `every_operation_has_one_entry`).
    let Some(access) = of(operation) else {
        return Err(ApiError::Internal(format!(
            "the access table has no entry for `{operation}`"
        )));
    };
    let by_role = access.outcome(caller.role, true) == access.outcome(caller.role, false);
    match access.outcome(caller.role, in_scope) {
        Outcome::Allowed => Ok(()),
        Outcome::Hidden => Err(ApiError::NotFound(missing())),
        Outcome::Forbidden if by_role => Err(ApiError::Forbidden(format!(
            "the role `{}` may not call `{operation}`; each operation's Access line in /docs says who may",
            caller.role
        ))),
        Outcome::Forbidden => Err(ApiError::Forbidden(outside())),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The table and the description name the same operations, once each.
    #[test]
    fn every_operation_has_one_entry() {
        let doc = crate::openapi();
        let described: BTreeSet<String> = doc
            .paths
            .paths
            .values()
            .flat_map(|item| {
                [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                    .into_iter()
                    .flatten()
                    .map(|op| op.operation_id.clone().expect("every operation has an id"))
            })
            .collect();
        let listed: Vec<&str> = TABLE.iter().map(|(id, _)| *id).collect();
        let unique: BTreeSet<&str> = listed.iter().copied().collect();
        assert_eq!(unique.len(), listed.len(), "an operation is listed twice");
        let missing: Vec<&String> = described
            .iter()
            .filter(|id| !unique.contains(id.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "operations without an entry in src/service/access.rs: {missing:?}"
        );
        let stale: Vec<&&str> = unique
            .iter()
            .filter(|id| !described.contains(**id))
            .collect();
        assert!(stale.is_empty(), "entries for no operation: {stale:?}");
    }

    /// Every operation the service layer and the imports authorise by name
    /// is in the table (a typo would refuse every call).
    #[test]
    fn every_operation_the_service_names_has_an_entry() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut named = BTreeSet::new();
        for dir in ["service", "import"] {
            for file in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = file.unwrap().path();
                if path.ends_with("service/access.rs") {
                    continue; // this file: the definitions and their tests
                }
                let text = std::fs::read_to_string(path).unwrap();
                for call in ["authorize(", "authorize_in(", "alliance_to_change("] {
                    for (at, _) in text.match_indices(call) {
                        let rest = &text[at..(at + 200).min(text.len())];
                        let call = rest.split(';').next().unwrap_or_default();
                        if call.contains("operation: &str") {
                            continue; // the definition itself
                        }
                        // The operation named by a literal (not a variable).
                        let literal = call.split('"').nth(1);
                        if let Some(name) = literal.filter(|n| !n.contains(' ')) {
                            named.insert(name.to_owned());
                        }
                    }
                }
            }
        }
        assert!(named.len() > 20, "found only {named:?}");
        let unknown: Vec<&String> = named.iter().filter(|n| of(n).is_none()).collect();
        assert!(unknown.is_empty(), "not in the table: {unknown:?}");
    }

    #[test]
    fn an_operation_without_an_entry_is_refused() {
        let admin = Principal::system("test");
        assert!(matches!(
            authorize_in(&admin, "no_such_operation", true, String::new),
            Err(ApiError::Internal(_))
        ));
        assert!(authorize_in(&admin, "create_kpi_definition", true, String::new).is_ok());
    }

    #[test]
    fn the_service_answers_what_the_table_says() {
        let caller = |role| Principal {
            subject: "t".into(),
            role,
            alliances: vec!["teda-biomedicine".into()],
            organization: None,
        };
        let alliance = |slug: &str| {
            use crate::domain::alliance::{AllianceKind, AllianceStatus, Sector};
            Alliance {
                id: format!("id-{slug}"),
                slug: crate::domain::Slug::parse(slug).unwrap(),
                kind: AllianceKind::RegionalConsortium,
                sector: Sector::Biomedicine,
                host_zone: None,
                name_zh: crate::domain::Name::parse("联合体").unwrap(),
                name_en: None,
                founded_on: None,
                status: AllianceStatus::Active,
                documents: vec![],
                version: 1,
                created_at: chrono::Utc::now(),
                updated_at: chrono::Utc::now(),
            }
        };
        let (teda, port) = (alliance("teda-biomedicine"), alliance("port-offshore"));
        for (operation, access) in TABLE.iter().filter(|(_, a)| !a.public) {
            for role in ROLES {
                for (record, in_scope) in [(&teda, true), (&port, false)] {
                    let got = authorize(&caller(role), operation, record, String::new);
                    // Every caller here names teda's alliance in its token.
                    let expected = access.outcome(role, in_scope);
                    let got = match got {
                        Ok(()) => Outcome::Allowed,
                        Err(ApiError::Forbidden(_)) => Outcome::Forbidden,
                        Err(ApiError::NotFound(_)) => Outcome::Hidden,
                        Err(e) => panic!("{operation}: {e:?}"),
                    };
                    assert_eq!(got, expected, "{operation} as {role}, in scope: {in_scope}");
                }
            }
        }
    }
}
