//! Publishing plugins through the API (issue 12, contract §5) against the
//! real binary: admin authentication first, then the loader's verdicts,
//! then publish → serve → new version → rollback → delete, on both stores
//! where the store matters (`both_backends!`).

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use common::pg::Backend;
use common::{Options, Resp, Server};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ADMIN: &str = "admin-key-5be1c0ffee";
const API: &str = "api-key-0badf00d";
const WASM: &str = "application/wasm";

fn component(name: &str) -> Vec<u8> {
    std::fs::read(common::plugin_file(name)).expect("read component")
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Default plugins plus admin keys, storing in `backend`.
async fn admin_opts(backend: Backend) -> Options {
    Options::default()
        .env("PROMPTSCULPTOR_ADMIN_KEYS", ADMIN)
        .backend(backend)
        .await
}

async fn publish(s: &Server, name: &str, bytes: Vec<u8>) -> Resp {
    s.put_bytes(&format!("/api/v1/plugins/{name}"), WASM, bytes, Some(ADMIN))
        .await
}

async fn rollback(s: &Server, name: &str, sha: &str) -> Resp {
    s.post_auth(
        &format!("/api/v1/plugins/{name}/rollback"),
        &json!({ "sha256": sha }),
        Some(ADMIN),
    )
    .await
}

/// An analyze call served by plugin `name`.
async fn analyze_with(s: &Server, name: &str) -> Resp {
    s.post(
        "/api/v1/analyze",
        &json!({ "prompt": "fine", "strategy": name, "use_llm": false }),
    )
    .await
}

/// The `GET /api/v1/plugins` rows named `name`.
async fn rows_named(s: &Server, name: &str) -> Vec<Value> {
    let r = s.get("/api/v1/plugins").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .filter(|p| p["name"] == name)
        .cloned()
        .collect()
}

/// Assert `row` is the published `name` at `version` with `sha`.
#[track_caller]
fn assert_published_row(row: &Value, name: &str, version: &str, sha: &str) {
    assert_eq!(row["name"], name, "{row}");
    assert_eq!(row["version"], version, "{row}");
    assert_eq!(row["sha256"], sha, "{row}");
    assert_eq!(row["source"], "published", "{row}");
    assert_eq!(row["file"], format!("published:{name}"), "{row}");
    assert_eq!(row["status"], "ok", "{row}");
    assert_eq!(row["kind"], "analyze", "{row}");
}

/// `(version, sha256, active)` of each listed version, newest first.
async fn versions(s: &Server, name: &str) -> Vec<(String, String, bool)> {
    let r = s.get(&format!("/api/v1/plugins/{name}/versions")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            assert!(
                v["uploaded_at"].as_str().is_some_and(|t| t.ends_with('Z')),
                "{v}"
            );
            (
                v["version"].as_str().unwrap_or_default().to_string(),
                v["sha256"].as_str().unwrap_or_default().to_string(),
                v["active"].as_bool().expect("active is a bool"),
            )
        })
        .collect()
}

// ------------------------------------------------------------ authentication

/// No admin key configured: every publishing endpoint is 403
/// `admin_disabled`, whatever key is presented; reading versions is not a
/// publishing endpoint.
#[tokio::test]
async fn publishing_is_off_without_admin_keys() {
    let s = Server::start(Options::default().env("PROMPTSCULPTOR_API_KEYS", API)).await;
    for bearer in [None, Some(API), Some("anything")] {
        s.put_bytes("/api/v1/plugins/faulty", WASM, component("faulty"), bearer)
            .await
            .assert_error(403, "admin_disabled");
        s.delete_auth("/api/v1/plugins/faulty", bearer)
            .await
            .assert_error(403, "admin_disabled");
        s.post_auth(
            "/api/v1/plugins/faulty/rollback",
            &json!({ "sha256": "0".repeat(64) }),
            bearer,
        )
        .await
        .assert_error(403, "admin_disabled");
    }
    let r = s
        .get_auth("/api/v1/plugins/analyze/versions", Some(API))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["versions"], json!([]));
    analyze_with(&s, "faulty")
        .await
        .assert_error(401, "unauthorized");
}

