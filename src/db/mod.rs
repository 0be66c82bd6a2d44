//! Storage: one code path over SQLite and PostgreSQL.
//!
//! `AnyConnection` is diesel's `MultiConnection` over both engines. The pool
//! manager picks the engine from the URL scheme itself: the derived
//! `establish` would try PostgreSQL and then silently fall back to SQLite,
//! hiding the real error and turning a libpq string into a file name.

pub mod accounts;
pub mod activities;
pub mod alliances;
pub mod audit;
pub mod changes;
pub mod council;
pub mod idempotency;
pub mod journal;
pub mod kpis;
pub mod memberships;
pub mod organizations;
pub mod page;
pub mod platforms;
pub mod postings;
pub mod reports;
pub mod schema;
pub mod settings;
pub mod visibility;
pub mod webhooks;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Rows per multi-row `INSERT`: under SQLite's 32 766 bound parameters for
/// the widest row (organisations, 15 columns).
pub const INSERT_BATCH: usize = 1000;

/// From this many rows on, PostgreSQL takes them by `COPY` (binary), which
/// costs a round trip more than an `INSERT` but far less per row.
pub const COPY_FROM: usize = 64;

/// Inserts a slice of rows, returning how many were written: on SQLite one
/// multi-row `INSERT` per [`INSERT_BATCH`] rows; on PostgreSQL one `COPY`,
/// or one `INSERT` for fewer than [`COPY_FROM`]. Multi-row statements do not
/// compile through `MultiConnection`, so each engine's connection runs its
/// own. The row type must write `None` as `NULL`
/// (`treat_none_as_default_value = false`), as `COPY` has no `DEFAULT`.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match &mut *$conn {
            $crate::db::AnyConnection::Postgresql(c) if rows.len() >= $crate::db::COPY_FROM => {
                diesel::copy_from($table).from_insertable(rows).execute(c)?
            }
            $crate::db::AnyConnection::Postgresql(c) => {
                diesel::insert_into($table).values(rows).execute(c)?
            }
            $crate::db::AnyConnection::Sqlite(c) => {
                let mut written = 0usize;
                for chunk in rows.chunks($crate::db::INSERT_BATCH) {
                    written += diesel::insert_into($table).values(chunk).execute(c)?;
                }
                written
            }
        }
    }};
}
pub(crate) use insert_all;

/// The query backend of `AnyConnection`, for boxed queries.
pub type Backend = <AnyConnection as diesel::Connection>::Backend;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    /// `postgres://` and `postgresql://` are PostgreSQL; anything else is a
    /// SQLite path, with or without `sqlite://`.
    pub fn of(url: &str) -> (Engine, &str) {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Engine::Postgres, url)
        } else {
            (Engine::Sqlite, url.strip_prefix("sqlite://").unwrap_or(url))
        }
    }
}

/// An r2d2 manager that opens the engine the URL names, and sets up every
/// SQLite connection the same way (foreign keys, WAL, busy timeout).
#[derive(Debug, Clone)]
pub struct Manager {
    engine: Engine,
    target: String,
    /// PostgreSQL cancels a statement that runs longer, and SQLite waits no
    /// longer for a lock (the request timeout).
    statement_timeout: Option<Duration>,
    synchronous: SqliteSynchronous,
}

/// When SQLite makes a commit durable (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SqliteSynchronous {
    /// Every acknowledged commit survives a power loss (the default: a
    /// system of record acknowledges only what is durable).
    #[default]
    Full,
    /// Faster commits in WAL mode; a power loss (not a process crash) can
    /// lose the last commits that were acknowledged.
    Normal,
}

impl Manager {
    pub fn new(url: &str) -> Self {
        let (engine, target) = Engine::of(url);
        Manager {
            engine,
            target: target.to_owned(),
            statement_timeout: None,
            synchronous: SqliteSynchronous::Full,
        }
    }
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        match self.engine {
            Engine::Postgres => {
                let mut c = diesel::PgConnection::establish(&self.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                if self.statement_timeout.is_some() {
                    c.batch_execute(&statement_timeout(self.statement_timeout))
                        .map_err(r2d2::Error::QueryError)?;
                }
                Ok(AnyConnection::Postgresql(c))
            }
            Engine::Sqlite => {
                let mut c = diesel::SqliteConnection::establish(&self.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                // Waiting for another process's write lock: at most 10 s,
                // and no longer than a request may take.
                let busy = self
                    .statement_timeout
                    .map_or(10_000, |l| l.as_millis().min(10_000));
                let synchronous = match self.synchronous {
                    SqliteSynchronous::Full => "FULL",
                    SqliteSynchronous::Normal => "NORMAL",
                };
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {busy}; PRAGMA foreign_keys = ON; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous};"
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        match conn {
            AnyConnection::Postgresql(c) => c.is_broken(),
            AnyConnection::Sqlite(c) => c.is_broken(),
        }
    }
}

/// Marks a connection that no longer answers as broken, so the pool drops
/// it instead of handing it out again (diesel calls a connection broken only
/// when its transaction state is).
fn discard(conn: &mut AnyConnection) {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match conn {
        AnyConnection::Postgresql(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).set_in_error()
        }
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::transaction_manager_status_mut(c).set_in_error()
        }
    }
}

