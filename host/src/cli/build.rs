//! `plugin build`: compile a project to a component, check it with the
//! server's loading code, and install it atomically.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::BuildArgs;

/// How often the build prints that it is still running.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// The server's default plugins folder, relative to where it runs.
const DEFAULT_PLUGINS_DIR: &str = "plugins";

/// The server's default compile cache, relative to where it runs.
const DEFAULT_CACHE_DIR: &str = ".cache/promptsculptor";

pub fn run(args: &BuildArgs) -> anyhow::Result<i32> {
    let project = std::fs::canonicalize(&args.path)
        .with_context(|| format!("no plugin project at {}", args.path.display()))?;
    let started = Instant::now();
    let component = if project.join("Cargo.toml").is_file() {
        build_rust(&project)?
    } else if project.join("app.py").is_file() {
        build_python(&project)?
    } else if project.join("package.json").is_file() {
        build_js(&project)?
    } else {
        bail!(
            "{} is not a plugin project: no Cargo.toml (Rust), app.py (Python) or package.json (JavaScript/TypeScript)",
            project.display()
        );
    };
    let size = std::fs::metadata(&component).map(|m| m.len()).unwrap_or(0);
    println!(
        "==> built {} ({:.1} KiB) in {:.1} s",
        component.display(),
        size as f64 / 1024.0,
        started.elapsed().as_secs_f64()
    );
    // Without a folder to install into, a publish is checked by the server
    // alone: compiling here too would only double the wait.
    let folder = match (&args.plugins_dir, &args.publish) {
        (Some(dir), _) => Some(dir.clone()),
        (None, None) => Some(PathBuf::from(DEFAULT_PLUGINS_DIR)),
        (None, Some(_)) => None,
    };
    let mut name = None;
    if args.no_install || folder.is_some() {
        let cache = match (&folder, args.no_install) {
            (Some(dir), false) => cache_dir(args.cache_dir.as_deref(), &absolute(dir)?)?,
            _ => None,
        };
        println!("==> checking it as the server would load it");
        let info = match super::check::check_file(&component, memory_mb(), cache.clone())? {
            Ok(info) => info,
            Err(reason) => {
                eprintln!("refused: the component would not load: {reason}");
                eprintln!("nothing was installed");
                return Ok(1);
            }
        };
        super::check::print_manifest(&component, &info);
        if args.no_install {
            return Ok(0);
        }
        if let Some(dir) = &folder {
            let dir = absolute(dir)?;
            let dest = install(&component, &dir, &info.name)?;
            println!("==> installed {}", dest.display());
            let how = if args.plugins_dir.is_some() {
                "--plugins-dir or PROMPTSCULPTOR_PLUGINS_DIR"
            } else {
                "no --plugins-dir and PROMPTSCULPTOR_PLUGINS_DIR unset: the server's default ./plugins, here"
            };
            println!(
                "    ({how}); a server whose PROMPTSCULPTOR_PLUGINS_DIR is {} loads it without a restart: see GET /api/v1/plugins",
                dir.display()
            );
            if let Some(cache) = &cache {
                println!(
                    "    its compiled code is in {}: a server using that PROMPTSCULPTOR_CACHE_DIR skips compiling it",
                    cache.display()
                );
            }
        }
        name = Some(info.name);
    }
    if let Some(url) = &args.publish {
        let name = match name {
            Some(n) => n,
            None => project_name(&project)?,
        };
        return super::publish::run(url, &name, &component);
    }
    Ok(0)
}

/// `path` made absolute against the working directory, so every message
/// names exactly one folder.
fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
}

/// The compile cache to leave the check's compiled code in: the given one
/// (empty: none), else the server's default beside the plugins folder.
fn cache_dir(given: Option<&Path>, plugins_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    match given {
        Some(dir) if dir.as_os_str().is_empty() => Ok(None),
        Some(dir) => absolute(dir).map(Some),
        None => Ok(plugins_dir
            .parent()
            .map(|parent| parent.join(DEFAULT_CACHE_DIR))),
    }
}

/// The name a publish uploads under when nothing was checked locally: the
/// project's own (`[package]`/`[project]` name, `package.json` name), which
/// the scaffold also gives the manifest.
fn project_name(project: &Path) -> anyhow::Result<String> {
    let from_toml = |file: &str, table: &str| -> Option<String> {
        let text = std::fs::read_to_string(project.join(file)).ok()?;
        let mut in_table = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_table = line == table;
            } else if in_table
                && let Some(rest) = line.strip_prefix("name")
                && let Some(value) = rest.trim().strip_prefix('=')
            {
                return Some(value.trim().trim_matches('"').to_string());
            }
        }
        None
    };
    let from_json = || -> Option<String> {
        let text = std::fs::read_to_string(project.join("package.json")).ok()?;
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        json["name"].as_str().map(str::to_string)
    };
    from_toml("Cargo.toml", "[package]")
        .or_else(|| from_toml("pyproject.toml", "[project]"))
        .or_else(from_json)
        .filter(|n| !n.is_empty())
        .with_context(|| {
            format!(
                "cannot tell the plugin's name from {}: publish needs it for PUT /api/v1/plugins/{{name}}",
                project.display()
            )
        })
}

