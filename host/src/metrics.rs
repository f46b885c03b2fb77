//! Process-wide Prometheus metrics, rendered in the text exposition format
//! by `GET /metrics`.
//!
//! Recording goes through the `metrics` facade: call sites use its macros
//! (`::metrics::counter!(metrics::LLM_CALLS, "provider" => …)`) with the
//! names below, and `metrics-exporter-prometheus` keeps the series in
//! sharded, lock-free storage (no process-wide lock per observation). This
//! leaf module owns the names, their HELP text, the histogram buckets and the
//! rendering; nothing here depends on the other layers.
//!
//! A macro call with runtime label values registers its series every time
//! (a label vector, a retained key, a registry look-up: ~0.3 µs each). The
//! two series sets touched on every request — per route and per plugin —
//! therefore go through [`http_request_done`] and [`plugin_call_done`],
//! which keep the registered handles in a per-thread table, so a request
//! costs a hash look-up and a few atomic adds, with no lock and no
//! allocation.

use std::{cell::RefCell, collections::HashMap, sync::OnceLock, time::Duration};

use metrics::{
    Counter, Gauge, Histogram, SharedString, counter, describe_counter, describe_gauge,
    describe_histogram, histogram,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// HTTP requests by route and status (counter).
pub const HTTP_REQUESTS: &str = "promptsculptor_http_requests_total";
/// HTTP request latency by route (histogram, seconds).
pub const HTTP_REQUEST_DURATION: &str = "promptsculptor_http_request_duration_seconds";
/// HTTP requests being served (gauge).
pub const HTTP_IN_FLIGHT: &str = "promptsculptor_http_requests_in_flight";
/// Request time minus LLM wait, by route (histogram, seconds).
pub const HOST_OVERHEAD: &str = "promptsculptor_host_overhead_seconds";
/// Plugin calls by plugin and outcome (counter).
pub const PLUGIN_CALLS: &str = "promptsculptor_plugin_calls_total";
/// Plugin call duration by plugin (histogram, seconds).
pub const PLUGIN_CALL_DURATION: &str = "promptsculptor_plugin_call_duration_seconds";
/// LLM calls by provider, model and outcome (counter).
pub const LLM_CALLS: &str = "promptsculptor_llm_calls_total";
/// LLM tokens by provider, model and direction (counter).
pub const LLM_TOKENS: &str = "promptsculptor_llm_tokens_total";
/// LLM call latency by provider and model (histogram, seconds).
pub const LLM_CALL_DURATION: &str = "promptsculptor_llm_call_duration_seconds";
/// LLM calls answered by the response cache, or shared from an identical
/// call in flight, without a provider call of their own (counter).
pub const LLM_CACHE_HITS: &str = "promptsculptor_llm_cache_hits_total";
/// LLM calls the response cache could not answer, so the provider was asked (counter).
pub const LLM_CACHE_MISSES: &str = "promptsculptor_llm_cache_misses_total";
/// Entries in the LLM response cache (gauge; on a shared database, the whole fleet's).
pub const LLM_CACHE_ENTRIES: &str = "promptsculptor_llm_cache_entries";
/// Plugin load attempts by outcome (counter).
pub const PLUGIN_RELOADS: &str = "promptsculptor_plugin_reloads_total";
/// Evaluate items (prompt × case × repeat) by outcome: pass, fail, error (counter).
pub const EVAL_CASES: &str = "promptsculptor_eval_cases_total";
/// Grade-plugin calls of evaluate (`llm-rubric` judges and `grader`s) by grader and outcome (counter).
pub const EVAL_GRADER_CALLS: &str = "promptsculptor_eval_grader_calls_total";
/// Evaluate runs finished (counter).
pub const EVAL_RUNS: &str = "promptsculptor_eval_runs_total";

/// Upper bounds of the latency buckets, in seconds (every histogram).
pub const BUCKETS: [f64; 17] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0, 30.0, 120.0,
];

/// How often histogram samples are folded into their buckets when nobody
/// scrapes: the exporter queues raw samples until then, so without this a
/// server that is never scraped would grow by every observation.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// A recorder with our buckets (not installed anywhere).
fn recorder() -> PrometheusRecorder {
    // `set_buckets` refuses only an empty list; ours is a non-empty constant,
    // so the fallback (summaries instead of histograms) is never taken.
    let builder = match PrometheusBuilder::new().set_buckets(&BUCKETS) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "metrics: histogram buckets refused");
            PrometheusBuilder::new()
        }
    };
    builder.build_recorder()
}

