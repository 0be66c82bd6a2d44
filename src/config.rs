//! Settings, from the command line or the environment.

use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::db::webhooks::RetryPolicy;
use crate::sync::WebhookSettings;
use crate::sync::target::TargetPolicy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoSeed {
    /// Load the seeds' alliances on the first start of an empty SQLite store.
    Auto,
    /// Never load demo data by itself (`alliance-api seed` still does).
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// A SQLite path (optionally `sqlite://…`) or a `postgres://…` URL.
    #[arg(long, env = "DATABASE_URL", default_value = "alliance.db")]
    pub database_url: String,
    /// Address to listen on.
    #[arg(long, env = "ALLIANCE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// HS256 key for bearer tokens, at least 32 bytes. Required on
    /// PostgreSQL; on SQLite a random one is made and kept in the database.
    #[arg(long, env = "ALLIANCE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Earlier HS256 secrets, comma-separated: tokens they signed are still
    /// accepted until they expire (key rotation).
    #[arg(
        long,
        env = "ALLIANCE_JWT_PREVIOUS_SECRETS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub jwt_previous_secrets: Vec<String>,
    /// A private key (PKCS#8 PEM, Ed25519 or RSA) to sign tokens with instead
    /// of the secret. Its `kid` is the file name up to the first `.`
    /// (`2026-11.key.pem` → `2026-11`); its public half must be among
    /// `jwt_verifying_keys`.
    #[arg(long, env = "ALLIANCE_JWT_SIGNING_KEY")]
    pub jwt_signing_key: Option<std::path::PathBuf>,
    /// Public keys (SPKI PEM), comma-separated, that verify tokens naming
    /// their `kid` (the file name up to the first `.`).
    #[arg(long, env = "ALLIANCE_JWT_VERIFYING_KEYS", value_delimiter = ',')]
    pub jwt_verifying_keys: Vec<std::path::PathBuf>,
    /// How long tokens from `POST /auth/token` last, in seconds. Short, so
    /// a disabled account stops working soon.
    #[arg(long, env = "ALLIANCE_TOKEN_TTL_SECONDS", default_value_t = 900)]
    pub token_ttl_seconds: i64,
    /// Web origins allowed to call the API from a browser (CORS), comma-
    /// separated, e.g. `https://screen.teda.gov.cn`. Empty (the default):
    /// no cross-origin access.
    #[arg(long, env = "ALLIANCE_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Requests per minute one bearer token may make to the API (a bucket
    /// that refills continuously); 0: no limit.
    #[arg(long, env = "ALLIANCE_RATE_LIMIT_PER_TOKEN", default_value_t = 1200)]
    pub rate_limit_per_token: u32,
    /// Requests per minute one client address may make to the API; 0: no
    /// limit. Behind a proxy every client shares the proxy's address.
    #[arg(long, env = "ALLIANCE_RATE_LIMIT_PER_ADDRESS", default_value_t = 6000)]
    pub rate_limit_per_address: u32,
    /// Database connections in the pool, and threads that run queries
    /// (default: two per CPU core).
    #[arg(long, env = "ALLIANCE_DB_POOL_SIZE", default_value_t = default_pool_size())]
    pub pool_size: u32,
    /// The largest request body accepted, in bytes.
    #[arg(long, env = "ALLIANCE_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,
    /// The largest spreadsheet an import accepts, in bytes.
    #[arg(long, env = "ALLIANCE_MAX_IMPORT_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_import_bytes: usize,
    /// Seconds a read may take before it is answered 503, and on
    /// PostgreSQL the longest a statement may run (a write past it rolls
    /// back and gets 503). Keep it above 30, the longest long-poll of the
    /// change feed.
    #[arg(long, env = "ALLIANCE_REQUEST_TIMEOUT_SECONDS", default_value_t = 60)]
    pub request_timeout_seconds: u64,
    /// When SQLite makes a commit durable: `full` (default; every
    /// acknowledged write survives a power loss) or `normal` (faster in WAL
    /// mode; a power loss can lose the last acknowledged commits).
    #[arg(long, env = "ALLIANCE_SQLITE_SYNCHRONOUS", value_enum, default_value_t = crate::db::SqliteSynchronous::Full)]
    pub sqlite_synchronous: crate::db::SqliteSynchronous,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "ALLIANCE_WORKERS")]
    pub workers: Option<usize>,
    /// Whether to load demo data on the first start of an empty SQLite store.
    #[arg(long, env = "ALLIANCE_DEMO_SEED", value_enum, default_value_t = DemoSeed::Auto)]
    pub demo_seed: DemoSeed,
    /// Refuse PUT, PATCH and DELETE from member tokens without `If-Match`
    /// (428), so member systems cannot overwrite newer edits blindly.
    #[arg(
        long,
        env = "ALLIANCE_REQUIRE_IF_MATCH_FOR_MEMBERS",
        default_value_t = false
    )]
    pub require_if_match_for_members: bool,
    /// Run the webhook delivery worker in this process. Turn it off on
    /// replicas that should only answer HTTP; with several on, each
    /// delivery is still claimed by one of them at a time.
    #[arg(long, env = "ALLIANCE_WEBHOOK_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub webhook_worker: bool,
    /// Let webhooks reach loopback, link-local and private addresses.
    /// Off by default: a subscription must not become a way into the
    /// operator's own network (SSRF).
    #[arg(
        long,
        env = "ALLIANCE_WEBHOOK_ALLOW_PRIVATE_TARGETS",
        default_value_t = false
    )]
    pub webhook_allow_private_targets: bool,
    /// Milliseconds before the first retry of a failed webhook delivery;
    /// doubled after each further failure (with jitter).
    #[arg(long, env = "ALLIANCE_WEBHOOK_RETRY_BASE_MS", default_value_t = 30_000)]
    pub webhook_retry_base_ms: u64,
    /// The longest wait between two attempts, in milliseconds.
    #[arg(
        long,
        env = "ALLIANCE_WEBHOOK_RETRY_MAX_MS",
        default_value_t = 3_600_000
    )]
    pub webhook_retry_max_ms: u64,
    /// Seconds a delivery is retried; a subscription with no success for
    /// this long is disabled.
    #[arg(
        long,
        env = "ALLIANCE_WEBHOOK_RETRY_WINDOW_SECS",
        default_value_t = 86_400
    )]
    pub webhook_retry_window_secs: u64,
    /// Seconds one delivery attempt may take.
    #[arg(long, env = "ALLIANCE_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,
    /// Log lines as text or JSON (`RUST_LOG` sets the level).
    #[arg(long, env = "ALLIANCE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Let anyone view `/dashboard`: the page gets a 15-minute viewer
    /// token from `POST /dashboard/token`. Off by default: every read of
    /// the API then needs a token of one's own.
    #[arg(long, env = "ALLIANCE_PUBLIC_DASHBOARD", default_value_t = false, action = clap::ArgAction::Set)]
    pub public_dashboard: bool,
    /// Let anyone read the published postings their posters opened to the
    /// public (`public: true`) at `GET /api/v1/public/postings`. Off by
    /// default: the listing then answers 404.
    #[arg(long, env = "ALLIANCE_PUBLIC_POSTINGS", default_value_t = false, action = clap::ArgAction::Set)]
    pub public_postings: bool,
}

