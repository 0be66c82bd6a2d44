//! What the description says about every operation beyond its own
//! `#[utoipa::path]`: the problems it can answer (from its method, its path
//! and its entry in the access table), who may call it, its security, the
//! headers the conventions rely on, and the shapes that generated clients
//! need (named page items, named `oneOf` members, fields that are always
//! present marked `required`). Applied once, after the routes brought their
//! paths (`crate::openapi`).

use serde_json::{Map, Value, json};
use utoipa::openapi::OpenApi;

use super::access;

/// The problems an operation may answer, with what each means.
const PROBLEMS: &[(&str, &str)] = &[
    (
        "400",
        "Malformed request: a query parameter, header or JSON body that does not parse",
    ),
    ("401", "No bearer token, or one that is not valid"),
    (
        "403",
        "The token's role or scope does not allow this (decided from the token and the path before the body is read)",
    ),
    (
        "404",
        "No such resource, or one outside what the token may read",
    ),
    (
        "409",
        "The request conflicts with the current state (a taken value, a closed membership, …)",
    ),
    ("410", "The cursor is older than what the feed keeps"),
    (
        "412",
        "`If-Match` names a version that is no longer current",
    ),
    (
        "413",
        "The body is larger than the limit, or an import file passes one of its bounds: 20 000 rows, 64 columns, 64 MiB of inflated workbook XML (16 MiB of shared strings), 1.5 s of reading",
    ),
    (
        "415",
        "The body is not of a media type this operation takes",
    ),
    (
        "422",
        "The body is well-formed but not valid; `errors` names each field",
    ),
    (
        "428",
        "`If-Match` is required for this token (member tokens, when the operator requires it)",
    ),
    (
        "429",
        "Past the token's or the address's rate limit; retry after `Retry-After` seconds",
    ),
    (
        "503",
        "The database is not reachable or is busy; retry after `Retry-After` seconds. Type `/problems/outcome-unknown`: a write's COMMIT went unanswered and it may have been kept; read the resource again, or retry with the same `Idempotency-Key`",
    ),
];

/// Fields left out of a response when empty (`skip_serializing_if`): the
/// only response fields that are not always present.
const OMITTED_WHEN_EMPTY: &[(&str, &str)] = &[
    ("Problem", "errors"),
    ("Problem", "report"),
    ("Problem", "request_id"),
    ("Health", "checks"),
];

/// The operation whose errors are OAuth2's (RFC 6749 §5.2), not problems.
pub const TOKEN_OPERATION: &str = "issue_token";

/// Completes the description the routes registered.
pub fn complete(doc: OpenApi) -> OpenApi {
    let mut doc = serde_json::to_value(doc).expect("the description serialises");
    add_components(&mut doc);
    for_each_operation(&mut doc, |path, method, op| {
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        let entry = access::of(&id);
        if let Some(entry) = entry {
            describe_access(op, entry);
        }
        set_security(op, entry);
        if path.starts_with("/api/") && id != TOKEN_OPERATION {
            add_problems(op, &statuses(method, path, op, entry));
        } else if crate::auth::throttle::limited(path) {
            add_problems(op, &["429".to_owned()]); // the public dashboard's token
        }
        add_headers(path, op);
        optional_body(op);
        binary_files(op);
    });
    name_page_items(&mut doc);
    name_one_of_members(&mut doc);
    require_present_fields(&mut doc);
    drop_unused_schema(&mut doc, "SpreadsheetFile");
    drop_unused_responses(&mut doc);
    serde_json::from_value(doc).expect("the completed description parses")
}

/// Removes a schema nothing refers to any more.
fn drop_unused_schema(doc: &mut Value, name: &str) {
    let reference = format!("\"#/components/schemas/{name}\"");
    if !doc.to_string().contains(&reference) {
        doc["components"]["schemas"]
            .as_object_mut()
            .map(|schemas| schemas.remove(name));
    }
}

/// Removes the shared problem responses no operation refers to.
fn drop_unused_responses(doc: &mut Value) {
    let paths = doc["paths"].to_string();
    if let Some(responses) = doc["components"]["responses"].as_object_mut() {
        responses.retain(|name, _| paths.contains(&format!("\"#/components/responses/{name}\"")));
    }
}

fn for_each_operation(doc: &mut Value, mut f: impl FnMut(&str, &str, &mut Value)) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(op) = item.get_mut(method) {
                f(path, method, op);
            }
        }
    }
}

fn add_components(doc: &mut Value) {
    let components = doc["components"]
        .as_object_mut()
        .expect("the description has components");
    components.insert(
        "securitySchemes".into(),
        json!({
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token from `POST /api/v1/auth/token` (OAuth2 client credentials), or from `alliance-api token` on the server"
            }
        }),
    );
    let mut responses = Map::new();
    for (status, description) in PROBLEMS {
        let mut response = json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        });
        if matches!(*status, "429" | "503") {
            response["headers"] = json!({"Retry-After": header("Retry-After")});
        }
        responses.insert(problem_name(status), response);
    }
    components.insert("responses".into(), Value::Object(responses));
}

