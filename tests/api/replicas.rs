//! Two replicas (two processes on two ports) over one PostgreSQL: writes go
//! to both at once; every webhook is delivered once, and the change feed,
//! read from either replica, has every event once, in order, with no gap.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};

use crate::common::{Process, free_port};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::future::join_all;
use serde_json::{Value, json};

const SECRET: &str = "replica-test-secret-replica-test-secret-01";

fn command(url: &str, args: &[&str]) -> Command {
    let mut cmd = crate::common::binary(url, args);
    cmd.env("ALLIANCE_JWT_SECRET", SECRET)
        .env("ALLIANCE_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
        .env("ALLIANCE_DEMO_SEED", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

/// Event ids received, with how many times each came.
type Received = Arc<Mutex<BTreeMap<i64, usize>>>;

async fn hook(req: HttpRequest, received: web::Data<Mutex<BTreeMap<i64, usize>>>) -> HttpResponse {
    let id: i64 = req
        .headers()
        .get("Alliance-Event-Id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("an event id");
    *received.lock().unwrap().entry(id).or_default() += 1;
    HttpResponse::NoContent().finish()
}

async fn feed(client: &awc::Client, base: &str, token: &str) -> Vec<Value> {
    let mut events = vec![];
    let mut after = String::new();
    loop {
        let url = if after.is_empty() {
            format!("{base}/api/v1/changes?limit=200")
        } else {
            format!("{base}/api/v1/changes?limit=200&after={after}")
        };
        let page: Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .limit(16 << 20)
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap();
        if items.is_empty() {
            return events;
        }
        events.extend(items.iter().cloned());
        after = page["next_cursor"].as_str().unwrap().to_owned();
    }
}

#[actix_web::test]
async fn two_replicas_deliver_each_webhook_once_and_keep_the_feed_whole() {
    let Some(db) = crate::common::scratch_postgres() else {
        return;
    };
    let seeded = command(&db.url, &["seed", "--without-demo-figures"])
        .status()
        .unwrap();
    assert!(seeded.success());

    // The receiver.
    let received: Received = Arc::default();
    let data = web::Data::from(received.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook_url = format!(
        "http://127.0.0.1:{}/hook",
        listener.local_addr().unwrap().port()
    );
    let receiver = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .route("/hook", web::post().to(hook))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    let receiver_handle = receiver.handle();
    actix_web::rt::spawn(receiver);

    // Two replicas, both running the webhook worker.
    let mut replicas = vec![];
    let mut bases = vec![];
    for _ in 0..2 {
        let port = free_port();
        let child = command(&db.url, &["serve"])
            .env("ALLIANCE_ADDR", format!("127.0.0.1:{port}"))
            .env("ALLIANCE_WORKERS", "2")
            .spawn()
            .unwrap();
        replicas.push(Process(child));
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    for base in &bases {
        let started = Instant::now();
        while !client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{base} never ready"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let token = String::from_utf8(
        command(&db.url, &["token", "--role", "admin"])
            .stdout(Stdio::piped())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();

    let res = client
        .post(format!("{}/api/v1/webhooks", bases[0]))
        .bearer_auth(&token)
        .send_json(&json!({"url": hook_url, "event_types": ["activity.created"]}))
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // 60 activities, written through both replicas at once.
    let n = 60;
    let created = join_all((0..n).map(|i| {
        let client = client.clone();
        let (base, token) = (bases[i % 2].clone(), token.clone());
        async move {
            let mut res = client
                .post(format!(
                    "{base}/api/v1/alliances/teda-biomedicine/activities"
                ))
                .bearer_auth(&token)
                .send_json(&json!({
                    "kind": "training", "title": format!("副本测试培训 {i}"),
                    "starts_on": "2026-03-02", "figures": {"person_times": 10}
                }))
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            let body: Value = res.json().await.unwrap();
            body["id"].as_str().unwrap().to_owned()
        }
    }))
    .await;
    let created: BTreeSet<String> = created.into_iter().collect();
    assert_eq!(created.len(), n);

    // Wait until the database says every delivery is done: after that no
    // replica can send again, so the receiver's counts are final.
    let settled = Instant::now();
    loop {
        let pending: i64 = {
            use alliance_api::db::schema::webhook_deliveries as d;
            use diesel::prelude::*;
            let mut conn = diesel::PgConnection::establish(&db.url).unwrap();
            let all: i64 = d::table.count().get_result(&mut conn).unwrap();
            let done: i64 = d::table
                .filter(d::status.eq("succeeded"))
                .count()
                .get_result(&mut conn)
                .unwrap();
            if all == n as i64 {
                all - done
            } else {
                n as i64
            }
        };
        if pending == 0 {
            break;
        }
        assert!(
            settled.elapsed() < Duration::from_secs(90),
            "deliveries never finished"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), n, "every event delivered");
    assert!(
        received.values().all(|times| *times == 1),
        "an event came twice: {received:?}"
    );

    // The feed, from either replica: the same events, in order, no gaps in
    // what was written, each activity once.
    let from_a = feed(&client, &bases[0], &token).await;
    let from_b = feed(&client, &bases[1], &token).await;
    let cursors = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["cursor"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(cursors(&from_a), cursors(&from_b));
    let order: Vec<i64> = cursors(&from_a)
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "commit order, each once"
    );
    let activity_events: Vec<&Value> = from_a
        .iter()
        .filter(|e| e["type"] == "activity.created")
        .collect();
    let in_feed: BTreeSet<String> = activity_events
        .iter()
        .map(|e| e["resource_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(activity_events.len(), n);
    assert_eq!(in_feed, created);
    // The delivered event ids are exactly the feed's activity events.
    let delivered: BTreeSet<String> = received.keys().map(i64::to_string).collect();
    let fed: BTreeSet<String> = activity_events
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(delivered, fed);

    receiver_handle.stop(false).await;
    drop(replicas);
}