/// Two connections per core: on 2 cores, 4 gave 16-17k requests/s where 8
/// gave 14k (`scripts/bench.sh`), as more threads only wait on each other.
fn default_pool_size() -> u32 {
    std::thread::available_parallelism().map_or(4, |n| 2 * n.get() as u32)
}

impl Config {
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.request_timeout_seconds)
    }

    pub fn rate_limits(&self) -> crate::auth::throttle::Limits {
        crate::auth::throttle::Limits {
            per_token: std::num::NonZeroU32::new(self.rate_limit_per_token),
            per_address: std::num::NonZeroU32::new(self.rate_limit_per_address),
        }
    }

    /// Settings for a given database and secret, the rest at their defaults.
    pub fn for_database(database_url: &str, jwt_secret: Option<&str>) -> Self {
        Config {
            database_url: database_url.to_owned(),
            addr: "127.0.0.1:0".to_owned(),
            jwt_secret: jwt_secret.map(str::to_owned),
            jwt_previous_secrets: vec![],
            cors_origins: vec![],
            token_ttl_seconds: 900,
            // Tests make many requests quickly; tests/api/limits.rs sets its own.
            rate_limit_per_token: 0,
            rate_limit_per_address: 0,
            jwt_signing_key: None,
            jwt_verifying_keys: vec![],
            pool_size: 4,
            max_body_bytes: 256 * 1024,
            max_import_bytes: 16 * 1024 * 1024,
            request_timeout_seconds: 60,
            sqlite_synchronous: crate::db::SqliteSynchronous::Full,
            workers: Some(1),
            demo_seed: DemoSeed::Off,
            require_if_match_for_members: false,
            webhook_worker: true,
            webhook_allow_private_targets: false,
            webhook_retry_base_ms: 30_000,
            webhook_retry_max_ms: 3_600_000,
            webhook_retry_window_secs: 86_400,
            webhook_timeout_secs: 10,
            log_format: LogFormat::Text,
            public_dashboard: false,
            public_postings: false,
        }
    }

    pub fn webhooks(&self) -> WebhookSettings {
        WebhookSettings {
            targets: TargetPolicy {
                allow_private: self.webhook_allow_private_targets,
            },
            retry: RetryPolicy {
                base: Duration::from_millis(self.webhook_retry_base_ms.max(1)),
                max: Duration::from_millis(self.webhook_retry_max_ms.max(1)),
                window: Duration::from_secs(self.webhook_retry_window_secs),
            },
            timeout: Duration::from_secs(self.webhook_timeout_secs.max(1)),
        }
    }
}

