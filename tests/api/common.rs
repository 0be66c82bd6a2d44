//! `TestApp`: the real service on a bound port over a fresh database, once
//! per engine. SQLite gets a temporary file; PostgreSQL a new database made
//! from `TEST_DATABASE_URL` and dropped afterwards.
//!
//! Without `TEST_DATABASE_URL` the PostgreSQL half of each test says it is
//! skipped and passes, so `cargo test` works on a machine with only Rust;
//! with `ALLIANCE_REQUIRE_POSTGRES=1` (as `.ci/run` sets) it fails instead.
#![allow(dead_code)]

use std::net::TcpListener;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use alliance_api::auth::{JwtKeys, Principal, Role};
use alliance_api::config::Config;
use alliance_api::db::schema::{audit_records, change_events};
use alliance_api::db::{AnyConnection, Db};
use alliance_api::{Service, app};
use diesel::prelude::*;
use serde_json::Value;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// The service's own binary over this database, for tests that run it as
/// operators do (several processes, signals, crashes, its logs).
pub fn binary(database_url: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_alliance-api"));
    cmd.args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn");
    cmd
}

/// A running binary, killed and reaped when dropped (a failing test
/// leaves no server behind).
pub struct Process(pub std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(TestApp)` as two tests, `sqlite::name` and
/// `postgres::name`, each on a fresh database.
#[macro_export]
macro_rules! on_both_engines {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    let app = $crate::common::TestApp::spawn($crate::common::Engine::Sqlite).await.unwrap();
                    super::$name(app).await
                }
            )+
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    if let Some(app) = $crate::common::TestApp::spawn($crate::common::Engine::Postgres).await {
                        super::$name(app).await
                    }
                }
            )+
        }
    };
}

pub struct TestApp {
    pub engine: Engine,
    pub base: String,
    pub db: Db,
    pub client: awc::Client,
    pub config: Config,
    keys: JwtKeys,
    _dir: Option<tempfile::TempDir>,
    pg: Option<PgDatabase>,
    server: actix_web::dev::ServerHandle,
    worker: Option<alliance_api::sync::Worker>,
}

/// A started service: its address, pool, server and webhook worker.
struct Running {
    base: String,
    db: Db,
    server: actix_web::dev::ServerHandle,
    worker: Option<alliance_api::sync::Worker>,
}

async fn start(config: Config) -> Running {
    let service = actix_web::web::block(move || Service::prepare(&config))
        .await
        .unwrap()
        .expect("service starts");
    let db = service.db.clone();
    let worker = service.spawn_background();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = actix_web::HttpServer::new(move || app(service.clone()))
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Running {
        base: format!("http://127.0.0.1:{port}"),
        db,
        server: handle,
        worker,
    }
}

/// The PostgreSQL server for tests, or None (skip) when there is none and
/// none is required.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let required = std::env::var("ALLIANCE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    match url {
        Some(url) => Some(url),
        None if required => panic!("ALLIANCE_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set"),
        None => {
            eprintln!("skipped on PostgreSQL: TEST_DATABASE_URL is not set");
            None
        }
    }
}

/// A fresh database on the test PostgreSQL server for a test that runs
/// the binary itself (several processes over one database); dropped with it.
pub struct ScratchDatabase {
    _db: PgDatabase,
    pub url: String,
}

pub fn scratch_postgres() -> Option<ScratchDatabase> {
    let admin = postgres_url()?;
    let (db, url) = PgDatabase::create(&admin);
    Some(ScratchDatabase { _db: db, url })
}

/// A database of its own on the test server, dropped with it.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    fn create(admin_url: &str) -> (PgDatabase, String) {
        let name = format!("alliance_test_{}", uuid_simple());
        let mut admin = diesel::PgConnection::establish(admin_url)
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at TEST_DATABASE_URL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        let url = with_database(admin_url, &name);
        (
            PgDatabase {
                admin_url: admin_url.to_owned(),
                name,
            },
            url,
        )
    }
}

impl PgDatabase {
    /// A new database copied from the migrated template (`CREATE DATABASE
    /// … TEMPLATE`): the schema without running the migrations again.
    fn from_template(admin_url: &str, template: &str) -> (PgDatabase, String) {
        let name = format!("alliance_test_{}", uuid_simple());
        let mut admin = diesel::PgConnection::establish(admin_url)
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at TEST_DATABASE_URL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut admin)
            .expect("create test database from the template");
        let url = with_database(admin_url, &name);
        (
            PgDatabase {
                admin_url: admin_url.to_owned(),
                name,
            },
            url,
        )
    }
}

