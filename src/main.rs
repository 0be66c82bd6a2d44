//! `alliance-api`: serve (default) | migrate | seed | openapi | token.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use alliance_api::auth::{Principal, Role};
use alliance_api::config::{Config, LogFormat};
use alliance_api::db::Db;

#[derive(Parser)]
#[command(
    name = "alliance-api",
    version,
    about = "System of record and reporting API for industry-education alliances"
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load the demo alliances of seed 001 and two years of invented
    /// demo figures (idempotent).
    Seed {
        /// Only the alliances, members, platforms and KPI catalogue: for a
        /// store that will hold real figures.
        #[arg(long)]
        without_demo_figures: bool,
    },
    /// Print the OpenAPI description.
    Openapi,
    /// Delete change events older than the retention window (a feed cursor
    /// from before them then gets 410 and re-lists), and finished webhook
    /// deliveries last changed before it.
    PruneEvents {
        /// Keep this many days of events.
        #[arg(long, default_value_t = 90)]
        older_than_days: i64,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Print a signed bearer token.
    Token {
        /// admin, reviewer, secretariat, member or viewer.
        #[arg(long)]
        role: Role,
        /// An alliance (slug or id) the token covers; repeat for several.
        #[arg(long = "alliance")]
        alliances: Vec<String>,
        /// The organisation (id or slug) a member token speaks for.
        #[arg(long)]
        organization: Option<String>,
        /// Lifetime in seconds, 60 to 2 592 000 (30 days).
        #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(i64).range(60..=2_592_000))]
        ttl: i64,
        /// Who the token is for, as it appears in the audit trail and owns
        /// what the token creates (webhook subscriptions, idempotency keys).
        /// Without it each token gets a subject of its own, `cli:ROLE:UUID`.
        #[arg(long)]
        subject: Option<String>,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Print the effective settings (secrets masked) and where each came
    /// from; fail on a setting the service would refuse.
    Check,
}

fn main() -> anyhow::Result<()> {
    let file = load_config_file()?;
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    init_logging(cli.config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Config {
            action: ConfigAction::Check,
        } => config_check(&cli.config, &matches, &file),
        Command::Serve => actix_web::rt::System::new().block_on(alliance_api::serve(cli.config)),
        Command::Migrate => {
            let db = Db::connect(&cli.config.database_url, 1)?;
            let applied = db.migrate()?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }
        Command::Seed {
            without_demo_figures,
        } => {
            let db = Db::connect(&cli.config.database_url, 1)?;
            db.migrate()?;
            println!(
                "{}",
                alliance_api::seed::load_with(&db, !without_demo_figures)?
            );
            Ok(())
        }
        Command::PruneEvents { older_than_days } => {
            let db = Db::connect(&cli.config.database_url, 1)?;
            db.migrate()?;
            let before =
                chrono::Utc::now().naive_utc() - chrono::Duration::days(older_than_days.max(0));
            let deleted = alliance_api::db::changes::prune(&mut *db.conn()?, before)?;
            println!("deleted {deleted} change event(s) older than {older_than_days} day(s)");
            let finished = alliance_api::db::webhooks::prune(&mut *db.conn()?, before)?;
            println!("deleted {finished} finished webhook delivery(ies) with their attempts");
            Ok(())
        }
        Command::Openapi => {
            println!("{}", alliance_api::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::Token {
            role,
            alliances,
            organization,
            ttl,
            subject,
        } => {
            let secret = match &cli.config.jwt_secret {
                Some(s) => s.as_bytes().to_vec(),
                None => {
                    // The demo store keeps its own key: open it to find it.
                    let db = Db::connect(&cli.config.database_url, 1)?;
                    db.migrate()?;
                    alliance_api::jwt_secret(&cli.config, &db)?
                }
            };
            let keys = alliance_api::jwt_keys(&cli.config, &secret)?;
            let principal = Principal {
                subject: subject.unwrap_or_else(|| {
                    let unique = format!("cli:{role}:{}", uuid::Uuid::now_v7());
                    eprintln!("subject: {unique} (pass --subject to choose one)");
                    unique
                }),
                role,
                alliances,
                organization,
            };
            println!("{}", keys.issue(&principal, ttl)?);
            Ok(())
        }
    }
}

/// The settings file (`alliance.toml` or `ALLIANCE_CONFIG`) into the
/// environment, for each setting the environment does not hold.
fn load_config_file() -> anyhow::Result<alliance_api::config::FileSettings> {
    let command = Cli::command();
    let args: Vec<(String, Option<String>)> = command
        .get_arguments()
        .map(|a| {
            (
                a.get_id().to_string(),
                a.get_env().map(|e| e.to_string_lossy().into_owned()),
            )
        })
        .filter(|(_, env)| env.is_some())
        .collect();
    let known: Vec<String> = args.iter().map(|(k, _)| k.clone()).collect();
    alliance_api::config::load_file(
        |key| {
            args.iter()
                .find(|(k, _)| k == key)
                .and_then(|(_, e)| e.clone())
        },
        &known,
    )
}

/// `config check`: every setting, its value (secrets masked) and source.
fn config_check(
    config: &Config,
    matches: &clap::ArgMatches,
    file: &alliance_api::config::FileSettings,
) -> anyhow::Result<()> {
    use clap::parser::ValueSource;
    if let Some(path) = &file.path {
        println!("# settings file: {}", path.display());
    }
    for arg in Cli::command().get_arguments() {
        let Some(env) = arg.get_env() else { continue };
        let id = arg.get_id().as_str();
        let value = matches.get_raw(id).map(|mut v| {
            v.next()
                .map(|v| v.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let source = match matches.value_source(id) {
            Some(ValueSource::CommandLine) => "flag".to_owned(),
            Some(ValueSource::EnvVariable) if file.keys.iter().any(|k| k == id) => {
                "file".to_owned()
            }
            Some(ValueSource::EnvVariable) => format!("env {}", env.to_string_lossy()),
            Some(ValueSource::DefaultValue) => "default".to_owned(),
            _ => "unset".to_owned(),
        };
        let shown = value
            .map(|v| alliance_api::config::shown(id, &v))
            .unwrap_or_else(|| "-".into());
        println!("{id} = {shown}  ({source})");
    }
    alliance_api::check_settings(config)?;
    println!("# ok: the service would start with these settings");
    Ok(())
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
