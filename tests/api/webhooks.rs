//! Webhooks: signed deliveries a receiver can verify, retried through a
//! receiver outage and a crash of the service, the delivery log, automatic
//! disabling, redelivery, and the refusal of internal targets.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Engine, TestApp};
use actix_web::http::header::HeaderMap;
use actix_web::{HttpRequest, HttpResponse, web};
use alliance_api::auth::Role;
use alliance_api::config::Config;
use alliance_api::db::schema::{webhook_attempts, webhook_deliveries, webhook_subscriptions};
use alliance_api::db::webhooks;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// A local receiver that fails with 500 while `failing` is set.
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) state: Arc<ReceiverState>,
    server: actix_web::dev::ServerHandle,
}

#[derive(Default)]
pub(crate) struct ReceiverState {
    failing: AtomicBool,
    failures: AtomicUsize,
    pub(crate) received: Mutex<Vec<(HeaderMap, Vec<u8>)>>,
    arrived: tokio::sync::Notify,
}

async fn hook(req: HttpRequest, body: web::Bytes, state: web::Data<ReceiverState>) -> HttpResponse {
    let answer = if state.failing.load(Ordering::SeqCst) {
        state.failures.fetch_add(1, Ordering::SeqCst);
        HttpResponse::InternalServerError().body("down for maintenance")
    } else {
        state
            .received
            .lock()
            .unwrap()
            .push((req.headers().clone(), body.to_vec()));
        HttpResponse::NoContent().finish()
    };
    state.arrived.notify_waiters();
    answer
}

impl Receiver {
    pub(crate) async fn start(failing: bool) -> Receiver {
        let state = Arc::new(ReceiverState::default());
        state.failing.store(failing, Ordering::SeqCst);
        let data = web::Data::from(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(data.clone())
                .route("/hook", web::post().to(hook))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            state,
            server: handle,
        }
    }

    /// Waits (up to `limit`) until `done` holds of the receiver's state;
    /// woken by each request, so no fixed sleeps.
    pub(crate) async fn wait_until(
        &self,
        limit: Duration,
        what: &str,
        done: impl Fn(&ReceiverState) -> bool,
    ) {
        let deadline = Instant::now() + limit;
        loop {
            let arrived = self.state.arrived.notified();
            if done(&self.state) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {what}");
            let _ = tokio::time::timeout(left, arrived).await;
        }
    }

    /// Event cursor → how many times it arrived.
    fn arrivals(&self) -> BTreeMap<i64, usize> {
        let mut seen = BTreeMap::new();
        for (headers, _) in self.state.received.lock().unwrap().iter() {
            let id = h(headers, "alliance-event-id").parse().unwrap();
            *seen.entry(id).or_default() += 1;
        }
        seen
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

fn h<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// What a receiver does with `Alliance-Signature`: recompute the HMAC over
/// `"<t>.<body>"` and refuse stale times.
fn verify(secret: &str, headers: &HeaderMap, body: &[u8]) {
    let header = h(headers, "alliance-signature");
    let (t, v1) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("malformed signature header {header}"));
    let t: i64 = t.parse().unwrap();
    assert!(
        (chrono::Utc::now().timestamp() - t).abs() < 300,
        "stale t={t}"
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, expected, "signature does not verify");
}

/// Fast retries so an outage of a few hundred milliseconds is many
/// attempts; a short attempt timeout so a crash's lease runs out soon.
pub(crate) fn fast_retries(config: &mut Config) {
    config.webhook_allow_private_targets = true;
    config.webhook_retry_base_ms = 50;
    config.webhook_retry_max_ms = 400;
    config.webhook_timeout_secs = 2;
}

/// Retries `check` until it returns Some, for up to 20 s.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    check: impl Fn() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn subscribe(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post("/api/v1/webhooks", token, &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

/// Every event of the feed, by cursor, as an admin reads it.
async fn feed(app: &TestApp) -> BTreeMap<i64, Value> {
    let page = app
        .get("/api/v1/changes?limit=1000", &app.admin())
        .await
        .json();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["cursor"].as_str().unwrap().parse().unwrap(), e.clone()))
        .collect()
}