/// A fingerprint of one engine's migrations: a template made from other
/// migrations is never used.
fn migrations_digest(engine: &str) -> String {
    use sha2::{Digest, Sha256};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flat_map(|d| {
            let dir = d.unwrap().path();
            ["up.sql", "down.sql"].map(|f| dir.join(f))
        })
        .filter(|p| p.exists())
        .collect();
    files.sort();
    let mut hash = Sha256::new();
    for file in files {
        hash.update(
            file.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .as_bytes(),
        );
        hash.update(std::fs::read(&file).unwrap());
    }
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A migrated, empty SQLite file, made once per test process and copied
/// for each test.
fn sqlite_template() -> &'static std::path::Path {
    static TEMPLATE: std::sync::OnceLock<(tempfile::TempDir, std::path::PathBuf)> =
        std::sync::OnceLock::new();
    &TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("template.db");
            let db = Db::connect(path.to_str().unwrap(), 1).unwrap();
            db.migrate().expect("migrate the template");
            // Everything into the main file, so a copy of it alone is whole.
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *db.conn().unwrap())
                .unwrap();
            drop(db);
            (dir, path)
        })
        .1
}

/// The name of a migrated, empty database on the test server, made once
/// for these migrations and kept for later runs (built under a temporary
/// name and renamed when complete, so a half-built one is never used).
fn postgres_template(admin_url: &str) -> &'static str {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("alliance_template_{}", migrations_digest("postgres"));
        let mut admin = diesel::PgConnection::establish(admin_url).unwrap();
        drop_leftovers(&mut admin, admin_url);
        let exists: i64 = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"
        ))
        .get_result::<Count>(&mut admin)
        .unwrap()
        .n;
        if exists == 1 {
            return name;
        }
        let building = format!("{name}_{}", uuid_simple());
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut admin)
            .unwrap();
        let db = Db::connect(&with_database(admin_url, &building), 1).unwrap();
        db.migrate().expect("migrate the template");
        drop(db);
        // A template may have no sessions while it is copied.
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{building}'"
        ))
        .execute(&mut admin)
        .unwrap();
        let renamed = diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut admin);
        if renamed.is_err() {
            // Another test process finished its template first.
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .execute(&mut admin);
        }
        name
    })
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

impl Drop for PgDatabase {
    /// Dropped on a thread of its own: a test does not wait for it. What a
    /// process leaves behind when it exits first, the next one drops
    /// ([`drop_leftovers`]).
    fn drop(&mut self) {
        let job = (self.admin_url.clone(), self.name.clone());
        if let Err(std::sync::mpsc::SendError((admin_url, name))) =
            DROPPER.lock().unwrap().send(job)
        {
            drop_database(&admin_url, &name);
        }
    }
}

fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut admin) = diesel::PgConnection::establish(admin_url) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
}

static DROPPER: std::sync::LazyLock<std::sync::Mutex<std::sync::mpsc::Sender<(String, String)>>> =
    std::sync::LazyLock::new(|| {
        let (tx, rx) = std::sync::mpsc::channel::<(String, String)>();
        std::thread::spawn(move || {
            for (admin_url, name) in rx {
                drop_database(&admin_url, &name);
            }
        });
        std::sync::Mutex::new(tx)
    });

