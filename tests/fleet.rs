//! Fleet mode (issue 12, contract §5): three server processes on one
//! PostgreSQL database serve one registry and one set of published
//! plugins. Style writes, publishes, rollbacks and deletes on one instance
//! are served by every instance within 1 s; a load running meanwhile sees
//! no failed request; kill -9 of an instance and a restart or crash of the
//! database lose no acknowledged write, and a hung database only delays a
//! write by the database timeout; an instance starts with its database down
//! and becomes ready once it is up; a dropped listener reconnects and
//! misses no change; three instances started at once on an empty database
//! migrate it exactly once.
//!
//! The database is a fresh one on the test server (`tests/common/pg.rs`;
//! skipped with a note when there is none, unless
//! `PROMPTSCULPTOR_REQUIRE_POSTGRES=1`); the outage tests run a private
//! cluster of their own (`scripts/pg-throwaway`) that they restart and kill.
//! The only timing assertions are the contract's bounds (1 s propagation,
//! the database timeout + 1 s for a write while the database is down);
//! everything else waits with generous deadlines.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// helpers in tests/common and tests/fleet are not #[test] functions that
// clippy.toml's allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "fleet/cluster.rs"]
mod cluster;
mod common;
#[path = "fleet/harness.rs"]
mod harness;
#[path = "fleet/load.rs"]
mod load;
#[path = "fleet/outage.rs"]
mod outage;

use std::time::{Duration, Instant};

use common::llm::{FakeLlm, Reply};
use common::{Server, pg};
use harness::{
    PROPAGATION, Serving, bases, database, fleet_opts, plugin_served, propagated, publish,
    put_style, rollback, serial, sha256_hex, start_fleet, start_fleet_cold, start_servers,
    style_absent, style_body, style_served, unpublish,
};
use load::{Load, Writers, acknowledged, all_present};
use serde_json::{Value, json};

