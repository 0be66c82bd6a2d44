//! Graceful shutdown, as an operator sees it: the real binary under load
//! gets SIGTERM; it stops accepting, answers every request it had
//! accepted, and exits cleanly.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Process, free_port};
use futures_util::future::join_all;

fn command(db: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = common::binary(db, args);
    cmd.env_remove("ALLIANCE_JWT_SECRET");
    cmd
}

#[actix_web::test]
async fn sigterm_under_load_answers_every_accepted_request() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shutdown.db");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = command(&db, &["serve"])
        .env("ALLIANCE_ADDR", format!("127.0.0.1:{port}"))
        .env("ALLIANCE_WORKERS", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Process(server);
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(20))
        .finish();
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
        command(&db, &["token", "--role", "viewer"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();

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