fn memory_mb() -> u64 {
    std::env::var("PROMPTSCULPTOR_PLUGIN_MEMORY_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

/// Copy to a hidden temp file in the plugins folder, then rename over the
/// target: the server's watcher never sees a half-written component, and a
/// request in flight keeps the old version.
fn install(component: &Path, plugins_dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(plugins_dir)
        .with_context(|| format!("cannot create {}", plugins_dir.display()))?;
    let dest = plugins_dir.join(format!("{name}.wasm"));
    // No `.wasm` suffix: the server only looks at `*.wasm` files.
    let tmp = plugins_dir.join(format!(".{name}.wasm.tmp{}", std::process::id()));
    std::fs::copy(component, &tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    if let Err(e) = std::fs::rename(&tmp, &dest) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot install {}", dest.display()));
    }
    Ok(dest)
}

fn ensure_wasm_target() {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out)
            if String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|l| l.trim() == "wasm32-wasip2") => {}
        Ok(_) => {
            println!("==> installing the wasm32-wasip2 target (rustup target add wasm32-wasip2)");
            match Command::new("rustup")
                .args(["target", "add", "wasm32-wasip2"])
                .status()
            {
                Ok(s) if s.success() => {}
                _ => eprintln!(
                    "warning: rustup could not add wasm32-wasip2; trying the build anyway"
                ),
            }
        }
        // No rustup (a distro toolchain): cargo says clearly if the target is missing.
        Err(_) => {}
    }
}

/// Run `cmd`, letting its stderr through (cargo's progress) and printing a
/// heartbeat while it runs; returns its stdout lines.
fn run_with_progress(mut cmd: Command, what: &str) -> anyhow::Result<Vec<String>> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {what}"))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let label = what.to_string();
    let ticker = std::thread::spawn(move || {
        let start = Instant::now();
        while let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(HEARTBEAT) {
            eprintln!(
                "    … {label} still running ({} s)",
                start.elapsed().as_secs()
            );
        }
    });
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .collect();
    let status = child
        .wait()
        .with_context(|| format!("{what} did not finish"))?;
    let _ = done_tx.send(());
    let _ = ticker.join();
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(lines)
}

fn build_rust(project: &Path) -> anyhow::Result<PathBuf> {
    ensure_wasm_target();
    println!(
        "==> cargo build --release --target wasm32-wasip2 in {}",
        project.display()
    );
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(project).args([
        "build",
        "--release",
        "--target",
        "wasm32-wasip2",
        // Artifacts as JSON on stdout (to find the .wasm wherever the target
        // dir is); diagnostics and progress still rendered on stderr.
        "--message-format=json-render-diagnostics",
    ]);
    let lines = run_with_progress(cmd, "cargo build")?;
    let mut found = None;
    for line in &lines {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let is_cdylib = msg["target"]["crate_types"]
            .as_array()
            .is_some_and(|t| t.iter().any(|k| k == "cdylib"));
        let wasm = msg["filenames"].as_array().and_then(|f| {
            f.iter()
                .filter_map(|p| p.as_str())
                .find(|p| p.ends_with(".wasm"))
        });
        if let (true, Some(w)) = (is_cdylib, wasm) {
            found = Some(PathBuf::from(w));
        }
    }
    found.context("cargo built no .wasm component: is the crate's [lib] crate-type = [\"cdylib\"]?")
}

/// The world a Python project targets, from `[tool.promptsculptor] world`
/// in its pyproject.toml (default `remix-plugin`).
fn python_world(project: &Path) -> String {
    let text = std::fs::read_to_string(project.join("pyproject.toml")).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("world"))
        .filter_map(|rest| rest.trim().strip_prefix('='))
        .map(|v| v.trim().trim_matches('"').to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "remix-plugin".to_string())
}