/// What the evil test plugin's `styles.get`/`styles.list` see of `name`
/// on `s`: the registry as plugins read it, not only as the API serves it.
async fn plugin_view(s: &Server, name: &str) -> Result<Vec<Value>, String> {
    let r = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": format!("styles-get {name}"), "strategy": "evil", "use_llm": false }),
        )
        .await;
    if r.status != 200 {
        return Err(format!("evil styles-get: {} {}", r.status, r.text));
    }
    Ok(r.json["suggestions"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// A user style created, replaced and deleted through one instance is
/// served (GET, remix, and a plugin's `styles.get`) by the two others
/// within 1 s of each answer; conditional writes on two other instances
/// from one ETag are serialised fleet-wide (exactly one wins).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn style_writes_on_one_instance_are_served_by_all_within_a_second() {
    let _serial = serial().await;
    let Some(db) = database().await else { return };
    let fleet =
        start_fleet(&fleet_opts(&db.url).plugins(&["analyze", "remix", "create", "evil"])).await;
    let (a, b, c) = (&fleet[0], &fleet[1], &fleet[2]);

    // Absent everywhere first, so the probes below see a change.
    for s in [a, b, c] {
        style_absent(s, "fleet-voice")
            .await
            .expect("absent at start");
    }

    // POST on A.
    let created = a
        .post(
            "/api/v1/styles",
            &json!({ "name": "fleet-voice", "description": "First.", "instructions": "Answer in haiku." }),
        )
        .await;
    let since = Instant::now();
    assert_eq!(created.status, 201, "{}", created.text);
    propagated(
        &[b, c],
        since,
        PROPAGATION,
        "POST on A, GET+remix on B, C",
        |s| style_served(s, "fleet-voice", "First."),
    )
    .await;
    propagated(
        &[b, c],
        since,
        PROPAGATION,
        "POST on A, styles.get in a plugin on B, C",
        |s| async move {
            let seen = plugin_view(s, "fleet-voice").await?;
            if seen.first() == Some(&json!("styles-get:found:user:Answer in haiku.")) {
                Ok(())
            } else {
                Err(format!("{seen:?}"))
            }
        },
    )
    .await;
    // One stored version, one ETag, on every instance.
    let etag = created.header("etag").expect("etag on 201").to_string();
    for s in [b, c] {
        let got = s.get("/api/v1/styles/fleet-voice").await;
        assert_eq!(got.header("etag"), Some(etag.as_str()), "{}", s.base);
        assert_eq!(got.json["created_at"], created.json["created_at"]);
    }

    // PUT on A.
    let put = put_style(a, "fleet-voice", None, "Second.").await;
    let since = Instant::now();
    assert_eq!(put.status, 200, "{}", put.text);
    propagated(
        &[b, c],
        since,
        PROPAGATION,
        "PUT on A, GET+remix on B, C",
        |s| style_served(s, "fleet-voice", "Second."),
    )
    .await;

    // Two conditional PUTs from the same ETag on B and C at once: the
    // If-Match check and the write are one transaction fleet-wide, so
    // exactly one wins and the other is 412, whatever B and C had cached.
    let e1 = put.header("etag").expect("etag on PUT").to_string();
    let (rb, rc) = tokio::join!(
        put_style(b, "fleet-voice", Some(&e1), "From B."),
        put_style(c, "fleet-voice", Some(&e1), "From C."),
    );
    let since = Instant::now();
    let statuses = [rb.status, rc.status];
    assert!(
        statuses == [200, 412] || statuses == [412, 200],
        "exactly one conditional writer wins: B {} {}, C {} {}",
        rb.status,
        rb.text,
        rc.status,
        rc.text
    );
    let (winner, loser) = if rb.status == 200 {
        (&rb, &rc)
    } else {
        (&rc, &rb)
    };
    loser.assert_error(412, "precondition_failed");
    let won = winner.json["description"]
        .as_str()
        .expect("description")
        .to_string();
    propagated(
        &[a, b, c],
        since,
        PROPAGATION,
        "the winning PUT on every instance",
        |s| style_served(s, "fleet-voice", &won),
    )
    .await;

    // DELETE on A.
    let del = a.delete("/api/v1/styles/fleet-voice").await;
    let since = Instant::now();
    assert_eq!(del.status, 204, "{}", del.text);
    propagated(&[b, c], since, PROPAGATION, "DELETE on A, on B, C", |s| {
        style_absent(s, "fleet-voice")
    })
    .await;
    propagated(
        &[b, c],
        since,
        PROPAGATION,
        "DELETE on A, styles.get in a plugin on B, C",
        |s| async move {
            let seen = plugin_view(s, "fleet-voice").await?;
            if seen.first() == Some(&json!("styles-get:none")) {
                Ok(())
            } else {
                Err(format!("{seen:?}"))
            }
        },
    )
    .await;

    // The name is free fleet-wide again: C may take it, and A serves it.
    let again = c
        .post("/api/v1/styles", &style_body("fleet-voice", "Third."))
        .await;
    let since = Instant::now();
    assert_eq!(again.status, 201, "{}", again.text);
    propagated(
        &[a, b],
        since,
        PROPAGATION,
        "POST on C after the DELETE, on A, B",
        |s| style_served(s, "fleet-voice", "Third."),
    )
    .await;
    // And a second POST of the name through another instance conflicts.
    b.post("/api/v1/styles", &style_body("fleet-voice", "Fourth."))
        .await
        .assert_error(409, "style_conflict");
}

/// A plugin published on A while a load runs on all three instances is
/// served by every instance within 1 s (its row and a call naming it), a
/// new version too, while calls in flight on the old version finish on it;
/// a rollback on B and a delete on C propagate the same way; not one
/// request of the load fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_rollback_and_delete_propagate_under_load_without_a_failed_request() {
    let _serial = serial().await;
    let Some(db) = database().await else { return };
    // The LLM answers after 2 s: a call waiting on it is in flight for
    // longer than a swap takes (the load itself never calls the LLM).
    let llm = FakeLlm::start(|_, _| {
        Reply::Delay(
            Duration::from_secs(2),
            Box::new(Reply::Text("slow ok".into())),
        )
    })
    .await;
    let v1 = std::fs::read(common::plugin_file("faulty")).expect("faulty.wasm");
    let v2 = std::fs::read(common::plugin_file("faulty-v2")).expect("faulty-v2.wasm");
    let (sha1, sha2) = (sha256_hex(&v1), sha256_hex(&v2));
    // Each instance compiles what is published (no artifact of it cached).
    let (fleet, _caches) =
        start_fleet_cold(&fleet_opts(&db.url).llm(&llm.base_url), &[&v1, &v2]).await;
    let (a, b, c) = (&fleet[0], &fleet[1], &fleet[2]);
    for s in [a, b, c] {
        plugin_served(s, "faulty", Serving::Absent)
            .await
            .expect("not loaded anywhere at start");
    }

    let load = Load::start(&bases(&[a, b, c]), 4);
    load.warm(30).await;

    // A new name: 201, served everywhere.
    let r = publish(a, "faulty", v1.clone()).await;
    let since = Instant::now();
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["source"], "published", "{}", r.text);
    assert_eq!(r.json["sha256"], sha1.as_str(), "{}", r.text);
    assert_eq!(r.json["file"], "published:faulty", "{}", r.text);
    propagated(&[a, b, c], since, PROPAGATION, "publish v1 on A", |s| {
        plugin_served(s, "faulty", Serving::Published(&sha1, "0.0.1"))
    })
    .await;
    // From here on the load calls it too: a swap must not fail a call.
    load.set_faulty(true).await;
    load.warm(load.done() + 30).await;

    // A new version of the name: 200, served everywhere within 1 s, while
    // slow calls (waiting on the LLM) started on v1 are in flight on every
    // instance: they finish, on v1.
    let before = llm.received().len();
    let slow = futures_util::future::join_all([a, b, c, a, b, c].into_iter().map(|s| async move {
        let r = s
            .post(
                "/api/v1/analyze",
                &json!({ "prompt": "llm", "strategy": "faulty" }),
            )
            .await;
        (s.base.clone(), r, Instant::now())
    }));
    let swap = async {
        common::wait_until(Duration::from_secs(30), "slow calls at the LLM", || {
            let n = llm.received().len() - before;
            async move {
                if n >= 6 {
                    Ok(())
                } else {
                    Err(format!("{n} of 6"))
                }
            }
        })
        .await;
        let r = publish(a, "faulty", v2.clone()).await;
        let since = Instant::now();
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["sha256"], sha2.as_str(), "{}", r.text);
        propagated(&[a, b, c], since, PROPAGATION, "publish v2 on A", |s| {
            plugin_served(s, "faulty", Serving::Published(&sha2, "0.0.2"))
        })
        .await;
        Instant::now()
    };
    let (slow, swapped) = tokio::join!(slow, swap);
    for (base, r, answered) in &slow {
        assert_eq!(
            r.status, 200,
            "{base}: a call in flight across the swap: {}",
            r.text
        );
        assert_eq!(
            r.json["strategy"]["version"], "0.0.1",
            "{base}: a call started on v1 finishes on v1: {}",
            r.text
        );
        // The setup, not the server: the LLM's delay outlasts the swap.
        assert!(
            *answered > swapped,
            "{base}: answered before the swap was everywhere"
        );
    }
    // Re-uploading the active bytes is a no-op 200.
    let r = publish(b, "faulty", v2.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["sha256"], sha2.as_str(), "{}", r.text);

    // The versions, as any instance lists them: newest first, v2 active.
    let versions = c.get("/api/v1/plugins/faulty/versions").await;
    assert_eq!(versions.status, 200, "{}", versions.text);
    let listed: Vec<(String, bool)> = versions.json["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            (
                v["sha256"].as_str().unwrap_or_default().to_string(),
                v["active"] == true,
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![(sha2.clone(), true), (sha1.clone(), false)],
        "{}",
        versions.text
    );
    load.warm(load.done() + 30).await;

    // Rollback on B to v1.
    let r = rollback(b, "faulty", &sha1).await;
    let since = Instant::now();
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["sha256"], sha1.as_str(), "{}", r.text);
    propagated(&[a, b, c], since, PROPAGATION, "rollback to v1 on B", |s| {
        plugin_served(s, "faulty", Serving::Published(&sha1, "0.0.1"))
    })
    .await;
    rollback(b, "faulty", &"0".repeat(64))
        .await
        .assert_error(404, "plugin_not_found");
    load.warm(load.done() + 30).await;

    // Delete on C: the name goes everywhere (no folder file to fall back to).
    load.set_faulty(false).await;
    let r = unpublish(c, "faulty").await;
    let since = Instant::now();
    assert_eq!(r.status, 204, "{}", r.text);
    propagated(&[a, b, c], since, PROPAGATION, "delete on C", |s| {
        plugin_served(s, "faulty", Serving::Absent)
    })
    .await;
    unpublish(a, "faulty")
        .await
        .assert_error(404, "plugin_not_found");
    load.warm(load.done() + 30).await;

    let report = load.finish().await;
    eprintln!(
        "load during publish/rollback/delete: {} answered 200, {} failed",
        report.ok,
        report.failures.len()
    );
    assert!(
        report.failures.is_empty(),
        "{} of {} requests failed during the swaps: {:#?}",
        report.failures.len(),
        report.ok + report.failures.len(),
        report.failures
    );
}

