//! `plugin check`: the server's own loading code, run once on one file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use promptsculptor::runtime::{EngineLimits, ManifestInfo, check_component};

use super::CheckArgs;

pub fn run(args: &CheckArgs) -> anyhow::Result<i32> {
    match check_file(&args.file, args.memory_mb, None)? {
        Ok(info) => {
            print_manifest(&args.file, &info);
            Ok(0)
        }
        Err(reason) => {
            eprintln!("refused: {} would not load: {reason}", args.file.display());
            Ok(1)
        }
    }
}

/// Load `file` as the server would, leaving its compiled code in
/// `cache_dir` when given. The outer error is a failure of the check
/// itself; the inner one is the server's reason to refuse the file.
pub fn check_file(
    file: &Path,
    memory_mb: u64,
    cache_dir: Option<PathBuf>,
) -> anyhow::Result<Result<ManifestInfo, String>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let limits = EngineLimits {
        memory_bytes: usize::try_from(memory_mb.max(1))
            .unwrap_or(usize::MAX / (1024 * 1024))
            .saturating_mul(1024 * 1024),
        // One slot is all a one-shot check needs; pooling stays on because
        // the server's pool limits are part of what can refuse a component.
        max_instances: 1,
        per_plugin: 1,
        pooling: true,
    };
    Ok(runtime.block_on(check_component(file, limits, cache_dir)))
}

pub fn print_manifest(file: &Path, info: &ManifestInfo) {
    println!(
        "ok: {} would load (kind {})",
        file.display(),
        info.kind.as_str()
    );
    println!("  name:        {}", info.name);
    println!("  version:     {}", info.version);
    println!("  kind:        {}", info.kind.as_str());
    println!("  description: {}", info.description);
    if info.styles.is_empty() {
        println!("  styles:      (none)");
    } else {
        println!("  styles:");
        for s in &info.styles {
            println!(
                "    - {} — {} ({} example{})",
                s.name,
                s.description,
                s.examples.len(),
                if s.examples.len() == 1 { "" } else { "s" }
            );
        }
    }
}
