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

/// A scratch PostgreSQL database with the seed (no demo figures), or
/// `None` when no PostgreSQL is configured.
fn seeded_postgres() -> Option<crate::common::ScratchDatabase> {
    let db = crate::common::scratch_postgres()?;
    let seeded = command(&db.url, &["seed", "--without-demo-figures"])
        .status()
        .unwrap();
    assert!(seeded.success());
    Some(db)
}

/// A replica serving on `port`.
fn serve(url: &str, port: u16) -> Process {
    let child = command(url, &["serve"])
        .env("ALLIANCE_ADDR", format!("127.0.0.1:{port}"))
        .env("ALLIANCE_WORKERS", "2")
        // Load, not refusals: the writers of one token go as fast as they can.
        .env("ALLIANCE_RATE_LIMIT_PER_TOKEN", "1000000000")
        .env("ALLIANCE_RATE_LIMIT_PER_ADDRESS", "1000000000")
        .spawn()
        .unwrap();
    Process(child)
}

/// Waits (a minute at most) until `base` answers `/readyz` 200.
async fn ready(client: &awc::Client, base: &str) {
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

fn admin_token(url: &str) -> String {
    let out = command(url, &["token", "--role", "admin", "--ttl", "86400"])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
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
    let Some(db) = seeded_postgres() else {
        return;
    };

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
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut replicas = vec![];
    let mut bases = vec![];
    for _ in 0..2 {
        let port = free_port();
        replicas.push(serve(&db.url, port));
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    for base in &bases {
        ready(&client, base).await;
    }
    let token = admin_token(&db.url);

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

/// What a writer was told: the record and the version its write made.
type Written = Arc<Mutex<Vec<(String, i64)>>>;

/// What every writer shares.
#[derive(Clone)]
struct Writing {
    client: awc::Client,
    bases: Vec<String>,
    token: String,
    /// The records every writer patches.
    shared: Vec<String>,
    done: Arc<std::sync::atomic::AtomicUsize>,
    stop: Arc<dyn Fn(usize) -> bool + Send + Sync>,
    on_write: Arc<dyn Fn(usize) + Send + Sync>,
    written: Written,
}

/// One writer: creates activities and patches the shared ones through
/// the replicas in turn, until `stop`.
async fn writer(me: usize, w: Writing) {
    let Writing {
        client,
        bases,
        token,
        shared,
        done,
        stop,
        on_write,
        written,
    } = w;
    use std::sync::atomic::Ordering;
    let mut turn = 0usize;
    while !stop(done.load(Ordering::Relaxed)) {
        turn += 1;
        let base = &bases[(me + turn / 50) % 2];
        let request = if turn.is_multiple_of(2) {
            client
                .post(format!(
                    "{base}/api/v1/alliances/teda-biomedicine/activities"
                ))
                .bearer_auth(&token)
                .send_json(&json!({
                    "kind": "training", "title": format!("并发写入 {me}-{turn}"),
                    "starts_on": "2026-03-02", "figures": {"person_times": turn}
                }))
                .await
        } else {
            let id = &shared[(me + turn) % shared.len()];
            client
                .patch(format!("{base}/api/v1/activities/{id}"))
                .bearer_auth(&token)
                .send_json(&json!({"figures": {"person_times": turn}}))
                .await
        };
        // A replica that is down (killed below) refuses the connection, and
        // one killed mid-request never answers: either outcome is unknown.
        let Ok(mut res) = request else { continue };
        match res.status().as_u16() {
            200 | 201 => {
                let Ok(body) = res.json::<Value>().await else {
                    continue;
                };
                let id = body["id"].as_str().unwrap().to_owned();
                written
                    .lock()
                    .unwrap()
                    .push((id, body["version"].as_i64().unwrap()));
                on_write(done.fetch_add(1, Ordering::Relaxed) + 1);
            }
            // Two patches of one record at once: the later one is refused.
            412 => {}
            other => panic!("a write answered {other}"),
        }
    }
}

/// One follower: long-polls the feed of one replica (the other while that
/// one is down) from the start, until the writers have stopped and a page
/// comes back empty. Returns every event in the order it came.
async fn follower(
    me: usize,
    client: awc::Client,
    bases: Vec<String>,
    token: String,
    writers_done: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<Value> {
    use std::sync::atomic::Ordering;
    let mut events = vec![];
    let mut after = "0".to_owned();
    let mut turn = me;
    loop {
        let finished = writers_done.load(Ordering::SeqCst);
        let base = &bases[turn % 2];
        let wait = if finished { 0 } else { 1 };
        let res = client
            .get(format!(
                "{base}/api/v1/changes?limit=500&after={after}&wait={wait}"
            ))
            .bearer_auth(&token)
            .send()
            .await;
        let Ok(mut res) = res else {
            turn += 1;
            continue;
        };
        assert_eq!(res.status(), 200);
        let Ok(page) = res.json::<Value>().limit(64 << 20).await else {
            turn += 1;
            continue;
        };
        let items = page["items"].as_array().unwrap();
        if items.is_empty() && finished {
            return events;
        }
        events.extend(items.iter().cloned());
        after = page["next_cursor"].as_str().unwrap().to_owned();
    }
}

/// 16 writers and 2 followers over two replicas of one PostgreSQL, writers
/// committing concurrently, and one replica killed with SIGKILL halfway
/// (a replica that may be giving positions at that moment) and started
/// again: each follower sees every committed change once, positions with no
/// gap, each record's versions in order, and exactly what the database
/// holds. `ALLIANCE_FEED_TEST_SECONDS` makes it a timed run (the figures in
/// docs/PERFORMANCE.md); by default it stops after 600 writes.
#[actix_web::test]
async fn concurrent_writers_and_a_killed_replica_keep_the_feed_whole() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let Some(db) = seeded_postgres() else {
        return;
    };
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let ports = [free_port(), free_port()];
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let mut replicas: Vec<Process> = ports.iter().map(|p| serve(&db.url, *p)).collect();
    for base in &bases {
        ready(&client, base).await;
    }
    let token = admin_token(&db.url);

    // Eight activities every writer patches: their versions race.
    let mut shared = vec![];
    for i in 0..8 {
        let mut res = client
            .post(format!(
                "{}/api/v1/alliances/teda-biomedicine/activities",
                bases[0]
            ))
            .bearer_auth(&token)
            .send_json(&json!({"kind": "training", "title": format!("共享记录 {i}"), "starts_on": "2026-03-01"}))
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.unwrap();
        shared.push(body["id"].as_str().unwrap().to_owned());
    }

    let timed = std::env::var("ALLIANCE_FEED_TEST_SECONDS")
        .ok()
        .map(|s| Duration::from_secs(s.parse().unwrap()));
    let writes = 600;
    let started = Instant::now();
    let stop: Arc<dyn Fn(usize) -> bool + Send + Sync> = match timed {
        Some(d) => Arc::new(move |_| started.elapsed() >= d),
        None => Arc::new(move |done| done >= writes),
    };
    let halfway: Arc<dyn Fn(usize) -> bool + Send + Sync> = match timed {
        Some(d) => Arc::new(move |_| started.elapsed() >= d / 2),
        None => Arc::new(move |done| done >= writes / 2),
    };
    let half = Arc::new(tokio::sync::Notify::new());
    let on_write: Arc<dyn Fn(usize) + Send + Sync> = {
        let half = half.clone();
        Arc::new(move |done| {
            if halfway(done) {
                half.notify_one();
            }
        })
    };
    let done = Arc::new(AtomicUsize::new(0));
    let writers_done = Arc::new(AtomicBool::new(false));
    let written: Written = Arc::default();
    let followers: Vec<_> = (0..2)
        .map(|me| {
            actix_web::rt::spawn(follower(
                me,
                client.clone(),
                bases.clone(),
                token.clone(),
                writers_done.clone(),
            ))
        })
        .collect();
    let writing = Writing {
        client: client.clone(),
        bases: bases.clone(),
        token: token.clone(),
        shared,
        done: done.clone(),
        stop,
        on_write,
        written: written.clone(),
    };
    let writers = join_all((0..16).map(|me| writer(me, writing.clone())));
    // Halfway, SIGKILL the second replica (no shutdown of any kind), then
    // start it again on its port.
    let killer = async {
        half.notified().await;
        replicas[1].0.kill().unwrap();
        replicas[1].0.wait().unwrap();
        replicas[1] = serve(&db.url, ports[1]);
        ready(&client, &bases[1]).await;
    };
    futures_util::future::join(writers, killer).await;
    writers_done.store(true, Ordering::SeqCst);
    let mut seen = vec![];
    for f in followers {
        seen.push(f.await.unwrap());
    }

    // What the database holds, every event positioned.
    let stored: Vec<(i64, String, i64)> = {
        use alliance_api::db::schema::change_events as e;
        use diesel::prelude::*;
        let mut conn = diesel::PgConnection::establish(&db.url).unwrap();
        let waiting: i64 = e::table
            .filter(e::position.is_null())
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(waiting, 0, "events left without a position");
        e::table
            .order(e::position.asc())
            .select((e::position.assume_not_null(), e::resource_id, e::version))
            .load(&mut conn)
            .unwrap()
    };
    let positions: Vec<i64> = stored.iter().map(|s| s.0).collect();
    assert_eq!(
        positions,
        (1..=stored.len() as i64).collect::<Vec<_>>(),
        "positions 1..n, no gap"
    );
    for events in &seen {
        let got: Vec<(i64, String, i64)> = events
            .iter()
            .map(|e| {
                (
                    e["cursor"].as_str().unwrap().parse().unwrap(),
                    e["resource_id"].as_str().unwrap().to_owned(),
                    e["version"].as_i64().unwrap(),
                )
            })
            .collect();
        // Every event once, in position order, exactly what is stored.
        assert_eq!(
            got.len(),
            stored.len(),
            "a follower missed or repeated events"
        );
        assert!(got == stored, "a follower's feed differs from the table");
        // Each record's versions in the order they were committed.
        let mut last: BTreeMap<&str, i64> = BTreeMap::new();
        for (_, id, version) in &got {
            let before = last.insert(id, *version).unwrap_or(0);
            assert!(*version > before, "{id}: version {version} after {before}");
        }
    }
    // Every write that was answered is in the feed.
    let in_feed: BTreeSet<(String, i64)> = stored.iter().map(|s| (s.1.clone(), s.2)).collect();
    let written = written.lock().unwrap().clone();
    assert!(written.len() >= writes.min(100));
    for w in &written {
        assert!(
            in_feed.contains(w),
            "{w:?} was answered but is not in the feed"
        );
    }
    eprintln!(
        "feed under concurrent writers: {} writes answered in {:.1} s, {} events, both followers whole",
        written.len(),
        started.elapsed().as_secs_f64(),
        stored.len()
    );
    drop(replicas);
}
