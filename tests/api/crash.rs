//! Crash consistency: the real binary takes concurrent writes, is killed
//! with SIGKILL mid-load, and is started again over the same store. Every
//! write that was answered 2xx must be there, whole (the organisation, its
//! reference, its audit record and its change event); a write cut off
//! before its answer is either there whole or not at all.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use crate::common::{Process, free_port};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use futures_util::future::join_all;
use serde_json::json;

const SECRET: &str = "crash-test-secret-crash-test-secret-0001";
const WRITERS: usize = 8;
/// Answered writes to wait for before the kill.
const BEFORE_KILL: usize = 150;

fn command(url: &str, args: &[&str]) -> Command {
    let mut cmd = crate::common::binary(url, args);
    cmd.env("ALLIANCE_JWT_SECRET", SECRET)
        .env("ALLIANCE_DEMO_SEED", "off")
        .env("ALLIANCE_RATE_LIMIT_PER_TOKEN", "0")
        .env("ALLIANCE_RATE_LIMIT_PER_ADDRESS", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

async fn serve(url: &str, client: &awc::Client) -> (Process, String) {
    let port = free_port();
    let process = Process(
        command(url, &["serve"])
            .env("ALLIANCE_ADDR", format!("127.0.0.1:{port}"))
            .env("ALLIANCE_WORKERS", "2")
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await
            && res.status() == 200
        {
            return (process, base);
        }
        assert!(started.elapsed() < Duration::from_secs(60), "never ready");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the writers saw: slugs answered 2xx, and slugs sent but not
/// answered when the process died.
#[derive(Default)]
struct Seen {
    acknowledged: BTreeSet<String>,
    cut_off: BTreeSet<String>,
}

async fn writer(
    n: usize,
    base: String,
    token: String,
    client: awc::Client,
    seen: Arc<Mutex<Seen>>,
    dead: Arc<AtomicBool>,
) {
    for i in 0.. {
        let slug = format!("crash-{n}-{i}");
        let body = json!({
            "slug": slug, "kind": "enterprise", "name_zh": format!("崩溃测试企业{n}-{i}"),
            "external_refs": [{"system": "crash-hr", "id": slug}]
        });
        match client
            .post(format!("{base}/api/v1/organizations"))
            .bearer_auth(&token)
            .send_json(&body)
            .await
        {
            Ok(res) if res.status().is_success() => {
                seen.lock().unwrap().acknowledged.insert(slug);
            }
            Ok(mut res) => panic!(
                "a write answered {} before the kill: {:?}",
                res.status(),
                res.body().await
            ),
            Err(_) => {
                assert!(
                    dead.load(Ordering::SeqCst),
                    "a write failed before the kill"
                );
                seen.lock().unwrap().cut_off.insert(slug);
                return;
            }
        }
    }
}

/// Every organisation of the test in the store, each with whether its
/// reference, audit record and change event are there.
fn stored(url: &str) -> Vec<(String, bool)> {
    let sql = "SELECT o.slug AS slug, \
        (EXISTS (SELECT 1 FROM organization_refs r WHERE r.organization_id = o.id) \
         AND EXISTS (SELECT 1 FROM audit_records a WHERE a.resource_id = o.id) \
         AND EXISTS (SELECT 1 FROM change_events e WHERE e.resource_id = o.id)) AS whole \
        FROM organizations o WHERE o.slug LIKE 'crash-%'";
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        slug: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        whole: bool,
    }
    let rows: Vec<Row> = if url.starts_with("postgres") {
        diesel::sql_query(sql)
            .load(&mut diesel::PgConnection::establish(url).unwrap())
            .unwrap()
    } else {
        diesel::sql_query(sql)
            .load(&mut diesel::SqliteConnection::establish(url).unwrap())
            .unwrap()
    };
    rows.into_iter().map(|r| (r.slug, r.whole)).collect()
}

async fn sigkill_under_write_load_loses_no_acknowledged_write(url: String) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    assert!(command(&url, &["migrate"]).status().unwrap().success());
    let token = String::from_utf8(
        command(&url, &["token", "--role", "admin"])
            .stdout(Stdio::piped())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let (mut process, base) = serve(&url, &client).await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let dead = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|n| {
            actix_web::rt::spawn(writer(
                n,
                base.clone(),
                token.clone(),
                client.clone(),
                seen.clone(),
                dead.clone(),
            ))
        })
        .collect();
    let started = Instant::now();
    while seen.lock().unwrap().acknowledged.len() < BEFORE_KILL {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the writes are too slow"
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    // SIGKILL: no shutdown, no flush; the writers are mid-request.
    dead.store(true, Ordering::SeqCst);
    process.0.kill().unwrap();
    process.0.wait().unwrap();
    for w in join_all(writers).await {
        w.unwrap();
    }
    let (_process, base) = serve(&url, &client).await;

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let stored = stored(&url);
    let slugs: BTreeSet<&str> = stored.iter().map(|(s, _)| s.as_str()).collect();
    let lost: Vec<&String> = seen
        .acknowledged
        .iter()
        .filter(|s| !slugs.contains(s.as_str()))
        .collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    let partial: Vec<&String> = stored
        .iter()
        .filter(|(_, whole)| !whole)
        .map(|(s, _)| s)
        .collect();
    assert!(partial.is_empty(), "partial writes: {partial:?}");
    let unknown: Vec<&&str> = slugs
        .iter()
        .filter(|s| !seen.acknowledged.contains(**s) && !seen.cut_off.contains(**s))
        .collect();
    assert!(unknown.is_empty(), "writes nobody sent: {unknown:?}");
    eprintln!(
        "{}: {} writes acknowledged, {} cut off by the kill ({} of those committed), 0 lost",
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        seen.acknowledged.len(),
        seen.cut_off.len(),
        seen.cut_off
            .iter()
            .filter(|s| slugs.contains(s.as_str()))
            .count()
    );
    // The restarted service serves them, and takes writes again.
    let first = seen.acknowledged.iter().next().unwrap();
    let res = client
        .get(format!("{base}/api/v1/organizations/{first}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client
        .post(format!("{base}/api/v1/organizations"))
        .bearer_auth(&token)
        .send_json(
            &json!({"slug": "after-the-crash", "kind": "enterprise", "name_zh": "重启后企业"}),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

mod sqlite {
    #[actix_web::test]
    async fn sigkill_under_write_load() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("crash.db").to_string_lossy().into_owned();
        super::sigkill_under_write_load_loses_no_acknowledged_write(url).await;
    }
}

mod postgres {
    #[actix_web::test]
    async fn sigkill_under_write_load() {
        let Some(db) = crate::common::scratch_postgres() else {
            return;
        };
        super::sigkill_under_write_load_loses_no_acknowledged_write(db.url.clone()).await;
    }
}
