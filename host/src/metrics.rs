//! Process-wide Prometheus metrics, rendered in the text exposition format
//! by `GET /metrics`. Every layer records into this leaf module; nothing here
//! depends on the others.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{
        Mutex, OnceLock,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 17] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0, 30.0, 120.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i] += 1;
        }
        self.sum += secs;
        self.count += 1;
    }
}

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Families {
    counters: BTreeMap<(&'static str, Labels), u64>,
    histograms: BTreeMap<(&'static str, Labels), Histogram>,
}

/// The registry.
pub struct Metrics {
    families: Mutex<Families>,
    in_flight: AtomicI64,
}

/// Help text of each metric, in output order.
const HELP: &[(&str, &str, &str)] = &[
    (
        "promptsculptor_http_requests_total",
        "counter",
        "HTTP requests by route and status.",
    ),
    (
        "promptsculptor_http_request_duration_seconds",
        "histogram",
        "HTTP request latency by route.",
    ),
    (
        "promptsculptor_http_requests_in_flight",
        "gauge",
        "HTTP requests being served.",
    ),
    (
        "promptsculptor_host_overhead_seconds",
        "histogram",
        "Request time minus time spent waiting on the LLM, by route.",
    ),
    (
        "promptsculptor_plugin_calls_total",
        "counter",
        "Plugin calls by plugin and outcome.",
    ),
    (
        "promptsculptor_plugin_call_duration_seconds",
        "histogram",
        "Plugin call duration (instantiate + call) by plugin.",
    ),
    (
        "promptsculptor_llm_calls_total",
        "counter",
        "LLM calls by provider, model and outcome.",
    ),
    (
        "promptsculptor_llm_tokens_total",
        "counter",
        "LLM tokens by provider, model and direction.",
    ),
    (
        "promptsculptor_llm_call_duration_seconds",
        "histogram",
        "LLM call latency by provider and model.",
    ),
    (
        "promptsculptor_plugin_reloads_total",
        "counter",
        "Plugin load attempts by outcome.",
    ),
];

/// The process-wide registry.
pub fn global() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| Metrics {
        families: Mutex::new(Families::default()),
        in_flight: AtomicI64::new(0),
    })
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Families) -> R) -> Option<R> {
        // A poisoned lock only means a panic elsewhere; metrics keep going.
        let mut guard = match self.families.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        Some(f(&mut guard))
    }

    /// Add `n` to a counter.
    pub fn count(&self, name: &'static str, labels: Labels, n: u64) {
        self.with(|f| *f.counters.entry((name, labels)).or_default() += n);
    }

    /// Observe a duration in a histogram.
    pub fn observe(&self, name: &'static str, labels: Labels, d: Duration) {
        self.with(|f| {
            f.histograms
                .entry((name, labels))
                .or_default()
                .observe(d.as_secs_f64())
        });
    }

    /// A request started; the guard ends it.
    pub fn request_started(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Requests being served now.
    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Render everything in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        let in_flight = self.in_flight();
        self.with(|f| {
            for (name, kind, help) in HELP {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
                if *name == "promptsculptor_http_requests_in_flight" {
                    let _ = writeln!(out, "{name} {in_flight}");
                    continue;
                }
                for ((n, labels), v) in f.counters.iter().filter(|((n, _), _)| n == name) {
                    let _ = writeln!(out, "{n}{} {v}", fmt_labels(labels, None));
                }
                for ((n, labels), h) in f.histograms.iter().filter(|((n, _), _)| n == name) {
                    let mut cumulative = 0;
                    for (i, bound) in BUCKETS.iter().enumerate() {
                        cumulative += h.counts[i];
                        let _ = writeln!(
                            out,
                            "{n}_bucket{} {cumulative}",
                            fmt_labels(labels, Some(&bound.to_string()))
                        );
                    }
                    let _ = writeln!(
                        out,
                        "{n}_bucket{} {}",
                        fmt_labels(labels, Some("+Inf")),
                        h.count
                    );
                    let _ = writeln!(out, "{n}_sum{} {}", fmt_labels(labels, None), h.sum);
                    let _ = writeln!(out, "{n}_count{} {}", fmt_labels(labels, None), h.count);
                }
            }
        });
        out
    }
}

/// Decrements the in-flight gauge when dropped (also on cancellation).
pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn fmt_labels(labels: &Labels, le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics {
            families: Mutex::new(Families::default()),
            in_flight: AtomicI64::new(2),
        };
        m.count(
            "promptsculptor_http_requests_total",
            vec![("route", "/x".into()), ("status", "200".into())],
            3,
        );
        m.observe(
            "promptsculptor_plugin_call_duration_seconds",
            vec![("plugin", "a\"b".into())],
            Duration::from_millis(3),
        );
        let text = m.render();
        assert!(text.contains("promptsculptor_http_requests_total{route=\"/x\",status=\"200\"} 3"));
        assert!(text.contains("promptsculptor_http_requests_in_flight 2"));
        assert!(text.contains(
            "promptsculptor_plugin_call_duration_seconds_bucket{plugin=\"a\\\"b\",le=\"0.0025\"} 0"
        ));
        assert!(text.contains(
            "promptsculptor_plugin_call_duration_seconds_bucket{plugin=\"a\\\"b\",le=\"0.005\"} 1"
        ));
        assert!(
            text.contains("promptsculptor_plugin_call_duration_seconds_count{plugin=\"a\\\"b\"} 1")
        );
    }
}