/// With admin keys: only an admin key publishes (401 `unauthorized`
/// otherwise, API keys included), and authentication comes before every
/// other verdict (404, 409, 415, 422); admin keys are valid API keys.
#[tokio::test]
async fn publishing_needs_an_admin_key_before_anything_else() {
    let s = Server::start(
        Options::default()
            .env(
                "PROMPTSCULPTOR_ADMIN_KEYS",
                &format!("other-admin, {ADMIN}"),
            )
            .env("PROMPTSCULPTOR_API_KEYS", API),
    )
    .await;
    for bearer in [None, Some("wrong-key"), Some(API)] {
        // A valid upload...
        s.put_bytes("/api/v1/plugins/faulty", WASM, component("faulty"), bearer)
            .await
            .assert_error(401, "unauthorized");
        // ... and ones that would be 415, 422 (bytes, name), 404, 409, 400.
        s.put_bytes(
            "/api/v1/plugins/faulty",
            "text/plain",
            b"x".to_vec(),
            bearer,
        )
        .await
        .assert_error(401, "unauthorized");
        s.put_bytes("/api/v1/plugins/faulty", WASM, b"not wasm".to_vec(), bearer)
            .await
            .assert_error(401, "unauthorized");
        s.put_bytes(
            "/api/v1/plugins/Bad_Name",
            WASM,
            component("faulty"),
            bearer,
        )
        .await
        .assert_error(401, "unauthorized");
        s.delete_auth("/api/v1/plugins/absent", bearer)
            .await
            .assert_error(401, "unauthorized");
        s.delete_auth("/api/v1/plugins/analyze", bearer)
            .await
            .assert_error(401, "unauthorized");
        s.raw(|c, base| {
            let mut b = c
                .post(format!("{base}/api/v1/plugins/analyze/rollback"))
                .header("content-type", "application/json")
                .body("{not json");
            if let Some(k) = bearer {
                b = b.bearer_auth(k);
            }
            b
        })
        .await
        .assert_error(401, "unauthorized");
    }
    // Nothing was published by any of that.
    analyze_with(&s, "faulty")
        .await
        .assert_error(401, "unauthorized");
    s.post_auth(
        "/api/v1/analyze",
        &json!({ "prompt": "fine", "strategy": "faulty", "use_llm": false }),
        Some(API),
    )
    .await
    .assert_error(404, "strategy_not_found");

    // Admin keys are API keys too; API keys still work; no key does not.
    for key in [ADMIN, "other-admin", API] {
        let r = s.get_auth("/api/v1/styles", Some(key)).await;
        assert_eq!(r.status, 200, "{key}: {}", r.text);
        let r = s
            .get_auth("/api/v1/plugins/analyze/versions", Some(key))
            .await;
        assert_eq!(r.status, 200, "{key}: {}", r.text);
    }
    s.get_auth("/api/v1/styles", None)
        .await
        .assert_error(401, "unauthorized");
    // With the admin key the same requests reach their own verdicts.
    s.delete_auth("/api/v1/plugins/absent", Some(ADMIN))
        .await
        .assert_error(404, "plugin_not_found");
    s.delete_auth("/api/v1/plugins/analyze", Some(ADMIN))
        .await
        .assert_error(409, "plugin_not_published");
    s.put_bytes(
        "/api/v1/plugins/faulty",
        "text/plain",
        b"x".to_vec(),
        Some(ADMIN),
    )
    .await
    .assert_error(415, "unsupported_media_type");
}

/// An upload refused before its body was read (401 here) must not break
/// the client's next request: the server either reads the body or says
/// `Connection: close`, so a pooling client (reqwest, like most) never
/// reuses a connection the server is dropping.
#[tokio::test]
async fn a_refused_upload_leaves_the_connection_usable() {
    let s = Server::start(Options::default().env("PROMPTSCULPTOR_ADMIN_KEYS", ADMIN)).await;
    let url = format!("{}/api/v1/plugins/faulty", s.base);
    let bytes = component("faulty");
    for round in 0..20 {
        let refused = s
            .raw(|c, _| c.put(&url).header("content-type", WASM).body(bytes.clone()))
            .await;
        refused.assert_error(401, "unauthorized");
        let next = s
            .http
            .get(format!("{}/healthz", s.base))
            .send()
            .await
            .map(|r| r.status().as_u16());
        assert!(
            matches!(next, Ok(200)),
            "round {round}: the request after a refused upload failed: {next:?} \
             (the 401 came without `connection: close`: {:?})",
            refused.header("connection")
        );
    }
}

// ---------------------------------------------------------------- validation

