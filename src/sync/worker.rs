//! The delivery worker: one task per process, on the actix runtime. Each
//! pass queues new events, sends what is due, and records every attempt;
//! it wakes on a local commit, when the next retry is due, or once a second
//! (to see other replicas' writes). All its state is in the database, so a
//! restart picks up where the last process stopped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header;
use futures_util::future::join_all;
use tokio::sync::oneshot;

use super::signature;
use super::target::{GuardedResolver, TargetPolicy};
use crate::db::Db;
use crate::db::journal::now;
use crate::db::webhooks::{self, AttemptOutcome, DueDelivery, RetryPolicy};
use crate::error::ApiError;

/// How often the worker looks for work when nothing woke it.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// Deliveries sent at once.
const SEND_BATCH: i64 = 32;
/// The most of a receiver's answer read (and thrown away).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct WebhookSettings {
    pub targets: TargetPolicy,
    pub retry: RetryPolicy,
    /// For one attempt: connecting, sending, and the answer.
    pub timeout: Duration,
}

impl WebhookSettings {
    /// How long a claimed delivery is left alone: longer than any attempt.
    fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(5)
    }
}

/// Whether this process's worker runs, for `/readyz`: off (not
/// configured), running, or stopped (it ended, or has not started yet).
#[derive(Debug, Clone, Default)]
pub struct WorkerStatus(Arc<std::sync::atomic::AtomicU8>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerState {
    Off,
    Running,
    Stopped,
}

impl WorkerStatus {
    const OFF: u8 = 0;
    const RUNNING: u8 = 1;
    const STOPPED: u8 = 2;

    /// A worker is configured but not started yet.
    pub fn expected() -> Self {
        let s = WorkerStatus::default();
        s.set(Self::STOPPED);
        s
    }

    fn set(&self, v: u8) {
        self.0.store(v, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn state(&self) -> WorkerState {
        match self.0.load(std::sync::atomic::Ordering::SeqCst) {
            Self::OFF => WorkerState::Off,
            Self::RUNNING => WorkerState::Running,
            _ => WorkerState::Stopped,
        }
    }
}

/// Marks the worker stopped however its task ends (a panic included).
struct StoppedOnDrop(WorkerStatus);

impl Drop for StoppedOnDrop {
    fn drop(&mut self) {
        self.0.set(WorkerStatus::STOPPED);
    }
}

/// The running worker; `stop` ends it after the pass in progress.
pub struct Worker {
    stop: Option<oneshot::Sender<()>>,
    done: Option<actix_web::rt::task::JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker on the current actix runtime.
    pub fn spawn(db: Db, settings: WebhookSettings, status: WorkerStatus) -> Worker {
        let (stop, stopped) = oneshot::channel();
        status.set(WorkerStatus::RUNNING);
        let guard = StoppedOnDrop(status);
        let done = actix_web::rt::spawn(async move {
            let _guard = guard;
            run(db, settings, stopped).await
        });
        Worker {
            stop: Some(stop),
            done: Some(done),
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(done) = &self.done {
            done.abort();
        }
    }
}

async fn run(db: Db, settings: WebhookSettings, mut stopped: oneshot::Receiver<()>) {
    let client = client(&settings);
    loop {
        // Listen before working, so a commit during the pass is not missed.
        let committed = db.committed();
        let pause = match pass(&db, &client, &settings).await {
            Ok(pause) => pause,
            Err(e) => {
                tracing::warn!(error = %e, "webhook pass failed; retrying");
                Pause::Wait(POLL_EVERY)
            }
        };
        match pause {
            Pause::Wait(pause) if pause.is_zero() => continue,
            Pause::Wait(pause) => tokio::select! {
                _ = &mut stopped => return,
                _ = committed => {}
                _ = tokio::time::sleep(pause) => {}
            },
            // No subscription to serve: commits do not wake it (they would
            // cost a query each); a new subscription is seen within a poll.
            Pause::Idle => tokio::select! {
                _ = &mut stopped => return,
                _ = tokio::time::sleep(POLL_EVERY) => {}
            },
        }
    }
}

/// What the worker does after a pass.
enum Pause {
    /// At most this long, or until a commit (zero: more to do).
    Wait(Duration),
    /// No active subscription: until the next poll.
    Idle,
}

/// One pass; says how long to wait before the next.
async fn pass(
    db: &Db,
    client: &awc::Client,
    settings: &WebhookSettings,
) -> Result<Pause, ApiError> {
    let sequencer = db.clone();
    let waiting = db.read(move |c| {
        // No active subscription: nothing to queue or send (one query per
        // commit, and no positions given for nobody; feed readers give
        // their own).
        if !webhooks::any_active(c)? {
            return Ok(None);
        }
        // Positions first: the queue reads events by feed position.
        sequencer.sequence(c)?;
        webhooks::work_waiting(c, now()).map(Some)
    });
    match waiting.await? {
        None => return Ok(Pause::Idle),
        Some(false) => return next_pause(db).await,
        Some(true) => {}
    }
    let window = settings.retry.window;
    let more_events = db
        .maintain(move |c| crate::service::webhooks::queue_new_events(c, now(), window))
        .await?;
    let lease = settings.lease();
    let due = db
        .maintain(move |c| webhooks::claim_due(c, now(), lease, SEND_BATCH))
        .await?;
    let sent = due.len() as i64;
    let outcomes = join_all(due.into_iter().map(|d| async {
        let outcome = send(client, settings, &d).await;
        (d, outcome)
    }))
    .await;
    let retry = settings.retry;
    db.maintain(move |c| {
        for (due, outcome) in &outcomes {
            webhooks::record_attempt(c, due, outcome, &retry)?;
        }
        Ok(())
    })
    .await?;
    if more_events || sent == SEND_BATCH {
        return Ok(Pause::Wait(Duration::ZERO));
    }
    next_pause(db).await
}

/// Until the next retry is due, but at most `POLL_EVERY`.
async fn next_pause(db: &Db) -> Result<Pause, ApiError> {
    let next = db.read(webhooks::next_due).await?;
    Ok(Pause::Wait(match next {
        Some(at) => (at - now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(POLL_EVERY),
        None => POLL_EVERY,
    }))
}

/// The HTTP client: no redirects (a redirect could lead past the address
/// checks), the guarded resolver, rustls with the Mozilla roots.
fn client(settings: &WebhookSettings) -> awc::Client {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_root_certificates(actix_tls::connect::rustls_0_23::webpki_roots_cert_store())
    .with_no_client_auth();
    let resolver = actix_tls::connect::Resolver::custom(GuardedResolver(settings.targets));
    let connector = awc::Connector::new()
        .connector(actix_tls::connect::Connector::new(resolver).service())
        .rustls_0_23(Arc::new(tls))
        .timeout(settings.timeout);
    awc::Client::builder()
        .connector(connector)
        .disable_redirects()
        .timeout(settings.timeout)
        .add_default_header((
            header::USER_AGENT,
            concat!("alliance-api-webhooks/", env!("CARGO_PKG_VERSION")),
        ))
        .finish()
}

/// One attempt: POST the event, signed; 2xx in time is success.
async fn send(
    client: &awc::Client,
    settings: &WebhookSettings,
    due: &DueDelivery,
) -> AttemptOutcome {
    let failed = |error: String, latency_ms: i32| AttemptOutcome {
        at: now(),
        succeeded: false,
        response_code: None,
        latency_ms,
        error: Some(error),
    };
    let Some(body) = &due.body else {
        return failed(
            "the event is no longer kept (pruned); nothing to send".into(),
            0,
        );
    };
    if let Err(e) = settings.targets.check_url(&due.url) {
        return failed(e, 0);
    }
    let t = chrono::Utc::now().timestamp();
    let started = Instant::now();
    let answer = client
        .post(&due.url)
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((
            signature::HEADER,
            signature::header_value(&due.secret, t, body.as_bytes()),
        ))
        .insert_header(("Alliance-Event-Id", due.event_seq.to_string()))
        .insert_header(("Alliance-Event-Type", due.event_type.as_str()))
        .insert_header(("Alliance-Delivery-Id", due.id.as_str()))
        .send_body(body.clone())
        .await;
    let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    match answer {
        Ok(mut res) => {
            // Read (a bounded part of) the answer so the connection can be
            // reused; its content does not matter.
            let _ = res.body().limit(MAX_ANSWER_BYTES).await;
            let code = res.status();
            AttemptOutcome {
                at: now(),
                succeeded: code.is_success(),
                response_code: Some(i32::from(code.as_u16())),
                latency_ms,
                error: (!code.is_success()).then(|| format!("the receiver answered {code}")),
            }
        }
        Err(e) => failed(e.to_string(), latency_ms),
    }
}
