//! Loads for the fleet tests: clients that send the read-path operations
//! and record every failure, style writers that record every outcome, and a
//! `/readyz` watcher.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::common::{self, Server};
use crate::harness::{TEMPLATE, VAGUE, analyze_with, style_body, style_names};

/// A client of its own, so a load never waits behind a server's test client.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// What a load saw.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Requests answered 200.
    pub ok: usize,
    /// Every other outcome: when (since the load started), where, what.
    pub failures: Vec<String>,
}

/// Clients sending analyze, remix (builtin style) and create requests
/// round-robin over instances, no pause between requests; optionally also
/// analyze calls naming strategy `faulty`. Every answer must be 200.
pub struct Load {
    stop: Arc<AtomicBool>,
    faulty: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
    rounds: Vec<Arc<AtomicU64>>,
    tasks: Vec<tokio::task::JoinHandle<LoadReport>>,
}

impl Load {
    /// Start `clients` clients over `bases`.
    pub fn start(bases: &[String], clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let faulty = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut rounds = Vec::new();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let round = Arc::new(AtomicU64::new(0));
            rounds.push(Arc::clone(&round));
            let (stop, faulty, done) = (Arc::clone(&stop), Arc::clone(&faulty), Arc::clone(&done));
            let bases = bases.to_vec();
            let http = client();
            tasks.push(tokio::spawn(async move {
                let mut report = LoadReport::default();
                let mut i = c;
                while !stop.load(Ordering::SeqCst) {
                    let base = &bases[i % bases.len()];
                    let with_faulty = faulty.load(Ordering::SeqCst);
                    let (path, body) = match i % if with_faulty { 4 } else { 3 } {
                        0 => (
                            "/api/v1/analyze",
                            json!({ "prompt": VAGUE, "use_llm": false }),
                        ),
                        1 => (
                            "/api/v1/remix",
                            json!({ "prompt": TEMPLATE, "style": "concise", "use_llm": false }),
                        ),
                        2 => (
                            "/api/v1/create",
                            json!({ "goal": "Summarise a support ticket", "use_llm": false }),
                        ),
                        _ => ("/api/v1/analyze", analyze_with("faulty")),
                    };
                    let sent = http.post(format!("{base}{path}")).json(&body).send().await;
                    match sent {
                        Ok(r) if r.status().as_u16() == 200 => {
                            // The body too: a reset mid-body is a failure.
                            match r.text().await {
                                Ok(_) => report.ok += 1,
                                Err(e) => report.failures.push(format!(
                                    "{:?} {base}{path}: body: {e}",
                                    started.elapsed()
                                )),
                            }
                        }
                        Ok(r) => {
                            let status = r.status();
                            let text = r.text().await.unwrap_or_default();
                            report.failures.push(format!(
                                "{:?} {base}{path} {body}: {status} {text}",
                                started.elapsed()
                            ));
                        }
                        Err(e) => report
                            .failures
                            .push(format!("{:?} {base}{path}: {e}", started.elapsed())),
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                    round.fetch_add(1, Ordering::SeqCst);
                    i += 1;
                }
                report
            }));
        }
        Load {
            stop,
            faulty,
            done,
            rounds,
            tasks,
        }
    }

    /// Requests answered so far (any outcome).
    pub fn done(&self) -> usize {
        self.done.load(Ordering::SeqCst)
    }

    /// Wait (generously) until the load has sent `n` requests.
    pub async fn warm(&self, n: usize) {
        common::wait_until(Duration::from_secs(60), "the load running", || {
            let d = self.done();
            async move {
                if d >= n {
                    Ok(())
                } else {
                    Err(format!("{d} requests done"))
                }
            }
        })
        .await;
    }

    /// Include (or stop including) `strategy: faulty` calls. Turning them
    /// off returns once every client has finished a request it started
    /// after the switch, so none is in flight when the plugin goes.
    pub async fn set_faulty(&self, on: bool) {
        let before: Vec<u64> = self
            .rounds
            .iter()
            .map(|r| r.load(Ordering::SeqCst))
            .collect();
        self.faulty.store(on, Ordering::SeqCst);
        if on {
            return;
        }
        common::wait_until(
            Duration::from_secs(60),
            "the load's clients to move on",
            || {
                let moved = self
                    .rounds
                    .iter()
                    .zip(&before)
                    .all(|(r, b)| r.load(Ordering::SeqCst) >= b + 2);
                async move {
                    if moved {
                        Ok(())
                    } else {
                        Err("a client is still on a request from before".to_string())
                    }
                }
            },
        )
        .await;
    }

    /// Stop and collect what every client saw.
    pub async fn finish(self) -> LoadReport {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = LoadReport::default();
        for t in self.tasks {
            let r = t.await.expect("load client");
            all.ok += r.ok;
            all.failures.extend(r.failures);
        }
        all
    }
}

/// One style write a writer sent.
#[derive(Clone)]
pub struct WriteOutcome {
    /// The style's name.
    pub name: String,
    /// The instance written through.
    pub base: String,
    /// The HTTP status; `None` when the connection failed.
    pub status: Option<u16>,
    /// The error code of a 4xx/5xx answer, or the transport error.
    pub detail: String,
    /// How long the answer took.
    pub took: Duration,
    /// When the write was sent, since the writers started.
    pub at: Duration,
}