/// A published plugin overrides the folder file of the same name on every
/// instance (one row per name, `source: published`), and deleting it falls
/// back to the folder file everywhere; a folder-only plugin cannot be
/// deleted or rolled back through the API; publishing needs the admin key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_plugin_overrides_the_folder_file_and_deleting_it_falls_back() {
    let _serial = serial().await;
    let Some(db) = database().await else { return };
    let v1 = std::fs::read(common::plugin_file("faulty")).expect("faulty.wasm");
    let v2 = std::fs::read(common::plugin_file("faulty-v2")).expect("faulty-v2.wasm");
    let (sha1, sha2) = (sha256_hex(&v1), sha256_hex(&v2));
    // The folder file is compiled at start; what is published, on publish.
    let (fleet, _caches) = start_fleet_cold(
        &fleet_opts(&db.url).plugins(&["analyze", "remix", "create", "faulty"]),
        &[&v2],
    )
    .await;
    let (a, b, c) = (&fleet[0], &fleet[1], &fleet[2]);
    for s in [a, b, c] {
        let s: &Server = s;
        common::wait_until(Duration::from_secs(30), "the folder plugin loaded", || {
            plugin_served(s, "faulty", Serving::Folder(&sha1, "0.0.1"))
        })
        .await;
    }

    // Publishing needs the admin key: none, or a wrong one, is 401 and
    // changes nothing.
    let url = format!("{}/api/v1/plugins/faulty", a.base);
    for key in [None, Some("not-the-admin-key")] {
        let body = v2.clone();
        a.raw(|cl, _| {
            let req = cl
                .put(&url)
                .header("content-type", "application/wasm")
                .body(body);
            match key {
                Some(k) => req.bearer_auth(k),
                None => req,
            }
        })
        .await
        .assert_error(401, "unauthorized");
    }

    // A name served only from the folder: no versions, and neither a
    // delete nor a rollback through the API.
    let versions = b.get("/api/v1/plugins/faulty/versions").await;
    assert_eq!(versions.status, 200, "{}", versions.text);
    assert_eq!(versions.json["versions"], json!([]), "{}", versions.text);
    unpublish(b, "faulty")
        .await
        .assert_error(409, "plugin_not_published");
    rollback(b, "faulty", &sha1)
        .await
        .assert_error(409, "plugin_not_published");
    for s in [a, b, c] {
        plugin_served(s, "faulty", Serving::Folder(&sha1, "0.0.1"))
            .await
            .expect("still the folder file");
    }

    // Published over the folder file: the name had no published plugin (201),
    // and every instance serves the published one, in one row.
    let r = publish(a, "faulty", v2.clone()).await;
    let since = Instant::now();
    assert_eq!(r.status, 201, "{}", r.text);
    propagated(
        &[a, b, c],
        since,
        PROPAGATION,
        "publish over the folder file on A",
        |s| plugin_served(s, "faulty", Serving::Published(&sha2, "0.0.2")),
    )
    .await;

    // Deleted on C: every instance falls back to its folder file.
    let r = unpublish(c, "faulty").await;
    let since = Instant::now();
    assert_eq!(r.status, 204, "{}", r.text);
    propagated(
        &[a, b, c],
        since,
        PROPAGATION,
        "delete on C, fallback to the folder",
        |s| plugin_served(s, "faulty", Serving::Folder(&sha1, "0.0.1")),
    )
    .await;
    let versions = a.get("/api/v1/plugins/faulty/versions").await;
    assert_eq!(versions.json["versions"], json!([]), "{}", versions.text);
}

