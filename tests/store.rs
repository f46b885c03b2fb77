//! The style registry and the request log against both stores (issue 12):
//! every test here runs twice, on a fresh SQLite file and on a fresh
//! PostgreSQL database (`both_backends!`), against the real binary. The
//! PostgreSQL-only tests at the end check what only a shared database can
//! show: a second instance sees a write within the contract's 1 s.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{sync::Arc, time::Duration};

use common::pg::Backend;
use common::{Options, Resp, Server, install, wait_for_row, wait_until};
use serde_json::{Value, json};

/// Options storing in `backend`, plus the temp dir that holds the SQLite
/// file when the test needs a restart to find its data again (clones of
/// the options then share the store, on either backend).
async fn persistent(backend: Backend) -> (Options, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tmp");
    let opts = Options {
        db: Some(dir.path().join("keep.db")),
        ..Options::default()
    }
    .backend(backend)
    .await;
    (opts, dir)
}

fn style_body(name: &str) -> Value {
    json!({ "name": name, "description": format!("style {name}"),
            "instructions": format!("Rewrite as {name}; keep every {{{{variable}}}}."),
            "examples": [{ "before": "a", "after": name }] })
}

fn style_names(r: &Resp) -> Vec<String> {
    r.json["styles"]
        .as_array()
        .expect("styles")
        .iter()
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect()
}

async fn put_if(s: &Server, name: &str, etag: Option<&str>, instructions: &str) -> Resp {
    let url = format!("{}/api/v1/styles/{name}", s.base);
    let body = json!({ "description": "d", "instructions": instructions });
    s.raw(|c, _| {
        let b = c.put(&url).json(&body);
        match etag {
            Some(e) => b.header("if-match", e),
            None => b,
        }
    })
    .await
}

async fn delete_if(s: &Server, name: &str, etag: &str) -> Resp {
    let url = format!("{}/api/v1/styles/{name}", s.base);
    s.raw(|c, _| c.delete(&url).header("if-match", etag)).await
}

