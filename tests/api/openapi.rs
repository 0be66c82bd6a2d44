//! The committed description equals what the code generates and serves;
//! every operation carries its id, security and problem responses.
//! `UPDATE_OPENAPI=1 cargo test --test api openapi::` rewrites the file.

use crate::common::TestApp;
use serde_json::Value;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");

#[test]
fn committed_description_matches_the_code() {
    let generated = alliance_api::openapi().to_pretty_json().unwrap();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(COMMITTED, format!("{generated}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap();
    assert!(
        committed.trim_end() == generated,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --test api openapi::` and commit it"
    );
}

#[test]
fn every_operation_is_described_completely() {
    let doc: Value = serde_json::to_value(alliance_api::openapi()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            assert!(
                op["summary"].is_string() || op["description"].is_string(),
                "{id} undocumented"
            );
            let responses = op["responses"].as_object().unwrap();
            let entry = alliance_api::api::access::of(id);
            let public = entry.is_none_or(|e| e.public);
            let security = if public {
                serde_json::json!([])
            } else {
                serde_json::json!([{"bearer": []}])
            };
            assert_eq!(op["security"], security, "{id}'s security");
            if let Some(entry) = entry {
                for status in entry.refusals() {
                    assert!(
                        responses.contains_key(&status.to_string()),
                        "{id} lacks {status}, which its access entry can answer"
                    );
                }
            }
            if id == "issue_token" {
                for status in ["400", "401", "429", "503"] {
                    assert_eq!(
                        responses[status]["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/OAuthError",
                        "issue_token's {status} is an OAuth2 error"
                    );
                }
            } else if path.starts_with("/api/") {
                for status in ["400", "429", "503"] {
                    assert!(responses.contains_key(status), "{id} lacks {status}");
                }
                if matches!(method.as_str(), "post" | "patch" | "put") {
                    let bodies = op["requestBody"]["content"].as_object();
                    assert!(
                        bodies.is_none_or(
                            |b| !b.is_empty() && b.values().all(|c| c["schema"].is_object())
                        ),
                        "{id} has a body without a schema"
                    );
                    if bodies.is_some() {
                        assert!(responses.contains_key("422"), "{id} lacks 422");
                    }
                }
            } else {
                assert!(public, "{id} should need no token");
            }
        }
    }
    // Every reference resolves.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = vec![];
    refs(&doc, &mut all);
    for r in all {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external ref {r}"));
        assert!(doc.pointer(pointer).is_some(), "unresolved reference {r}");
    }
    // Request bodies carry examples.
    for name in [
        "CreateAlliance",
        "UpdateAlliance",
        "CreateOrganization",
        "UpdateOrganization",
        "CreateMembership",
        "UpdateMembership",
    ] {
        assert!(
            doc["components"]["schemas"][name]["example"].is_object(),
            "{name} has no example"
        );
    }
}

on_both_engines!(the_served_description_is_the_committed_one);

async fn the_served_description_is_the_committed_one(app: TestApp) {
    let served = app
        .send(app.client.get(app.url("/api/v1/openapi.json")), None)
        .await;
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), Some("application/json"));
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(COMMITTED).unwrap()).unwrap();
    assert!(
        served.json() == committed,
        "the served description differs from openapi/openapi.json"
    );
}
