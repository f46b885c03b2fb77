//! `promptsculptor db import`: copy a SQLite registry into the configured
//! database (PostgreSQL for a fleet, or another SQLite file).

use std::{path::PathBuf, time::Duration};

use clap::{Args, Subcommand};
use promptsculptor::config::Config;
use promptsculptor::server::store_config;
use promptsculptor::store::{Db, StoreConfig};

/// `promptsculptor db …`
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy user styles (and with --request-log, the request log) from a
    /// SQLite file into the configured database (PROMPTSCULPTOR_DATABASE_URL,
    /// else PROMPTSCULPTOR_DB). Styles whose name exists are skipped.
    Import(ImportArgs),
}

/// Arguments of `db import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The SQLite file to read (opened read-only).
    #[arg(long)]
    pub from: PathBuf,
    /// Copy the request log too.
    #[arg(long)]
    pub request_log: bool,
    /// How long to wait for the target database to answer.
    #[arg(long, default_value_t = 30)]
    pub wait_secs: u64,
    #[command(flatten)]
    pub config: Box<Config>,
}

/// Run a `db` command; the process exit code.
pub fn run(command: DbCommand) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let DbCommand::Import(args) = command;
    match runtime.block_on(import(&args)) {
        Ok(msg) => {
            println!("{msg}");
            0
        }
        Err(msg) => {
            eprintln!("error: {msg}");
            1
        }
    }
}

async fn import(args: &ImportArgs) -> Result<String, String> {
    let target = store_config(&args.config);
    if let StoreConfig::Sqlite { path } = &target
        && same_file(path, &args.from)
    {
        return Err(format!(
            "{} is both the source and the target; set PROMPTSCULPTOR_DATABASE_URL to import into PostgreSQL",
            args.from.display()
        ));
    }
    let db = Db::open(&target)
        .await
        .map_err(|e| format!("{}: {e}", target.describe()))?;
    // PostgreSQL connects and migrates in the background: wait for it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.wait_secs);
    while let Err(e) = db.ping().await {
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("{}: {e}", target.describe()));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let report = db
        .import_sqlite(&args.from, args.request_log)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "imported {} user styles ({} skipped: name already present) and {} request-log rows from {} into {}",
        report.styles_imported,
        report.styles_skipped,
        report.log_rows,
        args.from.display(),
        target.describe()
    ))
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
