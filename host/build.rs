//! Embeds every `migrations/<backend>/NNNN_name.sql` file into the binary, in
//! order, so the server needs nothing but itself to create and upgrade its
//! database (SQLite or PostgreSQL).

use std::{env, fs, path::PathBuf};

/// A failure ends the build with its message (cargo prints a build script's
/// error return like a panic, without the lint exception a panic needs).
fn main() -> Result<(), String> {
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
