//! Items 1, 5 and 6 of issue 11, and the retry half of item 4: what a
//! hostile or careless file in the plugins folder can do to the plugins
//! already serving.
//!
//! - name takeover: an impostor claiming `analyze` never takes the name
//!   from the file that holds it, a freed name goes to the remaining file at
//!   once, and a clash is never remembered once the holder is gone;
//! - unbounded manifests: a remix plugin declaring 40,000 styles is refused
//!   quickly, and a reload writes only the styles that changed;
//! - unbounded files: a 2 GiB sparse `*.wasm` is refused from its size
//!   alone, without being read, and the next plugin still loads promptly;
//! - a refusal that depends on something other than the file (a style name
//!   taken by a user style) is retried by itself, without a file event.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{self, Options, Server, install, peak_rss_mib};

async fn rows(s: &Server) -> Vec<Value> {
    let r = s.get("/api/v1/plugins").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["plugins"].as_array().cloned().unwrap_or_default()
}

async fn row(s: &Server, file: &str) -> Value {
    rows(s)
        .await
        .into_iter()
        .find(|p| p["file"] == file)
        .unwrap_or(Value::Null)
}

/// Poll the listing until `pred` holds for `file`'s row (or fail after `within`).
async fn wait_row(
    s: &Server,
    file: &str,
    within: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let r = row(s, file).await;
        if pred(&r) {
            return r;
        }
        assert!(
            start.elapsed() < within,
            "timed out waiting on {file}: {r}\nall rows: {}\n{}",
            Value::Array(rows(s).await),
            s.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn error_of(row: &Value) -> &str {
    row["error"].as_str().unwrap_or_default()
}

/// The default analyzer's answer: which plugin (name, version) served it.
async fn default_analyzer(s: &Server) -> (String, String) {
    let r = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": "Write some stuff about dogs.", "use_llm": false }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    (
        r.json["strategy"]["name"]
            .as_str()
            .unwrap_or_default()
            .into(),
        r.json["strategy"]["version"]
            .as_str()
            .unwrap_or_default()
            .into(),
    )
}

/// The version the real analyzer reports (the impostor says 0.0.1).
async fn real_analyze_version(s: &Server) -> String {
    let r = wait_row(s, "analyze.wasm", Duration::from_secs(30), |r| {
        r["status"] == "ok"
    })
    .await;
    let v = r["version"].as_str().unwrap_or_default().to_string();
    assert_ne!(
        v, "0.0.1",
        "the test needs the real analyzer to differ from the impostor"
    );
    v
}

async fn assert_ready(s: &Server) {
    let r = s.get("/readyz").await;
    assert_eq!(r.status, 200, "/readyz: {}", r.text);
}

#[tokio::test]
async fn impostor_dropped_in_never_takes_a_held_name() {
    let s = Server::start(Options::default()).await;
    s.wait_ready().await;
    let real = real_analyze_version(&s).await;
    let dir = s.plugins_dir();

    // "aaa-…" sorts before "analyze.wasm": file-name order must not matter.
    install(&common::plugin_file("impostor"), &dir, "aaa-impostor.wasm");
    let imp = wait_row(&s, "aaa-impostor.wasm", Duration::from_secs(20), |r| {
        r["status"] == "error"
    })
    .await;
    assert!(
        error_of(&imp).contains("plugin name 'analyze' is already used by analyze.wasm"),
        "{imp}"
    );
    let held = row(&s, "analyze.wasm").await;
    assert_eq!(held["status"], "ok", "{held}");
    assert_eq!(default_analyzer(&s).await, ("analyze".into(), real.clone()));
    assert_ready(&s).await;

    // A later rescan (another file appears) does not change the verdict.
    install(&common::plugin_file("faulty"), &dir, "faulty.wasm");
    wait_row(&s, "faulty.wasm", Duration::from_secs(20), |r| {
        r["status"] == "ok"
    })
    .await;
    assert_eq!(row(&s, "aaa-impostor.wasm").await["status"], "error");
    assert_eq!(default_analyzer(&s).await, ("analyze".into(), real));

    // Removing the impostor leaves no error row behind.
    std::fs::remove_file(dir.join("aaa-impostor.wasm")).expect("rm");
    wait_row(
        &s,
        "aaa-impostor.wasm",
        Duration::from_secs(20),
        Value::is_null,
    )
    .await;
    let errors: Vec<Value> = rows(&s)
        .await
        .into_iter()
        .filter(|r| r["status"] != "ok")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_ready(&s).await;
}

#[tokio::test]
async fn freed_name_passes_to_the_other_file_in_both_directions() {
    // Cold start with both files present: the file named after the plugin
    // (analyze.wasm for "analyze") wins, whatever sorts first.
    let impostor = std::fs::read(common::plugin_file("impostor")).expect("impostor");
    let s = Server::start(Options {
        extra_files: vec![("aaa-impostor.wasm".into(), impostor)],
        ..Options::default()
    })
    .await;
    s.wait_ready().await;
    let real = real_analyze_version(&s).await;
    let dir = s.plugins_dir();
    let imp = wait_row(&s, "aaa-impostor.wasm", Duration::from_secs(20), |r| {
        r["status"] == "error"
    })
    .await;
    assert!(
        error_of(&imp).contains("plugin name 'analyze' is already used by analyze.wasm"),
        "{imp}"
    );
    assert_eq!(default_analyzer(&s).await, ("analyze".into(), real.clone()));
    assert_ready(&s).await;

    // The holder is deleted: its name is free in that same rescan, and the
    // impostor, the only claimant left, gets it.
    std::fs::remove_file(dir.join("analyze.wasm")).expect("rm");
    wait_row(&s, "aaa-impostor.wasm", Duration::from_secs(20), |r| {
        r["status"] == "ok"
    })
    .await;
    assert_eq!(
        default_analyzer(&s).await,
        ("analyze".into(), "0.0.1".into())
    );
    assert_ready(&s).await;

    // The real file comes back while the impostor holds the name: the
    // holder keeps it, the newcomer is told who holds it.
    install(&common::plugin_file("analyze"), &dir, "analyze.wasm");
    let back = wait_row(&s, "analyze.wasm", Duration::from_secs(20), |r| {
        r["status"] == "error"
    })
    .await;
    assert!(
        error_of(&back).contains("plugin name 'analyze' is already used by aaa-impostor.wasm"),
        "{back}"
    );

    // The case: the impostor holding the name is removed. The real
    // analyzer must load in that rescan, not stay refused from a clash
    // remembered by its unchanged sha256.
    std::fs::remove_file(dir.join("aaa-impostor.wasm")).expect("rm");
    wait_row(&s, "analyze.wasm", Duration::from_secs(20), |r| {
        r["status"] == "ok"
    })
    .await;
    assert_eq!(default_analyzer(&s).await, ("analyze".into(), real));
    assert_ready(&s).await;
    let errors: Vec<Value> = rows(&s)
        .await
        .into_iter()
        .filter(|r| r["status"] != "ok")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn manifest_with_too_many_styles_is_refused_quickly() {
    let s = Server::start(Options::default()).await;
    s.wait_ready().await;
    let dir = s.plugins_dir();

    let started = Instant::now();
    install(
        &common::plugin_file("styler-many"),
        &dir,
        "styler-many.wasm",
    );
    let refused = wait_row(&s, "styler-many.wasm", Duration::from_secs(30), |r| {
        !r.is_null()
    })
    .await;
    let took = started.elapsed();
    eprintln!("40,000-style manifest: listed after {took:?}: {refused}");
    assert_eq!(refused["status"], "error", "{refused}");
    assert!(
        error_of(&refused).contains("40000 styles") && error_of(&refused).contains("256"),
        "the reason names the count and the cap: {refused}"
    );
    assert!(
        took < Duration::from_secs(5),
        "refused after {took:?}; it must not take the seconds of a quadratic check"
    );
    let styles = s.get("/api/v1/styles").await;
    assert_eq!(styles.status, 200);
    assert!(
        styles.text.len() < 256 * 1024,
        "GET /api/v1/styles is {} bytes",
        styles.text.len()
    );
    let t = Instant::now();
    assert_ready(&s).await;
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "/readyz took {:?}",
        t.elapsed()
    );

    // A well-behaved style plugin added afterwards loads promptly.
    let t = Instant::now();
    install(&common::plugin_file("styler"), &dir, "styler.wasm");
    wait_row(&s, "styler.wasm", Duration::from_secs(20), |r| {
        r["status"] == "ok"
    })
    .await;
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    let loud = s.get("/api/v1/styles/styler-loud").await;
    assert_eq!(loud.status, 200, "{}", loud.text);
    assert_eq!(loud.json["source"], "plugin:styler");

    // A reload caused by an unrelated file must not rewrite the styles of
    // plugins that did not change: their updated_at stays as it was.
    install(&common::plugin_file("faulty"), &dir, "faulty.wasm");
    wait_row(&s, "faulty.wasm", Duration::from_secs(20), |r| {
        r["status"] == "ok"
    })
    .await;
    let again = s.get("/api/v1/styles/styler-loud").await;
    assert_eq!(again.status, 200);
    assert_eq!(
        again.json["updated_at"], loud.json["updated_at"],
        "an unrelated reload rewrote a plugin style"
    );
    assert_eq!(row(&s, "styler-many.wasm").await["status"], "error");
}

#[tokio::test]
async fn oversized_component_is_refused_without_being_read() {
    let s = Server::start(Options::default()).await;
    s.wait_ready().await;
    let dir = s.plugins_dir();
    let pid = s.pid();
    let before = peak_rss_mib(pid);

    // 2 GiB, sparse: costs no disk, but a reader would have to hold it all.
    let huge = std::fs::File::create(dir.join("huge.wasm")).expect("create");
    huge.set_len(2 << 30).expect("set_len");
    drop(huge);
    let refused = wait_row(&s, "huge.wasm", Duration::from_secs(20), |r| !r.is_null()).await;
    assert_eq!(refused["status"], "error", "{refused}");
    assert!(
        error_of(&refused).contains("component size cap")
            && error_of(&refused).contains("PROMPTSCULPTOR_MAX_COMPONENT_BYTES"),
        "{refused}"
    );

    // The next rescan (a valid plugin added) is not slowed by the huge file.
    let t = Instant::now();
    install(&common::plugin_file("faulty"), &dir, "faulty.wasm");
    wait_row(&s, "faulty.wasm", Duration::from_secs(20), |r| {
        r["status"] == "ok"
    })
    .await;
    let took = t.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "faulty.wasm loaded after {took:?}"
    );
    assert_eq!(row(&s, "huge.wasm").await["status"], "error");
    assert_ready(&s).await;

    let peak = peak_rss_mib(pid);
    eprintln!("peak RSS: {before} MiB before the huge file, {peak} MiB after; reload {took:?}");
    assert!(
        peak < before + 256,
        "peak RSS grew from {before} MiB to {peak} MiB: the huge file was read"
    );
}

#[tokio::test]
async fn refusal_that_depends_on_other_state_is_retried_by_itself() {
    let s = Server::start(Options::default()).await;
    s.wait_ready().await;
    let dir = s.plugins_dir();
    // A user style takes one of the names the styler plugin provides.
    let r = s
        .post(
            "/api/v1/styles",
            &json!({ "name": "styler-loud", "description": "mine",
                     "instructions": "Shout." }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    install(&common::plugin_file("styler"), &dir, "styler.wasm");
    let refused = wait_row(&s, "styler.wasm", Duration::from_secs(20), |r| {
        r["status"] == "error"
    })
    .await;
    assert!(error_of(&refused).contains("styler-loud"), "{refused}");

    // The user style goes away; nothing in the folder changes. The refusal
    // was not about the file, so the server tries it again by itself.
    assert_eq!(s.delete("/api/v1/styles/styler-loud").await.status, 204);
    wait_row(&s, "styler.wasm", Duration::from_secs(45), |r| {
        r["status"] == "ok"
    })
    .await;
    let loud = s.get("/api/v1/styles/styler-loud").await;
    assert_eq!(loud.json["source"], "plugin:styler", "{}", loud.text);
}