/// kill -9 of an instance under a write load through it: every write it
/// acknowledged (201) is stored, read back through another instance and
/// through the restarted one; the others keep writing while it is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_an_instance_under_write_load_loses_no_acknowledged_style() {
    let _serial = serial().await;
    let Some(db) = database().await else { return };
    let opts = fleet_opts(&db.url);
    let mut fleet = start_fleet(&opts).await;

    let writers = Writers::start(&[fleet[0].base.clone()], "k9", 4, Duration::ZERO, true);
    writers.wait_acked(100).await;
    fleet[0].kill();
    let outcomes = writers.finish().await;
    let acked = acknowledged(&outcomes);
    let unexpected: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status.is_some_and(|s| s != 201))
        .map(load::WriteOutcome::describe)
        .collect();
    assert!(
        unexpected.is_empty(),
        "writes through A answered other than 201 before the kill: {unexpected:#?}"
    );
    eprintln!(
        "kill -9 under writes: {} acknowledged, {} cut off",
        acked.len(),
        outcomes.len() - acked.len()
    );

    // B and C keep serving and writing while A is down.
    let during = fleet[1]
        .post(
            "/api/v1/styles",
            &style_body("while-a-down", "Written on B."),
        )
        .await;
    assert_eq!(during.status, 201, "{}", during.text);

    let restarted = start_servers(vec![opts.clone()]).await.remove(0);
    restarted.wait_ready().await;
    fleet[0] = restarted;
    let mut expected = acked.clone();
    expected.push("while-a-down".to_string());
    all_present(
        &[&fleet[1], &fleet[0], &fleet[2]],
        &expected,
        "after kill -9 and restart",
    )
    .await;
    // The content too, not only the name, through the restarted instance.
    let one = fleet[0].get(&format!("/api/v1/styles/{}", acked[0])).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.json["examples"][0]["after"], acked[0].as_str());
    // Fleet-wide agreement: every instance lists the same user styles.
    let lists = futures_util::future::join_all(fleet.iter().map(harness::style_names)).await;
    assert_eq!(lists[0], lists[1], "A and B disagree");
    assert_eq!(lists[1], lists[2], "B and C disagree");
}

