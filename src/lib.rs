//! alliance-api: the system of record and reporting API for Tianjin's
//! industry–education alliances.
//!
//! `app` is the one place where routes and the OpenAPI description are
//! registered together; `Service::prepare` opens, migrates and (for a new
//! demo store) seeds the database.

pub mod api;
pub mod auth;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod domain;
pub mod error;
pub mod heavy;
pub mod import;
pub mod report;
pub mod seed;
pub mod service;
pub mod shutdown;
pub mod sync;
pub mod tabular;
pub mod telemetry;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, web};
use anyhow::Context;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::extract::BodyLimit;
use crate::auth::JwtKeys;
use crate::config::{Config, DemoSeed};
use crate::db::{Db, Engine};

/// What every worker shares: the pool, the keys, the limits.
#[derive(Clone)]
pub struct Service {
    pub db: Db,
    pub keys: web::Data<JwtKeys>,
    pub body_limit: BodyLimit,
    pub import_limit: api::extract::ImportLimit,
    pub if_match: api::extract::IfMatchPolicy,
    pub webhooks: sync::WebhookSettings,
    pub webhook_worker: bool,
    pub metrics: telemetry::Metrics,
    /// Whether the webhook worker runs (`/readyz`).
    pub worker_status: sync::WorkerStatus,
    pub public_dashboard: dashboard::PublicDashboard,
    pub public_postings: api::postings::PublicPostings,
    pub token_lifetime: api::accounts::TokenLifetime,
    /// Web origins allowed to call the API from a browser.
    pub cors_origins: Vec<String>,
    /// The rate-limit buckets, shared by every worker.
    pub throttle: std::sync::Arc<auth::throttle::Throttle>,
    /// Wrong client secrets per client id, shared by every worker.
    pub failed_secrets: web::Data<auth::throttle::FailedSecrets>,
    /// Set when the process begins to stop.
    pub shutdown: shutdown::Shutdown,
}

impl Service {
    /// Opens the database, applies migrations, loads the demo data into a
    /// new SQLite store, and settles the signing key.
    pub fn prepare(config: &Config) -> anyhow::Result<Service> {
        // Refuse a bad key before touching the database.
        let (engine, _) = Engine::of(&config.database_url);
        check_secret_policy(config.jwt_secret.as_deref(), engine)?;
        let db = Db::for_requests(
            &config.database_url,
            config.pool_size,
            config.request_timeout(),
            config.sqlite_synchronous,
        )?;
        let applied = db.migrate()?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied migrations");
        }
        if config.demo_seed == DemoSeed::Auto
            && db.engine() == Engine::Sqlite
            && seed::store_is_empty(&db)?
        {
            let report = seed::load(&db)?;
            tracing::info!(%report, "new SQLite store: loaded the demo alliances");
        }
        let keys = jwt_keys(config, &jwt_secret(config, &db)?)?;
        let metrics = telemetry::Metrics::new(db.pool_wait());
        Ok(Service {
            metrics,
            public_dashboard: dashboard::PublicDashboard(config.public_dashboard),
            public_postings: api::postings::PublicPostings(config.public_postings),
            throttle: auth::throttle::Throttle::new(config.rate_limits()),
            failed_secrets: web::Data::new(Default::default()),
            shutdown: shutdown::Shutdown::default(),
            cors_origins: config.cors_origins.clone(),
            token_lifetime: api::accounts::TokenLifetime(
                config.token_ttl_seconds.clamp(60, 86_400),
            ),
            worker_status: if config.webhook_worker {
                sync::WorkerStatus::expected()
            } else {
                sync::WorkerStatus::default()
            },
            db,
            keys: web::Data::new(keys),
            body_limit: BodyLimit(config.max_body_bytes),
            import_limit: api::extract::ImportLimit(config.max_import_bytes),
            if_match: api::extract::IfMatchPolicy {
                required_for_members: config.require_if_match_for_members,
            },
            webhooks: config.webhooks(),
            webhook_worker: config.webhook_worker,
        })
    }

    /// Starts what runs beside the HTTP server (the webhook worker, unless
    /// turned off) on the current actix runtime.
    pub fn spawn_background(&self) -> Option<sync::Worker> {
        self.webhook_worker.then(|| {
            sync::Worker::spawn(self.db.clone(), self.webhooks, self.worker_status.clone())
        })
    }
}

