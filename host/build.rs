//! Embeds into the binary what it must carry to need nothing but itself:
//! every `migrations/<backend>/NNNN_name.sql` file, in order, to create and
//! upgrade its database (SQLite or PostgreSQL); and the plugin SDK's sources
//! with the WIT they are generated from, which `plugin new` writes into a
//! new Rust project (no checkout of this repository needed).

use std::{env, fs, path::PathBuf};

/// A failure ends the build with its message (cargo prints a build script's
/// error return like a panic, without the lint exception a panic needs).
fn main() -> Result<(), String> {
    migrations()?;
    sdk()
}

fn migrations() -> Result<(), String> {
    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../migrations");
    let mut out = String::new();
    for (backend, konst) in [
        ("sqlite", "SQLITE_MIGRATIONS"),
        ("postgres", "POSTGRES_MIGRATIONS"),
    ] {
        let dir = root.join(backend);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "sql"));
        files.sort();
        out.push_str(&format!(
            "/// {backend} migrations embedded at build time: (name, SQL), in order.\n\
             #[allow(dead_code)]\npub const {konst}: &[(&str, &str)] = &[\n"
        ));
        for f in &files {
            println!("cargo:rerun-if-changed={}", f.display());
            let name = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            let abs = fs::canonicalize(f).unwrap_or_else(|_| f.clone());
            out.push_str(&format!(
                "    ({name:?}, include_str!({:?})),\n",
                abs.display().to_string()
            ));
        }
        out.push_str("];\n");
    }
    let dest = PathBuf::from(env::var("OUT_DIR").unwrap_or_default()).join("migrations.rs");
    fs::write(&dest, out).map_err(|e| format!("cannot write {}: {e}", dest.display()))
}

/// The SDK crates and the WIT, laid out under a project's `sdk/` folder as
/// they are in this repository, so their relative paths
/// (`../guest-util`, `../../wit/plugin.wit`) hold there unchanged.
const SDK_TREES: &[&str] = &["plugins/sdk", "plugins/guest-util"];

fn sdk() -> Result<(), String> {
    let repo = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("..");
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for tree in SDK_TREES {
        let dir = repo.join(tree);
        println!("cargo:rerun-if-changed={}", dir.display());
        let manifest = fs::read_to_string(dir.join("Cargo.toml"))
            .map_err(|e| format!("cannot read {tree}/Cargo.toml: {e}"))?;
        // The copy lives in the project's own workspace, which has no
        // `[workspace.lints]`; every other value must be spelled out in the
        // repository's manifest already.
        let standalone = manifest.replace("[lints]\nworkspace = true\n", "");
        if standalone
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("workspace"))
        {
            return Err(format!(
                "{tree}/Cargo.toml inherits from the workspace; plugin projects copy it out of it, so spell the values out"
            ));
        }
        let copy = out_dir.join(format!("{}.Cargo.toml", tree.replace('/', "_")));
        fs::write(&copy, standalone)
            .map_err(|e| format!("cannot write {}: {e}", copy.display()))?;
        files.push((format!("{tree}/Cargo.toml"), copy));
        let mut sources = Vec::new();
        walk(&dir.join("src"), &mut sources)?;
        sources.sort();
        for src in sources {
            let rel = src
                .strip_prefix(&repo)
                .map_err(|e| format!("{}: {e}", src.display()))?
                .to_string_lossy()
                .replace('\\', "/");
            files.push((rel, src));
        }
    }
    let wit = repo.join("wit/plugin.wit");
    println!("cargo:rerun-if-changed={}", wit.display());
    let wit_text =
        fs::read_to_string(&wit).map_err(|e| format!("cannot read wit/plugin.wit: {e}"))?;
    let version = wit_text
        .lines()
        .find_map(|l| l.trim().strip_prefix("package promptsculptor:plugin@"))
        .map(|v| v.trim_end_matches(';').trim().to_string())
        .ok_or("wit/plugin.wit names no `package promptsculptor:plugin@<version>`")?;
    files.push(("wit/plugin.wit".into(), wit));
    let lock = repo.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());

    let mut out = String::new();
    out.push_str(&format!(
        "/// Version of the plugin WIT package this binary speaks.\n\
         pub const WIT_VERSION: &str = {version:?};\n\
         /// The plugin SDK as `plugin new` writes it under a project's `sdk/`:\n\
         /// (path relative to `sdk/`, contents).\n\
         pub const SDK_FILES: &[(&str, &str)] = &[\n"
    ));
    for (rel, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let abs = fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        out.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    out.push_str("];\n");
    let abs = fs::canonicalize(&lock).unwrap_or(lock);
    out.push_str(&format!(
        "/// The repository's lockfile: a new project starts from the versions the\n\
         /// SDK was tested with (cargo drops what the project does not use).\n\
         pub const SDK_LOCKFILE: &str = include_str!({:?});\n",
        abs.display().to_string()
    ));
    let dest = out_dir.join("sdk_files.rs");
    fs::write(&dest, out).map_err(|e| format!("cannot write {}: {e}", dest.display()))
}

/// Every file under `dir`, recursively.
fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}