/// Three instances started at the same moment on an empty database all
/// become ready, and the migrations (applied under an advisory lock) are
/// recorded exactly once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_starting_at_once_migrate_an_empty_database_once() {
    let _serial = serial().await;
    let Some(db) = database().await else { return };
    let opts = fleet_opts(&db.url);
    let fleet = start_servers(vec![opts.clone(), opts.clone(), opts.clone()]).await;
    for s in &fleet {
        s.wait_ready().await;
    }
    let files = std::fs::read_dir(common::repo_root().join("migrations/postgres"))
        .expect("migrations/postgres")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
        .count() as i64;
    assert!(files > 0, "no PostgreSQL migrations found");
    let rows = pg::query_i64(&db.url, "SELECT count(*) FROM schema_migrations").await;
    let distinct = pg::query_i64(
        &db.url,
        "SELECT count(DISTINCT version) FROM schema_migrations",
    )
    .await;
    assert_eq!(
        (rows, distinct),
        (files, files),
        "schema_migrations rows and distinct versions, for {files} migration files"
    );
    // Applied once in all: the instances took turns, the later ones found
    // nothing left to do (each logs the migrations it applied).
    let applied: usize = fleet
        .iter()
        .map(|s| {
            s.log_text()
                .lines()
                .filter(|l| l.contains("applied") && l.contains("migration"))
                .count()
        })
        .sum();
    assert_eq!(
        applied as i64, files,
        "migrations applied across the three instances' logs"
    );
    // The schema works from every instance: a write on each, seen by all.
    for (i, s) in fleet.iter().enumerate() {
        let r = s
            .post(
                "/api/v1/styles",
                &style_body(&format!("boot-{i}"), "booted"),
            )
            .await;
        assert_eq!(r.status, 201, "{}: {}", s.base, r.text);
    }
    let names: Vec<String> = (0..3).map(|i| format!("boot-{i}")).collect();
    let refs: Vec<&Server> = fleet.iter().collect();
    let since = Instant::now();
    propagated(
        &refs,
        since,
        PROPAGATION,
        "one write per instance, on all",
        |s| {
            let names = names.clone();
            async move {
                let listed = harness::style_names(s).await;
                match names.iter().find(|n| !listed.contains(*n)) {
                    None => Ok(()),
                    Some(n) => Err(format!("{n} missing")),
                }
            }
        },
    )
    .await;
}

