//! The operator's view: `/metrics` counts what was served, every answer
//! carries a request id (problems quote it), `/readyz` says what it checked.

use crate::common::TestApp;
use futures_util::future::join_all;

/// The value of one series in a Prometheus text exposition.
fn series(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics_count_each_request_by_route_template(mut app: TestApp) {
    app.seed_registry().await;
    let token = app.viewer();
    let slugs = [
        "teda-biomedicine",
        "new-energy-community",
        "no-such-alliance",
    ];
    let n = 60;
    let answers = join_all((0..n).map(|i| {
        let app = &app;
        let token = token.clone();
        async move {
            app.get(&format!("/api/v1/alliances/{}", slugs[i % 3]), &token)
                .await
                .status
                .as_u16()
        }
    }))
    .await;
    let ok = answers.iter().filter(|s| **s == 200).count();
    let missing = answers.iter().filter(|s| **s == 404).count();
    assert_eq!((ok, missing), (40, 20));

    let res = app.send(app.client.get(app.url("/metrics")), None).await;
    assert_eq!(res.status, 200);
    assert!(
        res.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text();
    let route = r#"method="GET",route="/api/v1/alliances/{id}""#;
    assert_eq!(
        series(
            &text,
            &format!("alliance_http_requests_total{{{route},status=\"200\"}}")
        ),
        Some(40.0),
        "{text}"
    );
    assert_eq!(
        series(
            &text,
            &format!("alliance_http_requests_total{{{route},status=\"404\"}}")
        ),
        Some(20.0)
    );
    assert_eq!(
        series(
            &text,
            &format!("alliance_http_request_duration_seconds_count{{{route}}}")
        ),
        Some(60.0)
    );
    // The raw path never becomes a label.
    assert!(!text.contains("teda-biomedicine"));
    let head: i64 = {
        use alliance_api::db::schema::change_events;
        use diesel::prelude::*;
        change_events::table
            .select(diesel::dsl::max(change_events::position))
            .first::<Option<i64>>(&mut *app.conn())
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        series(&text, "alliance_change_feed_head_sequence"),
        Some(head as f64)
    );
    assert!(series(&text, r#"alliance_db_pool_connections{state="idle"}"#).is_some());
    assert!(series(&text, "alliance_db_pool_wait_seconds_count").unwrap() >= 60.0);
    assert_eq!(
        series(&text, r#"alliance_webhook_deliveries{status="pending"}"#),
        Some(0.0)
    );
}

async fn every_answer_carries_a_request_id_and_problems_quote_it(app: TestApp) {
    let res = app.get("/api/v1/alliances/no-such", &app.viewer()).await;
    let id = res.header("request-id").expect("a Request-Id").to_owned();
    let problem = res.problem(404);
    assert_eq!(problem["request_id"], id.as_str());

    let res = app
        .send(
            app.client
                .get(app.url("/api/v1/alliances"))
                .bearer_auth(app.viewer())
                .insert_header(("Request-Id", "upstream-trace-42")),
            None,
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("request-id"), Some("upstream-trace-42"));
    // Something that is not a sane token is replaced, not echoed.
    let res = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .insert_header(("Request-Id", "a b\tc")),
            None,
        )
        .await;
    assert_ne!(res.header("request-id"), Some("a b\tc"));
    assert!(res.header("request-id").is_some());
}

async fn readiness_says_what_it_checked(app: TestApp) {
    let res = app.send(app.client.get(app.url("/readyz")), None).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["checks"],
        serde_json::json!({"database": "ok", "migrations": "ok", "webhook_worker": "running"})
    );
}

async fn the_dashboard_page_is_served_hardened_and_private_by_default(app: TestApp) {
    let page = app.send(app.client.get(app.url("/dashboard")), None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().contains("/dashboard/assets/echarts.min.js"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let echarts = app
        .send(
            app.client.get(app.url("/dashboard/assets/echarts.min.js")),
            None,
        )
        .await;
    assert_eq!(echarts.status, 200);
    assert!(echarts.body.len() > 500_000, "the vendored ECharts, whole");
    app.send(
        app.client.get(app.url("/dashboard/assets/../Cargo.toml")),
        None,
    )
    .await
    .problem(404);
    // Not public unless the operator says so.
    let res = app
        .send(app.client.post(app.url("/dashboard/token")), None)
        .await;
    res.problem(404);
}

async fn a_public_dashboard_hands_out_short_viewer_tokens(mut app: TestApp) {
    app.config.public_dashboard = true;
    app.restart().await;
    let res = app
        .send(app.client.post(app.url("/dashboard/token")), None)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(body["expires_in"], 900);
    let token = body["token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/alliances", token).await.status, 200);
    // Read-only: a viewer cannot write.
    app.post(
        "/api/v1/kpi-definitions",
        token,
        &serde_json::json!({"code": "x1", "name_zh": "x", "unit": "count", "direction": "increase", "value_type": "integer"}),
    )
    .await
    .problem(403);
}

on_both_engines!(
    metrics_count_each_request_by_route_template,
    every_answer_carries_a_request_id_and_problems_quote_it,
    readiness_says_what_it_checked,
    the_dashboard_page_is_served_hardened_and_private_by_default,
    a_public_dashboard_hands_out_short_viewer_tokens,
);