/// The PostgreSQL setting for a statement time limit (0: none).
fn statement_timeout(limit: Option<Duration>) -> String {
    format!(
        "SET statement_timeout = {}",
        limit.map_or(0, |l| l.as_millis())
    )
}

pub type Pool = r2d2::Pool<Manager>;

/// The pool, and the way every request reaches it: on actix's blocking
/// threads, never on a worker.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    engine: Engine,
    /// SQLite takes one writer at a time; queueing writers here instead of
    /// in SQLite's busy loop keeps a read-then-write transaction from
    /// failing with SQLITE_BUSY when another writer got in first.
    sqlite_writer: Arc<Mutex<()>>,
    /// Woken after every committed write (long-polls of the change feed).
    committed: Arc<tokio::sync::Notify>,
    /// How long requests wait for a pooled connection (`/metrics`).
    pool_wait: prometheus::Histogram,
    /// The pool's time limit for a read, and for a statement on PostgreSQL
    /// (see [`Db::for_requests`]).
    statement_timeout: Option<Duration>,
    /// Until when (ms since the epoch) pooled connections are checked
    /// before use: set when one was found lost, so after a database restart
    /// the stale connections are dropped before a request meets them.
    suspect_until: Arc<std::sync::atomic::AtomicI64>,
    /// When (ms since the epoch) a query last succeeded: a pool that has
    /// been quiet for a second checks a connection before using it, so the
    /// first request after a database restart does not meet a dead one.
    last_ok: Arc<std::sync::atomic::AtomicI64>,
    /// Opens connections outside the pool, for `/readyz`.
    manager: Arc<Manager>,
}

/// How long a request waits for a pooled connection before its 503: long
/// enough for a burst, short enough that a database outage is told at once.
pub const POOL_WAIT: Duration = Duration::from_millis(1_500);

impl Db {
    pub fn connect(url: &str, pool_size: u32) -> anyhow::Result<Db> {
        Self::connect_with(Manager::new(url), pool_size)
    }

    /// The pool that serves requests: on PostgreSQL a statement running
    /// past the request timeout is cancelled, so a request that timed out
    /// does not keep its connection busy.
    pub fn for_requests(
        url: &str,
        pool_size: u32,
        timeout: Duration,
        synchronous: SqliteSynchronous,
    ) -> anyhow::Result<Db> {
        let manager = Manager {
            statement_timeout: Some(timeout),
            synchronous,
            ..Manager::new(url)
        };
        Self::connect_with(manager, pool_size)
    }