async fn deliveries(app: &TestApp, sub: &str) -> Vec<Value> {
    let res = app
        .get(
            &format!("/api/v1/webhooks/{sub}/deliveries?limit=200"),
            &app.admin(),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()["items"].as_array().unwrap().clone()
}

async fn delivered_through_outage_and_crash(mut app: TestApp) {
    let receiver = Receiver::start(true).await;
    let created = subscribe(
        &app,
        &app.admin(),
        json!({"url": receiver.url, "description": "HR"}),
    )
    .await;
    let sub = created["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() >= 38,
        "{secret}"
    );

    // The secret is shown once: never again when read or listed.
    let read = app
        .get(&format!("/api/v1/webhooks/{sub}"), &app.admin())
        .await;
    assert_eq!(read.status, 200);
    assert!(read.json().get("secret").is_none(), "{}", read.text());
    assert!(
        !app.get("/api/v1/webhooks", &app.admin())
            .await
            .text()
            .contains(&secret)
    );

    // Changes while the receiver is down: each is tried, and tried again.
    let org = app.create_org("webhook-one", "第一公司").await;
    app.create_org("webhook-two", "第二公司").await;
    let res = app
        .patch(
            &format!("/api/v1/organizations/{}", org["slug"].as_str().unwrap()),
            &app.admin(),
            &json!({"region": "滨海新区"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    receiver
        .wait_until(Duration::from_secs(20), "repeated failures", |s| {
            s.failures.load(Ordering::SeqCst) >= 9
        })
        .await;
    let log = deliveries(&app, &sub).await;
    assert_eq!(log.len(), 3, "{log:?}");
    for d in &log {
        assert_eq!(d["status"], "pending", "{d}");
        let first = &d["log"][0];
        assert_eq!(first["succeeded"], false, "{d}");
        assert_eq!(first["response_code"], 500, "{d}");
        assert!(first["latency_ms"].as_i64().unwrap() >= 0);
        assert!(first["error"].as_str().unwrap().contains("500"), "{d}");
        assert!(d["next_attempt_at"].is_string(), "{d}");
    }

    // The service crashes mid-outage and comes back; more changes follow.
    app.restart().await;
    app.create_org("webhook-three", "第三公司").await;
    app.create_org("webhook-four", "第四公司").await;

    // The receiver comes back: every event arrives, signed, as the feed has it.
    receiver.state.failing.store(false, Ordering::SeqCst);
    let events = feed(&app).await;
    assert_eq!(events.len(), 5);
    let wanted: BTreeSet<i64> = events.keys().cloned().collect();
    receiver
        .wait_until(Duration::from_secs(30), "every event", |_| {
            receiver.arrivals().keys().cloned().collect::<BTreeSet<_>>() == wanted
        })
        .await;
    for (headers, body) in receiver.state.received.lock().unwrap().iter() {
        verify(&secret, headers, body);
        let event: Value = serde_json::from_slice(body).unwrap();
        let id = h(headers, "alliance-event-id");
        assert_eq!(event["cursor"], id);
        assert_eq!(h(headers, "alliance-event-type"), event["type"]);
        assert_eq!(
            &event,
            &events[&id.parse().unwrap()],
            "the body is the feed's event"
        );
        assert!(!h(headers, "alliance-delivery-id").is_empty());
    }

    // The log settles: every delivery succeeded after its failures.
    let log = eventually("every delivery to be recorded as succeeded", || async {
        let log = deliveries(&app, &sub).await;
        log.iter()
            .all(|d| d["status"] == "succeeded")
            .then_some(log)
    })
    .await;
    let delivered: BTreeSet<i64> = log
        .iter()
        .map(|d| d["event"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(delivered, wanted);
    for d in &log {
        let attempts = d["log"].as_array().unwrap();
        assert_eq!(
            d["attempts"].as_u64().unwrap() as usize,
            attempts.len(),
            "{d}"
        );
        let last = attempts.last().unwrap();
        assert_eq!(last["succeeded"], true, "{d}");
        assert_eq!(last["response_code"], 204, "{d}");
        assert!(d["next_attempt_at"].is_null(), "{d}");
    }
    let sub_after = app
        .get(&format!("/api/v1/webhooks/{sub}"), &app.admin())
        .await
        .json();
    assert_eq!(sub_after["status"], "active");
}

async fn failing_subscriptions_are_disabled_and_can_be_resumed(app: TestApp) {
    let receiver = Receiver::start(true).await;
    let created = subscribe(&app, &app.admin(), json!({"url": receiver.url})).await;
    let sub = created["id"].as_str().unwrap().to_owned();
    app.create_org("webhook-failing", "失败公司").await;

    // No success for the whole window (1 s here): disabled, with the reason.
    let disabled = eventually("the subscription to be disabled", || async {
        let s = app
            .get(&format!("/api/v1/webhooks/{sub}"), &app.admin())
            .await;
        let body = s.json();
        (body["status"] == "disabled").then_some((body, s.header("etag").unwrap().to_owned()))
    })
    .await;
    let (body, etag) = disabled;
    let reason = body["disabled_reason"].as_str().unwrap();
    assert!(
        reason.contains("no delivery succeeded") && reason.contains("500"),
        "{reason}"
    );
    assert_eq!(body["version"], 2);
    let failures = receiver.state.failures.load(Ordering::SeqCst);

    // Disabled means quiet: a new change is not sent.
    let event_before = feed(&app).await.len();
    app.create_org("webhook-quiet", "安静公司").await;
    let log = deliveries(&app, &sub).await;
    assert_eq!(log.len(), 1, "nothing is queued while disabled: {log:?}");

    // A stale If-Match is refused; the right one re-enables it, and the
    // events it missed are delivered.
    receiver.state.failing.store(false, Ordering::SeqCst);
    let stale = app
        .send(
            app.client
                .patch(app.url(&format!("/api/v1/webhooks/{sub}")))
                .bearer_auth(app.admin())
                .insert_header(("If-Match", "\"1\""))
                .content_type("application/json"),
            Some(br#"{"status":"active"}"#.to_vec()),
        )
        .await;
    stale.problem(412);
    let res = app
        .send(
            app.client
                .patch(app.url(&format!("/api/v1/webhooks/{sub}")))
                .bearer_auth(app.admin())
                .insert_header(("If-Match", etag.as_str()))
                .content_type("application/json"),
            Some(br#"{"status":"active"}"#.to_vec()),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "active");
    assert!(res.json()["disabled_reason"].is_null());
    let events = feed(&app).await;
    assert_eq!(events.len(), event_before + 1);
    let missed = *events.keys().next_back().unwrap();
    receiver
        .wait_until(Duration::from_secs(20), "the missed event", |_| {
            receiver.arrivals().contains_key(&missed)
        })
        .await;
    assert!(receiver.state.failures.load(Ordering::SeqCst) >= failures);

    // Redeliver by event: a new delivery of the same event id.
    let first = *events.keys().next().unwrap();
    let res = app
        .post(
            &format!("/api/v1/webhooks/{sub}/deliveries"),
            &app.admin(),
            &json!({"event": first.to_string()}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let redelivery = res.json();
    assert_eq!(redelivery["event"], first.to_string());
    assert_eq!(redelivery["status"], "pending");
    let location = res.header("location").unwrap().to_owned();
    receiver
        .wait_until(Duration::from_secs(20), "the redelivered event", |_| {
            receiver.arrivals().get(&first).copied().unwrap_or(0) >= 1
        })
        .await;
    let done = eventually("the redelivery to succeed", || async {
        let d = app.get(&location, &app.admin()).await.json();
        (d["status"] == "succeeded").then_some(d)
    })
    .await;
    assert_eq!(done["id"], redelivery["id"]);

    // An event that does not exist cannot be redelivered.
    let res = app
        .post(
            &format!("/api/v1/webhooks/{sub}/deliveries"),
            &app.admin(),
            &json!({"event": "999999"}),
        )
        .await;
    res.problem(422);
    assert_eq!(
        res.field_errors(),
        vec![("event".to_owned(), "unknown".to_owned())]
    );
}

async fn internal_targets_are_refused_by_default(app: TestApp) {
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.8/hook",
        "http://[::1]:8080/hook",
        "http://192.168.1.20/hook",
        // IPv6 spellings of internal IPv4 addresses.
        "http://[::ffff:0:127.0.0.1]:9/hook",
        "http://[2002:7f00:1::]/hook",
        "http://[2002:a00:1::1]/hook",
    ] {
        let res = app
            .post("/api/v1/webhooks", &app.admin(), &json!({"url": url}))
            .await;
        res.problem(422);
        assert_eq!(
            res.field_errors(),
            vec![("url".to_owned(), "forbidden_target".to_owned())],
            "{url}"
        );
        // The refusal names no address.
        assert!(
            res.text().contains("not a public address"),
            "{}",
            res.text()
        );
    }
    let res = app
        .post(
            "/api/v1/webhooks",
            &app.admin(),
            &json!({"url": "ftp://example.com/x"}),
        )
        .await;
    res.problem(422);
    let count: i64 = webhook_subscriptions::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(count, 0, "nothing was saved");
    // A public name is accepted (its addresses are checked when sending).
    subscribe(
        &app,
        &app.admin(),
        json!({"url": "https://hooks.example.com/alliance"}),
    )
    .await;
    // Changing the URL is checked the same way.
    let list = app.get("/api/v1/webhooks", &app.admin()).await.json();
    let id = list["items"][0]["id"].as_str().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            &app.admin(),
            &json!({"url": "http://127.0.0.1/x"}),
        )
        .await;
    res.problem(422);
}

async fn subscriptions_belong_to_their_owner_and_scope(mut app: TestApp) {
    app.seed().await;
    let member = app.token_for(Role::Member, &["teda-biomedicine"], Some("asymchem"));
    let viewer = app.viewer();
    let url = json!("https://hooks.example.com/hr");

    app.post("/api/v1/webhooks", &viewer, &json!({"url": url}))
        .await
        .problem(403);
    // A filter on an alliance the token does not cover: 403; on none: 422.
    app.post(
        "/api/v1/webhooks",
        &member,
        &json!({"url": url, "alliance": "dongjiang-digital-economy"}),
    )
    .await
    .problem(403);
    let res = app
        .post(
            "/api/v1/webhooks",
            &member,
            &json!({"url": url, "alliance": "no-such-alliance"}),
        )
        .await;
    res.problem(422);
    assert_eq!(
        res.field_errors(),
        vec![("alliance".to_owned(), "unknown".to_owned())]
    );
    let res = app
        .post(
            "/api/v1/webhooks",
            &member,
            &json!({"url": url, "event_types": ["membership.created", "membership.created"]}),
        )
        .await;
    res.problem(422);
    let res = app
        .post(
            "/api/v1/webhooks",
            &member,
            &json!({"url": url, "event_types": ["membership.exploded"]}),
        )
        .await;
    res.problem(422);

    let mine = subscribe(
        &app,
        &member,
        json!({"url": url, "alliance": "teda-biomedicine", "event_types": ["membership.created"]}),
    )
    .await;
    let id = mine["id"].as_str().unwrap();
    assert_eq!(mine["event_types"], json!(["membership.created"]));
    assert_eq!(mine["owner"], "test:member");
    assert!(mine["alliance_id"].is_string());

    // Someone else's subscription is not there for another token; an admin sees all.
    let other = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    app.get(&format!("/api/v1/webhooks/{id}"), &other)
        .await
        .problem(404);
    app.delete(&format!("/api/v1/webhooks/{id}"), &other)
        .await
        .problem(404);
    assert_eq!(
        app.get("/api/v1/webhooks", &other).await.json()["items"],
        json!([])
    );
    let all = app.get("/api/v1/webhooks", &app.admin()).await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 1);

    // The owner deletes it: gone, with an audit record and no change event.
    let events = app.event_count();
    let audits = app.audit_count();
    let res = app.delete(&format!("/api/v1/webhooks/{id}"), &member).await;
    assert_eq!(res.status, 204, "{}", res.text());
    app.get(&format!("/api/v1/webhooks/{id}"), &member)
        .await
        .problem(404);
    assert_eq!(
        app.event_count(),
        events,
        "subscriptions are not in the feed"
    );
    assert_eq!(app.audit_count(), audits + 1);
}

async fn filters_choose_what_is_delivered(mut app: TestApp) {
    app.seed().await;
    let receiver = Receiver::start(false).await;
    let secretariat = app.token_for(Role::Secretariat, &["teda-biomedicine"], None);
    let created = subscribe(
        &app,
        &secretariat,
        json!({"url": receiver.url, "event_types": ["organization.updated"]}),
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    // Not delivered: a type outside the filter.
    app.create_org("webhook-filtered", "过滤公司").await;
    // Delivered: the type the filter names.
    let res = app
        .patch(
            "/api/v1/organizations/nankai-university",
            &app.admin(),
            &json!({"region": "南开区"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let wanted = feed(&app).await.into_iter().next_back().unwrap();
    assert_eq!(wanted.1["type"], "organization.updated");
    receiver
        .wait_until(
            Duration::from_secs(20),
            "the organization.updated event",
            |s| !s.received.lock().unwrap().is_empty(),
        )
        .await;
    let received = receiver.state.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    verify(&secret, &received[0].0, &received[0].1);
    assert_eq!(h(&received[0].0, "alliance-event-id"), wanted.0.to_string());
    // The created organisation's event was passed over, not queued.
    let deliveries = deliveries(&app, created["id"].as_str().unwrap()).await;
    assert_eq!(deliveries.len(), 1);
}

async fn a_claimed_delivery_is_sent_again_when_its_sender_dies(app: TestApp) {
    let created = subscribe(
        &app,
        &app.admin(),
        json!({"url": "https://hooks.example.com/a"}),
    )
    .await;
    app.create_org("webhook-leased", "租约公司").await;
    let lease = Duration::from_secs(30);
    let window = Duration::from_secs(3600);
    let at = |seconds: i64| alliance_api::db::journal::now() + chrono::Duration::seconds(seconds);
    let mut conn = app.conn();
    app.db.sequence(&mut conn).unwrap();
    assert!(!alliance_api::service::webhooks::queue_new_events(&mut conn, at(0), window).unwrap());
    let claimed = webhooks::claim_due(&mut conn, at(0), lease, 10).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].subscription_id, created["id"].as_str().unwrap());
    assert!(
        claimed[0]
            .body
            .as_deref()
            .unwrap()
            .contains("webhook-leased")
    );
    // Its sender dies without recording anything. While the lease runs,
    // nobody else takes it; after, it is due again: same delivery, same event.
    assert!(
        webhooks::claim_due(&mut conn, at(29), lease, 10)
            .unwrap()
            .is_empty()
    );
    let again = webhooks::claim_due(&mut conn, at(31), lease, 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (&again[0].id, again[0].event_seq),
        (&claimed[0].id, claimed[0].event_seq)
    );
    // Queuing again adds nothing: the cursor moved with the first pass.
    assert!(!alliance_api::service::webhooks::queue_new_events(&mut conn, at(32), window).unwrap());
    let queued: i64 = webhook_deliveries::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(queued, 1);

    // Pruning keeps what is still pending, and removes what is finished.
    assert_eq!(webhooks::prune(&mut conn, at(100)).unwrap(), 0);
    let outcome = webhooks::AttemptOutcome {
        at: at(32),
        succeeded: true,
        response_code: Some(200),
        latency_ms: 12,
        error: None,
    };
    let policy = webhooks::RetryPolicy {
        base: Duration::from_secs(1),
        max: Duration::from_secs(10),
        window,
    };
    webhooks::record_attempt(&mut conn, &again[0], &outcome, &policy).unwrap();
    assert_eq!(
        webhooks::prune(&mut conn, at(31)).unwrap(),
        0,
        "changed after the cutoff"
    );
    assert_eq!(webhooks::prune(&mut conn, at(100)).unwrap(), 1);
    let left: i64 = webhook_attempts::table
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(left, 0, "attempts go with their delivery");
}

fn no_worker(config: &mut Config) {
    config.webhook_worker = false;
}

mod sqlite {
    use super::*;

    #[actix_web::test]
    async fn a_claimed_delivery_is_sent_again_when_its_sender_dies() {
        let app = TestApp::spawn_with(Engine::Sqlite, no_worker)
            .await
            .unwrap();
        super::a_claimed_delivery_is_sent_again_when_its_sender_dies(app).await
    }

    #[actix_web::test]
    async fn delivered_through_outage_and_crash() {
        let app = TestApp::spawn_with(Engine::Sqlite, fast_retries)
            .await
            .unwrap();
        super::delivered_through_outage_and_crash(app).await
    }

    #[actix_web::test]
    async fn failing_subscriptions_are_disabled_and_can_be_resumed() {
        let app = TestApp::spawn_with(Engine::Sqlite, |c| {
            fast_retries(c);
            c.webhook_retry_window_secs = 1;
        })
        .await
        .unwrap();
        super::failing_subscriptions_are_disabled_and_can_be_resumed(app).await
    }

    #[actix_web::test]
    async fn internal_targets_are_refused_by_default() {
        let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
        super::internal_targets_are_refused_by_default(app).await
    }

    #[actix_web::test]
    async fn subscriptions_belong_to_their_owner_and_scope() {
        let app = TestApp::spawn(Engine::Sqlite).await.unwrap();
        super::subscriptions_belong_to_their_owner_and_scope(app).await
    }

    #[actix_web::test]
    async fn filters_choose_what_is_delivered() {
        let app = TestApp::spawn_with(Engine::Sqlite, fast_retries)
            .await
            .unwrap();
        super::filters_choose_what_is_delivered(app).await
    }
}

mod postgres {
    use super::*;

    #[actix_web::test]
    async fn a_claimed_delivery_is_sent_again_when_its_sender_dies() {
        if let Some(app) = TestApp::spawn_with(Engine::Postgres, no_worker).await {
            super::a_claimed_delivery_is_sent_again_when_its_sender_dies(app).await
        }
    }

    #[actix_web::test]
    async fn delivered_through_outage_and_crash() {
        if let Some(app) = TestApp::spawn_with(Engine::Postgres, fast_retries).await {
            super::delivered_through_outage_and_crash(app).await
        }
    }

    #[actix_web::test]
    async fn failing_subscriptions_are_disabled_and_can_be_resumed() {
        if let Some(app) = TestApp::spawn_with(Engine::Postgres, |c| {
            fast_retries(c);
            c.webhook_retry_window_secs = 1;
        })
        .await
        {
            super::failing_subscriptions_are_disabled_and_can_be_resumed(app).await
        }
    }

    #[actix_web::test]
    async fn internal_targets_are_refused_by_default() {
        if let Some(app) = TestApp::spawn(Engine::Postgres).await {
            super::internal_targets_are_refused_by_default(app).await
        }
    }

    #[actix_web::test]
    async fn subscriptions_belong_to_their_owner_and_scope() {
        if let Some(app) = TestApp::spawn(Engine::Postgres).await {
            super::subscriptions_belong_to_their_owner_and_scope(app).await
        }
    }

    #[actix_web::test]
    async fn filters_choose_what_is_delivered() {
        if let Some(app) = TestApp::spawn_with(Engine::Postgres, fast_retries).await {
            super::filters_choose_what_is_delivered(app).await
        }
    }
}
