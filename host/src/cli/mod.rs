//! `promptsculptor plugin …`: the plugin authoring kit — scaffold a project,
//! build and install it into a (running) server's plugins folder, and check a
//! component the way the server would load it.

mod build;
mod check;
pub mod db;
pub mod eval;
mod health;
mod publish;
mod scaffold;

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Subcommand, ValueEnum};

pub use db::DbCommand;
pub use health::{HealthcheckArgs, run as healthcheck};

/// Plugin subcommands.
#[derive(Subcommand)]
pub enum PluginCommand {
    /// Create a ready-to-build plugin project (Rust, Python, JavaScript or TypeScript) with its own README.
    New(NewArgs),
    /// Build a plugin project to a Wasm component, check it and install it atomically.
    Build(BuildArgs),
    /// Validate a component against the plugin worlds and print its manifest.
    Check(CheckArgs),
}

/// Which operation a plugin implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Exports `analyzer` (world `analyze-plugin`).
    Analyze,
    /// Exports `remixer` (world `remix-plugin`).
    Remix,
    /// Exports `creator` (world `create-plugin`).
    Create,
    /// Exports `grader` (world `grade-plugin`, WIT 0.1.1).
    Grade,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Analyze => "analyze",
            Kind::Remix => "remix",
            Kind::Create => "create",
            Kind::Grade => "grade",
        }
    }

    fn world(self) -> &'static str {
        match self {
            Kind::Analyze => "analyze-plugin",
            Kind::Remix => "remix-plugin",
            Kind::Create => "create-plugin",
            Kind::Grade => "grade-plugin",
        }
    }
}

/// Source language of a plugin project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rust with the `promptsculptor-sdk` crate.
    Rust,
    /// Python with componentize-py.
    Python,
    /// JavaScript with jco / componentize-js.
    Js,
    /// TypeScript (type-checked by tsc) with jco / componentize-js.
    Ts,
}

impl Lang {
    fn display_name(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Js => "JavaScript",
            Lang::Ts => "TypeScript",
        }
    }
}

/// `plugin new`.
#[derive(Args)]
pub struct NewArgs {
    /// Plugin name: lower-case letters, digits and `-`, starting with a letter.
    pub name: String,
    /// Which operation it implements.
    #[arg(long, value_enum, default_value_t = Kind::Remix)]
    pub kind: Kind,
    /// Source language.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub lang: Lang,
    /// Folder to create the project in (as `<dir>/<name>`).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// `plugin build`.
#[derive(Args)]
pub struct BuildArgs {
    /// The plugin project (a Cargo crate; a folder with app.py, or package.json and app.js/app.ts, and wit/).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Plugins folder to install into; unset, `./plugins` (the server's
    /// default, relative to where it runs). With `--publish`, the folder
    /// install happens only when this is given.
    #[arg(long, env = "PROMPTSCULPTOR_PLUGINS_DIR")]
    pub plugins_dir: Option<PathBuf>,
    /// Compile cache the server uses: the check's compiled code goes there,
    /// so the server loads the component without compiling it again. Unset,
    /// `.cache/promptsculptor` beside the plugins folder (where a server
    /// with default settings, started in the folder holding `plugins/`,
    /// looks); empty: no cache.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_CACHE_DIR",
        value_parser = clap::builder::OsStringValueParser::new().map(PathBuf::from)
    )]
    pub cache_dir: Option<PathBuf>,
    /// Upload the component to a running server (`PUT /api/v1/plugins/{name}`
    /// under this base URL, e.g. `http://10.0.0.5:8080`), with the admin key
    /// from `PROMPTSCULPTOR_ADMIN_KEY`; every instance on its database serves it.
    #[arg(long, value_name = "URL")]
    pub publish: Option<String>,
    /// Build and check only; do not install or publish.
    #[arg(long)]
    pub no_install: bool,
}

/// `plugin check`.
#[derive(Args)]
pub struct CheckArgs {
    /// The component file.
    pub file: PathBuf,
    /// Memory cap of one call in MiB, as the server will apply it.
    #[arg(long, env = "PROMPTSCULPTOR_PLUGIN_MEMORY_MB", default_value_t = 128)]
    pub memory_mb: u64,
}

/// Run a plugin subcommand; the process exit code.
pub fn run(command: PluginCommand) -> i32 {
    let result = match command {
        PluginCommand::New(args) => scaffold::run(&args),
        PluginCommand::Build(args) => build::run(&args),
        PluginCommand::Check(args) => check::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