/// `componentize-py`: `PROMPTSCULPTOR_COMPONENTIZE_PY`, else on PATH.
fn componentize_py() -> PathBuf {
    std::env::var_os("PROMPTSCULPTOR_COMPONENTIZE_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("componentize-py"))
}

/// Python and JavaScript projects carry the contract their tool reads.
fn require_wit(project: &Path) -> anyhow::Result<()> {
    if !project.join("wit").is_dir() {
        bail!(
            "{} has no wit/ folder (the plugin contract)",
            project.display()
        );
    }
    Ok(())
}

/// `build/<project folder>.wasm`, its folder created: where a Python or
/// JavaScript tool writes the component.
fn output_file(project: &Path) -> anyhow::Result<PathBuf> {
    let name = project
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin".into());
    let out_dir = project.join("build");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    Ok(out_dir.join(format!("{name}.wasm")))
}

fn build_python(project: &Path) -> anyhow::Result<PathBuf> {
    let world = python_world(project);
    let wit = project.join("wit");
    require_wit(project)?;
    let out = output_file(project)?;
    let tool = componentize_py();
    println!(
        "==> {} -d wit -w {world} componentize app -o {} (in {})",
        tool.display(),
        out.display(),
        project.display()
    );
    let mut cmd = Command::new(&tool);
    cmd.current_dir(project)
        .arg("-d")
        .arg(&wit)
        .args(["-w", &world, "componentize", "app", "-o"])
        .arg(&out);
    run_with_progress(cmd, "componentize-py").map_err(|e| {
        e.context("is componentize-py installed? `pip install componentize-py==0.25.1`, or set PROMPTSCULPTOR_COMPONENTIZE_PY")
    })?;
    Ok(out)
}

/// A JavaScript/TypeScript project's tool: `$<env>`, else the project's
/// `node_modules/.bin/<tool>` (what `npm install` put there), else on PATH.
fn node_tool(project: &Path, tool: &str, env: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    let local = project.join("node_modules/.bin").join(tool);
    if local.is_file() {
        local
    } else {
        PathBuf::from(tool)
    }
}

/// Why a JavaScript tool would not run, and how to get it.
fn missing_node_tool(project: &Path, tool: &str, env: &str) -> String {
    format!(
        "is {tool} installed? run `npm install` in {} (its package.json pins it), or set {env}",
        project.display()
    )
}

fn build_js(project: &Path) -> anyhow::Result<PathBuf> {
    let manifest = project.join("package.json");
    let package: serde_json::Value = std::fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))
        .and_then(|text| {
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid JSON", manifest.display()))
        })?;
    let world = package["promptsculptor"]["world"]
        .as_str()
        .unwrap_or("remix-plugin")
        .to_string();
    let source = ["app.ts", "app.js"]
        .into_iter()
        .find(|s| project.join(s).is_file())
        .with_context(|| {
            format!(
                "{} has a package.json but no app.js or app.ts (the plugin's module)",
                project.display()
            )
        })?;
    require_wit(project)?;
    let jco = node_tool(project, "jco", "PROMPTSCULPTOR_JCO");
    if source == "app.ts" {
        // The typed bindings come from the project's own WIT on every build,
        // so they cannot drift from what the component is checked against.
        println!("==> {} guest-types wit -n {world} -o types", jco.display());
        let mut cmd = Command::new(&jco);
        cmd.current_dir(project)
            .args(["guest-types", "wit", "-n", &world, "-o", "types", "-q"]);
        run_with_progress(cmd, "jco guest-types")
            .map_err(|e| e.context(missing_node_tool(project, "jco", "PROMPTSCULPTOR_JCO")))?;
        let tsc = node_tool(project, "tsc", "PROMPTSCULPTOR_TSC");
        println!("==> {} --noEmit -p . (type check)", tsc.display());
        // tsc reports type errors on stdout: let them through as they are.
        let status = Command::new(&tsc)
            .current_dir(project)
            .args(["--noEmit", "-p", "."])
            .status()
            .with_context(|| missing_node_tool(project, "tsc", "PROMPTSCULPTOR_TSC"))?;
        if !status.success() {
            bail!("the type check failed ({status}): fix the errors above");
        }
    }
    let out = output_file(project)?;
    println!(
        "==> {} componentize {source} --wit wit -n {world} --bundle --disable http fetch-event -o {} (in {})",
        jco.display(),
        out.display(),
        project.display()
    );
    // The host's interfaces are imports of the component, not modules to
    // bundle: said so, the bundler does not warn about each of them.
    let bundle_config = project.join("build/promptsculptor-bundle.mjs");
    std::fs::write(
        &bundle_config,
        "// Written by `promptsculptor plugin build`.\nexport default { external: [/^promptsculptor:/, /^wasi:/] };\n",
    )
    .with_context(|| format!("cannot write {}", bundle_config.display()))?;
    let mut cmd = Command::new(&jco);
    // --bundle: the module and what it imports (the kit) become one file.
    // The host grants no HTTP: without --disable the component would import
    // wasi:http and fail to load.
    cmd.current_dir(project)
        .args([
            "componentize",
            source,
            "--wit",
            "wit",
            "-n",
            &world,
            "--bundle",
        ])
        .arg("--bundle-config")
        .arg(&bundle_config)
        .args(["--disable", "http", "fetch-event", "-o"])
        .arg(&out);
    run_with_progress(cmd, "jco componentize")
        .map_err(|e| e.context(missing_node_tool(project, "jco", "PROMPTSCULPTOR_JCO")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_tool_comes_from_the_project_before_path() {
        let project = tempfile::tempdir().expect("temp dir");
        let env = "PROMPTSCULPTOR_TEST_NODE_TOOL_UNSET";
        assert_eq!(node_tool(project.path(), "jco", env), PathBuf::from("jco"));
        let bin = project.path().join("node_modules/.bin");
        std::fs::create_dir_all(&bin).expect("bin");
        std::fs::write(bin.join("jco"), "#!/bin/sh\n").expect("write");
        assert_eq!(node_tool(project.path(), "jco", env), bin.join("jco"));
        assert_eq!(node_tool(project.path(), "tsc", env), PathBuf::from("tsc"));
    }
}