/// Drops the test databases of test processes that are no longer running
/// (named `alliance_test_<pid>_…`).
fn drop_leftovers(admin: &mut diesel::PgConnection, admin_url: &str) {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'alliance\\_test\\_%'",
    )
    .load(admin)
    .unwrap_or_default();
    for Name { datname } in names {
        let pid = datname
            .strip_prefix("alliance_test_")
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(pid, _)| u32::from_str_radix(pid, 16).ok());
        if let Some(pid) = pid
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            drop_database(admin_url, &datname);
        }
    }
}

/// Databases copied from a template ahead of need, by one thread per
/// template, so a test does not wait for `CREATE DATABASE` (about half a
/// second of the server's I/O).
struct Ready {
    queue: std::sync::Mutex<std::sync::mpsc::Receiver<(PgDatabase, String)>>,
    filler: std::thread::JoinHandle<()>,
}

type ReadyByTemplate = std::collections::HashMap<String, std::sync::Arc<Ready>>;

static READY: std::sync::LazyLock<std::sync::Mutex<ReadyByTemplate>> =
    std::sync::LazyLock::new(Default::default);

/// A new database copied from `template`, from the ones made ahead.
fn ready_database(admin_url: &str, template: &str) -> (PgDatabase, String) {
    let ready = READY
        .lock()
        .unwrap()
        .entry(template.to_owned())
        .or_insert_with(|| {
            let (tx, rx) = std::sync::mpsc::sync_channel(2);
            let (admin_url, template) = (admin_url.to_owned(), template.to_owned());
            let filler = std::thread::spawn(move || {
                // Stops when nobody takes them any more (the queue is gone).
                while tx
                    .send(PgDatabase::from_template(&admin_url, &template))
                    .is_ok()
                {}
            });
            std::sync::Arc::new(Ready {
                queue: std::sync::Mutex::new(rx),
                filler,
            })
        })
        .clone();
    let next = ready.queue.lock().unwrap().recv();
    next.unwrap_or_else(|_| PgDatabase::from_template(admin_url, template))
}

/// Stops making copies of `template` (before it is dropped).
fn stop_ready(template: &str) {
    let Some(ready) = READY.lock().unwrap().remove(template) else {
        return;
    };
    if let Ok(Ready { queue, filler }) = std::sync::Arc::try_unwrap(ready) {
        drop(queue);
        let _ = filler.join();
    }
}

fn uuid_simple() -> String {
    format!(
        "{:x}_{:x}{:04x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
        rand_u16()
    )
}