    fn connect_with(manager: Manager, pool_size: u32) -> anyhow::Result<Db> {
        let engine = manager.engine;
        let statement_timeout = manager.statement_timeout;
        let probe = Manager {
            engine: manager.engine,
            target: manager.target.clone(),
            statement_timeout: Some(Duration::from_secs(2)),
            synchronous: manager.synchronous,
        };
        // One connection first, outside the pool: a wrong URL fails now with
        // the engine's own message, not after the pool's retries time out.
        manager
            .connect()
            .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(POOL_WAIT)
            // No `SELECT 1` before every use: it doubles the round trips of
            // a read. A connection that failed is dropped by `has_broken`.
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
        let pool_wait = prometheus::Histogram::with_opts(
            prometheus::HistogramOpts::new(
                "db_pool_wait_seconds",
                "Time a query waited for a pooled connection",
            )
            .buckets(vec![
                0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0,
            ]),
        )
        .expect("valid metric");
        Ok(Db {
            pool,
            engine,
            sqlite_writer: Arc::default(),
            committed: Arc::default(),
            pool_wait,
            statement_timeout,
            suspect_until: Arc::default(),
            last_ok: Arc::default(),
            manager: Arc::new(probe),
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The pool-wait histogram, for the service's metrics registry.
    pub fn pool_wait(&self) -> &prometheus::Histogram {
        &self.pool_wait
    }

    /// Connections open and idle now.
    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }

    /// Whether the database answers a query now, within `within` whatever
    /// the pool and the blocking threads are doing: a new connection on a
    /// thread of its own (`/readyz` must tell an outage at once, not wait
    /// behind the queries the outage holds up).
    pub async fn probe(&self, within: Duration) -> bool {
        let manager = self.manager.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("alliance-probe".into())
            .spawn(move || {
                let answered = manager
                    .connect()
                    .and_then(|mut c| c.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError));
                let _ = tx.send(answered.is_ok());
            });
        if spawned.is_err() {
            return false;
        }
        matches!(actix_web::rt::time::timeout(within, rx).await, Ok(Ok(true)))
    }

    /// A pooled connection, timing the wait. After a connection was found
    /// lost, each is checked first and a dead one dropped, for a while.
    fn pooled(&self) -> Result<r2d2::PooledConnection<Manager>, ApiError> {
        let timer = self.pool_wait.start_timer();
        let conn = self.checked_out();
        timer.observe_duration();
        if conn.is_err() {
            self.suspect();
        }
        conn
    }

    fn checked_out(&self) -> Result<r2d2::PooledConnection<Manager>, ApiError> {
        use std::sync::atomic::Ordering;
        let now = chrono::Utc::now().timestamp_millis();
        let busy = now - self.last_ok.load(Ordering::Relaxed) < 1_000;
        if busy && self.suspect_until.load(Ordering::Relaxed) < now {
            return Ok(self.pool.get()?);
        }
        for _ in 0..=self.pool.max_size() {
            let mut conn = self.pool.get()?;
            if conn.batch_execute("SELECT 1").is_ok() {
                return Ok(conn);
            }
            discard(&mut conn);
        }
        Ok(self.pool.get()?)
    }

    /// Marks the pool's connections as doubtful for the next ten seconds.
    fn suspect(&self) {
        let until = chrono::Utc::now().timestamp_millis() + 10_000;
        self.suspect_until
            .store(until, std::sync::atomic::Ordering::Relaxed);
    }

    /// Notes a lost connection behind a failed query: the connection is
    /// discarded, and the others are checked for a while.
    fn after<T>(&self, conn: &mut AnyConnection, result: &Result<T, ApiError>) {
        let unavailable = matches!(
            result,
            Err(ApiError::Unavailable(_) | ApiError::OutcomeUnknown(_))
        );
        if unavailable && conn.batch_execute("SELECT 1").is_err() {
            discard(conn);
        }
        let broken = match conn {
            AnyConnection::Postgresql(c) => c.is_broken(),
            AnyConnection::Sqlite(c) => c.is_broken(),
        };
        if result.is_err() && broken {
            self.suspect();
        } else if !broken {
            self.last_ok.store(
                chrono::Utc::now().timestamp_millis(),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
    }

    /// A connection for the command line and tests (blocking).
    pub fn conn(&self) -> Result<r2d2::PooledConnection<Manager>, ApiError> {
        Ok(self.pool.get()?)
    }

    /// Applies the pending migrations of this engine; returns their names.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let names = |done: Vec<diesel::migration::MigrationVersion<'_>>| {
            done.iter().map(|v| v.to_string()).collect::<Vec<_>>()
        };
        let mut conn = self.pool.get()?;
        let done = match &mut *conn {
            AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(names),
            AnyConnection::Postgresql(c) => {
                // A migration may take longer than a request may.
                c.batch_execute("SET statement_timeout = 0")?;
                let done = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(names);
                c.batch_execute(&statement_timeout(self.statement_timeout))?;
                done
            }
        };
        done.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
    }

    /// Whether every migration of this engine has been applied.
    pub fn migrations_applied(&self) -> Result<bool, ApiError> {
        let mut conn = self.pool.get()?;
        let pending = match &mut *conn {
            AnyConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
            AnyConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        };
        pending.map(|p| !p).map_err(ApiError::internal)
    }

    /// Runs a read on a blocking thread. On the pool that serves requests
    /// a read still running at the time limit is answered 503, and on
    /// PostgreSQL its query is cancelled at the same limit. (Writes are
    /// bounded by that statement limit and SQLite's busy timeout instead:
    /// answering while a transaction might still commit would mislead.)
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let db = self.clone();
        let read = actix_web::web::block(move || {
            let mut conn = db.pooled()?;
            let result = f(&mut conn);
            db.after(&mut conn, &result);
            result
        });
        match self.statement_timeout {
            None => read.await?,
            Some(limit) => actix_web::rt::time::timeout(limit, read)
                .await
                .map_err(|_| {
                    ApiError::Unavailable(format!(
                        "the request took longer than {} s; retry",
                        limit.as_secs()
                    ))
                })??,
        }
    }