/// Where settings may also come from: a TOML file of `key = value` lines,
/// keys as the flags spell them with `_` (`database_url`, `pool_size`).
/// `ALLIANCE_CONFIG` names it; else `./alliance.toml` is read if present.
pub const CONFIG_FILE_ENV: &str = "ALLIANCE_CONFIG";
pub const DEFAULT_CONFIG_FILE: &str = "alliance.toml";

/// The settings a file gave, by key, for `config check` to say where each
/// value came from.
#[derive(Debug, Default, Clone)]
pub struct FileSettings {
    pub path: Option<std::path::PathBuf>,
    pub keys: Vec<String>,
}

/// Reads the settings file, if any, into the environment of this process
/// for every setting the environment does not already hold: precedence is
/// flag, then environment, then file, then default. `env_of` maps a key to
/// its environment variable (from the flag definitions, so the two cannot
/// drift). Call before any thread starts.
pub fn load_file(
    env_of: impl Fn(&str) -> Option<String>,
    known: &[String],
) -> anyhow::Result<FileSettings> {
    let path = match std::env::var_os(CONFIG_FILE_ENV) {
        Some(p) => std::path::PathBuf::from(p),
        None if std::path::Path::new(DEFAULT_CONFIG_FILE).exists() => DEFAULT_CONFIG_FILE.into(),
        None => return Ok(FileSettings::default()),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut keys = vec![];
    for (key, value) in table {
        let var = env_of(&key).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: unknown setting `{key}`; the settings are {}",
                path.display(),
                known.join(", ")
            )
        })?;
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => anyhow::bail!(
                "{}: `{key}` must be a string, a whole number or true/false, not {}",
                path.display(),
                other.type_str()
            ),
        };
        if std::env::var_os(&var).is_none() {
            // SAFETY: called from `main` before the runtime or any other
            // thread exists, so nothing reads the environment concurrently.
            unsafe { std::env::set_var(&var, value) };
            keys.push(key);
        }
    }
    Ok(FileSettings {
        path: Some(path),
        keys,
    })
}

/// A setting's value as `config check` shows it: secrets masked, a
/// database URL without its password.
pub fn shown(key: &str, value: &str) -> String {
    match key {
        "jwt_secret" => format!("(set, {} bytes)", value.len()),
        "jwt_previous_secrets" => format!("(set, {} secrets)", value.split(',').count()),
        "database_url" => match url::Url::parse(value) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("****"));
                u.to_string()
            }
            _ => value.to_owned(),
        },
        _ => value.to_owned(),
    }
}