/// Give every metric its HELP text and TYPE on the current recorder.
fn describe() {
    describe_counter!(HTTP_REQUESTS, "HTTP requests by route and status.");
    describe_histogram!(HTTP_REQUEST_DURATION, "HTTP request latency by route.");
    describe_gauge!(HTTP_IN_FLIGHT, "HTTP requests being served.");
    describe_histogram!(
        HOST_OVERHEAD,
        "Request time minus time spent waiting on the LLM, by route."
    );
    describe_counter!(PLUGIN_CALLS, "Plugin calls by plugin and outcome.");
    describe_histogram!(
        PLUGIN_CALL_DURATION,
        "Plugin call duration (instantiate + call) by plugin."
    );
    describe_counter!(LLM_CALLS, "LLM calls by provider, model and outcome.");
    describe_counter!(LLM_TOKENS, "LLM tokens by provider, model and direction.");
    describe_histogram!(LLM_CALL_DURATION, "LLM call latency by provider and model.");
    describe_counter!(PLUGIN_RELOADS, "Plugin load attempts by outcome.");
    describe_counter!(
        LLM_CACHE_HITS,
        "LLM calls answered by the response cache (or shared from an identical call in flight) without a provider call."
    );
    describe_counter!(
        LLM_CACHE_MISSES,
        "LLM calls the response cache could not answer, so the provider was asked."
    );
    describe_gauge!(
        LLM_CACHE_ENTRIES,
        "Entries in the LLM response cache (on a shared database, the fleet's)."
    );
    describe_counter!(
        EVAL_CASES,
        "Evaluate items (prompt x case x repeat) by outcome."
    );
    describe_counter!(
        EVAL_GRADER_CALLS,
        "Grade-plugin calls of evaluate (llm-rubric judges and graders) by grader and outcome."
    );
    describe_counter!(EVAL_RUNS, "Evaluate runs finished.");
}

/// Install the process-wide recorder (once; later calls return the same
/// handle). Call it before anything records: observations made before it
/// go to the facade's no-op recorder.
pub fn install() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = recorder();
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            // Only possible when an embedding program installed its own.
            tracing::warn!(error = %e, "metrics: another recorder is installed; /metrics stays empty");
        }
        describe();
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_INTERVAL);
                    upkeep.run_upkeep();
                }
            });
        if let Err(e) = spawned {
            // Each scrape still folds the queued samples in.
            tracing::warn!(error = %e, "metrics: no upkeep thread");
        }
        handle
    })
}

/// Register the LLM cache series at zero, so `/metrics` shows them from
/// the start when the cache is on (a counter appears only once touched).
pub fn llm_cache_registered() {
    counter!(LLM_CACHE_HITS).increment(0);
    counter!(LLM_CACHE_MISSES).increment(0);
    metrics::gauge!(LLM_CACHE_ENTRIES).increment(0.0);
}

/// Everything in the Prometheus text format.
pub fn render() -> String {
    install().render()
}

/// Handles of one route's series, registered once per worker thread.
struct RouteSeries {
    route: SharedString,
    duration: Histogram,
    overhead: Histogram,
    /// By status; a route answers with a handful of statuses.
    requests: Vec<(u16, Counter)>,
}