/// The checks `serve` makes on settings before it opens anything.
pub fn check_settings(config: &Config) -> anyhow::Result<()> {
    let (engine, _) = Engine::of(&config.database_url);
    check_secret_policy(config.jwt_secret.as_deref(), engine)?;
    anyhow::ensure!(
        config.request_timeout_seconds >= 1,
        "request_timeout_seconds must be at least 1"
    );
    for origin in &config.cors_origins {
        let parsed = url::Url::parse(origin)
            .map_err(|e| anyhow::anyhow!("cors_origins: `{origin}` is not an origin: {e}"))?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "http" | "https")
                && parsed.origin().ascii_serialization() == origin.trim_end_matches('/'),
            "cors_origins: `{origin}` is not an origin; write scheme://host[:port], e.g. https://screen.example.cn"
        );
    }
    config
        .addr
        .parse::<std::net::SocketAddr>()
        .map(|_| ())
        .or_else(|_| {
            // A host name with a port is fine too.
            config
                .addr
                .rsplit_once(':')
                .filter(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
                .map(|_| ())
                .ok_or_else(|| anyhow::anyhow!("addr `{}` is not host:port", config.addr))
        })
}

/// PostgreSQL is production: it needs a configured key of at least 32 bytes.
/// SQLite (the demo) may go without; it then makes and keeps its own.
fn check_secret_policy(secret: Option<&str>, engine: Engine) -> anyhow::Result<()> {
    match (secret, engine) {
        (Some(s), Engine::Postgres) if s.len() < 32 => {
            anyhow::bail!("ALLIANCE_JWT_SECRET must be at least 32 bytes")
        }
        (Some(s), Engine::Postgres) if well_known(s) => {
            anyhow::bail!(
                "ALLIANCE_JWT_SECRET looks like a placeholder or repeats a few characters; \
                 use random bytes, e.g. $(head -c 48 /dev/urandom | base64)"
            )
        }
        (None, Engine::Postgres) => {
            anyhow::bail!("set ALLIANCE_JWT_SECRET (at least 32 random bytes) to run on PostgreSQL")
        }
        _ => Ok(()),
    }
}

/// A secret anyone could guess though it is long enough: a template's
/// placeholder ("change-me", jwt.io's "your-256-bit-secret") or a few
/// characters repeated.
fn well_known(secret: &str) -> bool {
    const PLACEHOLDERS: &[&str] = &[
        "changeme",
        "replaceme",
        "your256bitsecret",
        "yoursecret",
        "yourjwtsecret",
        "secretkey",
        "placeholder",
        "example",
        "default",
    ];
    let plain: String = secret
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let distinct = secret
        .chars()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    distinct < 8 || PLACEHOLDERS.iter().any(|p| plain.contains(p))
}

/// The key ring: the secret (see [`jwt_secret`]), earlier secrets, and the
/// PEM keys the configuration names.
pub fn jwt_keys(config: &Config, secret: &[u8]) -> anyhow::Result<JwtKeys> {
    let mut keys = JwtKeys::hs256(secret);
    for old in &config.jwt_previous_secrets {
        anyhow::ensure!(
            old.len() >= 32,
            "each previous JWT secret must be at least 32 bytes"
        );
        anyhow::ensure!(
            !well_known(old),
            "a previous JWT secret looks like a placeholder; it cannot stay in the key ring"
        );
        keys = keys.verifying_secret(old.as_bytes());
    }
    let read = |path: &std::path::Path| -> anyhow::Result<(String, Vec<u8>)> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let kid = name.split('.').next().unwrap_or_default();
        anyhow::ensure!(
            !kid.is_empty(),
            "cannot take a key id from `{}`",
            path.display()
        );
        let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok((kid.to_owned(), pem))
    };
    for path in &config.jwt_verifying_keys {
        let (kid, pem) = read(path)?;
        keys = keys.verifying_pem(&kid, &pem)?;
    }
    if let Some(path) = &config.jwt_signing_key {
        let (kid, pem) = read(path)?;
        anyhow::ensure!(
            keys.key_ids().contains(&kid.as_str()),
            "the signing key `{kid}` has no public key among jwt_verifying_keys"
        );
        keys = keys.signing_pem(&kid, &pem)?;
    }
    Ok(keys)
}

/// The signing key: from the configuration; on SQLite without one, a random
/// key made once and kept in the database (the demo needs no setup, and the
/// `token` command finds the same key).
pub fn jwt_secret(config: &Config, db: &Db) -> anyhow::Result<Vec<u8>> {
    check_secret_policy(config.jwt_secret.as_deref(), db.engine())?;
    if let Some(s) = &config.jwt_secret {
        return Ok(s.as_bytes().to_vec());
    }
    use rand::Rng;
    let fresh: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(48)
        .map(char::from)
        .collect();
    let mut conn = db.conn()?;
    Ok(db::settings::get_or_insert(&mut conn, "jwt_secret", &fresh)?.into_bytes())
}

