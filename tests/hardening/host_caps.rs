//! Items 2, 7 and 8 of issue 11: the host capabilities a plugin imports are
//! bounded, end with the call, and obey the request.
//!
//! - the tokenizer refuses a text over its cap (the request body limit)
//!   at once, and counting a text within the cap ends with the call's
//!   deadline: no host thread keeps burning CPU or memory after the 504;
//! - `styles.get` answers none for a name no style can have, without a
//!   store query;
//! - an LLM call over the request-size cap is a typed `invalid-request` the
//!   plugin sees, and the provider never receives it; `max-tokens` is
//!   clamped to the configured cap;
//! - a request sent with `use_llm: false` gets `llm.available() == false`
//!   and a refused `chat`, whatever the plugin does: no provider call, no
//!   `usage.llm_calls`.
//!
//! The evil test plugin carries the attacks (`tokenize-huge`,
//! `tokenize-loop`, `styles-get-long`, `llm-huge`, `llm-anyway`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::llm::{FakeLlm, Reply};
use crate::common::{Options, Server, peak_rss_mib, suggestions};

fn evil_opts() -> Options {
    Options::default()
        .plugins(&["analyze", "remix", "create", "evil"])
        .env("PROMPTSCULPTOR_PLUGIN_TIMEOUT_SECS", "3")
        .env("RUST_LOG", "info")
}

fn evil(prompt: &str, use_llm: bool) -> Value {
    json!({ "prompt": prompt, "strategy": "evil", "use_llm": use_llm })
}

/// CPU time (user + system) the process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command name (which may hold spaces) start at ')'.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 here.
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // USER_HZ is 100 on every Linux this suite runs on.
    Duration::from_millis(ticks * 10)
}

/// CPU the process burns during `window` after a call ended. A measurement
/// window, not a wait for a condition: work that outlived the call shows up
/// here as CPU time.
async fn cpu_during(pid: u32, window: Duration) -> Duration {
    let before = cpu_time(pid);
    tokio::time::sleep(window).await;
    cpu_time(pid).saturating_sub(before)
}

/// Item 2: a 40 MiB one-word text handed to `tokenizer.count` 16 times is refused at
/// once with a clear limit error, and the server neither keeps burning CPU
/// after the answer nor grows by gigabytes. A text within the cap counted
/// in a loop ends with the call's deadline, and ordinary calls keep
/// answering meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokenizer_input_is_capped_and_its_work_ends_with_the_call() {
    let s = Server::start(evil_opts()).await;
    s.wait_ready().await;
    let pid = s.pid();
    let rss_before = peak_rss_mib(pid);

    let started = Instant::now();
    let r = s
        .post("/api/v1/analyze", &evil("tokenize-huge 16", false))
        .await;
    let answered_in = started.elapsed();
    let after_answer = cpu_during(pid, Duration::from_secs(5)).await;
    let rss_after = peak_rss_mib(pid);
    eprintln!(
        "TOKENIZE-HUGE 16: {} in {answered_in:?}; CPU in the 5 s after the answer {after_answer:?}; \
         peak RSS {rss_before} -> {rss_after} MiB",
        r.status
    );
    let msg = r.assert_error(500, "plugin_limit_exceeded");
    assert!(
        msg.contains("tokenizer") && msg.contains("1048576"),
        "the error names the import and its cap: {msg}"
    );
    assert!(
        answered_in < Duration::from_secs(2),
        "refused at once, not at the deadline: {answered_in:?}"
    );
    assert!(
        after_answer < Duration::from_millis(500),
        "no host work outlives the call: {after_answer:?} of CPU after the answer"
    );
    assert!(
        rss_after < rss_before + 400,
        "memory stays proportional to the capped input: peak RSS {rss_before} -> {rss_after} MiB"
    );

    // Within the cap: counted inline in slices that yield, so the loop ends
    // with the deadline and the other requests are served meanwhile.
    let loop_body = evil("tokenize-loop 1048576", false);
    let looping = s.post("/api/v1/analyze", &loop_body);
    let ordinary = async {
        // Give the loop a moment to start, then time ordinary calls.
        let mut worst = Duration::ZERO;
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            let t = Instant::now();
            let ok = s
                .post(
                    "/api/v1/analyze",
                    &json!({ "prompt": "Summarise {{doc}}.", "use_llm": false }),
                )
                .await;
            assert_eq!(ok.status, 200, "{}", ok.text);
            worst = worst.max(t.elapsed());
        }
        worst
    };
    let (r, worst) = tokio::join!(looping, ordinary);
    r.assert_error(504, "plugin_timeout");
    let after_deadline = cpu_during(pid, Duration::from_secs(2)).await;
    eprintln!(
        "TOKENIZE-LOOP 1 MiB: 504; slowest ordinary call meanwhile {worst:?}; CPU in the 2 s after the 504 {after_deadline:?}"
    );
    assert!(
        worst < Duration::from_millis(1500),
        "ordinary calls keep answering: slowest {worst:?}"
    );
    assert!(
        after_deadline < Duration::from_millis(500),
        "tokenizing ends with the deadline: {after_deadline:?} of CPU after the 504"
    );
}

