//! The database goes away: restarted or crashed under load, or down when an
//! instance starts. A private cluster (`scripts/pg-throwaway`) so the test
//! may stop it; `PROMPTSCULPTOR_DATABASE_TIMEOUT_SECS=2` so a write's
//! bounded failure is quick to see.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::cluster::Cluster;
use crate::common::{self, Options, Server};
use crate::harness::{
    DB_TIMEOUT_SECS, PROPAGATION, Serving, TEMPLATE, VAGUE, bases, database_unavailable,
    fleet_opts, plugin_served, propagated, publish, put_style, ready_on_postgres, serial,
    sha256_hex, start_fleet, style_body, style_served,
};
use crate::load::{Load, ReadyWatch, WriteOutcome, Writers, acknowledged, all_present};

/// The contract's bound on a write while the database is unreachable:
/// the database timeout, plus a second for everything around it.
fn write_bound() -> Duration {
    Duration::from_secs(DB_TIMEOUT_SECS + 1)
}

/// How long an instance may take to notice the database is back and be
/// ready again by itself (the listener's reconnect backs off to 5 s; ~10 s
/// is the brief's expectation, generous here and reported as measured).
const RECOVERY: Duration = Duration::from_secs(20);

fn outage_opts(url: &str) -> Options {
    fleet_opts(url).env(
        "PROMPTSCULPTOR_DATABASE_TIMEOUT_SECS",
        &DB_TIMEOUT_SECS.to_string(),
    )
}

/// The operations that need no database answer 200 on `s`: analyze,
/// create, remix with a builtin style, and the read of a builtin style.
async fn no_database_needed(s: &Server) {
    let r = s
        .post(
            "/api/v1/analyze",
            &json!({ "prompt": VAGUE, "use_llm": false }),
        )
        .await;
    assert_eq!(r.status, 200, "{} analyze: {}", s.base, r.text);
    let r = s
        .post(
            "/api/v1/create",
            &json!({ "goal": "Summarise a support ticket", "use_llm": false }),
        )
        .await;
    assert_eq!(r.status, 200, "{} create: {}", s.base, r.text);
    let r = s
        .post(
            "/api/v1/remix",
            &json!({ "prompt": TEMPLATE, "style": "concise", "use_llm": false }),
        )
        .await;
    assert_eq!(r.status, 200, "{} remix: {}", s.base, r.text);
    let r = s.get("/api/v1/styles/concise").await;
    assert_eq!(r.status, 200, "{} GET builtin style: {}", s.base, r.text);
}

/// A style write on `s` answers 503 `storage_unavailable` (with
/// `Retry-After`) within the bound.
async fn write_refused(s: &Server, name: &str) {
    let t = Instant::now();
    let r = s
        .post("/api/v1/styles", &style_body(name, "written while down"))
        .await;
    let took = t.elapsed();
    r.assert_error(503, "storage_unavailable");
    assert!(
        r.header("retry-after").is_some(),
        "{}: 503 without Retry-After",
        s.base
    );
    assert!(
        took <= write_bound(),
        "{}: a write took {took:?} to fail with the database down (bound {:?})",
        s.base,
        write_bound()
    );
}

/// The checks on instance `s` (number `i`) while its database is down:
/// `/readyz` says so, what needs no database answers 200 (user styles from
/// memory), every kind of style write is a bounded 503.
async fn while_down(s: &Server, i: usize) {
    common::wait_until(
        Duration::from_secs(30),
        "/readyz to report the database unavailable",
        || database_unavailable(s),
    )
    .await;
    assert_eq!(s.get("/healthz").await.status, 200, "{}", s.base);
    no_database_needed(s).await;
    style_served(s, "before-0-0", "before")
        .await
        .unwrap_or_else(|e| panic!("{}: a user style while down: {e}", s.base));
    write_refused(s, &format!("refused-{i}")).await;
    let t = Instant::now();
    put_style(s, "before-0-0", None, "changed while down")
        .await
        .assert_error(503, "storage_unavailable");
    let took = t.elapsed();
    assert!(
        took <= write_bound(),
        "{}: a PUT took {took:?} to fail (bound {:?})",
        s.base,
        write_bound()
    );
    let t = Instant::now();
    s.delete("/api/v1/styles/before-0-1")
        .await
        .assert_error(503, "storage_unavailable");
    let took = t.elapsed();
    assert!(
        took <= write_bound(),
        "{}: a DELETE took {took:?} to fail (bound {:?})",
        s.base,
        write_bound()
    );
}

