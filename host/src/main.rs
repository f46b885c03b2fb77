//! The `promptsculptor` binary: `serve` (the default) starts the server.

mod cli;

use std::{io::IsTerminal, net::SocketAddr};

use anyhow::Context;
use clap::{Parser, Subcommand};
use promptsculptor::config::{Config, LogFormat};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "promptsculptor",
    version,
    about = "Self-hosted prompt-engineering server with Wasm strategy plugins"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server (the default). Every flag also reads its environment variable.
    Serve(Box<Config>),
    /// Create, build, install and check plugins (Rust or Python Wasm components).
    #[command(subcommand)]
    Plugin(cli::PluginCommand),
    /// GET /readyz of a running server: exit 0 on 200, else 1 with the reason
    /// on stderr (the container image's HEALTHCHECK).
    Healthcheck(cli::HealthcheckArgs),
    /// Evaluate prompts against test cases on a running server (POST
    /// /api/v1/evaluate): prints a table; exit 1 when the best prompt's pass
    /// rate is below --min-pass-rate, 2 when the run could not be made.
    Eval(cli::eval::EvalArgs),
    /// Database tools: `db import --from FILE.db [--request-log]`.
    #[command(subcommand)]
    Db(cli::DbCommand),
}

fn main() -> anyhow::Result<()> {
    // A missing .env is normal; a malformed one is worth saying.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("warning: .env not read: {e}");
    }
    let mut args: Vec<String> = std::env::args().collect();
    if args.len() == 1 {
        args.push("serve".into());
    }
    let cli = Cli::parse_from(args);
    let config = match cli.command {
        Some(Command::Serve(config)) => config,
        Some(Command::Plugin(command)) => std::process::exit(cli::run(command)),
        Some(Command::Healthcheck(args)) => std::process::exit(cli::healthcheck(&args)),
        Some(Command::Eval(args)) => std::process::exit(cli::eval::run(&args)),
        Some(Command::Db(command)) => {
            init_logging(LogFormat::Text);
            std::process::exit(cli::db::run(command))
        }
        None => anyhow::bail!("no command given; try `promptsculptor serve`"),
    };
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(*config))
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour codes only for a terminal: logs piped to a file or collector
    // (and the tests, which read the listening line) get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Bind first: a taken port fails at once instead of after loading plugins.
    // Connections that arrive while plugins load wait in the backlog.
    let listener =
        bind(config.addr).with_context(|| format!("cannot listen on {}", config.addr))?;
    let app = promptsculptor::server::build(&config)
        .await
        .context("startup failed")?;
    let addr = listener.local_addr().context("no local address")?;
    let request_log = app.request_log.clone();
    // Tests and scripts read the bound address (port 0 picks a free one) from this line.
    tracing::info!("PromptSculptor listening on http://{addr}");
    axum::serve(
        listener,
        app.router
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server failed")?;
    // Rows of the last requests, written before the process ends.
    request_log.close().await;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Listen with a deep accept backlog: a burst of thousands of new
/// connections (clients waiting on a slow LLM) overflowed the default of
/// 1024, and clients whose SYN was dropped retried only after 1 s and 3 s.
/// The kernel caps it at `net.core.somaxconn`.
fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(8192)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