/// A header the conventions rely on (utoipa's model has no `$ref` for
/// headers, so each answer carries its own copy).
fn header(name: &str) -> Value {
    let seconds = |description: &str| json!({"description": description, "schema": {"type": "integer", "minimum": 0}});
    match name {
        "Request-Id" => json!({
            "description": "This request's id, also in a problem's `request_id`: quote it to the operator",
            "required": true,
            "schema": {"type": "string"}
        }),
        "ETag" => json!({
            "description": "The representation's version, for `If-None-Match` and `If-Match`",
            "schema": {"type": "string"}
        }),
        "Idempotent-Replayed" => json!({
            "description": "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`",
            "schema": {"type": "string", "enum": ["true"]}
        }),
        "Retry-After" => seconds("Seconds until a retry may succeed"),
        "RateLimit-Limit" => {
            seconds("Requests the token's (or, without one, the address's) quota holds")
        }
        "RateLimit-Remaining" => seconds("Requests left in the quota"),
        _ => seconds("Seconds until the quota is full again"),
    }
}

/// `If-None-Match`, on every operation that can answer 304.
fn if_none_match() -> Value {
    json!({
        "name": "If-None-Match",
        "in": "header",
        "description": "The `ETag` last read: 304 with no body while it is still current",
        "required": false,
        "schema": {"type": "string"},
        "example": "\"3\""
    })
}

fn problem_name(status: &str) -> String {
    format!("Problem{status}")
}

/// The problem statuses an operation can answer with: from its method and
/// path (what the edge and the extractors refuse) and its access entry (who
/// is refused, and how).
fn statuses(method: &str, path: &str, op: &Value, entry: Option<&access::Access>) -> Vec<String> {
    let mut s: Vec<u16> = vec![400, 429, 503];
    if path.contains('{') {
        s.push(404);
    }
    if let Some(entry) = entry {
        s.extend(entry.refusals());
    }
    let has_body = op.get("requestBody").is_some();
    match method {
        "post" | "put" | "patch" => {
            s.push(409);
            if has_body {
                s.extend([413, 415, 422]);
            }
        }
        "delete" => s.push(409),
        _ => {}
    }
    if matches!(method, "put" | "patch" | "delete") {
        s.extend([412, 428]);
    }
    if op["operationId"] == "list_changes" {
        s.push(410);
    }
    s.sort_unstable();
    s.dedup();
    s.into_iter().map(|n| n.to_string()).collect()
}

fn add_problems(op: &mut Value, statuses: &[String]) {
    let responses = op["responses"]
        .as_object_mut()
        .expect("an operation has responses");
    for status in statuses {
        responses.entry(status.clone()).or_insert_with(
            || json!({"$ref": format!("#/components/responses/{}", problem_name(status))}),
        );
    }
}

/// Ends the operation's description with who may call it.
fn describe_access(op: &mut Value, entry: &access::Access) {
    let line = entry.describe();
    let text = match op["description"].as_str() {
        Some(d) if !d.is_empty() => format!("{d}\n\n{line}"),
        _ => line,
    };
    op["description"] = Value::String(text);
}

/// `security: []` on what anyone may call, the bearer scheme on the rest
/// (on each operation: generators read it there, not at the root).
fn set_security(op: &mut Value, entry: Option<&access::Access>) {
    op["security"] = match entry {
        Some(entry) if !entry.public => json!([{"bearer": []}]),
        _ => json!([]),
    };
}

/// The headers the conventions rely on: `If-None-Match` where 304 is an
/// answer, `ETag`, `Idempotent-Replayed`, `Request-Id` and the rate-limit
/// headers on the answers.
fn add_headers(path: &str, op: &mut Value) {
    let api = path.starts_with("/api/");
    let conditional = op["responses"].get("304").is_some();
    let idempotent = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
    if conditional {
        let params = op["parameters"].as_array_mut();
        match params {
            Some(params) => params.push(if_none_match()),
            None => op["parameters"] = json!([if_none_match()]),
        }
    }
    let Some(responses) = op["responses"].as_object_mut() else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        if response.get("$ref").is_some() {
            continue; // the shared problem responses carry their own
        }
        let headers = response
            .as_object_mut()
            .expect("a response is an object")
            .entry("headers")
            .or_insert_with(|| json!({}));
        if api {
            headers["Request-Id"] = header("Request-Id");
            for name in ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"] {
                headers[name] = header(name);
            }
        }
        if status == "304" || (conditional && status == "200") {
            headers["ETag"] = header("ETag");
        }
        if idempotent && status.starts_with('2') {
            headers["Idempotent-Replayed"] = header("Idempotent-Replayed");
        }
        if headers.as_object().is_some_and(Map::is_empty) {
            response.as_object_mut().map(|r| r.remove("headers"));
        }
    }
}

