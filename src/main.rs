//! `alliance-api`: serve (default) | migrate | seed | openapi | token.

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use alliance_api::auth::{JwtKeys, Principal, Role};
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
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
        /// Who the token is for, as it appears in the audit trail.
        #[arg(long)]
        subject: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
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
            let principal = Principal {
                subject: subject.unwrap_or_else(|| format!("cli:{role}")),
                role,
                alliances,
                organization,
            };
            println!("{}", JwtKeys::hs256(&secret).issue(&principal, ttl)?);
            Ok(())
        }
    }
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