/// How the database goes away.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outage {
    /// `pg-throwaway restart`: fast shutdown, then start.
    Restart,
    /// `pg-throwaway kill` (SIGKILL of the postmaster), checks while it is
    /// down, then `start` (crash recovery).
    Crash,
    /// SIGSTOP of every database process (a hung server or a network
    /// black hole: connections stay open, nothing answers), checks while it
    /// is frozen, then SIGCONT.
    Freeze,
}

async fn database_outage_under_load(outage: Outage) {
    let _serial = serial().await;
    let tag = format!("{outage:?}").to_lowercase();
    let Some(cluster) = Cluster::start(&tag).await else {
        return;
    };
    let fleet = start_fleet(&outage_opts(&cluster.url)).await;
    let (a, b, c) = (&fleet[0], &fleet[1], &fleet[2]);
    let all = bases(&[a, b, c]);

    // Acknowledged before the outage, through every instance; one of them
    // is read back from memory while the database is down.
    let mut before = Vec::new();
    for (i, s) in [a, b, c].into_iter().enumerate() {
        for j in 0..4 {
            let name = format!("before-{i}-{j}");
            let r = s.post("/api/v1/styles", &style_body(&name, "before")).await;
            assert_eq!(r.status, 201, "{}: {}", s.base, r.text);
            before.push(name);
        }
    }
    let since = Instant::now();
    propagated(
        &[a, b, c],
        since,
        PROPAGATION,
        "the styles written before",
        |s| style_served(s, "before-0-0", "before"),
    )
    .await;

    // A published plugin, called by the load throughout: an instance keeps
    // serving what it loaded while the database is away, and the resync
    // after it (a reload of the published table) does not fail a call.
    let faulty = std::fs::read(common::plugin_file("faulty")).expect("faulty.wasm");
    let sha = sha256_hex(&faulty);
    let r = publish(a, "faulty", faulty).await;
    let since = Instant::now();
    assert_eq!(r.status, 201, "{}", r.text);
    propagated(
        &[a, b, c],
        since,
        PROPAGATION,
        "publish before the outage",
        |s| plugin_served(s, "faulty", Serving::Published(&sha, "0.0.1")),
    )
    .await;

    let load = Load::start(&all, 3);
    load.set_faulty(true).await;
    let writers = Writers::start(&all, "during", 3, Duration::from_millis(50), false);
    let watch = ReadyWatch::start(&all);
    load.warm(30).await;
    writers.wait_acked(10).await;

    match outage {
        Outage::Restart => cluster.ctl("restart").await,
        Outage::Crash | Outage::Freeze => {
            if outage == Outage::Crash {
                cluster.ctl("kill").await;
            } else {
                cluster.freeze();
            }
            // While it is down, on every instance.
            for (i, s) in [a, b, c].into_iter().enumerate() {
                while_down(s, i).await;
            }
            // Down long enough for the reconnect to back off a few times.
            tokio::time::sleep(Duration::from_secs(3)).await;
            if outage == Outage::Crash {
                cluster.ctl("start").await;
            } else {
                cluster.thaw();
            }
        }
    }
    let back = Instant::now();

    // Every instance becomes ready again by itself.
    for s in [a, b, c] {
        common::wait_until(RECOVERY, "ready again after the database came back", || {
            ready_on_postgres(s)
        })
        .await;
    }
    eprintln!(
        "{outage:?}: every instance ready {:?} after the database was back",
        back.elapsed()
    );

    // A write on A after the outage reaches B and C within 1 s: their
    // listeners reconnected and resynced.
    let r = a
        .post("/api/v1/styles", &style_body("after-outage", "after"))
        .await;
    let since = Instant::now();
    assert_eq!(r.status, 201, "{}", r.text);
    propagated(
        &[b, c],
        since,
        PROPAGATION,
        "a write on A after the outage",
        |s| style_served(s, "after-outage", "after"),
    )
    .await;
    // And the writes keep flowing for a while on every instance.
    let acked_now = writers.acked();
    writers.wait_acked(acked_now + 10).await;

    let report = load.finish().await;
    let outcomes = writers.finish().await;
    let ready_seen = watch.finish().await;

    // The operations that need no database never failed.
    eprintln!(
        "{outage:?}: load {} answered 200, {} failed",
        report.ok,
        report.failures.len()
    );
    assert!(
        report.failures.is_empty(),
        "{outage:?}: {} analyze/create/remix requests failed: {:#?}",
        report.failures.len(),
        report.failures
    );
    // Style writes: acknowledged, or refused with 503 storage_unavailable
    // within the bound; nothing else (no 500, no dropped connection).
    let refused: Vec<_> = outcomes.iter().filter(|o| o.status == Some(503)).collect();
    let wrong: Vec<String> = outcomes
        .iter()
        .filter(|o| {
            !(o.status == Some(201) || (o.status == Some(503) && o.detail == "storage_unavailable"))
        })
        .map(WriteOutcome::describe)
        .collect();
    let slow: Vec<String> = refused
        .iter()
        .filter(|o| o.took > write_bound())
        .map(|o| o.describe())
        .collect();
    let slowest = outcomes.iter().map(|o| o.took).max().unwrap_or_default();
    eprintln!(
        "{outage:?}: {} writes, {} acknowledged, {} refused with 503, slowest answer {slowest:?}",
        outcomes.len(),
        outcomes.len() - refused.len() - wrong.len(),
        refused.len()
    );
    assert!(
        wrong.is_empty(),
        "{outage:?}: writes answered other than 201 or 503 storage_unavailable: {wrong:#?}"
    );
    assert!(
        slow.is_empty(),
        "{outage:?}: 503s slower than {:?}: {slow:#?}",
        write_bound()
    );
    // Every /readyz 503 named the database.
    let not_ready: Vec<&String> = ready_seen.iter().filter(|l| !l.contains(" 200 ")).collect();
    eprintln!(
        "{outage:?}: /readyz answered not-ready {} times of {}",
        not_ready.len(),
        ready_seen.len()
    );
    let unexplained: Vec<_> = not_ready
        .iter()
        .filter(|l| !(l.contains(" 503 ") && l.contains(r#""database":"unavailable""#)))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{outage:?}: /readyz answers other than 200 or 503 database unavailable: {unexplained:#?}"
    );

    // Nothing acknowledged is lost, on any instance.
    let mut expected = before;
    expected.extend(acknowledged(&outcomes));
    expected.push("after-outage".to_string());
    all_present(&[a, b, c], &expected, &format!("{outage:?}")).await;
}

/// `pg-throwaway restart` under load (analyze/create/remix, calls of a
/// published plugin, and style writes on three instances): no failed
/// read-path request, writes are
/// 201 or a bounded 503, every instance is ready again by itself, a write
/// after the restart propagates within 1 s, no acknowledged write is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_restart_under_load_loses_nothing() {
    database_outage_under_load(Outage::Restart).await;
}

/// The database crashes (SIGKILL) under load and stays down a few seconds:
/// while it is down `/readyz` is 503 `database: unavailable`, the
/// operations that need no database answer 200 (user styles from memory),
/// writes are 503 `storage_unavailable` within the timeout + 1 s; after
/// `start` (crash recovery) as for a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_crash_under_load_loses_nothing() {
    database_outage_under_load(Outage::Crash).await;
}

