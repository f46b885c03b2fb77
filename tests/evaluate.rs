//! Evaluate (contract §6) against the real binary: every assertion type
//! with known answers, validation before anything runs, a real HTTP test
//! provider (with faults), the LLM judge and a grade plugin, suites and
//! stored runs on both stores, the CLI, metrics and the request log.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::llm::{FakeLlm, Reply, all_text};
use common::pg::Backend;
use common::{Options, Resp, Server};
use serde_json::{Value, json};

/// The grade plugins next to the default three.
const WITH_GRADERS: &[&str] = &["analyze", "remix", "create", "llm-rubric", "banned-phrases"];

fn graders() -> Options {
    Options::default().plugins(WITH_GRADERS)
}

/// The one result of prompt `p`, case `c`, repeat `r`.
fn result<'a>(run: &'a Value, p: &str, c: &str, r: u64) -> &'a Value {
    run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["prompt_id"] == p && x["case_id"] == c && x["repeat"] == r)
        .unwrap_or_else(|| panic!("no result {p}/{c}/{r} in {run}"))
}

fn summary<'a>(run: &'a Value, p: &str) -> &'a Value {
    run["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["prompt_id"] == p)
        .unwrap_or_else(|| panic!("no summary for {p} in {run}"))
}

/// One stored output graded by one assertion: (pass, score).
async fn grade_one(s: &Server, output: &str, assertion: Value) -> (bool, f64, Value) {
    let r = s
        .post(
            "/api/v1/evaluate",
            &json!({ "prompts": [{ "id": "p", "prompt": "Say it." }],
                     "cases": [{ "id": "c", "output": output, "assert": [assertion] }] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let res = result(&r.json, "p", "c", 0).clone();
    assert!(res["error"].is_null(), "{res}");
    (
        res["pass"].as_bool().unwrap(),
        res["score"].as_f64().unwrap(),
        res,
    )
}

#[tokio::test]
async fn every_llm_free_assertion_type_gives_the_known_answer_offline() {
    // No provider at all: cases with `output` are graded without one.
    let s = Server::start(graders()).await;
    let cases: &[(&str, Value, bool)] = &[
        ("high", json!({"type": "equals", "value": "high"}), true),
        ("high ", json!({"type": "equals", "value": "high"}), false),
        (
            r#" {"a": [1, 2]} "#,
            json!({"type": "equals", "value": {"a": [1, 2]}}),
            true,
        ),
        (
            "Priority: HIGH",
            json!({"type": "contains", "value": "HIGH"}),
            true,
        ),
        (
            "Priority: HIGH",
            json!({"type": "contains", "value": "high"}),
            false,
        ),
        (
            "Priorität: HOCH",
            json!({"type": "icontains", "value": "hoch"}),
            true,
        ),
        ("ÉTÉ", json!({"type": "icontains", "value": "été"}), true),
        (
            "all good",
            json!({"type": "not-contains", "value": "bad"}),
            true,
        ),
        (
            "not bad",
            json!({"type": "not-contains", "value": "bad"}),
            false,
        ),
        (
            "Yes, because",
            json!({"type": "starts-with", "value": "Yes"}),
            true,
        ),
        (
            "I say Yes",
            json!({"type": "starts-with", "value": "Yes"}),
            false,
        ),
        (
            "ticket #4521 closed",
            json!({"type": "regex", "value": "#\\d{4}\\b"}),
            true,
        ),
        (
            "ticket #4521 closed",
            json!({"type": "regex", "value": "^#\\d{4}"}),
            false,
        ),
        ("[1, 2, 3]", json!({"type": "is-json"}), true),
        ("{'a': 1}", json!({"type": "is-json"}), false),
        (
            r#"{"label": "high", "confidence": 0.9}"#,
            json!({"type": "json-schema", "value": {"type": "object", "required": ["label"],
                   "properties": {"label": {"enum": ["high", "low"]}}}}),
            true,
        ),
        (
            r#"{"label": "urgent"}"#,
            json!({"type": "json-schema", "value": {"type": "object",
                   "properties": {"label": {"enum": ["high", "low"]}}}}),
            false,
        ),
        ("héllo", json!({"type": "max-chars", "value": 5}), true),
        ("héllo!", json!({"type": "max-chars", "value": 5}), false),
        (
            "hello world",
            json!({"type": "max-tokens", "value": 2}),
            true,
        ),
        (
            "hello world, and more words",
            json!({"type": "max-tokens", "value": 2}),
            false,
        ),
        (
            "we leverage synergy",
            json!({"type": "grader", "value": "banned-phrases",
                   "config": {"phrases": ["synergy", "leverage"]}}),
            false,
        ),
        (
            "plain words",
            json!({"type": "grader", "value": "banned-phrases",
                   "config": {"phrases": ["synergy", "leverage"]}}),
            true,
        ),
    ];
    for (output, assertion, want) in cases {
        let (pass, score, res) = grade_one(&s, output, assertion.clone()).await;
        assert_eq!(pass, *want, "{assertion} on {output:?}: {res}");
        assert_eq!(score, if *want { 1.0 } else { 0.0 }, "{assertion}: {res}");
        let a = &res["assertions"][0];
        assert_eq!(a["type"], assertion["type"]);
        assert_eq!(a["pass"], *want);
        assert!(!a["reason"].as_str().unwrap().is_empty(), "{res}");
    }
}

#[tokio::test]
async fn weights_thresholds_summary_and_ranking() {
    let s = Server::start(graders()).await;
    // Prompt a: both outputs pass; b: one of two passes, the other scores
    // 0.75 by weight (3 of 4); c: the same as b but with fewer tokens
    // cannot happen offline (0 tokens each), so c ties with b and ranks
    // after it by request order.
    let body = json!({
        "prompts": [
            { "id": "b", "prompt": "Classify {{t}}." },
            { "id": "a", "prompt": "Label {{t}}." },
            { "id": "c", "prompt": "Sort {{t}}." }
        ],
        "cases": [
            { "id": "c1", "vars": { "t": "x" }, "output": "HIGH priority" },
            { "id": "c2", "vars": { "t": "y" }, "output": "low" }
        ],
        "assert": [
            { "type": "icontains", "value": "high", "weight": 1 },
            { "type": "max-chars", "value": 20, "weight": 3 }
        ]
    });
    let r = s.post("/api/v1/evaluate", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let run = &r.json;
    let low = result(run, "b", "c2", 0);
    assert_eq!(low["pass"], false);
    assert_eq!(low["score"], 0.75, "{low}");
    let high = result(run, "b", "c1", 0);
    assert_eq!(
        (high["pass"].clone(), high["score"].clone()),
        (json!(true), json!(1.0))
    );
    let sb = summary(run, "b");
    assert_eq!(
        (
            sb["passed"].clone(),
            sb["failed"].clone(),
            sb["errors"].clone()
        ),
        (json!(1), json!(1), json!(0))
    );
    assert_eq!(sb["pass_rate"], 0.5);
    assert_eq!(sb["mean_score"], 0.875);
    // Same outputs for every prompt: all tie, so request order decides.
    assert_eq!(run["best"], "b");
    let ranks: Vec<(String, u64)> = run["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["prompt_id"].as_str().unwrap().to_string(),
                x["rank"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ranks,
        vec![("b".into(), 1), ("a".into(), 2), ("c".into(), 3)]
    );
    assert_eq!(run["results"].as_array().unwrap().len(), 6);
    assert_eq!(run["usage"]["llm_calls"], 0);
    // A lowered threshold lets a failing exact assertion pass.
    let (pass, score, _) = grade_one(
        &s,
        "nope",
        json!({"type": "contains", "value": "yes", "threshold": 0}),
    )
    .await;
    assert_eq!((pass, score), (true, 0.0));
    // A grader's threshold decides over the grader's own verdict: one of
    // two banned phrases found scores 0.5, which passes the default 0.5.
    let (pass, score, res) = grade_one(
        &s,
        "we leverage it",
        json!({"type": "grader", "value": "banned-phrases",
               "config": {"phrases": ["synergy", "leverage"]}}),
    )
    .await;
    assert_eq!((pass, score), (true, 0.5), "{res}");
    let (pass, _, _) = grade_one(
        &s,
        "we leverage it",
        json!({"type": "grader", "value": "banned-phrases", "threshold": 0.9,
               "config": {"phrases": ["synergy", "leverage"]}}),
    )
    .await;
    assert!(!pass);
}

#[tokio::test]
async fn bad_requests_are_refused_before_anything_runs() {
    let llm = FakeLlm::start(|_, _| Reply::Text("ok".into())).await;
    let s = Server::start(graders().llm(&llm.base_url)).await;
    let ok_prompt = json!([{ "id": "p", "prompt": "Classify {{ticket}}." }]);
    let ok_case = json!([{ "id": "c", "vars": { "ticket": "t" } }]);
    let refused: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({ "prompts": ok_prompt, "cases": [{ "id": "c1", "vars": { "ticket": "a" } },
                                                    { "id": "c2", "vars": { "tickt": "b" } }] }),
            422,
            "validation_failed",
            "`ticket`",
        ),
        (
            json!({ "prompts": [], "cases": ok_case }),
            422,
            "validation_failed",
            "prompts",
        ),
        (
            json!({ "prompts": ok_prompt }),
            422,
            "validation_failed",
            "cases",
        ),
        (
            json!({ "prompts": ok_prompt, "cases": [] }),
            422,
            "validation_failed",
            "cases",
        ),
        (
            json!({ "prompts": ok_prompt, "cases": ok_case, "repeat": 6 }),
            422,
            "validation_failed",
            "repeat",
        ),
        (
            json!({ "prompts": ok_prompt, "cases": ok_case, "max_concurrency": 0 }),
            422,
            "validation_failed",
            "max_concurrency",
        ),
        (
            json!({ "prompts": ok_prompt, "cases": ok_case, "suite": "x" }),
            422,
            "validation_failed",
            "suite",
        ),
        (
            json!({ "prompts": [{ "id": "p", "prompt": "a" }, { "id": "p", "prompt": "b" }], "cases": ok_case }),
            422,
            "validation_failed",
            "unique",
        ),
        (
            json!({ "prompts": ok_prompt, "cases": ok_case, "assert": [{ "type": "regex", "value": "(" }] }),
            422,
            "validation_failed",
            "regular expression",
        ),
        (
            json!({ "prompts": ok_prompt, "cases": ok_case, "assert": [{ "type": "containz", "value": "a" }] }),
            422,
            "validation_failed",
            "containz",
        ),
        (
            json!({ "prompts": ok_prompt, "cases": ok_case, "assert": [{ "type": "json-schema", "value": { "type": 5 } }] }),
            422,
            "validation_failed",
            "JSON Schema",
        ),
        (
            json!({ "prompts": ok_prompt, "cases": ok_case, "assert": [{ "type": "contains", "value": "a", "weight": -1 }] }),
            422,
            "validation_failed",
            "weight",
        ),
        (
            json!({ "prompts": ok_prompt, "cases": [{ "id": "c", "vars": { "ticket": "t" },
                   "assert": [{ "type": "contains", "valeu": "a" }] }] }),
            422,
            "unknown_field",
            "cases[0].assert[0].valeu",
        ),
        (
            json!({ "prompts": ok_prompt, "cases": ok_case, "repeats": 2 }),
            422,
            "unknown_field",
            "repeat",
        ),
        (
            json!({ "prompts": ok_prompt, "cases": ok_case, "assert": [{ "type": "grader", "value": "no-such-grader" }] }),
            404,
            "grader_not_found",
            "no-such-grader",
        ),
        (
            json!({ "prompts": ok_prompt, "suite": "no-such-suite" }),
            404,
            "suite_not_found",
            "no-such-suite",
        ),
        (
            json!({ "prompts": "x", "cases": ok_case }),
            400,
            "invalid_type",
            "prompts",
        ),
    ];
    for (body, status, code, needle) in refused {
        let r = s.post("/api/v1/evaluate", &body).await;
        let message = r.assert_error(status, code);
        assert!(
            message.contains(needle),
            "{needle:?} not in {message:?} for {body}"
        );
        assert!(!message.contains('\n'), "{message}");
    }
    assert!(
        llm.received().is_empty(),
        "nothing may run for a refused request"
    );
    let runs = s.get("/api/v1/runs").await;
    assert_eq!(
        runs.json["runs"],
        json!([]),
        "a refused request stores no run"
    );
}

#[tokio::test]
async fn prompts_cases_and_repeats_run_against_the_provider_with_a_failing_case() {
    // The provider labels by the ticket's text and fails for one ticket.
    let llm = FakeLlm::start(|_, body| {
        let text = all_text(body);
        if text.contains("printer on fire") {
            Reply::Text("HIGH: printer on fire".into())
        } else if text.contains("broken provider") {
            Reply::Status(500, r#"{"error":{"message":"boom"}}"#.into(), None)
        } else {
            Reply::Text("low".into())
        }
    })
    .await;
    let s = Server::start(
        graders()
            .llm(&llm.base_url)
            .env("PROMPTSCULPTOR_LLM_TIMEOUT_SECS", "5"),
    )
    .await;
    let body = json!({
        "prompts": [
            { "id": "terse", "prompt": "Label {{ticket}} high or low.", "system": "You triage {{team}} tickets." },
            { "id": "verbose", "prompt": "Please read this ticket: {{ticket}}. Answer high or low." }
        ],
        "cases": [
            { "id": "fire", "vars": { "ticket": "printer on fire", "team": "IT" },
              "assert": [{ "type": "icontains", "value": "high" }] },
            { "id": "typo", "vars": { "ticket": "typo in footer", "team": "IT" },
              "assert": [{ "type": "icontains", "value": "low" }] },
            { "id": "bad", "vars": { "ticket": "broken provider", "team": "IT" } }
        ],
        "assert": [{ "type": "max-chars", "value": 100 }],
        "model": "judge-me-model",
        "repeat": 2,
        "max_concurrency": 3
    });
    let r = s.post("/api/v1/evaluate", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let run = &r.json;
    assert_eq!(run["results"].as_array().unwrap().len(), 12);
    let fire = result(run, "terse", "fire", 1);
    assert_eq!(fire["output"], "HIGH: printer on fire");
    assert_eq!(fire["pass"], true, "{fire}");
    assert_eq!(
        (fire["input_tokens"].clone(), fire["output_tokens"].clone()),
        (json!(11), json!(7))
    );
    let bad = result(run, "verbose", "bad", 0);
    assert_eq!(bad["pass"], false);
    assert!(bad["output"].is_null());
    assert!(
        bad["error"]["code"].as_str().unwrap().starts_with("llm_"),
        "{bad}"
    );
    let st = summary(run, "terse");
    assert_eq!(
        (
            st["passed"].clone(),
            st["failed"].clone(),
            st["errors"].clone()
        ),
        (json!(4), json!(0), json!(2)),
        "{st}"
    );
    // 12 items, the failing ones retried by the provider client: at least
    // 12 requests, and only the 8 that answered count tokens.
    assert_eq!(run["usage"]["input_tokens"], 8 * 11);
    assert_eq!(run["usage"]["output_tokens"], 8 * 7);
    assert!(run["usage"]["llm_calls"].as_u64().unwrap() >= 12);
    // The variables were filled, the system prompt sent, the model overridden.
    let received = llm.received();
    assert!(received.len() >= 12);
    let first_terse = received
        .iter()
        .find(|r| all_text(&r.body).contains("Label printer on fire high or low."))
        .expect("a terse call");
    assert!(
        serde_json::to_string(&first_terse.body)
            .unwrap()
            .contains("You triage IT tickets."),
        "{}",
        first_terse.body
    );
    assert!(received.iter().all(|r| r.body["model"] == "judge-me-model"));
    assert!(received.iter().all(|r| !all_text(&r.body).contains("{{")));
    // The run is stored, and the request log and metrics saw it.
    let id = run["run_id"].as_str().unwrap();
    let stored = s.get(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(stored.status, 200, "{}", stored.text);
    assert_eq!(stored.json["results"], run["results"]);
    assert_eq!(stored.json["summary"], run["summary"]);
    let m = s.get("/metrics").await.text;
    assert!(
        m.contains("promptsculptor_eval_cases_total{outcome=\"error\"} 4"),
        "{m}"
    );
    assert!(m.contains("promptsculptor_eval_runs_total 1"), "{m}");
    let db = s.db_path.clone();
    common::wait_until(Duration::from_secs(5), "evaluate in the request log", || {
        let db = db.clone();
        async move {
            let row: Option<(i64, i64, i64)> = rusqlite::Connection::open(&db)
                .and_then(|c| {
                    c.query_row(
                        "SELECT status, llm_calls, input_tokens FROM request_log WHERE operation = 'evaluate'",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                })
                .ok();
            match row {
                Some((200, 12, 88)) => Ok(()),
                other => Err(format!("evaluate row: {other:?}")),
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_llm_judge_scores_against_the_rubric() {
    let llm = FakeLlm::start(|_, body| {
        let text = all_text(body);
        if text.contains("<rubric>") {
            let score = if text.contains("polite answer") {
                0.9
            } else {
                0.2
            };
            Reply::Text(json!({ "score": score, "reason": "judged" }).to_string())
        } else if text.contains("nicely") {
            Reply::Text("Thank you, here is a polite answer.".into())
        } else {
            Reply::Text("Go away.".into())
        }
    })
    .await;
    let s = Server::start(graders().llm(&llm.base_url)).await;
    let r = s
        .post(
            "/api/v1/evaluate",
            &json!({
                "prompts": [{ "id": "rude", "prompt": "Answer." }, { "id": "nice", "prompt": "Answer nicely." }],
                "cases": [{ "id": "c" }],
                "assert": [{ "type": "llm-rubric", "value": "The answer is polite." }]
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let run = &r.json;
    let nice = result(run, "nice", "c", 0);
    assert_eq!(
        (nice["pass"].clone(), nice["score"].clone()),
        (json!(true), json!(0.9)),
        "{nice}"
    );
    assert_eq!(nice["assertions"][0]["reason"], "judged");
    let rude = result(run, "rude", "c", 0);
    assert_eq!(rude["pass"], false, "{rude}");
    assert_eq!(run["best"], "nice");
    assert_eq!(run["usage"]["grader_calls"], 2);
    assert_eq!(run["usage"]["llm_calls"], 4, "two cases and two judges");
    // The judge saw the rubric and the output.
    let judged = llm
        .received()
        .into_iter()
        .filter(|r| all_text(&r.body).contains("<rubric>"))
        .count();
    assert_eq!(judged, 2);
    let m = s.get("/metrics").await.text;
    assert!(
        m.contains(
            "promptsculptor_eval_grader_calls_total{grader=\"llm-rubric\",outcome=\"ok\"} 2"
        ),
        "{m}"
    );
}

#[tokio::test]
async fn without_a_provider_only_llm_cases_and_rubrics_are_errors() {
    let s = Server::start(graders()).await;
    let r = s
        .post(
            "/api/v1/evaluate",
            &json!({
                "prompts": [{ "id": "p", "prompt": "Say {{x}}." }],
                "cases": [
                    { "id": "stored", "vars": { "x": 1 }, "output": "1", "assert": [{ "type": "equals", "value": "1" }] },
                    { "id": "live", "vars": { "x": 2 }, "assert": [{ "type": "equals", "value": "2" }] },
                    { "id": "judged", "vars": { "x": 3 }, "output": "3", "assert": [{ "type": "llm-rubric", "value": "is 3" }] }
                ]
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let run = &r.json;
    assert_eq!(result(run, "p", "stored", 0)["pass"], true);
    for c in ["live", "judged"] {
        let res = result(run, "p", c, 0);
        assert_eq!(res["error"]["code"], "llm_not_configured", "{res}");
        assert_eq!(res["pass"], false);
    }
    let sp = summary(run, "p");
    assert_eq!(
        (sp["passed"].clone(), sp["errors"].clone()),
        (json!(1), json!(2))
    );
}

#[tokio::test]
async fn a_slow_provider_is_bounded_by_the_evaluation_deadline() {
    let llm = FakeLlm::start(|_, _| {
        Reply::Delay(
            Duration::from_millis(1500),
            Box::new(Reply::Text("late".into())),
        )
    })
    .await;
    let s = Server::start(
        graders()
            .llm(&llm.base_url)
            .env("PROMPTSCULPTOR_EVAL_TIMEOUT_SECS", "1"),
    )
    .await;
    let cases: Vec<Value> = (0..4).map(|i| json!({ "id": format!("c{i}") })).collect();
    let r = s
        .post(
            "/api/v1/evaluate",
            &json!({ "prompts": [{ "prompt": "x" }], "cases": cases, "max_concurrency": 1 }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let codes: Vec<Value> = r.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["error"]["code"].clone())
        .collect();
    // The first item started in time and finished; the rest did not start.
    assert_eq!(codes[0], Value::Null, "{}", r.text);
    assert!(codes[1..].iter().all(|c| c == "eval_timeout"), "{codes:?}");
    assert_eq!(r.json["summary"][0]["prompt_id"], "p1", "default ids");
    assert!(llm.received().len() < 4);
}

async fn evaluate_ok(s: &Server, body: &Value) -> Resp {
    let r = s.post("/api/v1/evaluate", body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

both_backends!(
    async fn suites_and_runs_are_stored(backend: Backend) {
        let s = Server::start(graders().backend(backend).await).await;
        s.wait_ready_on(backend).await;
        let suite = json!({
            "name": "triage",
            "description": "ticket triage",
            "cases": [
                { "id": "fire", "vars": { "t": "fire" }, "output": "HIGH" },
                { "id": "typo", "vars": { "t": "typo" }, "output": "low" }
            ],
            "assert": [{ "type": "icontains", "value": "high" }]
        });
        let created = s.post("/api/v1/suites", &suite).await;
        assert_eq!(created.status, 201, "{}", created.text);
        assert_eq!(created.json["cases"], suite["cases"]);
        s.post("/api/v1/suites", &suite)
            .await
            .assert_error(409, "suite_conflict");
        let mut bad = suite.clone();
        bad["name"] = json!("Bad Name");
        s.post("/api/v1/suites", &bad)
            .await
            .assert_error(422, "validation_failed");
        let mut bad = suite.clone();
        bad["assert"] = json!([{ "type": "regex", "value": "[" }]);
        bad["name"] = json!("other");
        s.post("/api/v1/suites", &bad)
            .await
            .assert_error(422, "validation_failed");
        let list = s.get("/api/v1/suites").await;
        assert_eq!(list.json["suites"][0]["name"], "triage", "{}", list.text);

        let run = evaluate_ok(
            &s,
            &json!({ "prompts": [{ "id": "p", "prompt": "Label {{t}}." }], "suite": "triage" }),
        )
        .await;
        assert_eq!(run.json["suite"], "triage");
        assert_eq!(summary(&run.json, "p")["pass_rate"], 0.5);

        // PUT replaces the cases; the next run sees them.
        let mut replaced = suite.clone();
        replaced["cases"] = json!([{ "id": "only", "vars": { "t": "x" }, "output": "high" }]);
        let put = s.put("/api/v1/suites/triage", &replaced).await;
        assert_eq!(put.status, 200, "{}", put.text);
        let mut renamed = replaced.clone();
        renamed["name"] = json!("elsewhere");
        s.put("/api/v1/suites/triage", &renamed)
            .await
            .assert_error(422, "validation_failed");
        let mut nameless = replaced.clone();
        nameless.as_object_mut().unwrap().remove("name");
        s.put("/api/v1/suites/absent", &nameless)
            .await
            .assert_error(404, "suite_not_found");
        let second = evaluate_ok(
            &s,
            &json!({ "prompts": [{ "id": "p", "prompt": "Label {{t}}." }], "suite": "triage" }),
        )
        .await;
        assert_eq!(summary(&second.json, "p")["pass_rate"], 1.0);

        // Runs: newest first, without results; one by id with them.
        let runs = s.get("/api/v1/runs?limit=10").await;
        assert_eq!(runs.status, 200, "{}", runs.text);
        let listed = runs.json["runs"].as_array().unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0]["run_id"], second.json["run_id"]);
        assert_eq!(listed[1]["run_id"], run.json["run_id"]);
        assert!(listed[0].get("results").is_none());
        assert_eq!(listed[0]["summary"], second.json["summary"]);
        let one = s.get("/api/v1/runs?limit=1").await;
        assert_eq!(one.json["runs"].as_array().unwrap().len(), 1);
        s.get("/api/v1/runs?limit=0")
            .await
            .assert_error(422, "validation_failed");
        s.get("/api/v1/runs/run_nope")
            .await
            .assert_error(404, "run_not_found");
        let got = s
            .get(&format!(
                "/api/v1/runs/{}",
                run.json["run_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(got.json["results"], run.json["results"]);

        let del = s.delete("/api/v1/suites/triage").await;
        assert_eq!(del.status, 204);
        s.get("/api/v1/suites/triage")
            .await
            .assert_error(404, "suite_not_found");
        s.delete("/api/v1/suites/triage")
            .await
            .assert_error(404, "suite_not_found");
        let gone = s
            .post(
                "/api/v1/evaluate",
                &json!({ "prompts": [{ "prompt": "x" }], "suite": "triage" }),
            )
            .await;
        gone.assert_error(404, "suite_not_found");
    }
);

#[tokio::test]
async fn stored_runs_are_bounded() {
    let s = Server::start(graders().env("PROMPTSCULPTOR_EVAL_MAX_RUNS", "2")).await;
    let body = json!({ "prompts": [{ "prompt": "x" }], "cases": [{ "output": "y" }] });
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(evaluate_ok(&s, &body).await.json["run_id"].clone());
    }
    let runs = s.get("/api/v1/runs").await;
    let listed: Vec<Value> = runs.json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].clone())
        .collect();
    assert_eq!(listed, vec![ids[2].clone(), ids[1].clone()]);
}

#[tokio::test]
async fn the_cli_prints_a_table_and_gates_on_the_pass_rate() {
    let s = Server::start(graders()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("eval.json");
    std::fs::write(
        &file,
        json!({
            "prompts": [{ "id": "good", "prompt": "a" }, { "id": "meh", "prompt": "b" }],
            "cases": [{ "id": "c1", "output": "yes" }, { "id": "c2", "output": "no" }],
            "assert": [{ "type": "contains", "value": "yes" }]
        })
        .to_string(),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptsculptor"))
            .arg("eval")
            .arg(&file)
            .args(["--server", &s.base])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, stdout, stderr) = run(&["--min-pass-rate", "0.5"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    for needle in ["prompt", "pass rate", "good", "meh", "50.0%", "run_"] {
        assert!(stdout.contains(needle), "{needle:?} in {stdout}");
    }
    let (code, stdout, stderr) = run(&["--min-pass-rate", "0.9"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("below"), "{stderr}");
    // A request the server refuses: its error in one line, exit 2.
    std::fs::write(&file, r#"{"prompts": []}"#).unwrap();
    let (code, _, stderr) = run(&[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("validation_failed"), "{stderr}");
    // Not a file.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptsculptor"))
        .args(["eval", "/no/such/file.json", "--server", &s.base])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.json"));
}

#[tokio::test]
async fn the_worked_remix_then_evaluate_example_runs_as_written() {
    // The test provider of docs/evaluate.md: it answers with the prompt it
    // was sent (bench_llm's BENCH_LLM_ECHO mode), so the JSON-output variant
    // is the one whose "answer" mentions JSON.
    let llm = FakeLlm::start(|_, body| {
        let last = body["messages"]
            .as_array()
            .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_string();
        Reply::Text(last)
    })
    .await;
    let s = Server::start(graders().llm(&llm.base_url)).await;
    let script = common::repo_root().join("docs/examples/remix-evaluate.sh");
    let base = s.base.clone();
    // Blocking, on a thread of its own: the fake provider answers from this
    // test's runtime meanwhile.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg(&script)
            .env("PROMPTSCULPTOR_SERVER", &base)
            .env("PROMPTSCULPTOR_BIN", env!("CARGO_BIN_EXE_promptsculptor"))
            .env("MIN_PASS_RATE", "1")
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let first_row = stdout.lines().nth(1).unwrap_or_default();
    assert!(first_row.starts_with("json-output"), "{stdout}");
    assert!(
        stdout.contains("original") && stdout.contains("constraints-first"),
        "{stdout}"
    );
    // Three prompts × two cases reached the provider, variables filled.
    let received = llm.received();
    assert_eq!(received.len(), 6);
    assert!(
        received
            .iter()
            .any(|r| all_text(&r.body).contains("checkout page is down"))
    );
}

#[tokio::test]
async fn a_bad_grader_hurts_only_the_results_it_grades() {
    let s = Server::start(
        Options::default()
            .plugins(&["analyze", "remix", "create", "grader-faulty"])
            .env("PROMPTSCULPTOR_PLUGIN_TIMEOUT_SECS", "2"),
    )
    .await;
    let modes = ["ok", "trap", "loop", "memory", "nan", "two", "invalid"];
    let cases: Vec<Value> = modes
        .iter()
        .map(|m| {
            json!({ "id": m, "output": "text",
                    "assert": [{ "type": "grader", "value": "grader-faulty", "config": { "mode": m } }] })
        })
        .collect();
    let r = s
        .post(
            "/api/v1/evaluate",
            &json!({ "prompts": [{ "id": "p", "prompt": "x" }], "cases": cases,
                     "assert": [{ "type": "contains", "value": "text" }] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let code = |c: &str| result(&r.json, "p", c, 0)["error"]["code"].clone();
    assert_eq!(result(&r.json, "p", "ok", 0)["pass"], true);
    assert_eq!(code("ok"), Value::Null);
    assert_eq!(code("trap"), "plugin_failed");
    assert_eq!(code("loop"), "plugin_timeout");
    let memory = code("memory");
    assert!(
        memory == "plugin_limit_exceeded" || memory == "plugin_failed",
        "{memory}"
    );
    assert_eq!(code("nan"), "plugin_invalid_result");
    assert_eq!(code("two"), "plugin_invalid_result");
    assert_eq!(code("invalid"), "validation_failed");
    for c in &modes[1..] {
        let res = result(&r.json, "p", c, 0);
        assert_eq!(res["pass"], false, "{res}");
        assert_eq!(res["output"], "text", "the output is kept: {res}");
    }
    let sp = summary(&r.json, "p");
    assert_eq!(
        (sp["passed"].clone(), sp["errors"].clone()),
        (json!(1), json!(6))
    );
    // The server keeps serving, the grader included.
    let again = s
        .post(
            "/api/v1/evaluate",
            &json!({ "prompts": [{ "prompt": "x" }],
                     "cases": [{ "output": "y", "assert": [{ "type": "grader", "value": "grader-faulty" }] }] }),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json["results"][0]["pass"], true, "{}", again.text);
    let m = s.get("/metrics").await.text;
    assert!(
        m.contains(
            "promptsculptor_eval_grader_calls_total{grader=\"grader-faulty\",outcome=\"error\"} 6"
        ),
        "{m}"
    );
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_the_rest_of_the_run() {
    let llm = FakeLlm::start(|_, _| {
        Reply::Delay(
            Duration::from_millis(400),
            Box::new(Reply::Text("ok".into())),
        )
    })
    .await;
    let s = Server::start(graders().llm(&llm.base_url)).await;
    let cases: Vec<Value> = (0..30).map(|i| json!({ "id": format!("c{i}") })).collect();
    let body = json!({ "prompts": [{ "prompt": "x" }], "cases": cases, "max_concurrency": 1 });
    let gone = s
        .http
        .post(format!("{}/api/v1/evaluate", s.base))
        .json(&body)
        .timeout(Duration::from_millis(900))
        .send()
        .await;
    assert!(gone.is_err(), "the client gave up first");
    // Run to the end, the 30 items would take 12 s; cancelled, no new call
    // starts once the connection is gone.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after_cancel = llm.received().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        llm.received().len(),
        after_cancel,
        "calls went on after the client left"
    );
    assert!(after_cancel <= 5, "{after_cancel} calls");
    assert_eq!(s.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn a_database_outage_loses_no_result() {
    // PostgreSQL that is not there: the run is graded and answered in
    // full, and says it was not stored; suites answer 503.
    let s = Server::start(
        graders()
            .database("postgres://postgres@127.0.0.1:1/none")
            .env("PROMPTSCULPTOR_DATABASE_TIMEOUT_SECS", "1"),
    )
    .await;
    common::wait_until(Duration::from_secs(20), "the folder plugins", || async {
        let rows = s.get("/api/v1/plugins").await;
        match rows.text.contains("banned-phrases") {
            true => Ok(()),
            false => Err(rows.text),
        }
    })
    .await;
    let r = s
        .post(
            "/api/v1/evaluate",
            &json!({ "prompts": [{ "prompt": "x" }],
                     "cases": [{ "output": "fine", "assert": [{ "type": "contains", "value": "fine" }] }] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["stored"], false);
    assert_eq!(r.json["results"][0]["pass"], true);
    s.get("/api/v1/suites")
        .await
        .assert_error(503, "storage_unavailable");
    s.post(
        "/api/v1/evaluate",
        &json!({ "prompts": [{ "prompt": "x" }], "suite": "any" }),
    )
    .await
    .assert_error(503, "storage_unavailable");
}
