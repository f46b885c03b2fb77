//! `plugin new`: write a ready-to-build plugin project.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::{Kind, Lang, NewArgs};

/// The plugin contract this binary was built against, shipped in Python
/// projects (componentize-py reads WIT at build time). Rust projects get it
/// through the SDK instead.
const WIT: &str = include_str!("../../../wit/plugin.wit");

pub fn run(args: &NewArgs) -> anyhow::Result<i32> {
    let name = args.name.as_str();
    // Style names are `<name>-checklist` etc. and must stay within 64 chars;
    // a leading letter keeps the name a valid Cargo package name too.
    let valid = name.len() <= 48
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid {
        bail!(
            "invalid plugin name '{name}': use lower-case letters, digits and '-', starting with a letter, at most 48 characters"
        );
    }
    let root = args.dir.join(name);
    if root.exists()
        && std::fs::read_dir(&root)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!("{} already exists and is not empty", root.display());
    }
    let files = match args.lang {
        Lang::Rust => rust_files(name, args.kind)?,
        Lang::Python => python_files(name, args.kind),
    };
    for (rel, text) in &files {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.lang == Lang::Rust {
        seed_lockfile(&root);
    }
    println!(
        "created {} plugin '{name}' ({}) in {}",
        args.kind.as_str(),
        match args.lang {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
        },
        root.display()
    );
    for (rel, _) in &files {
        println!("  {rel}");
    }
    println!(
        "next:\n  cd {}\n  promptsculptor plugin build --plugins-dir <the server's plugins folder>",
        root.display()
    );
    Ok(0)
}

/// The SDK crate: `PROMPTSCULPTOR_SDK_PATH`, else where it was when this
/// binary was built.
pub fn sdk_path() -> anyhow::Result<PathBuf> {
    let path = match std::env::var_os("PROMPTSCULPTOR_SDK_PATH") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk"),
    };
    let path = std::fs::canonicalize(&path).with_context(|| {
        format!(
            "the PromptSculptor SDK is not at {}; set PROMPTSCULPTOR_SDK_PATH to the plugins/sdk folder of a PromptSculptor checkout",
            path.display()
        )
    })?;
    if !path.join("Cargo.toml").is_file() {
        bail!(
            "{} has no Cargo.toml; set PROMPTSCULPTOR_SDK_PATH to the plugins/sdk folder of a PromptSculptor checkout",
            path.display()
        );
    }
    Ok(path)
}

fn fill(template: &str, name: &str, kind: Kind, sdk: &str) -> String {
    let try_it = match kind {
        Kind::Remix => format!(
            "curl -s localhost:8080/api/v1/remix -H 'content-type: application/json' \\\n  -d '{{\"prompt\": \"Summarise {{{{doc}}}} for {{{{audience}}}}.\", \"style\": \"{name}-plain\", \"strategy\": \"{name}\", \"use_llm\": false}}'"
        ),
        Kind::Analyze => format!(
            "curl -s localhost:8080/api/v1/analyze -H 'content-type: application/json' \\\n  -d '{{\"prompt\": \"Write about {{{{topic}}}}.\", \"strategy\": \"{name}\", \"use_llm\": false}}'"
        ),
        Kind::Create => format!(
            "curl -s localhost:8080/api/v1/create -H 'content-type: application/json' \\\n  -d '{{\"goal\": \"Classify tickets by urgency\", \"variables\": [\"ticket\"], \"strategy\": \"{name}\", \"use_llm\": false}}'"
        ),
        // A case with a stored output is graded offline (no provider).
        Kind::Grade => format!(
            "curl -s localhost:8080/api/v1/evaluate -H 'content-type: application/json' \\\n  -d '{{\"prompts\": [{{\"id\": \"a\", \"prompt\": \"Describe {{{{product}}}} briefly.\"}}], \"cases\": [{{\"id\": \"c1\", \"vars\": {{\"product\": \"a kettle\"}}, \"output\": \"A kettle boils water.\", \"assert\": [{{\"type\": \"grader\", \"value\": \"{name}\", \"config\": {{\"max_words\": 5}}}}]}}]}}'"
        ),
    };
    template
        .replace("@NAME@", name)
        .replace("@CRATE@", &name.replace('-', "_"))
        .replace("@KIND@", kind.as_str())
        .replace("@WORLD@", kind.world())
        .replace("@SDK_PATH@", sdk)
        .replace("@TRY@", &try_it)
}

fn rust_files(name: &str, kind: Kind) -> anyhow::Result<Vec<(String, String)>> {
    let sdk = sdk_path()?;
    // TOML basic strings need escaped backslashes (Windows paths).
    let sdk = sdk.display().to_string().replace('\\', "\\\\");
    let lib = match kind {
        Kind::Analyze => include_str!("templates/rust_analyze.rs"),
        Kind::Remix => include_str!("templates/rust_remix.rs"),
        Kind::Create => include_str!("templates/rust_create.rs"),
        Kind::Grade => include_str!("templates/rust_grade.rs"),
    };
    Ok(vec![
        (
            "Cargo.toml".into(),
            fill(include_str!("templates/rust_Cargo.toml"), name, kind, &sdk),
        ),
        ("src/lib.rs".into(), fill(lib, name, kind, &sdk)),
        (
            "README.md".into(),
            fill(include_str!("templates/README_rust.md"), name, kind, &sdk),
        ),
        (
            ".gitignore".into(),
            include_str!("templates/gitignore").into(),
        ),
        (
            "rustfmt.toml".into(),
            include_str!("templates/rustfmt.toml").into(),
        ),
    ])
}

fn python_files(name: &str, kind: Kind) -> Vec<(String, String)> {
    let app = match kind {
        Kind::Analyze => include_str!("templates/py_analyze.py"),
        Kind::Remix => include_str!("templates/py_remix.py"),
        Kind::Create => include_str!("templates/py_create.py"),
        Kind::Grade => include_str!("templates/py_grade.py"),
    };
    vec![
        ("app.py".into(), fill(app, name, kind, "")),
        (
            "pyproject.toml".into(),
            fill(include_str!("templates/py_pyproject.toml"), name, kind, ""),
        ),
        ("wit/plugin.wit".into(), WIT.into()),
        (
            "README.md".into(),
            fill(include_str!("templates/README_python.md"), name, kind, ""),
        ),
        (
            ".gitignore".into(),
            include_str!("templates/gitignore").into(),
        ),
    ]
}

/// Start the project from the SDK workspace's lockfile when there is one:
/// the same dependency versions as the SDK was tested with, no registry
/// lookup on the first build, and compiled dependencies reused when
/// `CARGO_TARGET_DIR` points at that workspace's target folder. Cargo drops
/// the entries the project does not need.
fn seed_lockfile(root: &Path) {
    let Ok(sdk) = sdk_path() else { return };
    let Some(lock) = sdk
        .parent()
        .and_then(Path::parent)
        .map(|r| r.join("Cargo.lock"))
    else {
        return;
    };
    if lock.is_file() {
        let _ = std::fs::copy(&lock, root.join("Cargo.lock"));
    }
}