/// Clients creating styles (`{prefix}-{client}-{i}`) round-robin over
/// instances, recording every outcome; acknowledged (201) names are counted
/// as they come.
pub struct Writers {
    stop: Arc<AtomicBool>,
    acked: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<Vec<WriteOutcome>>>,
}

impl Writers {
    /// Start `clients` writers over `bases`, pausing `pause` between writes;
    /// with `end_on_transport_error` a writer stops at its first failed
    /// connection (its server was killed).
    pub fn start(
        bases: &[String],
        prefix: &str,
        clients: usize,
        pause: Duration,
        end_on_transport_error: bool,
    ) -> Writers {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let tasks = (0..clients)
            .map(|c| {
                let (stop, acked) = (Arc::clone(&stop), Arc::clone(&acked));
                let bases = bases.to_vec();
                let prefix = prefix.to_string();
                let http = client();
                tokio::spawn(async move {
                    let mut outcomes = Vec::new();
                    let mut i = 0usize;
                    while !stop.load(Ordering::SeqCst) {
                        let base = bases[(c + i) % bases.len()].clone();
                        let name = format!("{prefix}-{c}-{i}");
                        let at = started.elapsed();
                        let t = Instant::now();
                        let sent = http
                            .post(format!("{base}/api/v1/styles"))
                            .json(&style_body(&name, &format!("style {name}")))
                            .send()
                            .await;
                        let (status, detail) = match sent {
                            Ok(r) => {
                                let status = r.status().as_u16();
                                let text = r.text().await.unwrap_or_default();
                                let code = serde_json::from_str::<Value>(&text)
                                    .ok()
                                    .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
                                    .unwrap_or_default();
                                (Some(status), code)
                            }
                            Err(e) => (None, e.to_string()),
                        };
                        let took = t.elapsed();
                        if status == Some(201) {
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        let transport_failed = status.is_none();
                        outcomes.push(WriteOutcome {
                            name,
                            base,
                            status,
                            detail,
                            took,
                            at,
                        });
                        if transport_failed && end_on_transport_error {
                            break;
                        }
                        i += 1;
                        tokio::time::sleep(pause).await;
                    }
                    outcomes
                })
            })
            .collect();
        Writers { stop, acked, tasks }
    }

    /// Writes acknowledged so far.
    pub fn acked(&self) -> usize {
        self.acked.load(Ordering::SeqCst)
    }

    /// Wait (generously) until `n` writes were acknowledged.
    pub async fn wait_acked(&self, n: usize) {
        common::wait_until(Duration::from_secs(60), "acknowledged writes", || {
            let a = self.acked();
            async move {
                if a >= n {
                    Ok(())
                } else {
                    Err(format!("{a} acknowledged"))
                }
            }
        })
        .await;
    }

    /// Stop and collect every outcome.
    pub async fn finish(self) -> Vec<WriteOutcome> {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Vec::new();
        for t in self.tasks {
            all.extend(t.await.expect("writer"));
        }
        all
    }
}

impl WriteOutcome {
    /// One line for a failure message.
    pub fn describe(&self) -> String {
        let status = self
            .status
            .map_or_else(|| "no answer".to_string(), |s| s.to_string());
        format!(
            "{:?} POST {}/api/v1/styles {}: {status} {} in {:?}",
            self.at, self.base, self.name, self.detail, self.took
        )
    }
}

/// The names of the acknowledged writes among `outcomes`.
pub fn acknowledged(outcomes: &[WriteOutcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter(|o| o.status == Some(201))
        .map(|o| o.name.clone())
        .collect()
}

/// Assert every name in `names` is listed by every server in `servers`.
pub async fn all_present(servers: &[&Server], names: &[String], what: &str) {
    for s in servers {
        let listed = style_names(s).await;
        let lost: Vec<&String> = names.iter().filter(|n| !listed.contains(*n)).collect();
        assert!(
            lost.is_empty(),
            "{what}: {} of {} acknowledged styles missing on {}: {lost:?}",
            lost.len(),
            names.len(),
            s.base
        );
    }
}

/// Record of a `/readyz` watcher: every 503 must name the database, and the
/// count of 503s shows the outage was seen.
pub struct ReadyWatch {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl ReadyWatch {
    /// Poll `/readyz` of every base every 100 ms.
    pub fn start(bases: &[String]) -> ReadyWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let tasks = bases
            .iter()
            .map(|base| {
                let (stop, seen, base, http) =
                    (Arc::clone(&stop), Arc::clone(&seen), base.clone(), client());
                tokio::spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        let line = match http.get(format!("{base}/readyz")).send().await {
                            Ok(r) => {
                                let status = r.status().as_u16();
                                let text = r.text().await.unwrap_or_default();
                                format!("{status} {text}")
                            }
                            Err(e) => format!("transport {e}"),
                        };
                        seen.lock().expect("lock").push(format!("{base} {line}"));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                })
            })
            .collect();
        ReadyWatch { stop, seen, tasks }
    }

    /// Stop; every answer seen, `"<base> <status> <body>"`.
    pub async fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.tasks {
            let _ = t.await;
        }
        self.seen.lock().expect("lock").clone()
    }
}
