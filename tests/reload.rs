//! Hot reload against the real server: files added, replaced, corrupted and
//! deleted in a live plugins folder, and a swap under load.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::llm::{FakeLlm, Reply};
use common::{Options, Server, install, wait_for_row as wait_for};
use serde_json::{Value, json};

fn faulty(prompt: &str) -> Value {
    json!({ "prompt": prompt, "strategy": "faulty", "use_llm": false })
}

#[tokio::test]
async fn add_replace_corrupt_delete_without_restart() {
    let s = Server::start(Options::default()).await;
    let dir = s.plugins_dir();
    s.post("/api/v1/analyze", &faulty("fine"))
        .await
        .assert_error(404, "strategy_not_found");

    // Add.
    install(&common::plugin_file("faulty"), &dir, "faulty.wasm");
    wait_for(&s, "faulty.wasm", |r| r["status"] == "ok").await;
    let r = s.post("/api/v1/analyze", &faulty("fine")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["strategy"]["version"], "0.0.1");

    // Replace with a new version.
    install(&common::plugin_file("faulty-v2"), &dir, "faulty.wasm");
    wait_for(&s, "faulty.wasm", |r| r["version"] == "0.0.2").await;
    let r = s.post("/api/v1/analyze", &faulty("fine")).await;
    assert_eq!(r.json["strategy"]["version"], "0.0.2");

    // Corrupt (written in place, not atomically): the last good version
    // keeps serving and the listing shows the error.
    std::fs::write(dir.join("faulty.wasm"), b"\0asm garbage").expect("write");
    let row = wait_for(&s, "faulty.wasm", |r| r["status"] == "error").await;
    assert!(
        row["error"]
            .as_str()
            .unwrap_or("")
            .contains("keeps serving"),
        "{row}"
    );
    assert_eq!(row["sha256"].as_str().map(str::len), Some(64));
    let r = s.post("/api/v1/analyze", &faulty("fine")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["strategy"]["version"], "0.0.2");

    // A truncated component is refused the same way.
    let good = std::fs::read(common::plugin_file("faulty")).expect("read");
    std::fs::write(dir.join("faulty.wasm"), &good[..good.len() / 2]).expect("write");
    let row = wait_for(&s, "faulty.wasm", |r| {
        r["status"] == "error" && r["sha256"] != row["sha256"]
    })
    .await;
    assert!(row["error"].as_str().is_some());
    assert_eq!(s.post("/api/v1/analyze", &faulty("fine")).await.status, 200);

    // Delete: unloaded.
    std::fs::remove_file(dir.join("faulty.wasm")).expect("rm");
    wait_for(&s, "faulty.wasm", Value::is_null).await;
    s.post("/api/v1/analyze", &faulty("fine"))
        .await
        .assert_error(404, "strategy_not_found");
    // The defaults were never disturbed.
    assert_eq!(s.get("/readyz").await.status, 200);
}

#[tokio::test]
async fn wrong_world_file_is_refused_while_others_serve() {
    let s = Server::start(Options::default()).await;
    std::fs::write(
        s.plugins_dir().join("core.wasm"),
        [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    )
    .expect("write");
    let row = wait_for(&s, "core.wasm", |r| r["status"] == "error").await;
    assert!(
        row["error"].as_str().unwrap_or("").contains("component"),
        "{row}"
    );
    assert_eq!(
        s.post("/api/v1/analyze", &json!({ "prompt": "hello" }))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn plugin_styles_follow_their_plugin() {
    let s = Server::start(Options::default()).await;
    let dir = s.plugins_dir();
    install(&common::plugin_file("styler"), &dir, "styler.wasm");
    let row = wait_for(&s, "styler.wasm", |r| r["status"] == "ok").await;
    assert_eq!(row["styles"], json!(["styler-loud", "styler-calm"]));
    let st = s.get("/api/v1/styles/styler-loud").await;
    assert_eq!(st.status, 200, "{}", st.text);
    assert_eq!(st.json["source"], "plugin:styler");
    assert_eq!(st.json["examples"][0]["before"], "Summarise {{text}}.");
    // Plugin styles are read-only through the API.
    s.delete("/api/v1/styles/styler-loud")
        .await
        .assert_error(409, "style_conflict");
    // A remix with a plugin style goes to that plugin.
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": "Explain {{x}}", "style": "styler-calm", "variants": 2 }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["strategy"]["name"], "styler");
    assert_eq!(r.json["style"]["source"], "plugin:styler");
    assert_eq!(r.json["prompt"], "[styler-calm #1] Explain {{x}}");

    // Removing the plugin removes its styles.
    std::fs::remove_file(dir.join("styler.wasm")).expect("rm");
    wait_for(&s, "styler.wasm", Value::is_null).await;
    s.get("/api/v1/styles/styler-loud")
        .await
        .assert_error(404, "style_not_found");
    let all = s.get("/api/v1/styles").await;
    assert!(!all.text.contains("plugin:styler"));

    // A plugin claiming a builtin style's name is refused with a clear error,
    // and the builtin is untouched.
    install(&common::plugin_file("styler-conflict"), &dir, "styler.wasm");
    let row = wait_for(&s, "styler.wasm", |r| r["status"] == "error").await;
    assert!(
        row["error"].as_str().unwrap_or("").contains("concise"),
        "{row}"
    );
    assert_eq!(
        s.get("/api/v1/styles/concise").await.json["source"],
        "builtin"
    );
}

#[tokio::test]
async fn swap_under_load_fails_no_request() {
    let llm = FakeLlm::start(|_, _| {
        Reply::Delay(
            Duration::from_millis(400),
            Box::new(Reply::Text("slow ok".into())),
        )
    })
    .await;
    let s = Server::start(
        Options::default()
            .plugins(&["analyze", "remix", "create", "faulty"])
            .llm(&llm.base_url),
    )
    .await;
    let dir = s.plugins_dir();
    let body = json!({ "prompt": "llm", "strategy": "faulty" });
    let mut versions = std::collections::BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    for round in 0..2 {
        let requests: Vec<_> = (0..60).map(|_| s.post("/api/v1/analyze", &body)).collect();
        let before = llm.received().len();
        let swap = async {
            // Swap while requests are in flight: some are already waiting
            // on the (slow) LLM.
            common::wait_until(Duration::from_secs(10), "requests in flight", || async {
                match llm.received().len() - before {
                    0 => Err("no request reached the LLM yet".into()),
                    _ => Ok(()),
                }
            })
            .await;
            let v = if round == 0 { "faulty-v2" } else { "faulty" };
            install(&common::plugin_file(v), &dir, "faulty.wasm");
        };
        let (responses, ()) = tokio::join!(futures_util::future::join_all(requests), swap);
        for r in responses {
            if r.status == 200 {
                *versions
                    .entry(
                        r.json["strategy"]["version"]
                            .as_str()
                            .unwrap_or("?")
                            .to_string(),
                    )
                    .or_default() += 1;
            } else {
                failures.push(r.text);
            }
        }
        let want = if round == 0 { "0.0.2" } else { "0.0.1" };
        wait_for(&s, "faulty.wasm", |r| r["version"] == want).await;
    }
    assert!(failures.is_empty(), "failed during swap: {failures:?}");
    assert_eq!(versions.values().sum::<usize>(), 120);
}
