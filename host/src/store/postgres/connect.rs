//! The database URL: parsing, the TLS choice, and the pool built from them.
//!
//! tokio-postgres understands `sslmode` disable/prefer/require only; libpq's
//! `verify-ca` and `verify-full` are taken out of the URL here and become
//! "TLS required" with a verified certificate (rustls always verifies the
//! chain and the host name). The roots are the webpki (Mozilla) set, or the
//! PEM file named by libpq's `sslrootcert=<path>` (also taken out here), as
//! managed databases often sign with their own CA.

use std::{str::FromStr, sync::Arc, time::Duration};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StoreError;

/// How connections are secured.
#[derive(Clone)]
pub(super) enum Tls {
    /// Plain TCP (sslmode disable or absent).
    Plain,
    /// rustls: attempted for `prefer`, required for `require`/`verify-*`.
    Rustls(MakeRustlsConnect),
}

/// A parsed database URL.
pub(super) struct Target {
    /// Connection settings (password included: never log this).
    pub(super) config: tokio_postgres::Config,
    /// The TLS choice for every connection, pooled or not.
    pub(super) tls: Tls,
}

impl Target {
    /// Parse `url` (URL or key=value form); `timeout` bounds each connect.
    pub(super) fn parse(url: &str, timeout: Duration) -> Result<Target, StoreError> {
        let (cleaned, params) = take_tls_params(url);
        let sslmode = params.sslmode;
        let roots = params.sslrootcert;
        // The parser's messages name the offending key, never its value,
        // so the password cannot leak through them.
        let mut config = tokio_postgres::Config::from_str(&cleaned)
            .map_err(|e| StoreError::Postgres(format!("invalid database URL: {}", describe(&e))))?;
        config.connect_timeout(timeout);
        // A peer that vanished without closing (network partition, host
        // crash) is noticed by the kernel once sent data stays unacknowledged
        // this long, so a pooled connection fails instead of hanging and
        // leaves the pool; idle connections are probed by keepalives.
        config.tcp_user_timeout(timeout.max(Duration::from_secs(1)));
        config.keepalives_idle(Duration::from_secs(30));
        if config.get_application_name().is_none() {
            config.application_name("promptsculptor");
        }
        let tls = match sslmode.as_deref() {
            None | Some("disable") => {
                config.ssl_mode(SslMode::Disable);
                Tls::Plain
            }
            Some("verify-ca" | "verify-full") => {
                config.ssl_mode(SslMode::Require);
                Tls::Rustls(rustls_connector(roots.as_deref())?)
            }
            // prefer / require: tokio-postgres already parsed the mode.
            Some(_) => Tls::Rustls(rustls_connector(roots.as_deref())?),
        };
        Ok(Target { config, tls })
    }

    /// The pool of operation connections: lazy (nothing connects here),
    /// every wait bounded by `timeout`.
    pub(super) fn pool(&self, size: usize, timeout: Duration) -> Result<Pool, StoreError> {
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match &self.tls {
            Tls::Plain => {
                Manager::from_config(self.config.clone(), tokio_postgres::NoTls, manager_config)
            }
            Tls::Rustls(tls) => {
                Manager::from_config(self.config.clone(), tls.clone(), manager_config)
            }
        };
        Pool::builder(manager)
            .max_size(size.max(1))
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Postgres(format!("cannot build the connection pool: {e}")))
    }

    /// Host, port and database, for logs (no user, no password).
    pub(super) fn describe(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let ports: Vec<String> = self.config.get_ports().iter().map(u16::to_string).collect();
        format!(
            "host={} port={} dbname={}",
            if hosts.is_empty() {
                "localhost".to_string()
            } else {
                hosts.join(",")
            },
            if ports.is_empty() {
                "5432".to_string()
            } else {
                ports.join(",")
            },
            self.config.get_dbname().unwrap_or("(user name)")
        )
    }

    /// The TLS choice, for logs.
    pub(super) fn tls_name(&self) -> &'static str {
        match (&self.tls, self.config.get_ssl_mode()) {
            (Tls::Plain, _) => "off",
            (Tls::Rustls(_), SslMode::Prefer) => "preferred",
            _ => "required",
        }
    }
}

