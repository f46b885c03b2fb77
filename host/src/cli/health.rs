//! `promptsculptor healthcheck`: GET `/readyz` of a running server and turn
//! the answer into an exit code, for container health checks (the runtime
//! image has no curl, and its `/bin/sh` is dash, which has no `/dev/tcp`).

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::Duration,
};

use clap::Args;

/// `healthcheck`.
#[derive(Args)]
pub struct HealthcheckArgs {
    /// Address of the server; an unspecified address (0.0.0.0, ::), as a
    /// server listening on every interface is configured, means this host.
    #[arg(long, env = "PROMPTSCULPTOR_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// URL to GET instead of `http://<addr>/readyz`; it wins over `--addr`
    /// (which the environment may set).
    #[arg(long)]
    pub url: Option<String>,
    /// Give up after this many seconds (connect and answer together).
    #[arg(long, default_value_t = 2)]
    pub timeout_secs: u64,
}

/// The URL the check asks.
fn target(args: &HealthcheckArgs) -> String {
    if let Some(url) = &args.url {
        return url.clone();
    }
    let mut addr = args.addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    format!("http://{addr}/readyz")
}

/// Run the check: exit code 0 when the server answers 200, else 1 with a
/// one-line reason on stderr.
pub fn run(args: &HealthcheckArgs) -> i32 {
    let url = target(args);
    match check(&url, Duration::from_secs(args.timeout_secs.max(1))) {
        Ok(()) => {
            println!("ready: {url} answered 200");
            0
        }
        Err(reason) => {
            eprintln!("not ready: {reason}");
            1
        }
    }
}

fn check(url: &str, timeout: Duration) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        // No proxy: a container's HTTP_PROXY must not route a loopback check
        // through some other host.
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let resp = client.get(url).send().await.map_err(|e| {
            if e.is_timeout() {
                format!("GET {url}: no answer within {} s", timeout.as_secs())
            } else {
                // reqwest's own line repeats the URL; its causes say what failed.
                let causes = std::error::Error::source(&e).map_or_else(|| e.to_string(), chain);
                format!("GET {url}: {causes}")
            }
        })?;
        let status = resp.status();
        if status == reqwest::StatusCode::OK {
            Ok(())
        } else {
            Err(format!("GET {url} answered {status}"))
        }
    })
}

/// An error and its causes on one line ("…: connection refused").
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(addr: &str, url: Option<&str>) -> HealthcheckArgs {
        HealthcheckArgs {
            addr: addr.parse().unwrap(),
            url: url.map(str::to_string),
            timeout_secs: 2,
        }
    }

    #[test]
    fn an_unspecified_listen_address_is_asked_on_loopback() {
        assert_eq!(
            target(&args("0.0.0.0:8080", None)),
            "http://127.0.0.1:8080/readyz"
        );
        assert_eq!(target(&args("[::]:9", None)), "http://[::1]:9/readyz");
        assert_eq!(
            target(&args("10.1.2.3:80", None)),
            "http://10.1.2.3:80/readyz"
        );
        assert_eq!(
            target(&args("0.0.0.0:8080", Some("http://h:1/x"))),
            "http://h:1/x"
        );
    }
}
