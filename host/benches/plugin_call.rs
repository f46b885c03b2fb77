//! Instantiate + call of each built-in plugin through the real runtime (no
//! HTTP), with the pooling allocator on and off.
//!
//! Run: `scripts/build-plugins && cargo bench -p promptsculptor --bench plugin_call`

// A measuring tool, not server code: a broken setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use promptsculptor::runtime::{
    Capabilities, EngineLimits, Runtime, RuntimeSettings, analyzer, creator, remixer,
};
use promptsculptor::store::{Db, StoreConfig};

const SEQUENTIAL: usize = 2_000;
const CONCURRENT: usize = 4_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

async fn runtime(pooling: bool, dir: &std::path::Path) -> Runtime {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins");
    for name in ["analyze", "remix", "create"] {
        std::fs::copy(
            repo.join(format!("{name}.wasm")),
            plugins.join(format!("{name}.wasm")),
        )
        .expect("built plugins (run scripts/build-plugins)");
    }
    let db = Db::open(&StoreConfig::Sqlite {
        path: dir.join("bench.db"),
    })
    .await
    .expect("db");
    let rt = Runtime::new(
        RuntimeSettings {
            plugins_dir: plugins,
            cache_dir: Some(dir.join("cache")),
            cache_limits: Default::default(),
            plugin_timeout: Duration::from_secs(30),
            max_llm_calls: 16,
            host_limits: Default::default(),
            engine: EngineLimits {
                memory_bytes: 128 << 20,
                max_instances: 1024,
                // The bench measures one plugin: let it use the whole pool.
                per_plugin: 1024,
                pooling,
            },
            default_analyze: "analyze".into(),
            default_remix: "remix".into(),
            default_create: "create".into(),
            load: Default::default(),
            share_compiled: false,
        },
        Capabilities {
            llm: promptsculptor::llm::Gateway::default(),
            db,
        },
    )
    .expect("runtime");
    rt.reload().await;
    assert!(rt.defaults_loaded(), "plugins did not load");
    rt
}

fn analyze_req() -> analyzer::AnalyzeRequest {
    analyzer::AnalyzeRequest {
        prompt: "You are a support agent. Write some stuff about our refund policy for {{customer}} and list a few things they can do, etc. Keep it brief but cover everything in full detail.".into(),
        target_model: None,
        tokenizer: "o200k_base".into(),
        use_llm: false,
    }
}

fn remix_req() -> remixer::RemixRequest {
    remixer::RemixRequest {
        prompt: "You are a support agent. Answer the question in {{question}} using {{policy}}. Be polite and really helpful.".into(),
        style: "structured-xml".into(),
        instructions: None,
        variants: 1,
        use_llm: false,
    }
}

fn create_req() -> creator::CreateRequest {
    creator::CreateRequest {
        goal: "Summarise a support ticket and propose the next action".into(),
        context: Some("Tickets come from a SaaS billing product.".into()),
        audience: None,
        output_format: None,
        constraints: vec!["Stay under 120 words".into()],
        examples: vec![],
        variables: vec!["ticket".into()],
        target_model: None,
        use_llm: false,
    }
}

async fn one(rt: &Runtime, op: &str) {
    let ok = match op {
        "analyze" => rt
            .analyze(
                None,
                analyze_req(),
                &promptsculptor::runtime::CallContext::new("bench"),
            )
            .await
            .is_ok(),
        "remix" => rt
            .remix(
                None,
                remix_req(),
                &promptsculptor::runtime::CallContext::new("bench"),
            )
            .await
            .is_ok(),
        _ => rt
            .create(
                None,
                create_req(),
                &promptsculptor::runtime::CallContext::new("bench"),
            )
            .await
            .is_ok(),
    };
    assert!(ok, "{op} failed");
}

fn main() {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    tokio.block_on(async {
        println!("| allocator | plugin | sequential p50 (µs) | p99 (µs) | mean (µs) | {CONCURRENT} concurrent calls/s |");
        println!("| --- | --- | --- | --- | --- | --- |");
        for pooling in [true, false] {
            let dir = tempfile::tempdir().expect("tmp");
            let rt = Arc::new(runtime(pooling, dir.path()).await);
            for op in ["analyze", "remix", "create"] {
                for _ in 0..200 {
                    one(&rt, op).await;
                }
                let mut times = Vec::with_capacity(SEQUENTIAL);
                for _ in 0..SEQUENTIAL {
                    let t = Instant::now();
                    one(&rt, op).await;
                    times.push(t.elapsed());
                }
                times.sort();
                let mean = times.iter().sum::<Duration>() / times.len() as u32;
                let started = Instant::now();
                let tasks: Vec<_> = (0..CONCURRENT)
                    .map(|_| {
                        let rt = Arc::clone(&rt);
                        tokio::spawn(async move { one(&rt, op).await })
                    })
                    .collect();
                for t in tasks {
                    t.await.expect("task");
                }
                let rate = CONCURRENT as f64 / started.elapsed().as_secs_f64();
                println!(
                    "| {} | {op} | {} | {} | {} | {rate:.0} |",
                    if pooling { "pooling" } else { "on-demand" },
                    us(percentile(&times, 0.5)),
                    us(percentile(&times, 0.99)),
                    us(mean),
                );
            }
        }
    });
}
