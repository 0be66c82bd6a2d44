//! Authorise before the body: a middleware that finds the operation a
//! request is routed to, takes its entry in the access table
//! (`service::access`), and answers 401, 403 or 404 from the token and the path
//! alone, before any extractor reads, parses, validates or replays the body.
//!
//! It decides what the token and the path decide: no or a bad token; a
//! role that gets the same outcome in and out of scope; and, for
//! operations under `/alliances/{id}/…`, whether the token covers that
//! alliance. What only the record can tell (the alliance of a platform
//! named by its own id, the owner of a subscription) the handler decides
//! as before, by the same table's outcomes.

use std::collections::HashMap;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use utoipa::openapi::OpenApi as OpenApiDoc;

use super::access::{self, Access, Outcome, Scope};
use crate::auth::{Principal, Role};
use crate::db::Db;
use crate::error::ApiError;

/// Every described operation by method and path template.
pub struct Operations(HashMap<(Method, String), (&'static str, &'static Access)>);

impl Operations {
    pub fn from_description(doc: &OpenApiDoc) -> Self {
        let mut map = HashMap::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ] {
                let Some(id) = op.as_ref().and_then(|op| op.operation_id.as_deref()) else {
                    continue;
                };
                // `access::tests` fails on an operation without an entry.
                if let Some((id, access)) = access::TABLE.iter().find(|(name, _)| *name == id) {
                    map.insert((method, path.clone()), (*id, access));
                }
            }
        }
        Operations(map)
    }

    fn of(&self, method: &Method, pattern: &str) -> Option<(&'static str, &'static Access)> {
        self.0.get(&(method.clone(), pattern.to_owned())).copied()
    }
}

/// Where an alliance-scoped operation names its alliance.
const ALLIANCE_PATH: &str = "/api/v1/alliances/{id}/";

/// The middleware (see the module's comment).
pub async fn authorise(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    match decide(&req).await.err() {
        None => Ok(next.call(req).await?.map_into_left_body()),
        Some(refused) => {
            let res = refused.error_response();
            Ok(req.into_response(res).map_into_right_body())
        }
    }
}

async fn decide(req: &ServiceRequest) -> Result<(), ApiError> {
    let (Some(operations), Some(pattern)) =
        (req.app_data::<web::Data<Operations>>(), req.match_pattern())
    else {
        return Ok(());
    };
    let Some((operation, access)) = operations.of(req.method(), &pattern) else {
        return Ok(());
    };
    if access.public {
        return Ok(());
    }
    let caller = super::extract::principal_of(req.request())?;
    let caller = with_derived_scope(req, caller).await?;
    // Handlers take the caller as decided here (`Principal`'s extractor).
    req.extensions_mut().insert(caller.clone());
    let (inside, outside) = (
        access.outcome(caller.role, true),
        access.outcome(caller.role, false),
    );
    let by_role = || {
        format!(
            "the role `{}` may not call `{operation}`; each operation's Access line in /docs says who may",
            caller.role
        )
    };
    if inside == outside {
        return refuse(inside, by_role);
    }
    let by_scope = |key: &str| format!("this token does not cover the alliance `{key}`");
    let Some(db) = req.app_data::<web::Data<Db>>().cloned() else {
        return Ok(());
    };
    let segments: Vec<&str> = req
        .path()
        .trim_start_matches("/api/v1/")
        .split('/')
        .collect();
    let (Some(kind), Some(key)) = (segments.first(), segments.get(1)) else {
        return Ok(());
    };
    let (kind, key) = ((*kind).to_owned(), (*key).to_owned());
    match access.scope {
        // The alliance is in the path.
        Scope::Alliance if pattern.starts_with(ALLIANCE_PATH) => {
            if caller.alliances.contains(&key) {
                return refuse(inside, || by_scope(&key));
            }
            // The token may name the alliance by its other key (id for slug).
            let found = {
                let key = key.clone();
                db.read(move |c| crate::db::alliances::find(c, &key)).await
            };
            match found {
                Ok(alliance) => {
                    let covered = caller.covers_alliance(&alliance.id, alliance.slug.as_str());
                    refuse(if covered { inside } else { outside }, || by_scope(&key))
                }
                // An unknown alliance is the handler's 404.
                Err(ApiError::NotFound(_)) => Ok(()),
                Err(e) => Err(e),
            }
        }
        // A record named by its own id: its alliance decides.
        Scope::Alliance => {
            let found = db
                .read(move |c| {
                    let Some(id) = crate::db::visibility::alliance_of_record(c, &kind, &key)?
                    else {
                        return Ok(None);
                    };
                    crate::db::alliances::find(c, &id).map(Some)
                })
                .await?;
            match found {
                Some(alliance) => {
                    let covered = caller.covers_alliance(&alliance.id, alliance.slug.as_str());
                    refuse(if covered { inside } else { outside }, || {
                        by_scope(alliance.slug.as_str())
                    })
                }
                None => Ok(()),
            }
        }
        // A subscription: the caller's own, or as if there were none.
        Scope::Owner if kind == "webhooks" => {
            let caller = caller.clone();
            let mine = db
                .read(
                    move |c| match crate::service::webhooks::find(c, &caller, &key) {
                        Ok(_) => Ok(true),
                        Err(ApiError::NotFound(_)) => Ok(false),
                        Err(e) => Err(e),
                    },
                )
                .await?;
            refuse(if mine { inside } else { outside }, || {
                "this subscription is not this token's".to_owned()
            })
        }
        _ => Ok(()),
    }
}

/// A member token reads the alliances its organisation belongs to now,
/// whatever alliances the token names.
async fn with_derived_scope(
    req: &ServiceRequest,
    caller: Principal,
) -> Result<Principal, ApiError> {
    if caller.role != Role::Member {
        return Ok(caller);
    }
    let (Some(db), Some(org)) = (req.app_data::<web::Data<Db>>(), caller.organization.clone())
    else {
        return Ok(Principal {
            alliances: vec![],
            ..caller
        });
    };
    let alliances = db
        .read(move |c| crate::db::visibility::member_alliances(c, &org))
        .await?;
    Ok(Principal {
        alliances,
        ..caller
    })
}

fn refuse(outcome: Outcome, why: impl FnOnce() -> String) -> Result<(), ApiError> {
    match outcome {
        Outcome::Allowed => Ok(()),
        Outcome::Forbidden => Err(ApiError::Forbidden(why())),
        Outcome::Hidden => Err(ApiError::NotFound("there is no such resource".into())),
    }
}