fn rand_u16() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static N: AtomicU16 = AtomicU16::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The same server URL with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match base[prefix_end..].find('/') {
        Some(slash) => &base[..prefix_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

impl TestApp {
    /// A running service over a fresh, migrated, empty database.
    pub async fn spawn(engine: Engine) -> Option<TestApp> {
        Self::spawn_with(engine, |_| {}).await
    }

    /// As `spawn`, with settings changed by `configure` first.
    pub async fn spawn_with(
        engine: Engine,
        configure: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        Self::spawn_from(engine, None, configure).await
    }

    /// A running service over a copy of `from`'s database, or of the
    /// migrated template.
    async fn spawn_from(
        engine: Engine,
        from: Option<&Snapshot>,
        configure: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        let (url, dir, pg) = copy_of(engine, from).await?;
        let mut config = Config::for_database(&url, Some(SECRET));
        configure(&mut config);
        let running = start(config.clone()).await;
        Some(TestApp {
            engine,
            base: running.base,
            db: running.db,
            client: awc::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .finish(),
            config,
            keys: JwtKeys::hs256(SECRET.as_bytes()),
            _dir: dir,
            pg,
            server: running.server,
            worker: running.worker,
        })
    }

    /// Kills the service as a crash would (the worker is aborted wherever it
    /// is, the server stops without draining) and starts a new one over the
    /// same database, on a new port.
    pub async fn restart(&mut self) {
        drop(self.worker.take());
        self.server.stop(false).await;
        let running = start(self.config.clone()).await;
        self.base = running.base;
        self.db = running.db;
        self.server = running.server;
        self.worker = running.worker;
    }

    /// Stops this service and keeps its database as it is now, for new
    /// services to start from ([`Snapshot::spawn_with`]): a test that needs
    /// many services in one prepared state prepares it once.
    pub async fn into_snapshot(mut self) -> Snapshot {
        drop(self.worker.take());
        self.server.stop(true).await;
        let sqlite = self.dir_and_file();
        let pg = self.pg.take();
        let engine = self.engine;
        drop(self);
        let snapshot = Snapshot { engine, sqlite, pg };
        snapshot.settle();
        snapshot
    }

    fn dir_and_file(&mut self) -> Option<(tempfile::TempDir, std::path::PathBuf)> {
        let dir = self._dir.take()?;
        let file = dir.path().join("test.db");
        Some((dir, file))
    }

    /// Loads the demo alliances, as `alliance-api seed` does. On a store
    /// nothing has been written to yet, the service restarts (on a new
    /// port) over a copy of a store seeded once per test process: the same
    /// rows, made by the same `seed::load`, without loading them again.
    pub async fn seed(&mut self) -> alliance_api::seed::SeedReport {
        self.seed_with(true).await
    }

    /// The demo alliances without the invented yearly figures and the
    /// activities behind them (`seed --without-demo-figures`).
    pub async fn seed_registry(&mut self) -> alliance_api::seed::SeedReport {
        self.seed_with(false).await
    }

    async fn seed_with(&mut self, demo_figures: bool) -> alliance_api::seed::SeedReport {
        if self.audit_count() > 0 || self.event_count() > 0 {
            let db = self.db.clone();
            return actix_web::web::block(move || alliance_api::seed::load_with(&db, demo_figures))
                .await
                .unwrap()
                .unwrap();
        }
        let engine = self.engine;
        let seeded = actix_web::web::block(move || seeded(engine, demo_figures))
            .await
            .unwrap();
        drop(self.worker.take());
        self.server.stop(true).await;
        let (url, dir, pg) = copy_of(engine, Some(&seeded.0))
            .await
            .expect("engine available");
        self.config.database_url = url;
        self._dir = dir;
        self.pg = pg;
        let running = start(self.config.clone()).await;
        self.base = running.base;
        self.db = running.db;
        self.server = running.server;
        self.worker = running.worker;
        seeded.1.clone()
    }

    pub fn token(&self, role: Role) -> String {
        self.token_for(role, &[], None)
    }

    pub fn token_for(&self, role: Role, alliances: &[&str], organization: Option<&str>) -> String {
        let p = Principal {
            subject: format!("test:{role}"),
            role,
            alliances: alliances.iter().map(|s| s.to_string()).collect(),
            organization: organization.map(str::to_owned),
        };
        self.keys.issue(&p, 600).unwrap()
    }

    pub fn admin(&self) -> String {
        self.token(Role::Admin)
    }

    pub fn viewer(&self) -> String {
        self.token(Role::Viewer)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request and reads the whole answer. Every answer of a
    /// described operation must have a status its description declares.
    pub async fn send(&self, req: awc::ClientRequest, body: Option<Vec<u8>>) -> Response {
        let asked = (req.get_method().clone(), req.get_uri().path().to_owned());
        let mut res = match body {
            Some(b) => req.send_body(b).await,
            None => req.send().await,
        }
        .expect("request sent");
        let bytes = res.body().limit(16 * 1024 * 1024).await.expect("body read");
        declared::check(&asked.0, &asked.1, res.status());
        Response {
            status: res.status(),
            headers: res.headers().clone(),
            body: bytes.to_vec(),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.send(self.client.get(self.url(path)).bearer_auth(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        let req = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .content_type("application/json");
        self.send(req, Some(serde_json::to_vec(body).unwrap()))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Response {
        let req = self
            .client
            .put(self.url(path))
            .bearer_auth(token)
            .content_type("application/json");
        self.send(req, Some(serde_json::to_vec(body).unwrap()))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        let req = self
            .client
            .patch(self.url(path))
            .bearer_auth(token)
            .content_type("application/json");
        self.send(req, Some(serde_json::to_vec(body).unwrap()))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.send(self.client.delete(self.url(path)).bearer_auth(token), None)
            .await
    }

    /// A blocking connection for checking what the database holds.
    pub fn conn(&self) -> impl std::ops::DerefMut<Target = AnyConnection> + '_ {
        self.db.conn().unwrap()
    }

    /// The feed's head once every committed event has its position (what a
    /// feed reader would see now).
    pub fn feed_head(&self) -> i64 {
        let mut conn = self.conn();
        self.db.sequence(&mut conn).unwrap();
        alliance_api::db::changes::head(&mut conn).unwrap()
    }

    /// Change events written so far.
    pub fn event_count(&self) -> i64 {
        change_events::table
            .count()
            .get_result(&mut *self.conn())
            .unwrap()
    }

    /// Audit records written so far.
    pub fn audit_count(&self) -> i64 {
        audit_records::table
            .count()
            .get_result(&mut *self.conn())
            .unwrap()
    }

    /// Creates an organisation as admin and returns its body.
    pub async fn create_org(&self, slug: &str, name_zh: &str) -> Value {
        let res = self
            .post(
                "/api/v1/organizations",
                &self.admin(),
                &serde_json::json!({"slug": slug, "kind": "enterprise", "name_zh": name_zh}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        res.json()
    }
}

/// A new database for a test: a copy of `from`, or of the migrated
/// template. Its URL, and what drops it.
async fn copy_of(
    engine: Engine,
    from: Option<&Snapshot>,
) -> Option<(String, Option<tempfile::TempDir>, Option<PgDatabase>)> {
    Some(match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("test.db");
            let source = match from.and_then(|f| f.sqlite.as_ref()) {
                Some((_, file)) => file.as_path(),
                None => sqlite_template(),
            };
            std::fs::copy(source, &path).expect("copy the template database");
            (path.to_string_lossy().into_owned(), Some(dir), None)
        }
        Engine::Postgres => {
            let admin = postgres_url()?;
            let template = match from.and_then(|f| f.pg.as_ref()) {
                Some(db) => db.name.clone(),
                None => postgres_template(&admin).to_owned(),
            };
            let (pg, url) = actix_web::web::block(move || ready_database(&admin, &template))
                .await
                .unwrap();
            (url, None, Some(pg))
        }
    })
}

/// A store seeded by `seed::load_with(demo_figures)`, once per process
/// and engine, and what the seed reported.
fn seeded(
    engine: Engine,
    demo_figures: bool,
) -> &'static (Snapshot, alliance_api::seed::SeedReport) {
    type Seeded = std::sync::OnceLock<(Snapshot, alliance_api::seed::SeedReport)>;
    static STORES: [Seeded; 4] = [const { Seeded::new() }; 4];
    let slot = match (engine, demo_figures) {
        (Engine::Sqlite, true) => 0,
        (Engine::Sqlite, false) => 1,
        (Engine::Postgres, true) => 2,
        (Engine::Postgres, false) => 3,
    };
    STORES[slot].get_or_init(|| {
        let (snapshot, url) = match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join("test.db");
                std::fs::copy(sqlite_template(), &file).unwrap();
                let url = file.to_string_lossy().into_owned();
                let snapshot = Snapshot {
                    engine,
                    sqlite: Some((dir, file)),
                    pg: None,
                };
                (snapshot, url)
            }
            Engine::Postgres => {
                let admin = postgres_url().expect("PostgreSQL is configured");
                let (pg, url) = PgDatabase::from_template(&admin, postgres_template(&admin));
                let snapshot = Snapshot {
                    engine,
                    sqlite: None,
                    pg: Some(pg),
                };
                (snapshot, url)
            }
        };
        let report =
            alliance_api::seed::load_with(&Db::connect(&url, 1).unwrap(), demo_figures).unwrap();
        snapshot.settle();
        (snapshot, report)
    })
}

/// A stopped service's database (see [`TestApp::into_snapshot`]); dropped
/// with it.
pub struct Snapshot {
    engine: Engine,
    sqlite: Option<(tempfile::TempDir, std::path::PathBuf)>,
    pg: Option<PgDatabase>,
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Some(pg) = &self.pg {
            stop_ready(&pg.name);
        }
    }
}

impl Snapshot {
    /// Makes the database ready to be copied: on SQLite everything in the
    /// main file (a copy of it alone is whole), on PostgreSQL no session
    /// left on it (a template may have none while it is copied).
    fn settle(&self) {
        if let Some((_, file)) = &self.sqlite {
            let db = Db::connect(file.to_str().unwrap(), 1).unwrap();
            diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *db.conn().unwrap())
                .unwrap();
        }
        if let Some(pg) = &self.pg {
            let mut admin = diesel::PgConnection::establish(&pg.admin_url).unwrap();
            diesel::sql_query(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
                pg.name
            ))
            .execute(&mut admin)
            .unwrap();
        }
    }

    /// A running service over a copy of the snapshot.
    pub async fn spawn_with(&self, configure: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::spawn_from(self.engine, Some(self), configure)
            .await
            .expect("the snapshot's engine is available")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the server before its database goes away.
        // `stop` sends the command at once; the future only awaits completion.
        drop(self.server.stop(false));
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with this status; returns the body.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text()
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(
            body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("/problems/")),
            "{body}"
        );
        assert!(
            body["title"].is_string() && body["detail"].is_string(),
            "{body}"
        );
        body
    }

    /// Asserts an OAuth2 error (RFC 6749 §5.2) with this status, as
    /// `POST /auth/token` answers; returns its `error` code.
    pub fn oauth_error(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{}",
            self.text()
        );
        assert_eq!(self.header("cache-control"), Some("no-store"));
        let body = self.json();
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["error", "error_description"], "{body}");
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{body}"
        );
        body["error"].as_str().unwrap().to_owned()
    }

    /// The `{field, code}` pairs of a problem's errors.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.json()["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["field"].as_str().unwrap().to_owned(),
                            e["code"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The statuses the committed description declares for each operation.
mod declared {
    use std::collections::BTreeSet;
    use std::sync::OnceLock;

    struct Operation {
        method: String,
        segments: Vec<String>,
        statuses: BTreeSet<String>,
    }

    fn operations() -> &'static [Operation] {
        static OPS: OnceLock<Vec<Operation>> = OnceLock::new();
        OPS.get_or_init(|| {
            let text = std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/openapi/openapi.json"
            ))
            .unwrap();
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            let mut ops = vec![];
            for (path, item) in doc["paths"].as_object().unwrap() {
                for (method, op) in item.as_object().unwrap() {
                    ops.push(Operation {
                        method: method.to_uppercase(),
                        segments: path.split('/').map(str::to_owned).collect(),
                        statuses: op["responses"]
                            .as_object()
                            .unwrap()
                            .keys()
                            .cloned()
                            .collect(),
                    });
                }
            }
            ops
        })
    }

    /// Panics when a described operation answered a status it does not
    /// declare (paths and methods the description lacks are not checked:
    /// those answers are the fallback's 404 and 405).
    pub fn check(method: &awc::http::Method, path: &str, status: awc::http::StatusCode) {
        let asked: Vec<&str> = path.split('/').collect();
        let matching = operations()
            .iter()
            .filter(|op| op.method == method.as_str() && op.segments.len() == asked.len())
            .filter(|op| {
                op.segments
                    .iter()
                    .zip(&asked)
                    .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
            })
            // The most literal template wins, as in routing.
            .max_by_key(|op| op.segments.iter().filter(|t| !t.starts_with('{')).count());
        if let Some(op) = matching {
            assert!(
                op.statuses.contains(status.as_str()),
                "{method} {path} answered {status}, which its description does not declare ({:?})",
                op.statuses
            );
        }
    }
}