/// `count(*)` of `request_log` rows matching `filter` (SQL shared by both
/// stores), in the server's own database.
async fn log_count(s: &Server, filter: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM request_log WHERE {filter}");
    match &s.database_url {
        Some(url) => common::pg::query_i64(url, &sql).await,
        None => rusqlite::Connection::open_with_flags(
            &s.db_path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .and_then(|c| c.query_row(&sql, [], |r| r.get(0)))
        .unwrap_or(0),
    }
}

both_backends!(
    async fn styles_crud_and_user_style_remix(backend: Backend) {
        let s = Server::start(Options::default().backend(backend).await).await;
        s.wait_ready_on(backend).await;
        let style = json!({
            "name": "pirate-voice",
            "description": "Rewrite the prompt so the answer sounds like a pirate.",
            "instructions": "Keep the task; ask for pirate diction.",
            "examples": [{ "before": "Explain {{topic}}.", "after": "Explain {{topic}}, arr, like a pirate." }]
        });
        let r = s.post("/api/v1/styles", &style).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.json["source"], "user");
        assert_eq!(
            r.json["examples"][0]["after"],
            "Explain {{topic}}, arr, like a pirate."
        );
        let created_at = r.json["created_at"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(created_at.ends_with('Z'), "{created_at}");
        assert_eq!(r.json["updated_at"], r.json["created_at"]);
        s.post("/api/v1/styles", &style)
            .await
            .assert_error(409, "style_conflict");
        // A user style cannot take a builtin's name.
        let mut builtin = style.clone();
        builtin["name"] = json!("concise");
        s.post("/api/v1/styles", &builtin)
            .await
            .assert_error(409, "style_conflict");
        let mut bad = style.clone();
        bad["name"] = json!("Bad Name");
        s.post("/api/v1/styles", &bad)
            .await
            .assert_error(422, "validation_failed");
        bad["name"] = json!("-leading-dash");
        s.post("/api/v1/styles", &bad)
            .await
            .assert_error(422, "validation_failed");
        let mut no_instr = style.clone();
        no_instr["name"] = json!("other");
        no_instr["instructions"] = json!("");
        s.post("/api/v1/styles", &no_instr)
            .await
            .assert_error(422, "validation_failed");
        s.get("/api/v1/styles/other")
            .await
            .assert_error(404, "style_not_found");

        let got = s.get("/api/v1/styles/pirate-voice").await;
        assert_eq!(got.status, 200);
        assert_eq!(
            got.json["instructions"],
            "Keep the task; ask for pirate diction."
        );
        assert_eq!(got.json["created_at"], created_at.as_str());
        let listed = s.get("/api/v1/styles").await;
        let names = style_names(&listed);
        assert!(names.contains(&"pirate-voice".to_string()), "{names:?}");
        assert!(names.contains(&"concise".to_string()), "{names:?}");

        let put = s
            .put(
                "/api/v1/styles/pirate-voice",
                &json!({ "description": "Arr.", "instructions": "Talk like a pirate, always." }),
            )
            .await;
        assert_eq!(put.status, 200, "{}", put.text);
        assert_eq!(put.json["description"], "Arr.");
        assert_eq!(put.json["examples"], json!([]));
        assert_eq!(put.json["created_at"], created_at.as_str());
        assert!(
            put.json["updated_at"].as_str().unwrap_or_default() >= created_at.as_str(),
            "{}",
            put.text
        );
        let got = s.get("/api/v1/styles/pirate-voice").await;
        assert_eq!(got.json["instructions"], "Talk like a pirate, always.");

        // A user style is served by the default remix plugin, deterministically.
        let remix = s
            .post(
                "/api/v1/remix",
                &json!({ "prompt": "Explain {{topic}} to a child.", "style": "pirate-voice", "use_llm": false }),
            )
            .await;
        assert_eq!(remix.status, 200, "{}", remix.text);
        assert_eq!(remix.json["style"]["source"], "user");
        assert_eq!(remix.json["style"]["description"], "Arr.");
        assert!(
            remix.json["prompt"]
                .as_str()
                .unwrap_or("")
                .contains("{{topic}}")
        );

        // Builtins are read-only; absent styles are 404.
        s.put(
            "/api/v1/styles/concise",
            &json!({ "description": "x", "instructions": "y" }),
        )
        .await
        .assert_error(409, "style_conflict");
        s.delete("/api/v1/styles/concise")
            .await
            .assert_error(409, "style_conflict");
        assert_eq!(
            s.get("/api/v1/styles/concise").await.json["source"],
            "builtin"
        );
        s.put(
            "/api/v1/styles/absent",
            &json!({ "description": "x", "instructions": "y" }),
        )
        .await
        .assert_error(404, "style_not_found");
        s.delete("/api/v1/styles/absent")
            .await
            .assert_error(404, "style_not_found");

        assert_eq!(s.delete("/api/v1/styles/pirate-voice").await.status, 204);
        s.get("/api/v1/styles/pirate-voice")
            .await
            .assert_error(404, "style_not_found");
        s.delete("/api/v1/styles/pirate-voice")
            .await
            .assert_error(404, "style_not_found");
        // The name is free again.
        assert_eq!(s.post("/api/v1/styles", &style).await.status, 201);
    }
);

both_backends!(
    /// The registry is served from memory: every committed write replaces
    /// the snapshot before it answers, so the very next remix applies it
    /// and a plugin's `styles.get`/`styles.list` (the evil plugin's
    /// `styles-get` arm) see it; no polling.
    async fn a_style_write_is_served_by_the_very_next_call(backend: Backend) {
        let s = Server::start(
            Options::default()
                .plugins(&["analyze", "remix", "create", "evil"])
                .backend(backend)
                .await,
        )
        .await;
        s.wait_ready_on(backend).await;
        let probe = async |name: &str| -> Vec<Value> {
            let r = s
                .post(
                    "/api/v1/analyze",
                    &json!({ "prompt": format!("styles-get {name}"), "strategy": "evil", "use_llm": false }),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.json["suggestions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        };
        let remix = async || {
            s.post(
                "/api/v1/remix",
                &json!({ "prompt": "Explain {{topic}} to a child.", "style": "fresh-style", "use_llm": false }),
            )
            .await
        };
        // Builtins are visible to plugins too.
        assert_eq!(probe("concise").await[1], json!("styles-list:true"));
        assert_eq!(
            probe("fresh-style").await,
            vec![json!("styles-get:none"), json!("styles-list:false")]
        );
        remix().await.assert_error(404, "style_not_found");

        let created = s
            .post(
                "/api/v1/styles",
                &json!({ "name": "fresh-style", "description": "First.", "instructions": "Answer in haiku." }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let r = remix().await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["style"]["source"], "user");
        assert_eq!(r.json["style"]["description"], "First.");
        assert_eq!(
            probe("fresh-style").await,
            vec![
                json!("styles-get:found:user:Answer in haiku."),
                json!("styles-list:true")
            ]
        );

        let put = s
            .put(
                "/api/v1/styles/fresh-style",
                &json!({ "description": "Second.", "instructions": "Answer in limericks." }),
            )
            .await;
        assert_eq!(put.status, 200, "{}", put.text);
        let r = remix().await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["style"]["description"], "Second.");
        assert_eq!(
            probe("fresh-style").await[0],
            json!("styles-get:found:user:Answer in limericks.")
        );
        assert_eq!(
            s.get("/api/v1/styles/fresh-style").await.json["description"],
            "Second."
        );

        assert_eq!(s.delete("/api/v1/styles/fresh-style").await.status, 204);
        remix().await.assert_error(404, "style_not_found");
        assert_eq!(
            probe("fresh-style").await,
            vec![json!("styles-get:none"), json!("styles-list:false")]
        );
    }
);

both_backends!(
    /// User styles are in the store, not only in memory: a restarted server
    /// (same file / same database) serves them, with their timestamps, and
    /// the builtins are not duplicated by a second migration run.
    async fn styles_survive_a_restart(backend: Backend) {
        let (opts, _dir) = persistent(backend).await;
        let created = {
            let s = Server::start(opts.clone()).await;
            s.wait_ready_on(backend).await;
            let r = s.post("/api/v1/styles", &style_body("kept")).await;
            assert_eq!(r.status, 201, "{}", r.text);
            let r = s.post("/api/v1/styles", &style_body("dropped")).await;
            assert_eq!(r.status, 201, "{}", r.text);
            assert_eq!(s.delete("/api/v1/styles/dropped").await.status, 204);
            s.get("/api/v1/styles/kept").await
        };
        let s = Server::start(opts).await;
        s.wait_ready_on(backend).await;
        let got = s.get("/api/v1/styles/kept").await;
        assert_eq!(got.status, 200, "{}", got.text);
        for field in [
            "description",
            "instructions",
            "examples",
            "created_at",
            "updated_at",
            "source",
        ] {
            assert_eq!(got.json[field], created.json[field], "{field}");
        }
        assert_eq!(
            got.header("etag"),
            created.header("etag"),
            "the ETag survives too"
        );
        s.get("/api/v1/styles/dropped")
            .await
            .assert_error(404, "style_not_found");
        let names = style_names(&s.get("/api/v1/styles").await);
        let mut dedup = names.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(names.len(), dedup.len(), "no duplicates: {names:?}");
        assert!(names.contains(&"concise".to_string()));
        // Still writable after the restart.
        assert_eq!(put_if(&s, "kept", None, "again").await.status, 200);
    }
);

both_backends!(
    /// `ETag` on GET/POST/PUT, `If-Match` on PUT/DELETE: a stale tag is 412
    /// `precondition_failed`, of concurrent conditional writers from one
    /// version exactly one wins, and without `If-Match` the last write wins.
    multi_thread async fn etags_and_if_match_serialize_style_writers(backend: Backend) {
        let s = Arc::new(Server::start(Options::default().backend(backend).await).await);
        s.wait_ready_on(backend).await;
        let created = s.post("/api/v1/styles", &style_body("shared")).await;
        assert_eq!(created.status, 201, "{}", created.text);
        let e0 = created.header("etag").expect("etag on 201").to_string();
        assert!(e0.starts_with('"') && e0.ends_with('"'), "{e0}");
        assert_eq!(
            s.get("/api/v1/styles/shared").await.header("etag"),
            Some(e0.as_str()),
            "GET etag = POST etag"
        );

        let r = put_if(&s, "shared", Some(&e0), "v1").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let e1 = r.header("etag").expect("etag on PUT").to_string();
        assert_ne!(e0, e1);
        assert_eq!(s.get("/api/v1/styles/shared").await.header("etag"), Some(e1.as_str()));
        let msg = put_if(&s, "shared", Some(&e0), "lost update")
            .await
            .assert_error(412, "precondition_failed");
        assert!(msg.contains(&e1), "the message gives the current tag: {msg}");
        assert_eq!(s.get("/api/v1/styles/shared").await.json["instructions"], "v1");
        put_if(&s, "shared", Some(&format!("W/{e1}")), "weak")
            .await
            .assert_error(412, "precondition_failed");
        let r = put_if(&s, "shared", Some(&format!("{e0}, {e1}")), "v2").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = put_if(&s, "shared", Some("*"), "v3").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let e3 = r.header("etag").expect("etag").to_string();
        put_if(&s, "absent", Some(&e3), "x")
            .await
            .assert_error(404, "style_not_found");
        put_if(&s, "concise", Some("*"), "x")
            .await
            .assert_error(409, "style_conflict");

        // 16 writers race from the same version: exactly one wins.
        let racers = futures_util::future::join_all((0..16).map(|i| {
            let (s, e3) = (Arc::clone(&s), e3.clone());
            async move { put_if(&s, "shared", Some(&e3), &format!("racer {i}")).await }
        }))
        .await;
        let winners: Vec<&Resp> = racers.iter().filter(|r| r.status == 200).collect();
        assert_eq!(winners.len(), 1, "exactly one conditional writer wins");
        for r in racers.iter().filter(|r| r.status != 200) {
            r.assert_error(412, "precondition_failed");
        }
        assert_eq!(
            s.get("/api/v1/styles/shared").await.json["instructions"],
            winners[0].json["instructions"]
        );

        // Without If-Match: last write wins, every write succeeds.
        let blind = futures_util::future::join_all((0..16).map(|i| {
            let s = Arc::clone(&s);
            async move { put_if(&s, "shared", None, &format!("blind {i}")).await }
        }))
        .await;
        assert!(blind.iter().all(|r| r.status == 200));
        let final_text = s.get("/api/v1/styles/shared").await.json["instructions"].clone();
        assert!(blind.iter().any(|r| r.json["instructions"] == final_text), "{final_text}");

        let ec = s.get("/api/v1/styles/shared").await.header("etag").expect("etag").to_string();
        delete_if(&s, "shared", &e0)
            .await
            .assert_error(412, "precondition_failed");
        assert_eq!(s.get("/api/v1/styles/shared").await.status, 200);
        assert_eq!(delete_if(&s, "shared", &ec).await.status, 204);
        s.get("/api/v1/styles/shared")
            .await
            .assert_error(404, "style_not_found");
    }
);

both_backends!(
    /// Concurrent creates: of 12 writers of one name exactly one gets 201
    /// (the rest 409), and 24 distinct names all land and are listed.
    multi_thread async fn concurrent_creates_are_atomic(backend: Backend) {
        let s = Arc::new(Server::start(Options::default().backend(backend).await).await);
        s.wait_ready_on(backend).await;
        let same = futures_util::future::join_all((0..12).map(|i| {
            let s = Arc::clone(&s);
            async move {
                let mut body = style_body("contested");
                body["description"] = json!(format!("writer {i}"));
                s.post("/api/v1/styles", &body).await
            }
        }))
        .await;
        let won: Vec<&Resp> = same.iter().filter(|r| r.status == 201).collect();
        assert_eq!(won.len(), 1, "exactly one create wins");
        for r in same.iter().filter(|r| r.status != 201) {
            r.assert_error(409, "style_conflict");
        }
        assert_eq!(
            s.get("/api/v1/styles/contested").await.json["description"],
            won[0].json["description"]
        );

        let distinct = futures_util::future::join_all((0..24).map(|i| {
            let s = Arc::clone(&s);
            async move { s.post("/api/v1/styles", &style_body(&format!("many-{i}"))).await }
        }))
        .await;
        for r in &distinct {
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let names = style_names(&s.get("/api/v1/styles").await);
        for i in 0..24 {
            assert!(names.contains(&format!("many-{i}")), "many-{i} not listed");
        }
    }
);

both_backends!(
    /// A plugin's styles exist exactly while it is loaded, are read-only,
    /// and a user style cannot take one of their names; a plugin whose
    /// style clashes with a user style is refused at load.
    async fn plugin_styles_follow_their_plugin(backend: Backend) {
        let s = Server::start(Options::default().backend(backend).await).await;
        s.wait_ready_on(backend).await;
        let dir = s.plugins_dir();
        install(&common::plugin_file("styler"), &dir, "styler.wasm");
        let row = wait_for_row(&s, "styler.wasm", |r| r["status"] == "ok").await;
        assert_eq!(row["styles"], json!(["styler-loud", "styler-calm"]));
        let st = s.get("/api/v1/styles/styler-loud").await;
        assert_eq!(st.status, 200, "{}", st.text);
        assert_eq!(st.json["source"], "plugin:styler");
        assert!(style_names(&s.get("/api/v1/styles").await).contains(&"styler-calm".to_string()));
        s.delete("/api/v1/styles/styler-loud")
            .await
            .assert_error(409, "style_conflict");
        s.put(
            "/api/v1/styles/styler-loud",
            &json!({ "description": "x", "instructions": "y" }),
        )
        .await
        .assert_error(409, "style_conflict");
        s.post("/api/v1/styles", &style_body("styler-loud"))
            .await
            .assert_error(409, "style_conflict");
        let r = s
            .post(
                "/api/v1/remix",
                &json!({ "prompt": "Explain {{x}}", "style": "styler-calm", "use_llm": false }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["strategy"]["name"], "styler");
        assert_eq!(r.json["style"]["source"], "plugin:styler");

        // Removing the plugin removes its styles.
        std::fs::remove_file(dir.join("styler.wasm")).expect("rm");
        wait_for_row(&s, "styler.wasm", Value::is_null).await;
        s.get("/api/v1/styles/styler-loud")
            .await
            .assert_error(404, "style_not_found");
        assert!(!s.get("/api/v1/styles").await.text.contains("plugin:styler"));

        // Now a user takes the name; the plugin coming back is refused for it,
        // and the user style is untouched.
        let mine = s.post("/api/v1/styles", &style_body("styler-loud")).await;
        assert_eq!(mine.status, 201, "{}", mine.text);
        install(&common::plugin_file("styler"), &dir, "styler.wasm");
        let row = wait_for_row(&s, "styler.wasm", |r| r["status"] == "error").await;
        assert!(
            row["error"].as_str().unwrap_or("").contains("styler-loud"),
            "{row}"
        );
        let st = s.get("/api/v1/styles/styler-loud").await;
        assert_eq!(st.json["source"], "user");
        assert_eq!(st.json["description"], mine.json["description"]);
        s.get("/api/v1/styles/styler-calm")
            .await
            .assert_error(404, "style_not_found");
    }
);

both_backends!(
    /// Every API request leaves one row in the store's request log, with
    /// its operation and status, and no prompt text unless asked.
    async fn request_log_rows_are_written(backend: Backend) {
        let s = Server::start(Options::default().backend(backend).await).await;
        s.wait_ready_on(backend).await;
        let r = s
            .post(
                "/api/v1/analyze",
                &json!({ "prompt": "Secret prompt text", "use_llm": false }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = s
            .post(
                "/api/v1/remix",
                &json!({ "prompt": "Make {{x}} short", "style": "concise", "use_llm": false }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        s.post("/api/v1/create", &json!({ "goal": "" }))
            .await
            .assert_error(422, "validation_failed");
        // The log is written off the request path: wait for the rows.
        let wanted = [
            "operation = 'analyze' AND status = 200",
            "operation = 'remix' AND status = 200 AND style = 'concise'",
            "operation = 'create' AND status = 422 AND error_code = 'validation_failed'",
        ];
        wait_until(
            Duration::from_secs(10),
            "the three request log rows",
            || async {
                if s.request_log_rows().await < 3 {
                    return Err("fewer than 3 rows".to_string());
                }
                for filter in wanted {
                    let n = log_count(&s, filter).await;
                    if n != 1 {
                        return Err(format!("{n} rows where {filter}"));
                    }
                }
                Ok(())
            },
        )
        .await;
        assert_eq!(
            log_count(&s, "prompt IS NOT NULL").await,
            0,
            "no prompt text by default"
        );
    }
);

// ------------------------------------------------ PostgreSQL: two instances

/// Two servers on one fresh PostgreSQL database, both ready.
async fn two_instances() -> Option<(Server, Server)> {
    if !common::pg::available().await {
        return None;
    }
    let opts = Options::default().backend(Backend::Postgres).await;
    let a = Server::start(opts.clone()).await;
    let b = Server::start(opts).await;
    a.wait_ready_on(Backend::Postgres).await;
    b.wait_ready_on(Backend::Postgres).await;
    Some((a, b))
}

/// Wait (at most the contract's 1 s) until `s` answers GET `path` with
/// `status` and, when given, `field` = `want`.
async fn within_1s(s: &Server, what: &str, path: &str, status: u16, field: Option<(&str, &Value)>) {
    wait_until(Duration::from_secs(1), what, || async {
        let r = s.get(path).await;
        if r.status != status {
            return Err(format!("{} {}", r.status, r.text));
        }
        match field {
            Some((f, want)) if r.json[f] != *want => Err(format!("{f} = {}", r.json[f])),
            _ => Ok(()),
        }
    })
    .await;
}

/// Contract §5: a style write on one instance is visible on every instance
/// within 1 s: create, replace and delete, in both directions.
#[tokio::test]
async fn postgres_a_second_instance_sees_style_writes_within_1s() {
    let Some((a, b)) = two_instances().await else {
        return;
    };
    let r = a.post("/api/v1/styles", &style_body("fleet-style")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    within_1s(
        &b,
        "the create on B",
        "/api/v1/styles/fleet-style",
        200,
        None,
    )
    .await;
    let on_b = b.get("/api/v1/styles/fleet-style").await;
    assert_eq!(on_b.json, r.json, "B serves the same record");
    assert_eq!(on_b.header("etag"), r.header("etag"), "and the same ETag");

    let r = put_if(&a, "fleet-style", None, "second version").await;
    assert_eq!(r.status, 200, "{}", r.text);
    within_1s(
        &b,
        "the update on B",
        "/api/v1/styles/fleet-style",
        200,
        Some(("instructions", &json!("second version"))),
    )
    .await;
    // The other direction, and a remix on B uses the new version.
    let r = put_if(&b, "fleet-style", None, "third version").await;
    assert_eq!(r.status, 200, "{}", r.text);
    within_1s(
        &a,
        "the update on A",
        "/api/v1/styles/fleet-style",
        200,
        Some(("instructions", &json!("third version"))),
    )
    .await;
    // A name taken on A is taken on B.
    b.post("/api/v1/styles", &style_body("fleet-style"))
        .await
        .assert_error(409, "style_conflict");

    assert_eq!(a.delete("/api/v1/styles/fleet-style").await.status, 204);
    within_1s(
        &b,
        "the delete on B",
        "/api/v1/styles/fleet-style",
        404,
        None,
    )
    .await;
    let r = b
        .post(
            "/api/v1/remix",
            &json!({ "prompt": "Explain {{x}}", "style": "fleet-style", "use_llm": false }),
        )
        .await;
    r.assert_error(404, "style_not_found");
}

/// If-Match across instances: a tag read on B is stale once A wrote (412
/// on B, even before B's cache caught up), and of conditional writers on
/// both instances from one version exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_if_match_holds_across_instances() {
    let Some((a, b)) = two_instances().await else {
        return;
    };
    let a = Arc::new(a);
    let b = Arc::new(b);
    let created = a.post("/api/v1/styles", &style_body("duel")).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let e0 = created.header("etag").expect("etag").to_string();
    within_1s(&b, "the create on B", "/api/v1/styles/duel", 200, None).await;
    let r = put_if(&a, "duel", Some(&e0), "from A").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Immediately: B's write with the old tag must fail, whatever B's cache holds.
    put_if(&b, "duel", Some(&e0), "lost update from B")
        .await
        .assert_error(412, "precondition_failed");
    within_1s(
        &b,
        "A's update on B",
        "/api/v1/styles/duel",
        200,
        Some(("instructions", &json!("from A"))),
    )
    .await;
    let e1 = b
        .get("/api/v1/styles/duel")
        .await
        .header("etag")
        .expect("etag")
        .to_string();
    let racers = futures_util::future::join_all((0..12).map(|i| {
        let s = if i % 2 == 0 {
            Arc::clone(&a)
        } else {
            Arc::clone(&b)
        };
        let e1 = e1.clone();
        async move { put_if(&s, "duel", Some(&e1), &format!("racer {i}")).await }
    }))
    .await;
    let winners: Vec<&Resp> = racers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one conditional writer wins across the fleet"
    );
    for r in racers.iter().filter(|r| r.status != 200) {
        r.assert_error(412, "precondition_failed");
    }
    let want = winners[0].json["instructions"].clone();
    within_1s(
        &a,
        "the winner on A",
        "/api/v1/styles/duel",
        200,
        Some(("instructions", &want)),
    )
    .await;
    within_1s(
        &b,
        "the winner on B",
        "/api/v1/styles/duel",
        200,
        Some(("instructions", &want)),
    )
    .await;
}

/// Both instances' request logs land in the one database.
#[tokio::test]
async fn postgres_request_logs_of_both_instances_share_the_table() {
    let Some((a, b)) = two_instances().await else {
        return;
    };
    for s in [&a, &b] {
        let r = s
            .post(
                "/api/v1/remix",
                &json!({ "prompt": "Make {{x}} short", "style": "concise", "use_llm": false }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    wait_until(Duration::from_secs(10), "two remix rows", || async {
        match log_count(&a, "operation = 'remix'").await {
            2 => Ok(()),
            n => Err(format!("{n} rows")),
        }
    })
    .await;
    assert_eq!(
        log_count(&b, "operation = 'remix' AND status = 200").await,
        2
    );
}

/// Run `promptsculptor db import …` with a clean environment plus `env`;
/// (exit code, stdout, stderr).
fn db_import(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptsculptor"))
        .env_clear()
        .envs(env.iter().copied())
        .args(["db", "import"])
        .args(args)
        .output()
        .expect("run db import");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `promptsculptor db import --from FILE.db --request-log` copies a SQLite
/// registry into PostgreSQL with its timestamps (so ETags are unchanged)
/// and its request log; builtin styles are not copied; a second run copies
/// no style twice; a missing file is a clear error and copies nothing.
#[tokio::test]
async fn db_import_moves_a_sqlite_registry_into_postgres() {
    if !common::pg::available().await {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("old.db");
    let (kept, logged) = {
        let mut s = Server::start(Options {
            db: Some(file.clone()),
            ..Options::default()
        })
        .await;
        s.wait_ready().await;
        for name in ["imported-one", "imported-two"] {
            let r = s.post("/api/v1/styles", &style_body(name)).await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
        let r = s
            .post(
                "/api/v1/remix",
                &json!({ "prompt": "Make {{x}} short", "style": "imported-one", "use_llm": false }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let kept = s.get("/api/v1/styles/imported-one").await;
        wait_until(Duration::from_secs(10), "the remix row", || async {
            match s.request_log_rows().await {
                n if n >= 1 => Ok(()),
                n => Err(format!("{n} rows")),
            }
        })
        .await;
        let logged = s.request_log_rows().await;
        assert!(s.terminate(Duration::from_secs(10)).is_some(), "stopped");
        (kept, logged)
    };
    let target = common::pg::fresh_database().await;
    let env = [("PROMPTSCULPTOR_DATABASE_URL", target.url.as_str())];
    let from = file.to_str().expect("utf-8 path");

    let (code, out, err) = db_import(&["--from", from, "--request-log"], &env);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("imported 2 user styles (0 skipped"),
        "builtins are not copied: {out}"
    );
    assert!(out.contains(&format!("{logged} request-log rows")), "{out}");
    assert!(
        !out.contains(&target.url) || !target.url.contains('@'),
        "{out}"
    );

    let (code, out, err) = db_import(&["--from", from], &env);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("imported 0 user styles (2 skipped"), "{out}");

    let (code, out, err) = db_import(&["--from", "/nonexistent/ps.db"], &env);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("/nonexistent/ps.db"), "{err}");

    let s = Server::start(Options::default().database(&target.url)).await;
    s.wait_ready_on(Backend::Postgres).await;
    let got = s.get("/api/v1/styles/imported-one").await;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.json["created_at"], kept.json["created_at"]);
    assert_eq!(got.header("etag"), kept.header("etag"), "same ETag");
    assert_eq!(s.get("/api/v1/styles/imported-two").await.status, 200);
    assert_eq!(
        common::pg::query_i64(&target.url, "SELECT count(*) FROM request_log").await,
        logged
    );
    assert_eq!(
        common::pg::query_i64(&target.url, "SELECT count(*) FROM styles").await,
        2,
        "only the user styles are stored"
    );
}
