//! `plugin build --publish URL`: upload a built component to a running
//! server (`PUT /api/v1/plugins/{name}`, contract §5), which validates it
//! with its own loader and limits and serves it on every instance of its
//! database.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

/// The environment variable holding the admin key a publish sends.
pub const ADMIN_KEY_ENV: &str = "PROMPTSCULPTOR_ADMIN_KEY";

/// A publish includes the server's compile of the component (tens of
/// seconds for an interpreter-carrying Python or JS component on a busy
/// machine); generous, but not forever.
const TIMEOUT: Duration = Duration::from_secs(300);

/// The endpoint for plugin `name` under `base` (a server's base URL; a
/// trailing `/` or `/api/v1` is accepted too).
pub fn endpoint(base: &str, name: &str) -> anyhow::Result<String> {
    let base = base.trim().trim_end_matches('/');
    let base = base.strip_suffix("/api/v1").unwrap_or(base);
    let parsed = reqwest::Url::parse(base).with_context(|| {
        format!("--publish {base:?} is not a URL such as http://127.0.0.1:8080")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        bail!("--publish {base:?} is not an http:// or https:// server URL");
    }
    Ok(format!("{base}/api/v1/plugins/{name}"))
}

/// Upload `component` as plugin `name`; the process exit code (0 published,
/// 1 refused by the server). Failing to reach the server is an error.
pub fn run(base: &str, name: &str, component: &Path) -> anyhow::Result<i32> {
    let url = endpoint(base, name)?;
    let key = std::env::var(ADMIN_KEY_ENV).unwrap_or_default();
    if key.trim().is_empty() {
        bail!(
            "{ADMIN_KEY_ENV} is not set: export one of the server's PROMPTSCULPTOR_ADMIN_KEYS to publish"
        );
    }
    let bytes =
        std::fs::read(component).with_context(|| format!("cannot read {}", component.display()))?;
    println!(
        "==> publishing {} ({:.1} KiB) to {url} (the server checks it with its own loader)",
        component.display(),
        bytes.len() as f64 / 1024.0
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (status, body) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .context("cannot build the HTTP client")?;
        let response = client
            .put(&url)
            .bearer_auth(key.trim())
            .header(reqwest::header::CONTENT_TYPE, "application/wasm")
            .body(bytes)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {url}: {}", super::health::chain(&e)))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        anyhow::Ok((status, body))
    })?;
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if status.is_success() {
        // 201: a new name; 200: a new (or the same) version of a known one.
        let verb = if status == reqwest::StatusCode::CREATED {
            "published"
        } else {
            "published (replacing the version it served)"
        };
        let version = json["version"].as_str().unwrap_or("?");
        let sha = json["sha256"].as_str().unwrap_or("?");
        println!(
            "==> {verb} {name} {version} (sha256 {}); every instance on the server's database serves it within a second — see GET /api/v1/plugins",
            sha.get(..12).unwrap_or(sha)
        );
        return Ok(0);
    }
    let code = json["error"]["code"].as_str().unwrap_or("");
    let message = json["error"]["message"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| body.chars().take(300).collect());
    eprintln!("publish refused: {} {code}: {message}", status.as_u16());
    match status.as_u16() {
        401 => eprintln!("  {ADMIN_KEY_ENV} is not one of the server's PROMPTSCULPTOR_ADMIN_KEYS"),
        403 => eprintln!("  the server has no PROMPTSCULPTOR_ADMIN_KEYS: publishing is off there"),
        422 if message.contains("manifest names it") => eprintln!(
            "  publish uses the project's name '{name}'; the plugin's manifest must use the same name"
        ),
        _ => {}
    }
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_accepts_a_base_url_in_its_usual_spellings() {
        for base in [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://127.0.0.1:8080/api/v1",
            " http://127.0.0.1:8080/api/v1/ ",
        ] {
            assert_eq!(
                endpoint(base, "my-styles").ok().as_deref(),
                Some("http://127.0.0.1:8080/api/v1/plugins/my-styles"),
                "{base}"
            );
        }
        for bad in ["127.0.0.1:8080", "ftp://host", "not a url", ""] {
            assert!(endpoint(bad, "x").is_err(), "{bad}");
        }
    }
}