/// The OpenAPI description, exactly as the service serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    split_app().1
}

/// The routes and the description, registered together.
fn split_app() -> (
    App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse,
            Error = actix_web::Error,
            InitError = (),
        >,
    >,
    utoipa::openapi::OpenApi,
) {
    let (app, description) = App::new()
        .into_utoipa_app()
        .openapi(api::ApiDoc::openapi())
        .service(utoipa_actix_web::scope("/api/v1").configure(api::routes))
        .configure(api::health::routes)
        .configure(dashboard::routes)
        .split_for_parts();
    // After the split: the routes bring the paths this adds problems to.
    (app, api::description::complete(description))
}

/// The application: every route, the description at
/// `/api/v1/openapi.json`, Swagger UI at `/docs/`.
pub fn app(
    service: Service,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, description) = split_app();
    let routes = api::KnownRoutes::from_description(&description);
    let operations = api::gate::Operations::from_description(&description);
    let description = description
        .to_pretty_json()
        .expect("the description serialises");
    app.app_data(web::Data::new(service.db))
        .app_data(web::Data::new(service.metrics.clone()))
        .app_data(web::Data::new(service.worker_status.clone()))
        .app_data(web::Data::new(service.public_dashboard))
        .app_data(web::Data::new(service.public_postings))
        .app_data(service.keys)
        .app_data(web::Data::new(service.body_limit))
        .app_data(web::Data::new(service.import_limit))
        .app_data(web::Data::new(service.if_match))
        .app_data(web::Data::new(service.webhooks))
        .app_data(web::Data::new(service.token_lifetime))
        .app_data(web::Data::new(api::Description(description)))
        .app_data(web::Data::new(routes))
        .app_data(web::Data::new(operations))
        .app_data(service.failed_secrets)
        .app_data(web::Data::new(service.shutdown))
        // A path segment of the wrong type (a year that is not a number)
        // gets a problem, like every other malformed request.
        .app_data(web::PathConfig::default().error_handler(|err, _| {
            crate::error::ApiError::BadRequest {
                detail: format!("the path is not valid: {err}"),
                errors: vec![crate::error::FieldError::new(
                    "path",
                    "invalid",
                    err.to_string(),
                )],
            }
            .into()
        }))
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json")),
        )
        .route("/docs", web::get().to(|| async { redirect("/docs/") }))
        .default_service(web::to(api::fallback))
        .wrap(actix_web::middleware::from_fn(api::gate::authorise))
        .wrap(actix_web::middleware::from_fn(
            api::hardening::security_headers,
        ))
        .wrap(auth::throttle::Throttled(service.throttle))
        .wrap(actix_web::middleware::from_fn(api::oauth::token_errors))
        .wrap(actix_web::middleware::Condition::new(
            !service.cors_origins.is_empty(),
            api::hardening::cors(&service.cors_origins),
        ))
        .wrap(telemetry::Observe {
            metrics: service.metrics,
        })
        .wrap(actix_web::middleware::from_fn(
            api::hardening::canonical_path,
        ))
}

fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", to))
        .finish()
}

/// Serves until stopped.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let prepare_config = config.clone();
    let service = web::block(move || Service::prepare(&prepare_config)).await??;
    let workers = config
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let service_for_worker = service.clone();
    let shutdown = service.shutdown.clone();
    let server = actix_web::HttpServer::new(move || app(service.clone()))
        .workers(workers)
        // Signals are handled below, so long-polls hear of them first.
        .disable_signals()
        // As many blocking threads as pooled connections: a query waits in
        // the runtime's queue, not parked on the pool's lock (measured: the
        // default of 512 cost a third of the throughput).
        .worker_max_blocking_threads((config.pool_size as usize).div_ceil(workers).max(1))
        .bind(&config.addr)
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    for addr in server.addrs() {
        tracing::info!("listening on http://{addr} (API docs at http://{addr}/docs/)");
    }
    let worker = service_for_worker.spawn_background();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        shutdown::signalled().await;
        tracing::info!("stopping: answering what was accepted");
        shutdown.begin();
        handle.stop(true).await;
    });
    let served = server.await;
    if let Some(worker) = worker {
        worker.stop().await;
    }
    served?;
    Ok(())
}