    /// Runs `f` in one transaction, on the calling thread (callers are off
    /// the async workers: the service layer's `write`, the CLI, the seed).
    /// Writers take their turn here; feed readers are woken after a commit.
    pub fn transact<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
    {
        let _one_writer = self.sqlite_turn();
        let mut conn = self.pooled()?;
        let mut body_done = false;
        // Writers commit concurrently on PostgreSQL: their change events get
        // feed positions after commit (`sequence`), not here.
        let result = conn.transaction(|conn| {
            let done = f(conn);
            body_done = done.is_ok();
            done
        });
        self.after(&mut conn, &result);
        match result {
            Ok(value) => {
                self.committed.notify_waiters();
                Ok(value)
            }
            // Every statement succeeded and COMMIT was sent, but its answer
            // was lost: the change may or may not have been kept.
            Err(ApiError::Unavailable(why)) if body_done => Err(ApiError::OutcomeUnknown(why)),
            Err(e) => Err(e),
        }
    }

    /// Runs bookkeeping that changes no record (the webhook queue) in one
    /// transaction on a blocking thread: no audit record, no change event,
    /// and no wake-up of feed readers. Queued behind writers like a write.
    pub async fn maintain<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || {
            let _one_writer = db.sqlite_turn();
            let mut conn = db.pooled()?;
            let result = (&mut *conn as &mut AnyConnection).transaction(f);
            db.after(&mut conn, &result);
            result
        })
        .await?
    }

    /// Gives committed change events their feed positions
    /// ([`changes::sequence`]) on `conn`, in a transaction of its own, when
    /// some wait; a read when none do. Whoever reads the feed runs it first
    /// (feed readers, the webhook worker), so a reader sees every write that
    /// committed before it asked, on any replica.
    pub fn sequence(&self, conn: &mut AnyConnection) -> Result<(), ApiError> {
        if !changes::waiting(conn)? {
            return Ok(());
        }
        let _one_writer = self.sqlite_turn();
        let result = conn.transaction(changes::sequence).map(drop);
        self.after(conn, &result);
        result
    }

    /// [`Db::read`] after [`Db::sequence`] on the same connection: what
    /// reads the feed or its head.
    pub async fn read_positioned<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let db = self.clone();
        self.read(move |c| {
            db.sequence(c)?;
            f(c)
        })
        .await
    }

    /// On SQLite, this process's turn to write (SQLite has one writer;
    /// waiting here is cheaper than on its busy timeout). None on PostgreSQL.
    fn sqlite_turn(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        match self.engine {
            Engine::Sqlite => Some(self.sqlite_writer.lock().unwrap_or_else(|p| p.into_inner())),
            Engine::Postgres => None,
        }
    }

    /// Resolves when a write commits in this process (other replicas' writes
    /// are seen by polling).
    pub fn committed(&self) -> tokio::sync::futures::Notified<'_> {
        self.committed.notified()
    }
}

diesel::define_sql_function! {
    /// SQL `lower()`, for case-insensitive search of optional text.
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// A `LIKE` pattern (escape character `\`) that finds `text` anywhere.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A record kept in one table with a version column: what the write steps
/// every resource shares (see `service::tx::update`) need from storage.
pub trait Stored: Sized {
    /// What the audit trail and the change feed call it (`activity`).
    const RESOURCE: &'static str;
    /// What messages call it (`council seat`).
    const NAME: &'static str;
    fn id(&self) -> &str;
    fn version(&self) -> i64;
    /// The alliance whose readers see its changes in the feed, if any.
    fn alliance_id(&self) -> Option<&str> {
        None
    }
    /// The next version, changed at `at`.
    fn next_version(&mut self, at: chrono::DateTime<chrono::Utc>);
    fn find(conn: &mut AnyConnection, id: &str) -> Result<Self, ApiError>;
    /// Replaces the stored record if its version is still `expected`;
    /// `false` when another writer got there first.
    fn replace(conn: &mut AnyConnection, record: &Self, expected: i64) -> Result<bool, ApiError>;
}

/// The [`Stored`] accessors of a resource whose `id`, `version` and
/// `updated_at` fields are named so (every resource but the KPI catalogue,
/// keyed by `code`): written once instead of in each impl.
macro_rules! versioned_fields {
    () => {
        fn id(&self) -> &str {
            &self.id
        }
        fn version(&self) -> i64 {
            self.version
        }
        fn next_version(&mut self, at: chrono::DateTime<chrono::Utc>) {
            self.version += 1;
            self.updated_at = at;
        }
    };
}
pub(crate) use versioned_fields;

/// A new resource id: a UUIDv7, so ids sort in creation order.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Reads back a stored value that the write path parsed before storing;
/// failing here means the database was changed behind the service's back.
pub(crate) fn stored<T, E: std::fmt::Display>(
    column: &str,
    r: Result<T, E>,
) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::Internal(format!("stored {column} is not valid: {e}")))
}

pub(crate) fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}