/// A nullable JSON body is an optional one: `required: false` and the
/// object's own schema (generators then send no body when none is given;
/// the service reads no body and an empty one alike, and refuses `null`,
/// which the object's schema does not allow).
fn optional_body(op: &mut Value) {
    let Some(schema) = op.pointer_mut("/requestBody/content/application~1json/schema") else {
        return;
    };
    let Some([a, b]) = schema
        .get("oneOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    else {
        return;
    };
    let object = match (a["type"] == "null", b["type"] == "null") {
        (true, false) => b.clone(),
        (false, true) => a.clone(),
        _ => return,
    };
    *schema = object;
    op["requestBody"]["required"] = Value::Bool(false);
}

/// Files in the shapes generators handle: the bytes inline as a binary
/// string (not a `$ref`, which clients then serialise as JSON), and
/// downloads also listed as `application/octet-stream`, the one binary
/// type both generators hand over as bytes.
fn binary_files(op: &mut Value) {
    let binary = json!({"type": "string", "format": "binary"});
    let takes_workbooks = op["parameters"].as_array().is_some_and(|ps| {
        ps.iter().any(|p| {
            p["name"] == "format" && p["schema"]["$ref"] == "#/components/schemas/FileFormat"
        })
    });
    let Some(responses) = op["responses"].as_object_mut() else {
        return;
    };
    for response in responses.values_mut() {
        let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
            continue;
        };
        if !content.contains_key(crate::tabular::CSV) && !content.contains_key(crate::tabular::XLSX)
        {
            continue;
        }
        if takes_workbooks || content.contains_key(crate::tabular::XLSX) {
            content.insert(crate::tabular::XLSX.into(), json!({"schema": binary}));
        }
        content.insert("application/octet-stream".into(), json!({"schema": binary}));
    }
}

/// `List_X.items` as an array of `$ref X`, not a copy of `X` (utoipa
/// inlines a generic's parameter; generators then make a second class).
fn name_page_items(doc: &mut Value) {
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("the description has schemas");
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in names {
        let Some(item) = name.strip_prefix("List_") else {
            continue;
        };
        if !schemas.contains_key(item) {
            continue;
        }
        let reference = json!({"$ref": format!("#/components/schemas/{item}")});
        schemas[&name]["properties"]["items"]["items"] = reference;
    }
}

/// Gives each inline member of a tagged `oneOf` its own schema, named after
/// the tag's value (`Derivation` + `activity_count` → `DerivationActivityCount`),
/// so generators do not number them.
fn name_one_of_members(doc: &mut Value) {
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("the description has schemas");
    let mut extracted = Vec::new();
    for (name, schema) in schemas.iter_mut() {
        let Some(members) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else {
            continue;
        };
        for member in members.iter_mut() {
            if member.get("$ref").is_some() || member["type"] != "object" {
                continue;
            }
            let Some(tag) = member["properties"].as_object().and_then(|props| {
                props
                    .values()
                    .find_map(|p| match p["enum"].as_array().map(Vec::as_slice) {
                        Some([Value::String(only)]) => Some(only.clone()),
                        _ => None,
                    })
            }) else {
                continue;
            };
            let member_name = format!("{name}{}", pascal_case(&tag));
            let schema = std::mem::replace(
                member,
                json!({"$ref": format!("#/components/schemas/{member_name}")}),
            );
            extracted.push((member_name, schema));
        }
    }
    schemas.extend(extracted);
}

fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// Marks every field of a response-only schema `required`: the service
/// always writes them (`null` when empty), so a client need not tell
/// "absent" from "null". Schemas that are also request bodies keep their
/// optional fields, and so do the fields in [`OMITTED_WHEN_EMPTY`].
fn require_present_fields(doc: &mut Value) {
    let mut in_requests = std::collections::BTreeSet::new();
    let mut in_responses = std::collections::BTreeSet::new();
    let schemas = doc["components"]["schemas"].clone();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|i| i.values()) {
            collect_refs(&op["requestBody"], &schemas, &mut in_requests);
            collect_refs(&op["parameters"], &schemas, &mut in_requests);
            collect_refs(&op["responses"], &schemas, &mut in_responses);
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("the description has schemas");
    for name in in_responses.difference(&in_requests) {
        let Some(schema) = schemas.get_mut(name) else {
            continue;
        };
        require_all(name, schema);
    }
}

fn require_all(name: &str, schema: &mut Value) {
    for composition in ["oneOf", "allOf"] {
        if let Some(members) = schema.get_mut(composition).and_then(Value::as_array_mut) {
            for member in members {
                require_all(name, member);
            }
        }
    }
    let Some(props) = schema["properties"].as_object() else {
        return;
    };
    let required: Vec<Value> = props
        .keys()
        .filter(|field| !OMITTED_WHEN_EMPTY.contains(&(name, field.as_str())))
        .map(|field| Value::String(field.clone()))
        .collect();
    schema["required"] = Value::Array(required);
}

/// The names of the component schemas `value` refers to, followed through
/// the schemas themselves.
fn collect_refs(value: &Value, schemas: &Value, found: &mut std::collections::BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
                && found.insert(name.to_owned())
            {
                collect_refs(&schemas[name], schemas, found);
            }
            for v in map.values() {
                collect_refs(v, schemas, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, schemas, found)),
        _ => {}
    }
}
