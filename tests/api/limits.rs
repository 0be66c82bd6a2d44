//! Resource limits (OWASP API4). Rate limits: a quota per token and one per
//! client address, told in `RateLimit-*` headers; past it, 429 with
//! `Retry-After` before anything runs. The request time limit: a read stuck
//! on a lock gets 503 and its query is cancelled (PostgreSQL); a write stuck
//! on one rolls back and gets 503 (both engines). (413 for an oversized body, 400 for deep nesting:
//! tests/api/conventions.rs; the import row cap: tests/api/imports.rs.)

use crate::common::{Engine, TestApp};
use alliance_api::auth::Role;
use serde_json::json;

const URL: &str = "/api/v1/alliances";

fn number(res: &crate::common::Response, name: &str) -> u64 {
    res.header(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .parse()
        .unwrap()
}

async fn a_token_past_its_quota_gets_429_and_other_tokens_do_not(engine: Engine) {
    let Some(mut app) = TestApp::spawn_with(engine, |c| {
        c.rate_limit_per_token = 5;
        c.rate_limit_per_address = 0;
    })
    .await
    else {
        return;
    };
    app.seed_registry().await;
    let admin = app.admin();
    for i in 0..4 {
        let res = app.get(URL, &admin).await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(number(&res, "ratelimit-limit"), 5);
        assert_eq!(number(&res, "ratelimit-remaining"), 4 - i);
        assert!(number(&res, "ratelimit-reset") >= 12 * (i + 1) - 1);
    }
    // The fifth request is the last the quota holds; a write past it is
    // refused before it runs, and writes nothing.
    let body = json!({"slug": "limit-test-co", "kind": "enterprise", "name_zh": "限流测试企业"});
    let res = app.post("/api/v1/organizations", &admin, &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(number(&res, "ratelimit-remaining"), 0);
    let events = app.event_count();
    let body =
        json!({"slug": "limit-test-co-2", "kind": "enterprise", "name_zh": "限流测试企业二"});
    let res = app.post("/api/v1/organizations", &admin, &body).await;
    let problem = res.problem(429);
    assert_eq!(problem["type"], "/problems/too-many-requests");
    assert!(problem["request_id"].is_string(), "{problem}");
    let retry = number(&res, "retry-after");
    assert!((1..=12).contains(&retry), "Retry-After {retry}");
    assert_eq!(number(&res, "ratelimit-remaining"), 0);
    assert_eq!(number(&res, "ratelimit-reset"), retry);
    assert_eq!(app.event_count(), events, "a refused write writes nothing");
    assert_eq!(
        app.get("/api/v1/organizations/limit-test-co-2", &app.viewer())
            .await
            .status,
        404
    );
    // Another token has its own quota; health checks have none.
    assert_eq!(app.get(URL, &app.token(Role::Reviewer)).await.status, 200);
    assert_eq!(app.get("/healthz", "").await.status, 200);
    assert_eq!(app.get(URL, &admin).await.status, 429);
}

async fn an_address_past_its_quota_gets_429_whatever_the_token(engine: Engine) {
    let Some(app) = TestApp::spawn_with(engine, |c| {
        c.rate_limit_per_token = 0;
        c.rate_limit_per_address = 3;
    })
    .await
    else {
        return;
    };
    for role in [Role::Viewer, Role::Reviewer, Role::Admin] {
        let res = app.get(URL, &app.token(role)).await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    let res = app.get(URL, &app.token(Role::Member)).await;
    res.problem(429);
    // No token at all counts against the address too.
    app.get(URL, "").await.problem(429);
    assert_eq!(number(&res, "ratelimit-limit"), 3);
}

/// On PostgreSQL, where another session can hold a lock that stalls the
/// service's queries: the time limit answers, and cancels the query so its
/// connection is free again while the lock is still held.
async fn stuck_requests_time_out_and_free_their_connections() {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    let Some(mut app) = TestApp::spawn_with(Engine::Postgres, |c| {
        c.request_timeout_seconds = 1;
        c.pool_size = 2;
    })
    .await
    else {
        return;
    };
    app.seed_registry().await;
    let admin = app.admin();
    let mut blocker = diesel::PgConnection::establish(&app.config.database_url).unwrap();
    let mut watcher = diesel::PgConnection::establish(&app.config.database_url).unwrap();
    blocker
        .batch_execute("BEGIN; LOCK TABLE alliances IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    // More stuck reads than the pool has connections: each is answered at
    // the limit, and each finds a connection, so the stuck ones were freed.
    for _ in 0..4 {
        let started = std::time::Instant::now();
        let res = app.get(URL, &admin).await;
        let problem = res.problem(503);
        assert!(
            problem["detail"].as_str().unwrap().contains("longer than"),
            "{problem}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
    // A write stuck on the lock: its statement is cancelled, it rolls back.
    let before = (app.audit_count(), app.event_count());
    let res = app
        .patch(
            "/api/v1/alliances/teda-biomedicine",
            &admin,
            &json!({"name_en": "Stuck"}),
        )
        .await;
    res.problem(503);
    // No query of the service waits on the lock any more.
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let waiting: Waiting = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .get_result(&mut watcher)
    .unwrap();
    assert_eq!(waiting.n, 0, "a cancelled query still waits on the lock");
    blocker.batch_execute("ROLLBACK").unwrap();
    assert_eq!(before, (app.audit_count(), app.event_count()));
    let res = app.get("/api/v1/alliances/teda-biomedicine", &admin).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_ne!(res.json()["name_en"], "Stuck");
}

/// On SQLite, where readers never wait (WAL) but a write waits for another
/// process's write lock: no longer than the time limit, then it rolls back
/// and gets 503 (it was a 500 before).
async fn a_write_stuck_behind_another_writer_gets_503() {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    let mut app = TestApp::spawn_with(Engine::Sqlite, |c| c.request_timeout_seconds = 1)
        .await
        .unwrap();
    app.seed_registry().await;
    let admin = app.admin();
    let mut blocker = diesel::SqliteConnection::establish(&app.config.database_url).unwrap();
    blocker.batch_execute("BEGIN IMMEDIATE").unwrap();
    let before = (app.audit_count(), app.event_count());
    let started = std::time::Instant::now();
    let res = app
        .patch(
            "/api/v1/alliances/teda-biomedicine",
            &admin,
            &json!({"name_en": "Stuck"}),
        )
        .await;
    let problem = res.problem(503);
    assert!(
        problem["detail"].as_str().unwrap().contains("write lock"),
        "{problem}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // Reads go on meanwhile.
    assert_eq!(app.get(URL, &admin).await.status, 200);
    blocker.batch_execute("ROLLBACK").unwrap();
    assert_eq!(before, (app.audit_count(), app.event_count()));
    let res = app
        .patch(
            "/api/v1/alliances/teda-biomedicine",
            &admin,
            &json!({"name_en": "Unstuck"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

mod sqlite {
    #[actix_web::test]
    async fn token_quota() {
        super::a_token_past_its_quota_gets_429_and_other_tokens_do_not(super::Engine::Sqlite).await
    }

    #[actix_web::test]
    async fn address_quota() {
        super::an_address_past_its_quota_gets_429_whatever_the_token(super::Engine::Sqlite).await
    }

    #[actix_web::test]
    async fn stuck_requests_time_out() {
        super::a_write_stuck_behind_another_writer_gets_503().await
    }
}

mod postgres {
    #[actix_web::test]
    async fn token_quota() {
        super::a_token_past_its_quota_gets_429_and_other_tokens_do_not(super::Engine::Postgres)
            .await
    }

    #[actix_web::test]
    async fn address_quota() {
        super::an_address_past_its_quota_gets_429_whatever_the_token(super::Engine::Postgres).await
    }

    #[actix_web::test]
    async fn stuck_requests_time_out() {
        super::stuck_requests_time_out_and_free_their_connections().await
    }
}