/// The loader's verdicts: 415 for a body that is not `application/wasm`,
/// 413 over `PROMPTSCULPTOR_MAX_COMPONENT_BYTES` (after authentication),
/// 422 `plugin_rejected` for bytes that are not a component, a manifest
/// name other than `{name}`, an invalid name, and a configured default's
/// name taken by a plugin of another kind. Nothing is stored by any of them.
#[tokio::test]
async fn publishing_rejects_what_the_loader_refuses() {
    let faulty = component("faulty");
    let cap = faulty.len() + 64;
    let s = Server::start(
        Options::default()
            .env("PROMPTSCULPTOR_ADMIN_KEYS", ADMIN)
            .env("PROMPTSCULPTOR_MAX_COMPONENT_BYTES", &cap.to_string())
            // `faulty` is an analyze plugin: as the configured default
            // creator's name it has the wrong kind.
            .env("PROMPTSCULPTOR_DEFAULT_CREATOR", "faulty")
            .plugins(&[]),
    )
    .await;
    for ct in ["application/octet-stream", "application/json", "text/plain"] {
        s.put_bytes("/api/v1/plugins/faulty", ct, faulty.clone(), Some(ADMIN))
            .await
            .assert_error(415, "unsupported_media_type");
    }
    let mut big = faulty.clone();
    big.resize(cap + 1, 0);
    s.put_bytes("/api/v1/plugins/other-name", WASM, big.clone(), Some(ADMIN))
        .await
        .assert_error(413, "payload_too_large");
    s.put_bytes("/api/v1/plugins/other-name", WASM, big, None)
        .await
        .assert_error(401, "unauthorized");

    for bytes in [
        b"\0asm garbage".to_vec(),
        // A core module, not a component.
        vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
        faulty[..faulty.len() / 2].to_vec(),
    ] {
        publish(&s, "other-name", bytes)
            .await
            .assert_error(422, "plugin_rejected");
    }
    let msg = publish(&s, "other-name", faulty.clone())
        .await
        .assert_error(422, "plugin_rejected");
    assert!(
        msg.contains("faulty") && msg.contains("other-name"),
        "names both: {msg}"
    );
    publish(&s, "Bad_Name", faulty.clone())
        .await
        .assert_error(422, "plugin_rejected");
    let msg = publish(&s, "faulty", faulty.clone())
        .await
        .assert_error(422, "plugin_rejected");
    assert!(msg.contains("default"), "says why: {msg}");

    for name in ["other-name", "faulty"] {
        s.get(&format!("/api/v1/plugins/{name}/versions"))
            .await
            .assert_error(404, "plugin_not_found");
    }
    assert!(rows_named(&s, "faulty").await.is_empty());
}

// ------------------------------------------------------------------ lifecycle

