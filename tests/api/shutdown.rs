//! Graceful shutdown, as an operator sees it: the real binary under load
//! gets SIGTERM; it stops accepting, answers every request it had
//! accepted, and exits cleanly.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::{Process, free_port};
use futures_util::future::join_all;

fn command(db: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = crate::common::binary(db, args);
    cmd.env_remove("ALLIANCE_JWT_SECRET");
    cmd
}

/// The binary serving a new SQLite store on a free port, once ready: the
/// process, its base URL, a client and a viewer token.
async fn serve(
    db: &std::path::Path,
    workers: &str,
    timeout: Duration,
) -> (Process, String, awc::Client, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = command(db, &["serve"])
        .env("ALLIANCE_ADDR", format!("127.0.0.1:{port}"))
        .env("ALLIANCE_WORKERS", workers)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Process(server);
    let client = awc::Client::builder().timeout(timeout).finish();
    let started = Instant::now();
    loop {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await
            && res.status() == 200
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "never ready");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let token = String::from_utf8(
        command(db, &["token", "--role", "viewer"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    (server, base, client, token)
}

#[actix_web::test]
async fn sigterm_under_load_answers_every_accepted_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shutdown.db");
    let (mut server, base, client, token) = serve(&db, "2", Duration::from_secs(20)).await;

    // Long-polls of the change feed: in flight when the signal comes.
    let head = client
        .get(format!("{base}/api/v1/changes?limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .limit(1 << 20)
        .await
        .unwrap();
    let after = head["next_cursor"].as_str().unwrap_or("0").to_owned();
    let polls = (0..4).map(|_| {
        let req = client
            .get(format!(
                "{base}/api/v1/changes?after={after}&wait=2&limit=1000"
            ))
            .bearer_auth(&token);
        async move { req.send().await.map(|r| r.status().as_u16()) }
    });
    // Steady reads until the server stops answering.
    let stop = Arc::new(AtomicBool::new(false));
    let readers = (0..6).map(|_| {
        let client = client.clone();
        let (base, token, stop) = (base.clone(), token.clone(), stop.clone());
        async move {
            let (mut answered, mut refused) = (vec![], 0);
            while !stop.load(Ordering::SeqCst) {
                match client
                    .get(format!("{base}/api/v1/alliances/teda-biomedicine"))
                    .bearer_auth(&token)
                    .send()
                    .await
                {
                    Ok(res) => answered.push(res.status().as_u16()),
                    // Not accepted: the listener is closed.
                    Err(_) => {
                        refused += 1;
                        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            (answered, refused)
        }
    });
    let signal = {
        let pid = server.0.id().to_string();
        let stop = stop.clone();
        async move {
            actix_web::rt::time::sleep(Duration::from_millis(500)).await;
            let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
            assert!(sent.success());
            let at = Instant::now();
            actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
            stop.store(true, Ordering::SeqCst);
            at
        }
    };
    let (polls, readers, _) = tokio::join!(join_all(polls), join_all(readers), signal);

    for p in &polls {
        assert_eq!(p.as_ref().ok(), Some(&200), "a long-poll in flight: {p:?}");
    }
    let mut answered = 0;
    for (statuses, _) in &readers {
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        answered += statuses.len();
    }
    assert!(answered > 0);
    let refused: usize = readers.iter().map(|(_, r)| r).sum();
    assert!(refused > 0, "new connections were refused after SIGTERM");

    let exited = Instant::now();
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            exited.elapsed() < Duration::from_secs(30),
            "still running after SIGTERM"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status:?}");
}

/// A long-poll parked for 30 s does not hold the shutdown up: SIGTERM
/// answers it at once (200, no new events), and the process exits.
#[actix_web::test]
async fn sigterm_answers_parked_long_polls_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("long-poll.db");
    let (mut server, base, client, token) = serve(&db, "1", Duration::from_secs(40)).await;
    let mut after = "0".to_owned();
    // Follow the feed to its head, so the poll below parks.
    loop {
        let page: serde_json::Value = client
            .get(format!("{base}/api/v1/changes?limit=1000&after={after}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .limit(1 << 24)
            .await
            .unwrap();
        let next = page["next_cursor"].as_str().unwrap().to_owned();
        if next == after {
            break;
        }
        after = next;
    }
    let poll = client
        .get(format!("{base}/api/v1/changes?after={after}&wait=30"))
        .bearer_auth(&token)
        .send();
    let signal = async {
        // The poll is parked once the request has been accepted; the
        // signal then comes while it waits.
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        let sent = Command::new("kill")
            .args(["-TERM", &server.0.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        Instant::now()
    };
    let (answer, signalled) = tokio::join!(poll, signal);
    let answered_after = signalled.elapsed();
    let mut answer = answer.unwrap();
    assert_eq!(answer.status(), 200);
    let page: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(page["items"], serde_json::json!([]));
    assert_eq!(page["next_cursor"], after.as_str());
    assert!(
        answered_after < Duration::from_secs(2),
        "the long-poll was answered {answered_after:?} after SIGTERM"
    );
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(5),
            "still running {:?} after SIGTERM",
            signalled.elapsed()
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status:?}");
}
