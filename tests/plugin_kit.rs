//! The plugin authoring kit, for real: `plugin new` → `plugin build` into a
//! running server's plugins folder → an answer from `/api/v1/remix`, without
//! a restart; in Rust, (with componentize-py) in Python and (with jco and
//! componentize-js) in JavaScript and TypeScript. Plus `plugin check` and
//! the example style-pack.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

use common::llm::{FakeLlm, Reply, all_text};
use common::{Options, Server};
use serde_json::{Value, json};

const PROMPT: &str = "Summarise {{doc}} for {{ audience }}. Mention every risk.\nAnswer in {lang}.";

/// A new user's desk: an empty working folder outside any repository and a
/// fresh HOME. Only the toolchain is shared (CARGO_HOME, RUSTUP_HOME): a
/// fresh HOME would otherwise have no Rust and no registry index.
struct Desk {
    dir: tempfile::TempDir,
}

impl Desk {
    fn new() -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        std::fs::create_dir_all(dir.path().join("work")).expect("work");
        Desk { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The real binary, run in the working folder with the fresh HOME and a
    /// clean slate of the variables the kit reads.
    fn kit(&self) -> Command {
        let real_home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| real_home.join(".cargo"));
        let rustup_home = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| real_home.join(".rustup"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_promptsculptor"));
        cmd.arg("plugin")
            .current_dir(self.work())
            .env("HOME", self.home())
            .env("CARGO_HOME", cargo_home)
            .env("RUSTUP_HOME", rustup_home)
            // Compiled dependencies shared between the tests' projects (and
            // runs): a build cache, not a path into the repository's sources.
            .env(
                "CARGO_TARGET_DIR",
                common::repo_root().join("target/plugin-kit"),
            )
            .env_remove("PROMPTSCULPTOR_SDK_PATH")
            .env_remove("PROMPTSCULPTOR_PLUGINS_DIR")
            .env_remove("PROMPTSCULPTOR_CACHE_DIR")
            .env_remove("PROMPTSCULPTOR_ADMIN_KEY")
            .env_remove("PROMPTSCULPTOR_JCO")
            .env_remove("PROMPTSCULPTOR_TSC")
            .env_remove("PROMPTSCULPTOR_PLUGIN_MEMORY_MB");
        cmd
    }
}

fn run(mut cmd: Command) -> Output {
    let out = cmd.output().expect("run promptsculptor");
    eprintln!(
        "--- {:?}\nstdout:\n{}\nstderr:\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// `plugin new NAME --kind remix --lang LANG` in the desk's empty working
/// folder, returning the project. Nothing in it may point back into this
/// repository: the binary alone must be enough.
fn scaffold(desk: &Desk, name: &str, lang: &str) -> PathBuf {
    let mut cmd = desk.kit();
    cmd.args(["new", name, "--kind", "remix", "--lang", lang]);
    let out = run(cmd);
    assert!(out.status.success(), "plugin new failed");
    let project = desk.work().join(name);
    assert!(project.join("README.md").is_file(), "scaffold has a README");
    let repo = std::fs::canonicalize(common::repo_root()).expect("repo root");
    let repo = repo.to_string_lossy();
    for file in files_under(&project) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !text.contains(repo.as_ref()),
            "{} points into the repository ({repo})",
            file.display()
        );
    }
    if lang == "rust" {
        let manifest = std::fs::read_to_string(project.join("Cargo.toml")).expect("Cargo.toml");
        assert!(
            manifest.contains(r#"promptsculptor-sdk = { path = "sdk/plugins/sdk" }"#),
            "{manifest}"
        );
        let wit = std::fs::read_to_string(project.join("sdk/wit/plugin.wit")).expect("wit");
        assert!(
            wit.contains("package promptsculptor:plugin@0.1.1;"),
            "the SDK copy carries the host's WIT version"
        );
    }
    if lang == "js" || lang == "ts" {
        let package: Value = serde_json::from_str(
            &std::fs::read_to_string(project.join("package.json")).expect("package.json"),
        )
        .expect("package.json is JSON");
        assert_eq!(package["name"], name);
        assert_eq!(package["promptsculptor"]["world"], "remix-plugin");
        assert_eq!(
            package["devDependencies"]["@bytecodealliance/jco"], "1.35.0",
            "{package}"
        );
        assert_eq!(
            package["devDependencies"]["typescript"].is_string(),
            lang == "ts",
            "{package}"
        );
        let source = project.join(if lang == "ts" { "app.ts" } else { "app.js" });
        assert!(source.is_file(), "{}", source.display());
        let kit = std::fs::read_to_string(project.join("promptsculptor-kit.js")).expect("kit");
        assert!(
            kit.contains("from 'promptsculptor:plugin/llm@0.1.1'"),
            "the kit imports the host's WIT version"
        );
    }
    project
}

/// Poll the listing until `file` loads (the server hot-reloads; no restart).
async fn wait_loaded(s: &Server, file: &str) -> Value {
    let start = Instant::now();
    loop {
        let r = s.get("/api/v1/plugins").await;
        let row = r.json["plugins"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["file"] == file).cloned())
            .unwrap_or(Value::Null);
        if row["status"] == "ok" {
            return row;
        }
        assert!(
            row["status"] != "error" && start.elapsed() < Duration::from_secs(120),
            "{file} did not load: {row}\n{}",
            s.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_keeps_placeholders(r: &common::Resp, n: usize) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    let vs: Vec<String> = r.json["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(vs.len(), n, "{}", r.text);
    for v in &vs {
        for literal in ["{{doc}}", "{{ audience }}", "{lang}"] {
            assert!(v.contains(literal), "dropped {literal}: {v}");
        }
    }
    vs
}

/// The whole walkthrough against a server with a scripted LLM: the LLM path
/// (whose reply drops a variable the plugin must restore) and the
/// deterministic path. The server has a compile cache of its own, which the
/// build is pointed at: the component is compiled once, by the build's check.
async fn walkthrough(lang: &str, name: &str) {
    // The second call answers the prompt instead of rewriting it (no
    // variable left): the plugin's check sends one repair turn.
    let llm = FakeLlm::start(|i, _| match i {
        1 => Reply::Text("Sure! Here is a summary of the document.".into()),
        3 => Reply::Status(
            400,
            r#"{"error": {"message": "model not found", "type": "invalid_request_error"}}"#.into(),
            None,
        ),
        _ => Reply::Text("Plainly: sum up {{doc}}. Say every risk.".into()),
    })
    .await;
    let cache = tempfile::tempdir().expect("cache dir");
    let cache_dir = cache.path().to_string_lossy().into_owned();
    let s = Server::start(
        Options::default()
            .llm(&llm.base_url)
            .env("PROMPTSCULPTOR_CACHE_DIR", &cache_dir),
    )
    .await;
    let desk = Desk::new();
    let project = scaffold(&desk, name, lang);
    if lang == "ts" {
        // As the project's README says: `npm install`, here `npm ci` (the
        // scaffold's lockfile, exactly). The registry cache is shared like
        // CARGO_HOME (scripts/plugin-kits filled it); the project's own
        // node_modules/.bin then comes before the suite's tools on PATH.
        let real_home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
        let mut npm = Command::new("npm");
        npm.current_dir(&project)
            .args(["ci", "--no-audit", "--no-fund", "--prefer-offline"])
            .env("HOME", desk.home())
            .env("npm_config_cache", real_home.join(".npm"));
        assert!(run(npm).status.success(), "npm ci in the scaffold");
    }

    let started = Instant::now();
    let mut cmd = desk.kit();
    cmd.arg("build")
        .arg(&project)
        .arg("--plugins-dir")
        .arg(s.plugins_dir())
        .env("PROMPTSCULPTOR_CACHE_DIR", &cache_dir);
    let out = run(cmd);
    assert!(out.status.success(), "plugin build failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dest = s.plugins_dir().join(format!("{name}.wasm"));
    assert!(
        stdout.contains(&format!("installed {}", dest.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&cache_dir),
        "says where the compiled code went: {stdout}"
    );
    if lang == "ts" {
        let local = project.join("node_modules/.bin/jco");
        assert!(
            stdout.contains(&format!("==> {} componentize", local.display())),
            "the project's own jco: {stdout}"
        );
    }
    let row = wait_loaded(&s, &format!("{name}.wasm")).await;
    eprintln!(
        "{lang}: built and loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(row["kind"], "remix");
    assert_eq!(
        row["compiled_from_cache"], true,
        "the server loads the build's compiled code instead of compiling again: {row}"
    );
    let styles = row["styles"].as_array().cloned().unwrap_or_default();
    for st in [format!("{name}-plain"), format!("{name}-checklist")] {
        assert!(styles.iter().any(|x| x == &json!(st)), "{st} in {row}");
        let style = s.get(&format!("/api/v1/styles/{st}")).await;
        assert_eq!(style.status, 200, "{}", style.text);
        assert_eq!(style.json["source"], format!("plugin:{name}"));
    }

    let with_llm = |style: &str| json!({ "prompt": PROMPT, "style": format!("{name}-{style}"), "strategy": name, "use_llm": true });
    // LLM path: the fake's reply drops {{ audience }} and {lang}; the plugin
    // puts them back.
    let r = s.post("/api/v1/remix", &with_llm("plain")).await;
    let vs = assert_keeps_placeholders(&r, 1);
    assert!(vs[0].starts_with("Plainly: sum up {{doc}}."), "{}", vs[0]);
    assert_eq!(r.json["strategy"]["name"], name);
    assert_eq!(r.json["usage"]["llm_calls"], 1);
    let sent = all_text(&llm.received()[0].body);
    assert!(
        sent.contains("plain English"),
        "the style's instructions reach the LLM: {sent}"
    );

    // The repair turn: the answer-instead-of-rewrite reply, then the repair
    // instruction, and the repaired reply is served.
    let r = s.post("/api/v1/remix", &with_llm("checklist")).await;
    let vs = assert_keeps_placeholders(&r, 1);
    assert!(vs[0].starts_with("Plainly: sum up {{doc}}."), "{}", vs[0]);
    assert_eq!(r.json["usage"]["llm_calls"], 2, "{}", r.text);
    let repair = all_text(&llm.received()[2].body);
    assert!(
        repair.contains("Sure! Here is a summary") && repair.contains("Rewrite the prompt itself"),
        "the repair turn carries the reply and what to fix: {repair}"
    );

    // A failed LLM call is the kit's plugin error llm(…): the provider's
    // refusal, with its reason, not a plugin crash.
    let r = s.post("/api/v1/remix", &with_llm("plain")).await;
    let msg = r.assert_error(502, "llm_request_rejected");
    assert!(msg.contains("model not found"), "{msg}");

    assert_rule_based_remix(&s, name).await;
}

/// The scaffold's no-LLM path: real rule-based rewrites, distinct, each
/// keeping every placeholder, with changes that say what was done — or a
/// clear 422 when the rules cannot make as many distinct variants as asked.
async fn assert_rule_based_remix(s: &Server, name: &str) {
    let remix = |style: String, prompt: &str, variants: u32| json!({ "prompt": prompt, "style": style, "strategy": name, "variants": variants, "use_llm": false });
    let r = s
        .post(
            "/api/v1/remix",
            &remix(format!("{name}-checklist"), PROMPT, 2),
        )
        .await;
    let vs = assert_keeps_placeholders(&r, 2);
    assert_ne!(vs[0], vs[1], "distinct variants");
    assert!(
        vs[0].starts_with("Goal: Summarise {{doc}} for {{ audience }}."),
        "{}",
        vs[0]
    );
    assert!(
        vs[0].contains("\n1. Mention every risk.\n2. Answer in {lang}."),
        "{}",
        vs[0]
    );
    assert!(vs[1].contains("\n- [ ] Mention every risk."), "{}", vs[1]);
    assert_eq!(r.json["usage"]["llm_calls"], 0);
    let changes = r.json["changes"].to_string();
    assert!(changes.contains("into a goal and 2 step(s)"), "{changes}");

    let wordy = "Utilise {{doc}} in order to facilitate a summary. Commence with {{utilise}}.";
    let r = s
        .post("/api/v1/remix", &remix(format!("{name}-plain"), wordy, 2))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json["variants"],
        json!([
            "Use {{doc}} to help a summary. Start with {{utilise}}.",
            "Use {{doc}} to help a summary.\nStart with {{utilise}}."
        ]),
        "placeholders untouched by the rules"
    );
    let changes = r.json["changes"][0].as_str().unwrap_or_default();
    assert!(
        changes.starts_with("Replaced 4 wordy phrase(s): utilise→use, facilitate→help, in order to→to, commence→start"),
        "{changes}"
    );

    // One sentence, no wordy phrase: no rule changes it, and the plugin says so.
    let r = s
        .post(
            "/api/v1/remix",
            &remix(format!("{name}-plain"), "Sum up {{doc}}.", 1),
        )
        .await;
    let msg = r.assert_error(422, "validation_failed");
    assert!(msg.contains("without an LLM, no rule of"), "{msg}");
    let r = s
        .post(
            "/api/v1/remix",
            &remix(format!("{name}-checklist"), PROMPT, 3),
        )
        .await;
    let msg = r.assert_error(422, "validation_failed");
    assert!(
        msg.contains("has 2 distinct rewrite(s); ask for at most 2, or set use_llm"),
        "{msg}"
    );
}

#[tokio::test]
async fn rust_walkthrough_new_build_remix_without_restart() {
    walkthrough("rust", "kit-rust-styles").await;
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

#[tokio::test]
async fn python_walkthrough_new_build_remix_without_restart() {
    if kit_on_path("python") {
        walkthrough("python", "kit-py-styles").await;
    }
}

/// Whether a language's build tools are on PATH (Python: componentize-py;
/// JavaScript: jco; TypeScript: jco and tsc). When not, the test is skipped
/// — unless scripts/test, which installs them, said they must be there.
fn kit_on_path(lang: &str) -> bool {
    let (tools, require): (&[&str], &str) = match lang {
        "python" => (&["componentize-py"], "PROMPTSCULPTOR_REQUIRE_PYTHON_KIT"),
        "ts" => (&["jco", "tsc"], "PROMPTSCULPTOR_REQUIRE_JS_KIT"),
        _ => (&["jco"], "PROMPTSCULPTOR_REQUIRE_JS_KIT"),
    };
    if tools.iter().all(|t| on_path(t)) {
        return true;
    }
    assert!(
        std::env::var_os(require).is_none(),
        "{tools:?} not on PATH but {require} is set"
    );
    eprintln!("skipped: {tools:?} not on PATH (scripts/plugin-kits installs them under target/)");
    false
}

#[tokio::test]
async fn javascript_walkthrough_new_build_remix_without_restart() {
    if kit_on_path("js") {
        walkthrough("js", "kit-js-styles").await;
    }
}

#[tokio::test]
async fn typescript_walkthrough_new_build_remix_without_restart() {
    if kit_on_path("ts") {
        walkthrough("ts", "kit-ts-styles").await;
    }
}

/// A TypeScript plugin is type-checked against the bindings generated from
/// its WIT: every kind's template passes, and a type error stops the build
/// before anything is compiled or installed.
#[test]
fn typescript_templates_type_check_and_a_type_error_stops_the_build() {
    if !kit_on_path("ts") {
        return;
    }
    let desk = Desk::new();
    for kind in ["analyze", "create", "grade"] {
        let name = format!("ts-{kind}");
        let mut cmd = desk.kit();
        cmd.args(["new", &name, "--kind", kind, "--lang", "ts"]);
        assert!(run(cmd).status.success());
        let project = desk.work().join(&name);
        let package = std::fs::read_to_string(project.join("package.json")).expect("package");
        assert!(
            package.contains(&format!("\"world\": \"{kind}-plugin\"")),
            "{package}"
        );
        let mut types = Command::new("jco");
        types
            .current_dir(&project)
            .args(["guest-types", "wit", "-n", &format!("{kind}-plugin")])
            .args(["-o", "types", "-q"]);
        assert!(run(types).status.success());
        let mut tsc = Command::new("tsc");
        tsc.current_dir(&project).args(["--noEmit", "-p", "."]);
        assert!(run(tsc).status.success(), "the {kind} template type-checks");
    }

    let mut cmd = desk.kit();
    cmd.args(["new", "ts-broken", "--lang", "ts"]);
    assert!(run(cmd).status.success());
    let project = desk.work().join("ts-broken");
    let app = std::fs::read_to_string(project.join("app.ts")).expect("app.ts");
    assert!(app.contains("kind: 'remix'"));
    std::fs::write(
        project.join("app.ts"),
        app.replace("kind: 'remix'", "kind: 'remixer'"),
    )
    .expect("write");
    let plugins = desk.work().join("plugins");
    let mut cmd = desk.kit();
    cmd.arg("build")
        .arg(&project)
        .arg("--plugins-dir")
        .arg(&plugins);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("\"remixer\"") && text(&out.stdout).contains("app.ts("),
        "tsc names the bad value: {}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("the type check failed"),
        "{}",
        text(&out.stderr)
    );
    assert!(!project.join("build").exists(), "nothing was compiled");
    assert!(!plugins.exists(), "nothing was installed");
}

/// The analyze, create and grade scaffolds, built and answering through
/// their endpoints: Rust for every kind; JavaScript and Python for the
/// newest world (grade). The JavaScript analyze and create templates are
/// their TypeScript twins without the types, which are type-checked above;
/// each interpreter build costs ~30 s, so not every pair runs.
#[tokio::test]
async fn every_kind_scaffold_builds_and_answers() {
    let mut builds = vec![("rust", "analyze"), ("rust", "create"), ("rust", "grade")];
    if kit_on_path("js") {
        builds.push(("js", "grade"));
    }
    if kit_on_path("python") {
        builds.push(("python", "grade"));
    }
    let cache = tempfile::tempdir().expect("cache dir");
    let s = Server::start(
        Options::default().env("PROMPTSCULPTOR_CACHE_DIR", &cache.path().to_string_lossy()),
    )
    .await;
    let desk = Desk::new();
    for (lang, kind) in builds {
        let name = format!("kit-{lang}-{kind}");
        let mut cmd = desk.kit();
        cmd.args(["new", &name, "--kind", kind, "--lang", lang]);
        assert!(run(cmd).status.success());
        let mut cmd = desk.kit();
        cmd.arg("build")
            .arg(desk.work().join(&name))
            .arg("--plugins-dir")
            .arg(s.plugins_dir())
            .env("PROMPTSCULPTOR_CACHE_DIR", cache.path());
        assert!(run(cmd).status.success(), "{lang} {kind}: plugin build");
        let file = std::fs::read_dir(s.plugins_dir())
            .expect("plugins dir")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .find(|f| f == &format!("{name}.wasm"))
            .expect("installed under the manifest name");
        let row = wait_loaded(&s, &file).await;
        let what = format!("{lang} {kind}: {row}");
        match kind {
            "analyze" => {
                assert_eq!(row["kind"], "analyze", "{what}");
                let r = s
                    .post(
                        "/api/v1/analyze",
                        &json!({ "prompt": "Write about {{topic}}.", "strategy": name, "use_llm": false }),
                    )
                    .await;
                assert_eq!(r.status, 200, "{what}: {}", r.text);
                assert_eq!(
                    r.json["issues"][0]["code"], "too-short",
                    "{what}: {}",
                    r.text
                );
                assert_eq!(
                    r.json["stats"]["variables"],
                    json!(["topic"]),
                    "{what}: {}",
                    r.text
                );
            }
            "create" => {
                assert_eq!(row["kind"], "create", "{what}");
                let r = s
                    .post(
                        "/api/v1/create",
                        &json!({ "goal": "Classify tickets by urgency", "variables": ["ticket"], "constraints": ["One word"], "strategy": name, "use_llm": false }),
                    )
                    .await;
                assert_eq!(r.status, 200, "{what}: {}", r.text);
                let prompt = r.json["prompt"].as_str().unwrap_or_default();
                for part in [
                    "Your task: Classify tickets by urgency",
                    "- One word",
                    "<ticket>\n{{ticket}}\n</ticket>",
                ] {
                    assert!(prompt.contains(part), "{what}: {part:?} in {prompt:?}");
                }
            }
            _ => {
                assert_eq!(row["kind"], "grade", "{what}");
                let grade = |config: Value| {
                    json!({
                        "prompts": [{ "id": "a", "prompt": "Describe {{product}} briefly." }],
                        "cases": [{ "id": "c1", "vars": { "product": "a kettle" },
                                    "output": "A kettle boils water and sings loudly.",
                                    "assert": [{ "type": "grader", "value": name, "config": config }] }]
                    })
                };
                let r = s
                    .post("/api/v1/evaluate", &grade(json!({ "max_words": 3 })))
                    .await;
                assert_eq!(r.status, 200, "{what}: {}", r.text);
                let result = &r.json["results"][0];
                let a = &result["assertions"][0];
                assert_eq!(a["pass"], false, "{what}: {result}");
                // 3/7 is under the assertion's default threshold (0.5).
                assert_eq!(a["reason"], "7 words; at most 3 pass", "{what}: {result}");
                let score = result["score"].as_f64().unwrap_or(-1.0);
                assert!((score - 3.0 / 7.0).abs() < 1e-9, "{what}: {result}");
                let r = s
                    .post("/api/v1/evaluate", &grade(json!({ "max_words": "five" })))
                    .await;
                assert_eq!(r.status, 200, "{what}: {}", r.text);
                let error = &r.json["results"][0]["error"];
                assert_eq!(error["code"], "validation_failed", "{what}: {error}");
                assert!(
                    error["message"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("config.max_words must be a positive integer"),
                    "{what}: {error}"
                );
            }
        }
    }
}

/// A JavaScript project the build cannot handle gets one clear reason and
/// nothing installed: no jco anywhere, a package.json that is not JSON, no
/// module to build. Needs no JavaScript tools.
#[test]
fn javascript_build_failures_say_what_to_do() {
    let desk = Desk::new();
    let mut cmd = desk.kit();
    cmd.args(["new", "js-lost", "--lang", "js"]);
    assert!(run(cmd).status.success());
    let project = desk.work().join("js-lost");
    let plugins = desk.work().join("plugins");
    let build = |path: &str| {
        let mut cmd = desk.kit();
        cmd.arg("build")
            .arg(&project)
            .arg("--plugins-dir")
            .arg(&plugins)
            .env("PATH", path);
        run(cmd)
    };
    // A PATH with nothing on it (a global jco could sit in /usr/bin), and
    // no node_modules in the project.
    let nothing = desk.dir.path().join("no-tools");
    std::fs::create_dir_all(&nothing).expect("dir");
    let nothing = nothing.to_string_lossy().into_owned();
    // Exit code 1 and the reason on stderr.
    let refused = |needles: &[&str]| {
        let out = build(&nothing);
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        for needle in needles {
            assert!(stderr.contains(needle), "{needle} in {stderr}");
        }
    };
    refused(&[
        "is jco installed? run `npm install` in",
        "or set PROMPTSCULPTOR_JCO",
    ]);

    std::fs::write(project.join("package.json"), "{ not json").expect("write");
    refused(&["package.json is not valid JSON"]);

    std::fs::write(project.join("package.json"), "{}").expect("write");
    std::fs::remove_file(project.join("app.js")).expect("remove");
    refused(&["has a package.json but no app.js or app.ts"]);
    assert!(!plugins.exists(), "nothing was installed");
}

/// The README's "Writing a plugin" commands, run by bash as written, from a
/// stand-in for the folder where `scripts/serve` runs (the test server's own
/// folder: its `plugins/`, and the binary under `target/release`), with a
/// fresh HOME. The only edit is the server's address for `localhost:8080`;
/// the curl waits until the server lists the plugin, as a reader would.
#[tokio::test]
async fn readme_walkthrough_runs_as_written() {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).expect("README");
    let section = &readme[readme.find("### Writing a plugin").expect("the section")..];
    let start = section.find("```sh\n").expect("its sh block") + "```sh\n".len();
    let block = &section[start..start + section[start..].find("```").expect("block end")];
    let at = block.find("curl ").expect("the curl step");
    let (setup, try_it) = block.split_at(at);

    let s = Server::start(Options::default()).await;
    let served_from = s.dir.path();
    let bin = Path::new(env!("CARGO_BIN_EXE_promptsculptor"))
        .parent()
        .expect("bin dir");
    std::fs::create_dir_all(served_from.join("target")).expect("target");
    std::os::unix::fs::symlink(bin, served_from.join("target/release")).expect("symlink");
    let desk = Desk::new();
    let bash = |script: &str| {
        let mut cmd = desk.kit();
        cmd.env_remove("PROMPTSCULPTOR_PLUGINS_DIR")
            .env("TMPDIR", desk.dir.path())
            .current_dir(served_from);
        // desk.kit() is `promptsculptor plugin`; the README is a shell script.
        let mut sh = Command::new("bash");
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => sh.env(k, v),
                None => sh.env_remove(k),
            };
        }
        sh.current_dir(served_from)
            .args(["-euo", "pipefail", "-c"])
            .arg(script.replace("localhost:8080", s.base.trim_start_matches("http://")));
        run(sh)
    };
    let out = bash(setup);
    assert!(out.status.success(), "the README's setup and build failed");
    wait_loaded(&s, "my-styles.wasm").await;
    let out = bash(try_it);
    assert!(out.status.success());
    let answer: Value = serde_json::from_slice(&out.stdout).expect("JSON answer");
    assert_eq!(
        answer["variants"],
        json!(["Use {{doc}} to help a summary."]),
        "{answer}"
    );
}

const ADMIN: &str = "kit-admin-key-4f2a";

/// `plugin build` from the desk with extra environment.
fn build_with(desk: &Desk, project: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = desk.kit();
    cmd.arg("build").arg(project).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(cmd)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Without `--plugins-dir`, the build installs where
/// PROMPTSCULPTOR_PLUGINS_DIR points, as the server does, else into
/// `./plugins`, and says exactly where (and where the compiled code went).
#[test]
fn build_installs_where_the_server_looks_and_says_where() {
    let desk = Desk::new();
    let project = scaffold(&desk, "kit-where", "rust");
    let srv = desk.dir.path().join("srv");
    let plugins = srv.join("plugins");
    let out = build_with(
        &desk,
        &project,
        &[],
        &[("PROMPTSCULPTOR_PLUGINS_DIR", &plugins)],
    );
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let dest = plugins.join("kit-where.wasm");
    assert!(dest.is_file(), "installed into PROMPTSCULPTOR_PLUGINS_DIR");
    assert!(
        stdout.contains(&format!("installed {}", dest.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "whose PROMPTSCULPTOR_PLUGINS_DIR is {}",
            plugins.display()
        )),
        "{stdout}"
    );
    // The compile cache a default server beside that folder uses.
    let cache = srv.join(".cache/promptsculptor");
    let entries: Vec<_> = std::fs::read_dir(&cache)
        .map(|d| d.filter_map(Result::ok).collect())
        .unwrap_or_default();
    assert!(
        entries
            .iter()
            .any(|e| e.file_name().to_string_lossy().ends_with(".cwasm")),
        "compiled code in {}: {stdout}",
        cache.display()
    );

    // Nothing set: ./plugins of the working folder, and the message says so.
    let out = build_with(&desk, &project, &[], &[]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let dest = desk.work().join("plugins/kit-where.wasm");
    assert!(dest.is_file(), "installed into ./plugins");
    assert!(
        stdout.contains(&format!("installed {}", dest.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("the server's default ./plugins"),
        "{stdout}"
    );

    // An empty PROMPTSCULPTOR_CACHE_DIR: no compiled code left anywhere.
    let other = desk.dir.path().join("other/plugins");
    let empty = PathBuf::new();
    let out = build_with(
        &desk,
        &project,
        &["--plugins-dir", &other.to_string_lossy()],
        &[("PROMPTSCULPTOR_CACHE_DIR", &empty)],
    );
    assert!(out.status.success());
    assert!(other.join("kit-where.wasm").is_file());
    assert!(!desk.dir.path().join("other/.cache").exists());
}

/// `plugin build --publish URL` uploads to a running server's
/// `PUT /api/v1/plugins/{name}`, which checks and serves it; no folder is
/// written unless one is named. Each refusal is one clear line.
#[tokio::test]
async fn build_publishes_to_a_running_server() {
    let s = Server::start(Options::default().env("PROMPTSCULPTOR_ADMIN_KEYS", ADMIN)).await;
    let desk = Desk::new();
    let project = scaffold(&desk, "kit-pub", "rust");
    let key = |k: &str| PathBuf::from(k);

    let out = build_with(&desk, &project, &["--publish", &s.base], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("PROMPTSCULPTOR_ADMIN_KEY is not set"),
        "{}",
        text(&out.stderr)
    );

    let wrong = key("not-the-key");
    let out = build_with(
        &desk,
        &project,
        &["--publish", &s.base],
        &[("PROMPTSCULPTOR_ADMIN_KEY", &wrong)],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("publish refused: 401"), "{stderr}");

    let admin = key(ADMIN);
    let out = build_with(
        &desk,
        &project,
        &["--publish", &format!("{}/api/v1/", s.base)],
        &[("PROMPTSCULPTOR_ADMIN_KEY", &admin)],
    );
    assert!(out.status.success(), "publish failed");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("==> published kit-pub 0.1.0"), "{stdout}");
    assert!(
        !desk.work().join("plugins").exists(),
        "a publish alone writes no folder"
    );
    let listed = s.get("/api/v1/plugins").await;
    let row = listed.json["plugins"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == "kit-pub").cloned())
        .unwrap_or(Value::Null);
    assert_eq!(row["source"], "published", "{row}");
    assert_eq!(row["status"], "ok", "{row}");
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": PROMPT, "style": "kit-pub-checklist", "strategy": "kit-pub", "use_llm": false }),
        )
        .await;
    assert_keeps_placeholders(&r, 1);

    // The server is the one that checks: a manifest whose name is not the
    // project's is refused with the server's reason and a hint.
    let lib = project.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).expect("lib.rs");
    std::fs::write(
        &lib,
        source.replace(r#"Manifest::new("kit-pub""#, r#"Manifest::new("kit-other""#),
    )
    .expect("edit");
    let out = build_with(
        &desk,
        &project,
        &["--publish", &s.base],
        &[("PROMPTSCULPTOR_ADMIN_KEY", &admin)],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("publish refused: 422 plugin_rejected"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the plugin's manifest must use the same name"),
        "{stderr}"
    );

    // Nobody listening.
    let out = build_with(
        &desk,
        &project,
        &["--publish", "http://127.0.0.1:9"],
        &[("PROMPTSCULPTOR_ADMIN_KEY", &admin)],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot reach http://127.0.0.1:9/api/v1/plugins/kit-pub"),
        "{}",
        text(&out.stderr)
    );
}

fn check(file: &Path) -> Output {
    let desk = Desk::new();
    let mut cmd = desk.kit();
    cmd.arg("check").arg(file);
    run(cmd)
}

#[test]
fn check_prints_the_manifest_or_the_reason() {
    let out = check(&common::plugin_file("style-pack"));
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "name:        style-pack",
        "kind:        remix",
        "version:     0.1.0",
        "anthropic-xml",
        "openai-markdown-sections",
        "json-schema-output",
    ] {
        assert!(stdout.contains(needle), "{needle} in {stdout}");
    }

    let dir = tempfile::tempdir().expect("temp dir");
    // A valid, empty component: it exports none of the plugin interfaces.
    let wrong_world = dir.path().join("empty.wasm");
    std::fs::write(&wrong_world, b"\0asm\x0d\x00\x01\x00").expect("write");
    let out = check(&wrong_world);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("matches no plugin world"), "{stderr}");

    // A plugin whose style takes a builtin's name is refused with that reason.
    let out = check(&common::plugin_file("styler-conflict"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("'concise' already exists"), "{stderr}");

    // A file that is not Wasm at all (the README, say): one line that says
    // what it is and what a plugin is, not a dump of magic bytes.
    let out = check(&common::repo_root().join("README.md"));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("would not load: not a WebAssembly file (")
            && stderr.contains("starting with \"# PromptSculptor")
            && stderr.contains("plugin build"),
        "{stderr}"
    );
    // A core module (what `cargo build --target wasm32-unknown-unknown` makes).
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\x00\x00\x00").expect("write");
    let out = check(&core);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("a core WebAssembly module, not a component"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_plugins_listing_gives_one_line_load_errors() {
    let s = Server::start(Options::default()).await;
    let readme = std::fs::read(common::repo_root().join("README.md")).expect("README");
    std::fs::write(s.plugins_dir().join("readme.wasm"), readme).expect("write");
    let start = Instant::now();
    let row = loop {
        let r = s.get("/api/v1/plugins").await;
        let row = r.json["plugins"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["file"] == "readme.wasm").cloned());
        if let Some(row) = row {
            break row;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "never listed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(row["status"], "error");
    let error = row["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("not a WebAssembly file ("), "{error}");
    assert!(!error.contains('\n'), "{error:?}");
}

#[tokio::test]
async fn style_pack_styles_are_listed_and_remix_deterministically() {
    let s =
        Server::start(Options::default().plugins(&["analyze", "remix", "create", "style-pack"]))
            .await;
    let listed = s.get("/api/v1/styles").await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let mut pack: Vec<String> = listed.json["styles"]
        .as_array()
        .expect("styles")
        .iter()
        .filter(|st| st["source"] == "plugin:style-pack")
        .filter_map(|st| st["name"].as_str().map(str::to_string))
        .collect();
    pack.sort();
    assert_eq!(
        pack,
        [
            "anthropic-xml",
            "json-schema-output",
            "openai-markdown-sections"
        ]
    );
    for style in &pack {
        let body = json!({ "prompt": PROMPT, "style": style, "strategy": "style-pack", "variants": 3, "use_llm": false });
        let first = s.post("/api/v1/remix", &body).await;
        let vs = assert_keeps_placeholders(&first, 3);
        assert_eq!(first.json["style"]["source"], "plugin:style-pack");
        assert_ne!(vs[0], vs[1], "{style}: distinct variants");
        let again = s.post("/api/v1/remix", &body).await;
        assert_eq!(
            first.json["variants"], again.json["variants"],
            "{style}: deterministic"
        );
    }
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": PROMPT, "style": "anthropic-xml", "strategy": "style-pack", "use_llm": false }),
        )
        .await;
    let v = r.json["prompt"].as_str().unwrap_or_default();
    assert!(
        v.contains("<doc>\n{{doc}}\n</doc>") && v.contains("<answer>"),
        "{v}"
    );
}
