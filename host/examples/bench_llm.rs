//! Benchmark helpers (not part of the server):
//!
//! - `serve [ADDR] [DELAY_MS]`: a test LLM, a real HTTP server speaking
//!   OpenAI chat completions (`POST /v1/chat/completions`) that answers a
//!   fixed completion whose content is a valid remix reply, after an
//!   optional delay (or `BENCH_LLM_DELAY_MS`). With `BENCH_LLM_ECHO=1` the
//!   content is the request's last user message instead (the test
//!   provider of docs/evaluate.md: a prompt's "answer" is the prompt). `GET /stats` tells how many
//!   completions it answered and the most it held waiting at once.
//! - `load URL BODY_FILE N [RATE] [TIMEOUT_S]`: POST `BODY_FILE` to `URL`
//!   `N` times, all at once (RATE 0 or absent) or at RATE requests/s
//!   (open loop), and print one line: answered, failed, latency percentiles.
//!
//! Both use `BENCH_THREADS` tokio workers (default 1).
//! Run: `cargo run --release --example bench_llm -- serve 127.0.0.1:18190 0`

// A measuring tool, not server code: a broken setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use serde::Deserialize;

const USAGE: &str =
    "usage: bench_llm serve [ADDR] [DELAY_MS] | load URL BODY_FILE N [RATE] [TIMEOUT_S]";

/// A chat completion whose content is the remix plugin's reply format.
const COMPLETION: &str = r#"{"id":"chatcmpl-bench","object":"chat.completion","created":0,"model":"bench-llm","choices":[{"index":0,"message":{"role":"assistant","content":"{\"variants\": [\"<role>You are a support agent.</role>\\n<task>Answer the customer's refund question using the refund policy below. Be polite and helpful.</task>\\n<format>Reply in plain English, in at most five sentences.</format>\"], \"changes\": [\"Wrapped the role, task and format in XML tags.\", \"Made the length limit explicit.\"]}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":180,"completion_tokens":60,"total_tokens":240}}"#;

#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    in_flight: AtomicU64,
    peak: AtomicU64,
}

struct Llm {
    delay: Duration,
    echo: bool,
    stats: Stats,
}

/// The part of the request we check: a chat request has messages.
#[derive(Deserialize)]
struct ChatRequest {
    messages: Vec<ChatMessage>,
}

#[derive(Deserialize)]
struct ChatMessage {
    role: String,
    content: String,
}

/// A completion whose content is `text`.
fn echo_completion(text: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-echo", "object": "chat.completion", "created": 0, "model": "bench-llm-echo",
        "choices": [{ "index": 0, "finish_reason": "stop",
                      "message": { "role": "assistant", "content": text } }],
        "usage": { "prompt_tokens": text.len() / 4 + 1, "completion_tokens": text.len() / 4 + 1,
                   "total_tokens": text.len() / 2 + 2 }
    })
    .to_string()
}

async fn completions(State(llm): State<Arc<Llm>>, body: Bytes) -> impl IntoResponse {
    let Ok(request) = serde_json::from_slice::<ChatRequest>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":{"message":"not a chat completion request"}}"#.to_string(),
        );
    };
    let s = &llm.stats;
    s.requests.fetch_add(1, Ordering::Relaxed);
    let now = s.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    s.peak.fetch_max(now, Ordering::Relaxed);
    if !llm.delay.is_zero() {
        tokio::time::sleep(llm.delay).await;
    }
    s.in_flight.fetch_sub(1, Ordering::Relaxed);
    let body = if llm.echo {
        let last = request.messages.iter().rev().find(|m| m.role == "user");
        echo_completion(last.map_or("", |m| m.content.as_str()))
    } else {
        COMPLETION.to_string()
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
}

async fn stats(State(llm): State<Arc<Llm>>) -> String {
    let s = &llm.stats;
    format!(
        "{{\"requests\":{},\"in_flight\":{},\"peak_in_flight\":{}}}",
        s.requests.load(Ordering::Relaxed),
        s.in_flight.load(Ordering::Relaxed),
        s.peak.load(Ordering::Relaxed)
    )
}

async fn serve(addr: &str, delay_ms: u64) -> Result<(), String> {
    let addr: std::net::SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket.set_reuseaddr(true).map_err(|e| e.to_string())?;
    socket.bind(addr).map_err(|e| format!("bind {addr}: {e}"))?;
    // A deep backlog: a burst of thousands of connections is the point.
    let listener = socket.listen(65_535).map_err(|e| e.to_string())?;
    let llm = Arc::new(Llm {
        delay: Duration::from_millis(delay_ms),
        echo: std::env::var("BENCH_LLM_ECHO").is_ok_and(|v| v == "1"),
        stats: Stats::default(),
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .route("/stats", get(stats))
        .route("/health", get(|| async { "ok" }))
        .with_state(llm);
    eprintln!("bench_llm listening on {addr}, delay {delay_ms} ms");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

async fn load(url: String, body: Vec<u8>, n: u64, rate: f64, timeout: u64) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .http1_only()
        .timeout(Duration::from_secs(timeout))
        .build()
        .map_err(|e| e.to_string())?;
    let body = Bytes::from(body);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n as usize);
    let mut tick = (rate > 0.0).then(|| {
        let mut i = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        i
    });
    for _ in 0..n {
        if let Some(t) = tick.as_mut() {
            t.tick().await;
        }
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let resp = client
                .post(url)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?;
            let status = resp.status();
            resp.bytes().await.map_err(|e| format!("{e:?}"))?;
            Ok::<_, String>((status, t0.elapsed()))
        }));
    }
    let (mut lat, mut non2xx, mut errors, mut first_error) = (Vec::new(), 0u64, 0u64, None);
    for t in tasks {
        match t.await.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok((status, d)) if status.is_success() => lat.push(d),
            Ok((status, _)) => {
                non2xx += 1;
                first_error.get_or_insert(format!("status {status}"));
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let wall = started.elapsed().as_secs_f64();
    lat.sort();
    println!(
        "sent={n} ok={} non2xx={non2xx} errors={errors} wall_s={wall:.2} rps={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} first_error={:?}",
        lat.len(),
        n as f64 / wall,
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0),
        first_error.unwrap_or_default()
    );
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let threads = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = match arg(0) {
        Some("serve") => {
            let delay = arg(2)
                .map(str::to_string)
                .or_else(|| std::env::var("BENCH_LLM_DELAY_MS").ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            rt.block_on(serve(arg(1).unwrap_or("127.0.0.1:18190"), delay))
        }
        Some("load") => match (arg(1), arg(2).map(std::fs::read), arg(3)) {
            (Some(url), Some(Ok(body)), Some(n)) => match n.parse() {
                Ok(n) => {
                    let rate = arg(4).and_then(|v| v.parse().ok()).unwrap_or(0.0);
                    let timeout = arg(5).and_then(|v| v.parse().ok()).unwrap_or(60);
                    rt.block_on(load(url.to_string(), body, n, rate, timeout))
                }
                Err(_) => Err(USAGE.into()),
            },
            _ => Err(USAGE.into()),
        },
        _ => Err(USAGE.into()),
    };
    if let Err(e) = result {
        eprintln!("bench_llm: {e}");
        std::process::exit(2);
    }
}