/// Terminate every instance's listener connection (`pg_terminate_backend`,
/// the server's own `application_name` for it) and write at once: the
/// notifications sent while the listeners are away are not lost, because a
/// reconnected listener resyncs in full; the write still reaches every
/// instance within 1 s, a publish too, and notifications flow again after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_listener_reconnects_and_misses_no_change() {
    let _serial = serial().await;
    let Some(db) = database().await else { return };
    let fleet = start_fleet(&fleet_opts(&db.url)).await;
    let (a, b, c) = (&fleet[0], &fleet[1], &fleet[2]);
    let listeners = "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'promptsculptor-listener'";
    common::wait_until(Duration::from_secs(30), "three listeners", || async {
        match pg::query_i64(&db.url, listeners).await {
            3 => Ok(()),
            n => Err(format!("{n} listener connections")),
        }
    })
    .await;

    let killed = pg::query_i64(
        &db.url,
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() \
           AND application_name = 'promptsculptor-listener') t",
    )
    .await;
    assert_eq!(killed, 3, "listener connections terminated");

    // Written while the listeners are (re)connecting. A 503 here would be a
    // refusal with the database up: counted and reported, retried.
    let mut refused = 0;
    let started = Instant::now();
    let since = loop {
        let r = a
            .post("/api/v1/styles", &style_body("while-deaf", "while deaf"))
            .await;
        match r.status {
            201 => break Instant::now(),
            503 if started.elapsed() < Duration::from_secs(30) => {
                refused += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            _ => panic!(
                "a write while the listeners reconnect: {} {}",
                r.status, r.text
            ),
        }
    };
    eprintln!(
        "write while the listeners reconnect: {refused} refusals (503) in {:?} before the 201",
        since - started
    );
    propagated(
        &[b, c],
        since,
        PROPAGATION,
        "a write while the listeners reconnect",
        |s| style_served(s, "while-deaf", "while deaf"),
    )
    .await;

    // Terminated again, a publish this time.
    common::wait_until(Duration::from_secs(30), "three listeners again", || async {
        match pg::query_i64(&db.url, listeners).await {
            3 => Ok(()),
            n => Err(format!("{n} listener connections")),
        }
    })
    .await;
    let killed = pg::query_i64(
        &db.url,
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() \
           AND application_name = 'promptsculptor-listener') t",
    )
    .await;
    assert_eq!(killed, 3, "listener connections terminated");
    let faulty = std::fs::read(common::plugin_file("faulty")).expect("faulty.wasm");
    let sha = sha256_hex(&faulty);
    let r = publish(c, "faulty", faulty).await;
    let since = Instant::now();
    assert_eq!(r.status, 201, "{}", r.text);
    propagated(
        &[a, b, c],
        since,
        PROPAGATION,
        "a publish while the listeners reconnect",
        |s| plugin_served(s, "faulty", Serving::Published(&sha, "0.0.1")),
    )
    .await;

    // Reconnected: notifications flow again.
    common::wait_until(Duration::from_secs(30), "three listeners back", || async {
        match pg::query_i64(&db.url, listeners).await {
            3 => Ok(()),
            n => Err(format!("{n} listener connections")),
        }
    })
    .await;
    for s in [a, b, c] {
        s.wait_ready().await;
    }
    let r = b
        .post("/api/v1/styles", &style_body("after-reconnect", "after"))
        .await;
    let since = Instant::now();
    assert_eq!(r.status, 201, "{}", r.text);
    propagated(
        &[a, c],
        since,
        PROPAGATION,
        "a write after the reconnect",
        |s| style_served(s, "after-reconnect", "after"),
    )
    .await;
}