both_backends!(
    /// Publish (201) → served at once → same bytes again (200, no new
    /// version) → a new version (200, served) → versions newest first with
    /// `active` → rollback (the old bytes serve) → delete (204, gone).
    async fn publish_serve_update_rollback_delete(backend: Backend) {
        let s = Server::start(admin_opts(backend).await).await;
        s.wait_ready_on(backend).await;
        let (v1, v2) = (component("faulty"), component("faulty-v2"));
        let (sha1, sha2) = (sha256(&v1), sha256(&v2));
        assert_ne!(sha1, sha2);
        analyze_with(&s, "faulty")
            .await
            .assert_error(404, "strategy_not_found");

        let r = publish(&s, "faulty", v1.clone()).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_published_row(&r.json, "faulty", "0.0.1", &sha1);
        // Served by the very next call: the publish answers after the reload.
        let a = analyze_with(&s, "faulty").await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(
            a.json["strategy"],
            json!({ "name": "faulty", "version": "0.0.1" })
        );
        let rows = rows_named(&s, "faulty").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_published_row(&rows[0], "faulty", "0.0.1", &sha1);
        let analyze = rows_named(&s, "analyze").await;
        assert_eq!(analyze.len(), 1);
        assert_eq!(analyze[0]["source"], "folder");
        // One plugin's row by name: the same row the listing shows.
        let one = s.get("/api/v1/plugins/faulty").await;
        assert_eq!(one.status, 200, "{}", one.text);
        assert_eq!(one.json, rows[0]);
        assert_eq!(s.get("/api/v1/plugins/analyze").await.json, analyze[0]);
        s.get("/api/v1/plugins/absent")
            .await
            .assert_error(404, "plugin_not_found");
        assert_eq!(
            versions(&s, "faulty").await,
            vec![("0.0.1".into(), sha1.clone(), true)]
        );

        // The same bytes again: 200, nothing new.
        let r = publish(&s, "faulty", v1.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_published_row(&r.json, "faulty", "0.0.1", &sha1);
        assert_eq!(versions(&s, "faulty").await.len(), 1);

        // A new version: 200 and served at once.
        let r = publish(&s, "faulty", v2.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_published_row(&r.json, "faulty", "0.0.2", &sha2);
        assert_eq!(
            analyze_with(&s, "faulty").await.json["strategy"]["version"],
            "0.0.2"
        );
        assert_eq!(
            versions(&s, "faulty").await,
            vec![
                ("0.0.2".into(), sha2.clone(), true),
                ("0.0.1".into(), sha1.clone(), false)
            ]
        );

        // Rollback: the first bytes serve again; no version is added.
        let r = rollback(&s, "faulty", &sha1).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_published_row(&r.json, "faulty", "0.0.1", &sha1);
        assert_eq!(
            analyze_with(&s, "faulty").await.json["strategy"]["version"],
            "0.0.1"
        );
        let listed = versions(&s, "faulty").await;
        assert_eq!(listed.len(), 2, "{listed:?}");
        let active: Vec<&String> = listed.iter().filter(|v| v.2).map(|v| &v.1).collect();
        assert_eq!(active, vec![&sha1]);
        rollback(&s, "faulty", &"ab".repeat(32))
            .await
            .assert_error(404, "plugin_not_found");
        rollback(&s, "faulty", "not-a-sha")
            .await
            .assert_error(422, "validation_failed");
        rollback(&s, "absent", &sha1)
            .await
            .assert_error(404, "plugin_not_found");
        // Re-publishing an old version's bytes makes it active, no new row.
        let r = publish(&s, "faulty", v2.clone()).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["version"], "0.0.2");
        assert_eq!(versions(&s, "faulty").await.len(), 2);

        // Folder plugins are not published: 409, and no versions.
        s.delete_auth("/api/v1/plugins/analyze", Some(ADMIN))
            .await
            .assert_error(409, "plugin_not_published");
        rollback(&s, "analyze", &sha1)
            .await
            .assert_error(409, "plugin_not_published");
        assert_eq!(versions(&s, "analyze").await, vec![]);

        // Delete: 204, then gone everywhere.
        let r = s.delete_auth("/api/v1/plugins/faulty", Some(ADMIN)).await;
        assert_eq!(r.status, 204, "{}", r.text);
        analyze_with(&s, "faulty")
            .await
            .assert_error(404, "strategy_not_found");
        assert!(rows_named(&s, "faulty").await.is_empty());
        s.get("/api/v1/plugins/faulty/versions")
            .await
            .assert_error(404, "plugin_not_found");
        s.delete_auth("/api/v1/plugins/faulty", Some(ADMIN))
            .await
            .assert_error(404, "plugin_not_found");
        // The name can be published again from scratch.
        let r = publish(&s, "faulty", v2).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(versions(&s, "faulty").await.len(), 1);
        assert_eq!(s.get("/readyz").await.status, 200);
    }
);

both_backends!(
    /// A published plugin takes precedence over the folder file of its
    /// name (one row, `source: published`); deleting it falls back to the
    /// folder file, which serves again.
    async fn a_published_plugin_shadows_its_folder_namesake(backend: Backend) {
        let s = Server::start(
            admin_opts(backend)
                .await
                .plugins(&["analyze", "remix", "create", "faulty"]),
        )
        .await;
        s.wait_ready_on(backend).await;
        let rows = rows_named(&s, "faulty").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["source"], "folder");
        assert_eq!(rows[0]["file"], "faulty.wasm");
        assert_eq!(
            analyze_with(&s, "faulty").await.json["strategy"]["version"],
            "0.0.1"
        );
        assert_eq!(versions(&s, "faulty").await, vec![]);

        let v2 = component("faulty-v2");
        let sha2 = sha256(&v2);
        let r = publish(&s, "faulty", v2).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_published_row(&r.json, "faulty", "0.0.2", &sha2);
        assert_eq!(
            analyze_with(&s, "faulty").await.json["strategy"]["version"],
            "0.0.2"
        );
        let rows = rows_named(&s, "faulty").await;
        assert_eq!(rows.len(), 1, "one row per name: {rows:?}");
        assert_published_row(&rows[0], "faulty", "0.0.2", &sha2);

        let r = s.delete_auth("/api/v1/plugins/faulty", Some(ADMIN)).await;
        assert_eq!(r.status, 204, "{}", r.text);
        let a = analyze_with(&s, "faulty").await;
        assert_eq!(a.status, 200, "the folder file serves again: {}", a.text);
        assert_eq!(a.json["strategy"]["version"], "0.0.1");
        let rows = rows_named(&s, "faulty").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["source"], "folder");
        assert_eq!(rows[0]["file"], "faulty.wasm");
        s.delete_auth("/api/v1/plugins/faulty", Some(ADMIN))
            .await
            .assert_error(409, "plugin_not_published");
    }
);

