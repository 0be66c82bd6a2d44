//! What every endpoint keeps: problem+json for bad input of every kind,
//! never a 500 and never a partial write.

use crate::common::TestApp;

on_both_engines!(
    malformed_requests_are_problems_and_write_nothing,
    unknown_routes_and_methods_are_problems,
    health_and_readiness,
);

async fn malformed_requests_are_problems_and_write_nothing(app: TestApp) {
    let admin = app.admin();
    let post = |ct: Option<&str>| {
        let req = app
            .client
            .post(app.url("/api/v1/organizations"))
            .bearer_auth(&admin);
        match ct {
            Some(ct) => req.insert_header(("Content-Type", ct)),
            None => req,
        }
    };
    let valid = br#"{"slug": "ok-co", "kind": "enterprise", "name_zh": "\u516c\u53f8"}"#.to_vec();
    // Not JSON, truncated JSON, trailing garbage, invalid UTF-8 inside a string.
    for body in [
        b"{not json".to_vec(),
        b"{\"slug\": \"a".to_vec(),
        [valid.clone(), b" x".to_vec()].concat(),
        b"{\"slug\": \"\xff\xfe\"}".to_vec(),
    ] {
        let res = app
            .send(post(Some("application/json")), Some(body.clone()))
            .await;
        let problem = res.problem(400);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("not valid JSON"),
            "{problem}"
        );
    }
    // A JSON array, or nothing, where an object belongs.
    app.send(post(Some("application/json")), Some(b"[]".to_vec()))
        .await
        .problem(422);
    app.send(post(Some("application/json")), Some(Vec::new()))
        .await
        .problem(400);
    // Wrong or missing media type.
    app.send(post(Some("text/plain")), Some(valid.clone()))
        .await
        .problem(415);
    app.send(post(None), Some(valid.clone())).await.problem(415);
    // Too large: refused before it is read in full.
    let huge = format!(
        r#"{{"slug": "ok-co", "kind": "enterprise", "name_zh": "{}"}}"#,
        "大".repeat(200_000)
    );
    app.send(post(Some("application/json")), Some(huge.into_bytes()))
        .await
        .problem(413);
    // Nesting past the depth limit is refused before it is parsed, in a
    // field and as the whole body: no recursion, no stack overflow.
    let limit = alliance_api::api::extract::MAX_JSON_DEPTH;
    for deep in [
        format!(
            r#"{{"slug": {}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!(r#"{}"x"{}"#, "[".repeat(limit + 1), "]".repeat(limit + 1)),
    ] {
        let res = app
            .send(post(Some("application/json")), Some(deep.into_bytes()))
            .await;
        res.problem(400);
        assert_eq!(
            res.field_errors(),
            vec![("body".to_owned(), "too_deep".to_owned())]
        );
    }
    // Within the limit, the usual checks answer (an array is not an object).
    let nested = format!(r#"{}"x"{}"#, "[".repeat(limit), "]".repeat(limit));
    app.send(post(Some("application/json")), Some(nested.into_bytes()))
        .await
        .problem(422);
    assert_eq!(app.event_count(), 0);
    assert_eq!(app.audit_count(), 0);
    // The same body with the right type goes through: the checks above were the cause.
    let res = app
        .send(post(Some("application/json; charset=utf-8")), Some(valid))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["name_zh"], "公司");
}

async fn unknown_routes_and_methods_are_problems(app: TestApp) {
    app.get("/api/v1/nothing-here", &app.viewer())
        .await
        .problem(404);
    app.get("/nothing", &app.viewer()).await.problem(404);
    // A described path with an undescribed method: 405 naming what it takes.
    let res = app.delete("/api/v1/alliances/teda", &app.admin()).await;
    res.problem(405);
    assert_eq!(res.header("allow"), Some("GET, PATCH"));
    let req = app
        .client
        .request(actix_web::http::Method::TRACE, app.url("/readyz"));
    let res = app.send(req, None).await;
    res.problem(405);
    assert_eq!(res.header("allow"), Some("GET"));
}

async fn health_and_readiness(app: TestApp) {
    let res = app.send(app.client.get(app.url("/healthz")), None).await;
    assert_eq!(
        (res.status.as_u16(), res.json()["status"].as_str()),
        (200, Some("ok"))
    );
    let res = app.send(app.client.get(app.url("/readyz")), None).await;
    assert_eq!(
        (res.status.as_u16(), res.json()["status"].as_str()),
        (200, Some("ok"))
    );
    let docs = app.send(app.client.get(app.url("/docs/")), None).await;
    assert_eq!(docs.status, 200);
    assert!(docs.text().contains("swagger-ui"), "{}", docs.text());
    let spec = app
        .send(app.client.get(app.url("/api/v1/openapi.json")), None)
        .await;
    assert_eq!(spec.json()["openapi"], "3.1.0");
}
