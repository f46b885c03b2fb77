//! `promptsculptor eval FILE.json`: post an evaluate request to a running
//! server, print a table per prompt, and gate a CI step on the best
//! prompt's pass rate (exit 1 below `--min-pass-rate`, 2 when the run
//! could not be made).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

/// `eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// The request body of `POST /api/v1/evaluate` (contract §6).
    pub file: PathBuf,
    /// Base URL of the server.
    #[arg(
        long,
        env = "PROMPTSCULPTOR_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// Exit 1 when the best prompt's pass rate is below this (0–1).
    #[arg(long, value_parser = rate)]
    pub min_pass_rate: Option<f64>,
    /// API key, when the server requires one (`Authorization: Bearer`).
    #[arg(long, env = "PROMPTSCULPTOR_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 900)]
    pub timeout_secs: u64,
}

fn rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("'{s}' is not a pass rate between 0 and 1")),
    }
}

/// Run it; the process exit code.
pub fn run(args: &EvalArgs) -> i32 {
    match evaluate(args) {
        Ok(run) => {
            print!("{}", table(&run));
            gate(&run, args.min_pass_rate)
        }
        Err(message) => {
            eprintln!("eval: {message}");
            2
        }
    }
}

fn evaluate(args: &EvalArgs) -> Result<Value, String> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let body: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not JSON: {e}", args.file.display()))?;
    let url = format!("{}/api/v1/evaluate", args.server.trim_end_matches('/'));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start: {e}"))?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(args.timeout_secs.max(1)))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mut request = client.post(&url).json(&body);
        if let Some(key) = &args.api_key {
            request = request.bearer_auth(key);
        }
        let resp = request
            .send()
            .await
            .map_err(|e| format!("cannot reach {url}: {}", super::health::chain(&e)))?;
        let status = resp.status();
        let answer: Value = resp
            .json()
            .await
            .map_err(|e| format!("{url} answered {status} with a body that is not JSON: {e}"))?;
        if !status.is_success() {
            let code = answer["error"]["code"].as_str().unwrap_or("error");
            let message = answer["error"]["message"].as_str().unwrap_or("");
            return Err(format!("{url} answered {status}: {code}: {message}"));
        }
        Ok(answer)
    })
}

/// The per-prompt table, ranked, with the run id under it.
fn table(run: &Value) -> String {
    let mut rows: Vec<&Value> = run["summary"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    rows.sort_by_key(|r| r["rank"].as_u64().unwrap_or(u64::MAX));
    let width = rows
        .iter()
        .filter_map(|r| r["prompt_id"].as_str())
        .map(|s| s.chars().count())
        .chain(std::iter::once("prompt".len()))
        .max()
        .unwrap_or(6);
    let mut out = format!(
        "{:<width$}  {:>9}  {:>10}  {:>6}  {:>6}  {:>6}  {:>8}  {:>4}\n",
        "prompt", "pass rate", "mean score", "passed", "failed", "errors", "tokens", "rank"
    );
    for r in rows {
        let tokens =
            r["input_tokens"].as_u64().unwrap_or(0) + r["output_tokens"].as_u64().unwrap_or(0);
        out.push_str(&format!(
            "{:<width$}  {:>8.1}%  {:>10.3}  {:>6}  {:>6}  {:>6}  {:>8}  {:>4}\n",
            r["prompt_id"].as_str().unwrap_or("?"),
            r["pass_rate"].as_f64().unwrap_or(0.0) * 100.0,
            r["mean_score"].as_f64().unwrap_or(0.0),
            r["passed"].as_u64().unwrap_or(0),
            r["failed"].as_u64().unwrap_or(0),
            r["errors"].as_u64().unwrap_or(0),
            tokens,
            r["rank"].as_u64().unwrap_or(0),
        ));
    }
    out.push_str(&format!(
        "best: {}   run: {}   llm calls: {}\n",
        run["best"].as_str().unwrap_or("?"),
        run["run_id"].as_str().unwrap_or("?"),
        run["usage"]["llm_calls"].as_u64().unwrap_or(0)
    ));
    out
}

/// 1 when the best prompt's pass rate is below `min`, else 0.
fn gate(run: &Value, min: Option<f64>) -> i32 {
    let Some(min) = min else { return 0 };
    let best = run["summary"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["rank"] == 1))
        .and_then(|r| r["pass_rate"].as_f64())
        .unwrap_or(0.0);
    if best < min {
        eprintln!(
            "eval: the best prompt's pass rate {:.1}% is below the required {:.1}%",
            best * 100.0,
            min * 100.0
        );
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_gate_reads_the_rank_one_prompt() {
        let run = json!({ "summary": [
            { "prompt_id": "a", "rank": 2, "pass_rate": 0.2 },
            { "prompt_id": "b", "rank": 1, "pass_rate": 0.8 } ] });
        assert_eq!(gate(&run, None), 0);
        assert_eq!(gate(&run, Some(0.8)), 0);
        assert_eq!(gate(&run, Some(0.81)), 1);
        let t = table(&run);
        assert!(t.find("b ").unwrap() < t.find("a ").unwrap(), "{t}");
        assert!(rate("1.5").is_err() && rate("x").is_err() && rate("0.5").is_ok());
    }
}