/// Handles of one plugin's series, registered once per worker thread.
struct PluginSeries {
    duration: Histogram,
    /// By outcome label.
    calls: Vec<(&'static str, Counter)>,
}

thread_local! {
    // Keyed by the route pattern (a bounded set: the router's routes and
    // "unmatched") and by plugin name (the plugins ever loaded).
    static ROUTES: RefCell<HashMap<Box<str>, RouteSeries>> = RefCell::new(HashMap::new());
    static PLUGINS: RefCell<HashMap<Box<str>, PluginSeries>> = RefCell::new(HashMap::new());
}

/// Record a finished HTTP request: [`HTTP_REQUESTS`] by route and status,
/// [`HTTP_REQUEST_DURATION`] by route, and [`HOST_OVERHEAD`] (the time not
/// spent waiting on the LLM) when the request reached an operation.
pub fn http_request_done(route: &str, status: u16, elapsed: Duration, llm_wait: Option<Duration>) {
    ROUTES.with_borrow_mut(|routes| {
        if !routes.contains_key(route) {
            let label = SharedString::from(std::sync::Arc::<str>::from(route));
            let series = RouteSeries {
                duration: histogram!(HTTP_REQUEST_DURATION, "route" => label.clone()),
                overhead: histogram!(HOST_OVERHEAD, "route" => label.clone()),
                route: label,
                requests: Vec::new(),
            };
            routes.insert(route.into(), series);
        }
        let Some(series) = routes.get_mut(route) else {
            return;
        };
        match series.requests.iter().find(|(s, _)| *s == status) {
            Some((_, c)) => c.increment(1),
            None => {
                let c = counter!(HTTP_REQUESTS, "route" => series.route.clone(), "status" => status_label(status));
                c.increment(1);
                series.requests.push((status, c));
            }
        }
        series.duration.record(elapsed);
        if let Some(wait) = llm_wait {
            series.overhead.record(elapsed.saturating_sub(wait));
        }
    });
}

/// Record a finished plugin call: [`PLUGIN_CALL_DURATION`] by plugin and
/// [`PLUGIN_CALLS`] by plugin and outcome.
pub fn plugin_call_done(plugin: &str, outcome: &'static str, elapsed: Duration) {
    PLUGINS.with_borrow_mut(|plugins| {
        if !plugins.contains_key(plugin) {
            let series = PluginSeries {
                duration: histogram!(PLUGIN_CALL_DURATION, "plugin" => plugin.to_owned()),
                calls: Vec::new(),
            };
            plugins.insert(plugin.into(), series);
        }
        let Some(series) = plugins.get_mut(plugin) else {
            return;
        };
        match series.calls.iter().find(|(o, _)| *o == outcome) {
            Some((_, c)) => c.increment(1),
            None => {
                let c = counter!(PLUGIN_CALLS, "plugin" => plugin.to_owned(), "outcome" => outcome);
                c.increment(1);
                series.calls.push((outcome, c));
            }
        }
        series.duration.record(elapsed);
    });
}

/// An HTTP status as a label value: a static string for the statuses the
/// server answers with, so the usual request allocates nothing for it.
pub fn status_label(status: u16) -> SharedString {
    let known = match status {
        200 => "200",
        201 => "201",
        204 => "204",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        409 => "409",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        other => return SharedString::from(other.to_string()),
    };
    SharedString::const_str(known)
}

/// A request started: counted in [`HTTP_IN_FLIGHT`] until the guard drops
/// (also when the request is cancelled).
pub fn request_started() -> InFlight {
    thread_local! {
        static IN_FLIGHT: Gauge = metrics::gauge!(HTTP_IN_FLIGHT);
    }
    let gauge = IN_FLIGHT.with(Gauge::clone);
    gauge.increment(1.0);
    InFlight(gauge)
}

/// Decrements the in-flight gauge when dropped.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_names_help_types_and_buckets() {
        let recorder = recorder();
        let handle = recorder.handle();
        let still_running = metrics::with_local_recorder(&recorder, || {
            describe();
            for _ in 0..3 {
                http_request_done("/x", 200, Duration::from_millis(2), None);
            }
            http_request_done("/x", 404, Duration::from_millis(1), None);
            http_request_done(
                "/y",
                200,
                Duration::from_millis(30),
                Some(Duration::from_millis(29)),
            );
            plugin_call_done("a\"b", "ok", Duration::from_millis(3));
            // A name without HELP text is still exported (the hand-written
            // registry this replaced dropped it silently).
            counter!("promptsculptor_undescribed_total").increment(2);
            // A macro call site lands in the same series as the cache.
            counter!(PLUGIN_CALLS, "plugin" => "a\"b", "outcome" => "ok").increment(1);
            let finished = request_started();
            let running = request_started();
            drop(finished);
            running
        });
        let text = handle.render();
        drop(still_running);
        for needle in [
            "# HELP promptsculptor_http_requests_total HTTP requests by route and status.\n",
            "# TYPE promptsculptor_http_requests_total counter\n",
            "promptsculptor_http_requests_total{route=\"/x\",status=\"200\"} 3\n",
            "promptsculptor_http_requests_total{route=\"/x\",status=\"404\"} 1\n",
            "# TYPE promptsculptor_undescribed_total counter\npromptsculptor_undescribed_total 2\n",
            "promptsculptor_http_requests_total{route=\"/y\",status=\"200\"} 1\n",
            "promptsculptor_http_request_duration_seconds_count{route=\"/x\"} 4\n",
            "promptsculptor_host_overhead_seconds_bucket{route=\"/y\",le=\"0.001\"} 1\n",
            "promptsculptor_host_overhead_seconds_count{route=\"/y\"} 1\n",
            "promptsculptor_plugin_calls_total{plugin=\"a\\\"b\",outcome=\"ok\"} 2\n",
            "# HELP promptsculptor_http_requests_in_flight HTTP requests being served.\n",
            "# TYPE promptsculptor_http_requests_in_flight gauge\n",
            "promptsculptor_http_requests_in_flight 1\n",
            "# HELP promptsculptor_plugin_call_duration_seconds Plugin call duration (instantiate + call) by plugin.\n",
            "# TYPE promptsculptor_plugin_call_duration_seconds histogram\n",
            "promptsculptor_plugin_call_duration_seconds_bucket{plugin=\"a\\\"b\",le=\"0.0025\"} 0\n",
            "promptsculptor_plugin_call_duration_seconds_bucket{plugin=\"a\\\"b\",le=\"0.005\"} 1\n",
            "promptsculptor_plugin_call_duration_seconds_bucket{plugin=\"a\\\"b\",le=\"+Inf\"} 1\n",
            "promptsculptor_plugin_call_duration_seconds_count{plugin=\"a\\\"b\"} 1\n",
        ] {
            assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
        }
        // Exactly the old bucket bounds, in order, as Prometheus `le` values.
        let bounds: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("promptsculptor_plugin_call_duration_seconds_bucket"))
            .filter_map(|l| l.split("le=\"").nth(1)?.split('"').next())
            .collect();
        let expected: Vec<String> = BUCKETS
            .iter()
            .map(f64::to_string)
            .chain(["+Inf".to_string()])
            .collect();
        assert_eq!(bounds, expected);
    }
}
