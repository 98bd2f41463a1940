use std::io::BufRead;

use callbroker::config::{Config, LogFormat};
use callbroker::db::{Db, PoolOptions};
use callbroker::startup::Application;
use callbroker_wire::{NewUser, Role};
use clap::{Parser, Subcommand};

/// jemalloc in place of glibc's allocator: under load glibc's malloc and free took about a sixth of
/// the SQLite writer thread's time, and the server routes more calls per second with jemalloc
/// (`make loadgen`). Through the `unprefixed_malloc_on_supported_platforms` feature (`Cargo.toml`) it
/// also serves `malloc` and `free` for the C libraries linked in (SQLite, libpq).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Callbroker: pay-per-call routing and tracking server.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and dashboard (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a user. The password is read from `CALLBROKER_NEW_USER_PASSWORD` or, when unset,
    /// from the first line of standard input.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role, default_value = "admin")]
        role: Role,
        /// Publisher the user belongs to (publisher role only).
        #[arg(long)]
        publisher_id: Option<i64>,
    },
    /// Print the OpenAPI document (YAML) that `openapi.yaml` holds.
    Openapi,
    /// Seal every stored secret under a new key, in one transaction; the old key is then no longer
    /// needed. With `CALLBROKER_SECRET_KEY` set, give the new key as `CALLBROKER_NEW_SECRET_KEY` (then
    /// set it as `CALLBROKER_SECRET_KEY`); otherwise a new key file replaces the data folder's.
    /// Run it with the servers stopped.
    RotateSecretKey,
    /// Generate settled calls (with a small directory of campaigns, buyers, publishers and
    /// numbers) for load and analytics benchmarks.
    SeedCalls {
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
        /// Spread the calls over the last N days.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Random seed (same seed, same calls).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Time every analytics query on the configured database and print the latencies.
    BenchAnalytics {
        /// The range queried: the last N days.
        #[arg(long, default_value_t = 30)]
        days: i64,
        #[arg(long, default_value_t = 7)]
        runs: usize,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "expected admin, operator, viewer or publisher".into())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", callbroker::openapi::yaml()?);
        return Ok(());
    }
    let mut config = Config::load().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    if cli.log_json {
        config.log_format = LogFormat::Json;
    }
    callbroker::telemetry::init(config.log_format);
    let command = cli.command.unwrap_or(Command::Serve);
    if matches!(command, Command::Serve) {
        return serve(config);
    }
    let done = one_shot(command, &config);
    if done.is_ok() {
        // The command's work is committed and printed. Leave without the C library's exit
        // handlers: on PostgreSQL, libpq's and OpenSSL's handlers race the connection pool's
        // threads and crashed about one exit in eight (SIGSEGV after the success lines).
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // SAFETY: `_exit` ends the process at once; nothing after it runs, and every write the
        // command made was committed and flushed above.
        unsafe { libc::_exit(0) }
    }
    done
}

/// Runs a command other than `serve`.
fn one_shot(command: Command, config: &Config) -> anyhow::Result<()> {
    let config = config.clone();
    match command {
        Command::Migrate => {
            let db = Db::connect(&config.database_url, &PoolOptions::default())?;
            let applied = db.migrate()?;
            println!(
                "{} migration(s) applied{}",
                applied.len(),
                if applied.is_empty() { String::new() } else { format!(": {}", applied.join(", ")) }
            );
            Ok(())
        }
        Command::CreateUser { email, role, publisher_id } => {
            let password = match std::env::var("CALLBROKER_NEW_USER_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    eprintln!("password (one line on standard input):");
                    std::io::stdin().lock().lines().next().transpose()?.unwrap_or_default()
                }
            };
            let db = Db::connect(&config.database_url, &PoolOptions::default())?;
            db.migrate()?;
            let new_user = NewUser { email, password, role, publisher_id };
            let user =
                db.write_blocking(|c| callbroker::store::users::create(c, &new_user)).map_err(|e| anyhow::anyhow!("{}", e.describe()))?;
            println!("created user {} ({}, {})", user.id, user.email, user.role.as_str());
            Ok(())
        }
        Command::RotateSecretKey => {
            let db = Db::connect(&config.database_url, &PoolOptions::default())?;
            db.migrate()?;
            let new_key = std::env::var("CALLBROKER_NEW_SECRET_KEY").ok().map(callbroker::config::Secret::new);
            let r = callbroker::bootstrap::rotate_secret_key(&config, &db, new_key.as_ref())?;
            println!("{} stored secret(s) sealed under key {} (was {})", r.resealed, r.new_key, r.old_key);
            match r.key_file {
                Some(file) => println!("the new key is in {}; the old key is no longer needed", file.display()),
                None => println!("now set CALLBROKER_SECRET_KEY to the new key (CALLBROKER_NEW_SECRET_KEY) and start the servers"),
            }
            Ok(())
        }
        Command::SeedCalls { count, days, seed } => {
            let db = Db::connect(&config.database_url, &PoolOptions::default())?;
            db.migrate()?;
            let secs = callbroker::seed::seed_calls(&db, count, days, seed)?;
            println!("inserted {count} calls over {days} days in {secs:.1} s");
            Ok(())
        }
        Command::BenchAnalytics { days, runs } => {
            let db = Db::connect(&config.database_url, &PoolOptions::default())?;
            db.migrate()?;
            let (total, timings) = callbroker::seed::bench(&db, days, runs)?;
            println!("backend {:?}, {total} calls, range {days} days, {runs} runs each", db.backend());
            println!("| query | rows | best ms | median ms |");
            println!("|---|---:|---:|---:|");
            for t in timings {
                println!("| {} | {} | {:.1} | {:.1} |", t.name, t.rows, t.best_ms, t.median_ms);
            }
            Ok(())
        }
        // Both are handled before any one-shot command.
        Command::Serve | Command::Openapi => Ok(()),
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config).await?;
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    })
}