/// An instance whose database is down when it starts: it listens, is
/// alive but not ready (`database: unavailable`), serves what needs no
/// database, refuses writes with a bounded 503, answers 503 (not 404) for a
/// style it cannot know yet; once the database is up it becomes ready by
/// itself, loads the plugin another instance published before, the write
/// succeeds, and style writes propagate both ways with that other instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_started_with_the_database_down_becomes_ready_when_it_is_up() {
    let _serial = serial().await;
    // Create the cluster first (initdb, and the check that PostgreSQL is
    // there at all), then stop it: its port is then closed.
    let Some(cluster) = Cluster::start("down-at-start").await else {
        return;
    };
    // Another instance publishes a plugin first: the late one must load it
    // once it reaches the database.
    let p = Server::start(outage_opts(&cluster.url)).await;
    p.wait_ready().await;
    let faulty = std::fs::read(common::plugin_file("faulty-v2")).expect("faulty-v2.wasm");
    let sha = sha256_hex(&faulty);
    let r = publish(&p, "faulty", faulty).await;
    assert_eq!(r.status, 201, "{}", r.text);
    cluster.ctl("stop").await;

    let s = Server::start(outage_opts(&cluster.url)).await;
    assert_eq!(s.get("/healthz").await.status, 200);
    common::wait_until(
        Duration::from_secs(30),
        "/readyz to report the database unavailable",
        || database_unavailable(&s),
    )
    .await;
    no_database_needed(&s).await;
    write_refused(&s, "first-style").await;
    // User styles were never loaded: a name not in memory may exist in the
    // database, so the answer is 503, not a 404 that would be a guess.
    let t = Instant::now();
    s.post(
        "/api/v1/remix",
        &json!({ "prompt": TEMPLATE, "style": "maybe-in-the-database", "use_llm": false }),
    )
    .await
    .assert_error(503, "storage_unavailable");
    assert!(t.elapsed() <= write_bound(), "remix took {:?}", t.elapsed());

    cluster.ctl("start").await;
    let up = Instant::now();
    common::wait_until(RECOVERY, "ready once the database is up", || {
        ready_on_postgres(&s)
    })
    .await;
    eprintln!(
        "down at start: ready {:?} after the database came up",
        up.elapsed()
    );
    // The published plugin, loaded once the database answered.
    common::wait_until(
        RECOVERY,
        "the published plugin on the late instance",
        || plugin_served(&s, "faulty", Serving::Published(&sha, "0.0.2")),
    )
    .await;
    // Notifications flow both ways with the instance that was there before
    // the outage (whose listener reconnected meanwhile).
    common::wait_until(RECOVERY, "the first instance ready again", || {
        ready_on_postgres(&p)
    })
    .await;
    let r = s
        .post("/api/v1/styles", &style_body("first-style", "after start"))
        .await;
    let since = Instant::now();
    assert_eq!(r.status, 201, "{}", r.text);
    style_served(&s, "first-style", "after start")
        .await
        .expect("the style written once the database is up");
    propagated(
        &[&p],
        since,
        PROPAGATION,
        "a write on the late instance",
        |p| style_served(p, "first-style", "after start"),
    )
    .await;
    let r = p
        .post("/api/v1/styles", &style_body("second-style", "from p"))
        .await;
    let since = Instant::now();
    assert_eq!(r.status, 201, "{}", r.text);
    propagated(
        &[&s],
        since,
        PROPAGATION,
        "a write on the first instance",
        |s| style_served(s, "second-style", "from p"),
    )
    .await;
    s.post(
        "/api/v1/remix",
        &json!({ "prompt": TEMPLATE, "style": "maybe-in-the-database", "use_llm": false }),
    )
    .await
    .assert_error(404, "style_not_found");
}

/// The database hangs (every process SIGSTOPped: open connections, no
/// answers, as behind a network black hole) under load: only the server's
/// own timeouts end its calls, so `/readyz` turns 503, what needs no
/// database keeps answering 200, and each write is refused with 503
/// `storage_unavailable` within the timeout + 1 s; after SIGCONT as for a
/// restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_hang_under_load_is_bounded_and_loses_nothing() {
    database_outage_under_load(Outage::Freeze).await;
}