/// Item 2: `styles.get` with a name longer than any style name can be
/// (64 bytes) answers none; a 16 MiB name does too, and the call is cheap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn styles_get_refuses_names_no_style_can_have() {
    let s = Server::start(evil_opts()).await;
    let r = s
        .post("/api/v1/analyze", &evil("styles-get-long", false))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        suggestions(&r),
        vec!["styles-get:65:none", "styles-get:16777216:none"],
        "{}",
        r.text
    );
}

/// Item 7: an LLM request over the size cap never reaches the provider and
/// is a typed `invalid-request` the plugin sees; `max-tokens` u32::MAX
/// reaches the provider clamped to the default cap (16384).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_requests_are_capped_and_max_tokens_clamped() {
    let fake = FakeLlm::start(|_, _| Reply::Text("fine".into())).await;
    let s = Server::start(evil_opts().llm(&fake.base_url)).await;

    // 1.5 MiB: over the 1 MiB default cap, under what the fake provider
    // accepts, so a request that got through would be recorded.
    for attack in ["llm-huge 1572864", "llm-huge"] {
        let sent_before = fake.received().len();
        let r = s.post("/api/v1/analyze", &evil(attack, true)).await;
        assert_eq!(r.status, 200, "{attack}: {}", r.text);
        let seen = suggestions(&r);
        assert_eq!(seen.len(), 2, "{attack}: {seen:?}");
        assert!(
            seen[0].starts_with("llm:err:LlmError::InvalidRequest(")
                && seen[0].contains("1048576")
                && seen[0].contains("PROMPTSCULPTOR_LLM_MAX_REQUEST_BYTES"),
            "{attack}: the plugin sees a typed refusal naming the cap and its setting: {}",
            seen[0]
        );
        assert_eq!(seen[1], "llm:ok:fine", "{attack}: a small call still works");
        assert_eq!(
            r.json["usage"]["llm_calls"], 1,
            "{attack}: only the call that reached the provider counts"
        );
        let received = fake.received();
        assert_eq!(
            received.len() - sent_before,
            1,
            "{attack}: the oversized request never reached the provider"
        );
        let last = &received[received.len() - 1].body;
        assert_eq!(
            last["max_tokens"], 16384,
            "{attack}: max_tokens clamped to the cap"
        );
    }

    // The cap is a setting.
    let s2 = Server::start(
        evil_opts()
            .llm(&fake.base_url)
            .env("PROMPTSCULPTOR_LLM_MAX_REQUEST_BYTES", "2097152")
            .env("PROMPTSCULPTOR_LLM_MAX_TOKENS", "1000"),
    )
    .await;
    let sent_before = fake.received().len();
    let r = s2
        .post("/api/v1/analyze", &evil("llm-huge 1572864", true))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        suggestions(&r),
        vec!["llm:ok:fine", "llm:ok:fine"],
        "{}",
        r.text
    );
    let received = fake.received();
    assert_eq!(received.len() - sent_before, 2);
    assert!(
        received[sent_before..]
            .iter()
            .all(|r| r.body["max_tokens"] == 1000),
        "max_tokens clamped to the configured cap"
    );
}

/// Item 8: `use_llm: false` is enforced by the host. The plugin sees
/// `available() == false`, its `chat` is refused with a typed
/// `unavailable` naming the request's choice, the provider gets nothing and
/// `usage.llm_calls` stays 0. The same plugin with `use_llm: true` reaches
/// the provider (the attack works; only the host's rule stops it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_llm_false_is_enforced_by_the_host() {
    let fake = FakeLlm::start(|_, _| Reply::Text("billed".into())).await;
    let s = Server::start(evil_opts().llm(&fake.base_url)).await;

    let r = s.post("/api/v1/analyze", &evil("llm-anyway", false)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let seen = suggestions(&r);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0], "available:false", "{seen:?}");
    assert!(
        seen[1].starts_with("chat:err:LlmError::Unavailable(") && seen[1].contains("use_llm"),
        "chat refused with a typed error naming use_llm: {}",
        seen[1]
    );
    assert_eq!(r.json["usage"]["llm_calls"], 0, "{}", r.text);
    assert_eq!(fake.received().len(), 0, "the provider was never contacted");

    let r = s.post("/api/v1/analyze", &evil("llm-anyway", true)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        suggestions(&r),
        vec!["available:true", "chat:ok:billed"],
        "{}",
        r.text
    );
    assert_eq!(r.json["usage"]["llm_calls"], 1, "{}", r.text);
    assert_eq!(fake.received().len(), 1);
}