both_backends!(
    /// Published plugins live in the store: a restarted server serves the
    /// active version (a rollback included) with its version history.
    async fn published_plugins_survive_a_restart(backend: Backend) {
        let dir = tempfile::tempdir().expect("tmp");
        let opts = Options {
            db: Some(dir.path().join("keep.db")),
            ..admin_opts(backend).await
        };
        let (v1, v2) = (component("faulty"), component("faulty-v2"));
        let (sha1, sha2) = (sha256(&v1), sha256(&v2));
        {
            let s = Server::start(opts.clone()).await;
            assert_eq!(publish(&s, "faulty", v1).await.status, 201);
            assert_eq!(publish(&s, "faulty", v2).await.status, 200);
            assert_eq!(rollback(&s, "faulty", &sha1).await.status, 200);
        }
        let s = Server::start(opts).await;
        s.wait_ready_on(backend).await;
        // Ready means the published plugins serve: no waiting here.
        let a = analyze_with(&s, "faulty").await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.json["strategy"]["version"], "0.0.1");
        let rows = rows_named(&s, "faulty").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_published_row(&rows[0], "faulty", "0.0.1", &sha1);
        assert_eq!(
            versions(&s, "faulty").await,
            vec![("0.0.2".into(), sha2, false), ("0.0.1".into(), sha1, true)]
        );
    }
);

both_backends!(
    /// Requests running while plugins are published, rolled back and
    /// deleted all succeed (each on one whole version), and each change is
    /// served by the call after its answer.
    multi_thread async fn requests_during_publishing_do_not_fail(backend: Backend) {
        let s = Arc::new(
            Server::start(
                admin_opts(backend)
                    .await
                    .plugins(&["analyze", "remix", "create", "faulty"]),
            )
            .await,
        );
        s.wait_ready_on(backend).await;
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (s, stop) = (Arc::clone(&s), Arc::clone(&stop));
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while !stop.load(Ordering::SeqCst) {
                        let r = analyze_with(&s, "faulty").await;
                        seen.push((r.status, r.json["strategy"]["version"].clone(), r.text));
                    }
                    seen
                })
            })
            .collect();
        let (v1, v2) = (component("faulty"), component("faulty-v2"));
        let sha1 = sha256(&v1);
        let steps: Vec<(&str, u16, &str)> = vec![
            ("publish v2", 201, "0.0.2"),
            ("publish v1", 200, "0.0.1"),
            ("publish v2", 200, "0.0.2"),
            ("rollback v1", 200, "0.0.1"),
            ("publish v2", 200, "0.0.2"),
            ("delete", 204, "0.0.1"),
            ("publish v2", 201, "0.0.2"),
        ];
        for (step, status, serving) in steps {
            let r = match step {
                "publish v1" => publish(&s, "faulty", v1.clone()).await,
                "publish v2" => publish(&s, "faulty", v2.clone()).await,
                "rollback v1" => rollback(&s, "faulty", &sha1).await,
                _ => s.delete_auth("/api/v1/plugins/faulty", Some(ADMIN)).await,
            };
            assert_eq!(r.status, status, "{step}: {}", r.text);
            assert_eq!(
                analyze_with(&s, "faulty").await.json["strategy"]["version"],
                serving,
                "after {step}"
            );
        }
        stop.store(true, Ordering::SeqCst);
        let mut total = 0;
        let mut by_version = std::collections::BTreeMap::<String, usize>::new();
        for w in workers {
            for (status, version, text) in w.await.expect("worker") {
                assert_eq!(status, 200, "a request failed during publishing: {text}");
                *by_version.entry(version.to_string()).or_default() += 1;
                total += 1;
            }
        }
        assert!(total > 0);
        eprintln!("PUBLISH UNDER LOAD: {total} requests, by version {by_version:?}");
    }
);
