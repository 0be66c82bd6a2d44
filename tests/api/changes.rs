//! The change feed: every committed change exactly once, in commit order,
//! under concurrent writers; filtered to the caller's scope; long-poll; 410
//! for a cursor older than what is kept.

use std::collections::HashSet;

use crate::common::TestApp;
use alliance_api::auth::Role;
use serde_json::{Value, json};

on_both_engines!(
    a_reader_following_eight_writers_sees_each_event_once_in_order,
    events_carry_the_resource_as_it_now_is,
    the_feed_is_filtered_to_the_callers_scope,
    a_long_poll_returns_when_a_write_commits,
    a_cursor_older_than_the_kept_events_is_gone,
);

async fn feed(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app.get(&format!("/api/v1/changes?{query}"), token).await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

async fn a_reader_following_eight_writers_sees_each_event_once_in_order(app: TestApp) {
    const WRITERS: usize = 8;
    const EACH: usize = 15;
    let admin = app.admin();
    let url = app.url("/api/v1/organizations");
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let client = app.client.clone();
            let (url, admin) = (url.clone(), admin.clone());
            actix_web::rt::spawn(async move {
                for i in 0..EACH {
                    let body = json!({"slug": format!("w{w}-org-{i}"), "kind": "enterprise", "name_zh": format!("写入者{w}公司{i}")});
                    let res = client.post(&url).bearer_auth(&admin).send_json(&body).await.unwrap();
                    assert_eq!(res.status().as_u16(), 201);
                }
            })
        })
        .collect();
    // Follow the feed while the writers write, in small batches. Once they
    // are done, one empty read ends it: an event skipped over never comes.
    let (mut cursor, mut seen, mut seqs) = ("0".to_owned(), Vec::new(), Vec::new());
    loop {
        let done = writers.iter().all(|w| w.is_finished());
        let wait = if done { 0 } else { 2 };
        let page = feed(&app, &admin, &format!("after={cursor}&limit=7&wait={wait}")).await;
        let items = page["items"].as_array().unwrap();
        for e in items {
            seqs.push(e["cursor"].as_str().unwrap().parse::<i64>().unwrap());
            seen.push(e["resource"]["slug"].as_str().unwrap().to_owned());
        }
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
        if done && items.is_empty() {
            break;
        }
    }
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(seen.len(), WRITERS * EACH, "every event seen");
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        WRITERS * EACH,
        "none twice"
    );
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    // Nothing more after the last cursor, and the feed agrees with a full re-read.
    assert_eq!(
        feed(&app, &admin, &format!("after={cursor}")).await["items"],
        json!([])
    );
    let all = feed(&app, &admin, "limit=1000").await;
    let reread: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(reread, seen.iter().map(String::as_str).collect::<Vec<_>>());
}

async fn events_carry_the_resource_as_it_now_is(app: TestApp) {
    let admin = app.admin();
    let org = app.create_org("feed-co", "订阅公司").await;
    let changed = app
        .patch(
            "/api/v1/organizations/feed-co",
            &admin,
            &json!({"name_en": "Feed Co"}),
        )
        .await
        .json();
    assert_eq!(
        app.delete("/api/v1/organizations/feed-co", &admin)
            .await
            .status,
        204
    );
    let page = feed(&app, &app.viewer(), "").await;
    let items = page["items"].as_array().unwrap();
    let kinds: Vec<(&str, i64)> = items
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["version"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("organization.created", 1),
            ("organization.updated", 2),
            ("organization.deleted", 3)
        ]
    );
    assert_eq!(items[0]["resource"], org);
    assert_eq!(items[1]["resource"], changed);
    assert_eq!(
        items[2]["resource"],
        json!({"id": org["id"], "deleted": true})
    );
    assert!(
        items
            .iter()
            .all(|e| e["actor"] == "test:admin" && e["resource_id"] == org["id"])
    );
    assert_eq!(page["next_cursor"], items[2]["cursor"]);
    let only_updates = feed(&app, &admin, "types=organization.updated").await;
    assert_eq!(only_updates["items"].as_array().unwrap().len(), 1);
    for bad in [
        "after=-1",
        "after=x",
        "limit=0",
        "limit=1001",
        "types=organization.renamed",
        "wait=31",
        "wait=31x",
        "since=1",
    ] {
        app.get(&format!("/api/v1/changes?{bad}"), &admin)
            .await
            .problem(400);
    }
    app.get("/api/v1/changes", "").await.problem(401);
}

