//! The WIT compatibility promise (docs/plugins.md, "Versioning"): a
//! component built against the frozen `wit/versions/0.1.0/plugin.wit` loads
//! and serves on the current host, whatever later 0.1.x versions added.
//!
//! The fixture, `tests/plugins/wit-0-1-0`, is a remix plugin whose bindings
//! wit-bindgen generates straight from that file (not through the SDK, which
//! follows the current WIT). It calls every host import, so a host that
//! stopped matching one of them fails here.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::llm::{FakeLlm, Reply};
use common::{Options, Server, wait_for_row};
use serde_json::{Value, json};

const FIXTURE: &str = "wit-0-1-0";
const STYLE: &str = "wit-0-1-0-tag";
const PROMPT: &str = "Summarise {{doc}} for {{audience}}.";

fn plugins() -> Vec<&'static str> {
    vec!["analyze", "remix", "create", FIXTURE]
}

/// True when `bytes` contains `needle`.
fn contains(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The fixture must really be a 0.1.0 component, or this suite proves
/// nothing: its import and export names carry `@0.1.0`, never a later
/// version (a rebuild through the SDK would silently make it current).
#[test]
fn the_fixture_is_built_against_0_1_0() {
    let bytes = std::fs::read(common::plugin_file(FIXTURE)).unwrap();
    for name in [
        "promptsculptor:plugin/remixer@0.1.0",
        "promptsculptor:plugin/llm@0.1.0",
        "promptsculptor:plugin/styles@0.1.0",
        "promptsculptor:plugin/tokenizer@0.1.0",
        "promptsculptor:plugin/log@0.1.0",
    ] {
        assert!(contains(&bytes, name), "the fixture does not name {name}");
    }
    assert!(
        !contains(&bytes, "promptsculptor:plugin/remixer@0.1.1"),
        "the fixture was built against a later WIT"
    );
    // The frozen file is the 0.1.0 package, and the current one a later
    // version of the same track.
    let frozen =
        std::fs::read_to_string(common::repo_root().join("wit/versions/0.1.0/plugin.wit")).unwrap();
    assert!(frozen.contains("package promptsculptor:plugin@0.1.0;"));
    let current = std::fs::read_to_string(common::repo_root().join("wit/plugin.wit")).unwrap();
    assert!(current.contains("package promptsculptor:plugin@0.1."));
    assert!(!current.contains("package promptsculptor:plugin@0.1.0;"));
}

/// Remix into the fixture's own style; the variants it returns.
async fn remix(s: &Server, use_llm: bool) -> Value {
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": PROMPT, "style": STYLE, "variants": 2, "use_llm": use_llm }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

#[tokio::test]
async fn a_0_1_0_component_loads_and_serves_on_the_current_host() {
    let llm = FakeLlm::start(|_, _| Reply::Text("unused".into())).await;
    let s = Server::start(Options::default().plugins(&plugins()).llm(&llm.base_url)).await;
    let row = wait_for_row(&s, "wit-0-1-0.wasm", |r| r["status"] != Value::Null).await;
    assert_eq!(row["status"], "ok", "{row}");
    assert_eq!(row["name"], FIXTURE);
    assert_eq!(row["kind"], "remix");
    assert_eq!(row["version"], "0.1.0");
    assert_eq!(row["styles"], json!([STYLE]));

    // Its manifest style is in the registry like any plugin style.
    let style = s.get(&format!("/api/v1/styles/{STYLE}")).await;
    assert_eq!(style.status, 200, "{}", style.text);
    assert_eq!(style.json["source"], format!("plugin:{FIXTURE}"));

    // Every import answered: styles.get (the style's name and source in
    // `changes`), tokenizer.count (the host's own count), llm.available
    // (true with a provider and use_llm, false with use_llm: false), log.
    let tokens = promptsculptor::runtime::tokens::count(PROMPT, "o200k_base").unwrap();
    for (use_llm, llm_word) in [(true, "llm"), (false, "no-llm")] {
        let out = remix(&s, use_llm).await;
        assert_eq!(
            out["variants"],
            json!([
                format!("[{STYLE} 1/2 tokens={tokens} {llm_word}] {PROMPT}"),
                format!("[{STYLE} 2/2 tokens={tokens} {llm_word}] {PROMPT}"),
            ]),
            "{out}"
        );
        assert_eq!(
            out["changes"],
            json!([format!(
                "Tagged by a 0.1.0 component with style '{STYLE}' from 'plugin:{FIXTURE}'."
            )])
        );
        assert_eq!(out["strategy"]["name"], FIXTURE, "{out}");
    }
    assert!(llm.received().is_empty(), "the fixture never chats");
    assert!(
        s.log_text().contains("wit-0-1-0 fixture remixing"),
        "the fixture's log line reached the server log"
    );
}