fn describe(e: &tokio_postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

/// rustls with the ring provider (set explicitly: the process may link
/// more than one) and the webpki roots, or the certificates of the PEM
/// file `root_file` (libpq's `sslrootcert`; `system` means the default set).
fn rustls_connector(root_file: Option<&str>) -> Result<MakeRustlsConnect, StoreError> {
    let mut roots = rustls::RootCertStore::empty();
    match root_file {
        None | Some("system") => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(path) => {
            use rustls::pki_types::{CertificateDer, pem::PemObject};
            let bad = |e: &dyn std::fmt::Display| {
                StoreError::Postgres(format!("sslrootcert {path}: {e}"))
            };
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
                roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            }
            if roots.is_empty() {
                return Err(bad(&"no certificate in the file"));
            }
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| StoreError::Postgres(format!("TLS setup: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The libpq TLS parameters tokio-postgres does not parse.
#[derive(Debug, Default, PartialEq)]
struct TlsParams {
    /// `sslmode` as given (kept in the URL unless it is `verify-*`).
    sslmode: Option<String>,
    /// `sslrootcert` (always taken out of the URL).
    sslrootcert: Option<String>,
}

impl TlsParams {
    /// Record `key=value`; true when the pair stays in the URL.
    fn keep(&mut self, key: &str, value: &str) -> bool {
        match key {
            "sslmode" => {
                self.sslmode = Some(value.to_string());
                !is_verify(value)
            }
            "sslrootcert" => {
                self.sslrootcert = Some(value.to_string());
                false
            }
            _ => true,
        }
    }
}

/// Take libpq-only TLS parameters (`sslmode=verify-ca|verify-full`,
/// `sslrootcert`) out of `url` (URL query or key=value form) and report the
/// TLS parameters given.
fn take_tls_params(url: &str) -> (String, TlsParams) {
    let mut params = TlsParams::default();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return (url.to_string(), params);
        };
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| match pair.split_once('=') {
                Some((key, value)) => params.keep(key, value),
                None => true,
            })
            .collect();
        let cleaned = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return (cleaned, params);
    }
    // key=value form: values may be quoted and hold spaces, so only the
    // TLS tokens themselves are cut out and the rest is left as written
    // (a quoted sslrootcert path with spaces is not supported).
    let mut cleaned = String::with_capacity(url.len());
    let mut rest = url;
    while !rest.is_empty() {
        let start = rest.len() - rest.trim_start().len();
        cleaned.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token = &rest[..end];
        let keep = match token.split_once('=') {
            Some((key @ ("sslmode" | "sslrootcert"), value)) if !value.is_empty() => {
                params.keep(key, value.trim_matches('\''))
            }
            _ => true,
        };
        if keep {
            cleaned.push_str(token);
        }
        rest = &rest[end..];
    }
    (cleaned, params)
}

fn is_verify(mode: &str) -> bool {
    matches!(mode, "verify-ca" | "verify-full")
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn verify_modes_are_taken_out() {
        let take_sslmode = |url: &str| {
            let (u, p) = take_tls_params(url);
            (u, p.sslmode)
        };
        let (u, m) = take_sslmode("postgres://u:p@h:5/db?sslmode=verify-full&application_name=x");
        assert_eq!(u, "postgres://u:p@h:5/db?application_name=x");
        assert_eq!(m.as_deref(), Some("verify-full"));
        let (u, m) = take_sslmode("postgres://u@h/db?sslmode=verify-ca");
        assert_eq!(u, "postgres://u@h/db");
        assert_eq!(m.as_deref(), Some("verify-ca"));
        let (u, m) = take_sslmode("postgres://u@h/db?sslmode=require");
        assert_eq!(u, "postgres://u@h/db?sslmode=require");
        assert_eq!(m.as_deref(), Some("require"));
        let (u, m) = take_sslmode("host=h sslmode=verify-full password='a b'");
        assert_eq!(u, "host=h  password='a b'");
        assert_eq!(m.as_deref(), Some("verify-full"));
        assert_eq!(take_sslmode("postgres://h/db").1, None);
        let (u, p) = take_tls_params("postgres://h/db?sslrootcert=/etc/ca.pem&sslmode=verify-ca");
        assert_eq!(u, "postgres://h/db");
        assert_eq!(p.sslrootcert.as_deref(), Some("/etc/ca.pem"));
        let (u, p) = take_tls_params("host=h sslrootcert=/etc/ca.pem sslmode=require");
        assert_eq!(u, "host=h  sslmode=require");
        assert_eq!(p.sslrootcert.as_deref(), Some("/etc/ca.pem"));
    }

    #[test]
    fn tls_choice_follows_sslmode() {
        let t = Duration::from_secs(1);
        let plain = Target::parse("postgres://u:secret@db.example:6543/app", t).unwrap();
        assert!(matches!(plain.tls, Tls::Plain));
        assert_eq!(plain.describe(), "host=db.example port=6543 dbname=app");
        assert!(!plain.describe().contains("secret"));
        let full = Target::parse("postgres://u@db.example/app?sslmode=verify-full", t).unwrap();
        assert!(matches!(full.tls, Tls::Rustls(_)));
        assert_eq!(full.config.get_ssl_mode(), SslMode::Require);
        let prefer = Target::parse("postgres://u@db.example/app?sslmode=prefer", t).unwrap();
        assert_eq!(prefer.tls_name(), "preferred");
        assert!(Target::parse("postgres://u@h/db?sslmode=bogus", t).is_err());
    }
}