async fn the_feed_is_filtered_to_the_callers_scope(mut app: TestApp) {
    app.seed().await;
    let head = feed(&app, &app.admin(), "limit=1000").await["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = app.admin();
    let teda = app
        .get(
            "/api/v1/alliances/teda-biomedicine/memberships?limit=1",
            &admin,
        )
        .await
        .json();
    let energy = app
        .get(
            "/api/v1/alliances/new-energy-community/memberships?limit=1",
            &admin,
        )
        .await
        .json();
    for list in [&teda, &energy] {
        let path = format!(
            "/api/v1/memberships/{}",
            list["items"][0]["id"].as_str().unwrap()
        );
        assert_eq!(
            app.patch(&path, &admin, &json!({"note": "reviewed"}))
                .await
                .status,
            200
        );
    }
    let secretariat = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    let mine = feed(&app, &secretariat, &format!("after={head}")).await;
    let ids: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![teda["items"][0]["id"].as_str().unwrap()]);
    let everything = feed(&app, &app.viewer(), &format!("after={head}")).await;
    assert_eq!(everything["items"].as_array().unwrap().len(), 2);
    let by_alliance = feed(
        &app,
        &admin,
        &format!("after={head}&alliance=new-energy-community"),
    )
    .await;
    assert_eq!(
        by_alliance["items"][0]["resource_id"],
        energy["items"][0]["id"]
    );
    app.get(
        "/api/v1/changes?alliance=new-energy-community",
        &secretariat,
    )
    .await
    .problem(403);
    app.get("/api/v1/changes?alliance=nowhere", &admin)
        .await
        .problem(404);
}

async fn a_long_poll_returns_when_a_write_commits(app: TestApp) {
    let admin = app.admin();
    let head = feed(&app, &admin, "").await["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let req = app
        .client
        .get(app.url(&format!("/api/v1/changes?after={head}&wait=20")))
        .bearer_auth(&admin);
    let reader = actix_web::rt::spawn(async move {
        let mut res = req.send().await.unwrap();
        (res.status().as_u16(), res.json::<Value>().await.unwrap())
    });
    app.create_org("late-co", "迟到公司").await;
    let (status, page) = reader.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(page["items"][0]["resource"]["slug"], "late-co");
    // Without wait, an empty answer comes back at once with the same cursor.
    let after = page["next_cursor"].as_str().unwrap();
    let empty = feed(&app, &admin, &format!("after={after}")).await;
    assert_eq!(
        (empty["items"].clone(), empty["next_cursor"].as_str()),
        (json!([]), Some(after))
    );
}

async fn a_cursor_older_than_the_kept_events_is_gone(app: TestApp) {
    let admin = app.admin();
    app.create_org("old-co", "旧公司").await;
    let head = feed(&app, &admin, "").await["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = app.db.clone();
    let future = chrono::Utc::now().naive_utc() + chrono::Duration::days(1);
    let pruned = actix_web::web::block(move || {
        alliance_api::db::changes::prune(&mut db.conn().unwrap(), future)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(pruned, 1);
    let gone = app.get("/api/v1/changes?after=0", &admin).await;
    let problem = gone.problem(410);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("after={head}")),
        "{problem}"
    );
    // From the head on, the feed goes on.
    app.create_org("new-co", "新公司").await;
    let page = feed(&app, &admin, &format!("after={head}")).await;
    assert_eq!(page["items"][0]["resource"]["slug"], "new-co");
}
