//! Unit tests against a real PostgreSQL server: each test creates its own
//! database (`ps_unit_<pid>_<nanos>`) and drops it at the end.
//!
//! The server is `PROMPTSCULPTOR_TEST_DATABASE_URL`, or
//! postgres://postgres@127.0.0.1:5432/postgres. When that variable is unset
//! and no server answers there, the database tests are skipped (with a
//! line on stderr); when it is set, an unreachable server fails them.

use std::{future::Future, time::Duration};

use tokio::sync::watch;
use tokio_postgres::NoTls;

use super::*;
use crate::store::{StyleExample, backend::Backend};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// `url` with its database name replaced by `db`.
fn with_dbname(url: &str, db: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return format!("{url} dbname={db}");
    };
    let rest_start = scheme_end + 3;
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let authority_end = base[rest_start..]
        .find('/')
        .map_or(base.len(), |i| rest_start + i);
    format!("{}/{db}{query}", &base[..authority_end])
}

async fn admin_client(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// Run `test` with the URL of a fresh database; drop it afterwards, even
/// when the test panics (the panic is then resumed).
async fn with_db<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let configured = std::env::var("PROMPTSCULPTOR_TEST_DATABASE_URL").ok();
    let admin_url = configured
        .clone()
        .unwrap_or_else(|| DEFAULT_ADMIN_URL.to_string());
    let admin = match admin_client(&admin_url).await {
        Ok(c) => c,
        Err(e) if configured.is_none() => {
            eprintln!("skipping: no PostgreSQL at {DEFAULT_ADMIN_URL}: {e}");
            return;
        }
        Err(e) => panic!("PROMPTSCULPTOR_TEST_DATABASE_URL unreachable: {e}"),
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("ps_unit_{}_{nanos}", std::process::id());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let result = tokio::spawn(test(with_dbname(&admin_url, &name))).await;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

struct Handle {
    pg: Postgres,
    styles: StyleCache,
    plugin_changes: watch::Receiver<u64>,
}

fn start(url: &str) -> Handle {
    let styles = StyleCache::default();
    let (tx, plugin_changes) = watch::channel(0);
    let pg = Postgres::start(
        url,
        4,
        Duration::from_secs(5),
        Hooks {
            styles: styles.clone(),
            plugin_changes: tx,
        },
    )
    .unwrap();
    Handle {
        pg,
        styles,
        plugin_changes,
    }
}

/// Poll `check` every 10 ms until it holds; panics after `within`.
async fn eventually(within: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn started(url: &str) -> Handle {
    let h = start(url);
    eventually(Duration::from_secs(10), "listener ready", || {
        h.pg.status().is_ok()
    })
    .await;
    h
}

fn new_style(name: &str) -> NewStyle {
    NewStyle {
        name: name.to_string(),
        description: format!("{name} style"),
        instructions: "Do it well.".to_string(),
        examples: vec![StyleExample {
            before: "a".to_string(),
            after: "b".to_string(),
        }],
    }
}

fn update(description: &str) -> StyleUpdate {
    StyleUpdate {
        description: description.to_string(),
        instructions: "Do it better.".to_string(),
        examples: Vec::new(),
    }
}

#[tokio::test]
async fn migrations_apply_once_even_concurrently() {
    with_db(|url| async move {
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let mut client = admin_client(&url).await.unwrap();
            tasks.push(tokio::spawn(async move {
                migrate::apply(&mut client).await.unwrap()
            }));
        }
        let mut applied = Vec::new();
        for t in tasks {
            applied.push(t.await.unwrap());
        }
        let known = migrate::POSTGRES_MIGRATIONS.len();
        assert!(known > 0);
        assert_eq!(applied.iter().sum::<usize>(), known, "{applied:?}");
        assert_eq!(applied.iter().filter(|&&n| n > 0).count(), 1);

        let mut client = admin_client(&url).await.unwrap();
        assert_eq!(migrate::apply(&mut client).await.unwrap(), 0);
        let rows: i64 = client
            .query_one("SELECT count(*) FROM schema_migrations", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(rows as usize, known);
        let v: i64 = client
            .query_one("SELECT styles_version FROM registry", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(v, 0);
    })
    .await;
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    with_db(|url| async move {
        let mut client = admin_client(&url).await.unwrap();
        migrate::apply(&mut client).await.unwrap();
        client
            .batch_execute("INSERT INTO schema_migrations (version, name) VALUES (9999, 'future')")
            .await
            .unwrap();
        assert!(matches!(
            migrate::apply(&mut client).await,
            Err(StoreError::Corrupt(_))
        ));
        let h = start(&url);
        eventually(Duration::from_secs(5), "refusal reported", || {
            h.pg.status().is_err_and(|e| e.contains("newer"))
        })
        .await;
        assert!(matches!(
            h.pg.insert_style(&new_style("x"), "2026-01-01T00:00:00.000Z").await,
            Err(StoreError::Unavailable(m)) if m.contains("newer")
        ));
        assert!(matches!(h.pg.ping().await, Err(StoreError::Unavailable(_))));
    })
    .await;
}

#[tokio::test]
async fn style_writes_bump_the_version_and_check_if_match() {
    with_db(|url| async move {
        let h = started(&url).await;
        let pg = &h.pg;
        let t0 = "2026-01-01T00:00:00.000Z";
        let t1 = "2026-01-01T00:00:01.000Z";
        assert_eq!(pg.load_user_styles().await.unwrap(), (0, vec![]));

        let (v, created) = pg.insert_style(&new_style("alpha"), t0).await.unwrap();
        assert_eq!(v, 1);
        assert_eq!(created.source, "user");
        assert_eq!(created.created_at, t0);
        assert!(matches!(
            pg.insert_style(&new_style("alpha"), t0).await,
            Err(StoreError::Conflict(m)) if m == "a style named 'alpha' already exists"
        ));
        // A refused write does not move the version.
        let (v, stored) = pg.load_user_styles().await.unwrap();
        assert_eq!((v, stored.clone()), (1, vec![created.clone()]));

        let stale = IfMatch::Tags(vec!["\"nope\"".to_string()]);
        let current = IfMatch::Tags(vec![created.etag()]);
        let refused = pg
            .update_style("alpha", &update("new"), Some(&stale), t1)
            .await
            .unwrap();
        assert_eq!(refused.unwrap_err().current_etag, created.etag());
        let (v, updated) = pg
            .update_style("alpha", &update("new"), Some(&current), t1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v, 2);
        assert_eq!(updated.description, "new");
        assert_eq!(
            (updated.created_at.as_str(), updated.updated_at.as_str()),
            (t0, t1)
        );
        assert_eq!(
            pg.load_user_styles().await.unwrap(),
            (2, vec![updated.clone()])
        );
        // The old tag is now stale.
        assert!(
            pg.delete_style("alpha", Some(&current))
                .await
                .unwrap()
                .is_err()
        );
        assert!(matches!(
            pg.update_style("ghost", &update("x"), None, t1).await,
            Err(StoreError::NotFound(m)) if m == "style 'ghost'"
        ));
        assert!(matches!(
            pg.delete_style("ghost", None).await,
            Err(StoreError::NotFound(_))
        ));
        let v = pg
            .delete_style("alpha", Some(&IfMatch::Tags(vec![updated.etag()])))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v, 3);
        assert_eq!(pg.load_user_styles().await.unwrap(), (3, vec![]));

        // Import keeps timestamps and skips stored names.
        let (_, kept) = pg.insert_style(&new_style("kept"), t0).await.unwrap();
        let mut incoming = kept.clone();
        incoming.description = "other".to_string();
        let mut fresh = updated.clone();
        fresh.name = "fresh".to_string();
        assert_eq!(
            pg.import_styles(&[incoming, fresh.clone()]).await.unwrap(),
            (1, 1)
        );
        let (v, stored) = pg.load_user_styles().await.unwrap();
        assert_eq!(v, 5);
        assert_eq!(stored, vec![fresh, kept]);
    })
    .await;
}

#[tokio::test]
async fn writes_reach_another_instance_within_a_second() {
    with_db(|url| async move {
        let a = started(&url).await;
        let mut b = started(&url).await;
        let (v, _) =
            a.pg.insert_style(&new_style("shared"), "2026-01-01T00:00:00.000Z")
                .await
                .unwrap();
        eventually(Duration::from_secs(1), "style notification", || {
            b.styles.user_version() == Some(v) && b.styles.load().get("shared").is_some()
        })
        .await;

        b.plugin_changes.mark_unchanged();
        a.pg.publish_plugin(
            &NewPluginVersion {
                name: "p".to_string(),
                version: "1.0.0".to_string(),
                kind: "remix".to_string(),
                sha256: "a".repeat(64),
                component: vec![1, 2, 3],
            },
            "2026-01-01T00:00:00.000Z",
        )
        .await
        .unwrap();
        tokio::time::timeout(Duration::from_secs(1), b.plugin_changes.changed())
            .await
            .expect("plugin notification within 1 s")
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_listener_reconnects_and_resyncs() {
    with_db(|url| async move {
        let a = started(&url).await;
        // The writer's listener gets another name, so only a's is killed.
        let sep = if url.contains('?') { '&' } else { '?' };
        let writer = started(&format!("{url}{sep}application_name=writer")).await;
        let before = *a.plugin_changes.borrow();

        let admin = admin_client(&url).await.unwrap();
        let killed = admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE datname = current_database() AND application_name = $1",
                &[&listener::LISTENER_APPLICATION],
            )
            .await
            .unwrap();
        assert_eq!(killed.len(), 1);
        eventually(Duration::from_secs(5), "outage noticed", || {
            a.pg.status().is_err()
        })
        .await;
        let (v, _) = writer
            .pg
            .insert_style(&new_style("while-down"), "2026-01-01T00:00:00.000Z")
            .await
            .unwrap();
        eventually(Duration::from_secs(10), "reconnected and resynced", || {
            a.pg.status().is_ok()
                && a.styles.user_version() == Some(v)
                && a.styles.load().get("while-down").is_some()
                && *a.plugin_changes.borrow() > before
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_within_the_timeout() {
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let styles = StyleCache::default();
    let (tx, _rx) = watch::channel(0);
    let timeout = Duration::from_millis(500);
    let began = std::time::Instant::now();
    let pg = Postgres::start(
        &format!("postgres://postgres:secret@127.0.0.1:{port}/none"),
        2,
        timeout,
        Hooks {
            styles: styles.clone(),
            plugin_changes: tx,
        },
    )
    .unwrap();
    assert!(began.elapsed() < Duration::from_millis(100));
    for _ in 0..2 {
        let began = std::time::Instant::now();
        assert!(matches!(pg.ping().await, Err(StoreError::Unavailable(_))));
        assert!(matches!(
            pg.insert_style(&new_style("x"), "2026-01-01T00:00:00.000Z")
                .await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(began.elapsed() <= timeout * 2);
        // Let the keeper fail a connection attempt or two.
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let reason = pg.status().unwrap_err();
    assert!(!reason.contains("secret"), "{reason}");
    assert_eq!(styles.user_version(), None);
}

#[tokio::test]
async fn published_plugins_keep_versions() {
    with_db(|url| async move {
        let h = started(&url).await;
        let pg = &h.pg;
        let v = |n: u8, version: &str| NewPluginVersion {
            name: "demo".to_string(),
            version: version.to_string(),
            kind: "analyze".to_string(),
            sha256: format!("{n:064x}"),
            component: vec![n; 4],
        };
        let first = pg.publish_plugin(&v(1, "1.0.0"), "t1").await.unwrap();
        assert!(first.created && first.changed);
        assert_eq!(first.plugin.uploaded_at, "t1");
        let again = pg.publish_plugin(&v(1, "1.0.0"), "t2").await.unwrap();
        assert!(!again.created && !again.changed);
        assert_eq!(again.plugin.uploaded_at, "t1");
        let second = pg.publish_plugin(&v(2, "1.1.0"), "t3").await.unwrap();
        assert!(!second.created && second.changed);
        assert_eq!(
            pg.active_plugins().await.unwrap(),
            vec![second.plugin.clone()]
        );

        let versions = pg.plugin_versions("demo").await.unwrap();
        let listed: Vec<(&str, bool)> = versions
            .iter()
            .map(|v| (v.version.as_str(), v.active))
            .collect();
        assert_eq!(listed, vec![("1.1.0", true), ("1.0.0", false)]);

        let back = pg
            .activate_plugin_version("demo", &v(1, "").sha256, "t4")
            .await
            .unwrap();
        assert_eq!(back, first.plugin);
        assert!(matches!(
            pg.activate_plugin_version("demo", &v(9, "").sha256, "t5")
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            pg.activate_plugin_version("ghost", &v(1, "").sha256, "t5")
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(
            pg.plugin_component("demo", &v(2, "").sha256).await.unwrap(),
            vec![2; 4]
        );
        assert!(matches!(
            pg.plugin_component("demo", &v(9, "").sha256).await,
            Err(StoreError::NotFound(_))
        ));
        pg.delete_plugin("demo").await.unwrap();
        assert!(matches!(
            pg.delete_plugin("demo").await,
            Err(StoreError::NotFound(_))
        ));
        assert!(pg.plugin_versions("demo").await.unwrap().is_empty());
        assert!(pg.active_plugins().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_request_log_is_written_in_batches_and_pruned() {
    with_db(|url| async move {
        let h = started(&url).await;
        let rows: Vec<LogRow> = (0..700)
            .map(|i| LogRow {
                at: "2026-12-02T04:30:00.123Z".to_string(),
                request_id: format!("r{i}"),
                operation: "remix".to_string(),
                status: 200,
                latency_ms: 1.5,
                prompt: (i % 2 == 0).then(|| "text".to_string()),
                ..LogRow::default()
            })
            .collect();
        h.pg.write_request_log(&rows).await.unwrap();
        let admin = admin_client(&url).await.unwrap();
        let n: i64 = admin
            .query_one("SELECT count(*) FROM request_log", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 700);
        h.pg.prune_request_log(Retention {
            max_age_days: 36500,
            max_rows: 100,
        })
        .await
        .unwrap();
        let (n, first): (i64, String) = {
            let r = admin
                .query_one(
                    "SELECT count(*), min(request_id COLLATE \"C\") FROM request_log",
                    &[],
                )
                .await
                .unwrap();
            (r.get(0), r.get(1))
        };
        assert_eq!(n, 100);
        assert_eq!(first, "r600");
    })
    .await;
}

/// TLS against the local server's self-signed "snakeoil" certificate
/// (CN=localhost): refused with the default roots, accepted and verified
/// with it as `sslrootcert`. Runs only against the default local server.
#[tokio::test]
async fn tls_certificates_are_verified() {
    const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    if std::env::var_os("PROMPTSCULPTOR_TEST_DATABASE_URL").is_some()
        || !std::path::Path::new(SNAKEOIL).exists()
    {
        eprintln!("skipping: needs the default local server and {SNAKEOIL}");
        return;
    }
    with_db(|url| async move {
        let url = url.replace("@127.0.0.1:", "@localhost:");
        let verified = start(&format!(
            "{url}?sslmode=verify-full&sslrootcert={SNAKEOIL}&application_name=tls"
        ));
        let untrusted = start(&format!("{url}?sslmode=require&application_name=tls"));
        let server_has_tls = {
            let admin = admin_client(&url).await.unwrap();
            let on: String = admin.query_one("SHOW ssl", &[]).await.unwrap().get(0);
            on == "on"
        };
        if !server_has_tls {
            eprintln!("skipping: the server has ssl off");
            return;
        }
        eventually(Duration::from_secs(10), "verified TLS session", || {
            verified.pg.status().is_ok()
        })
        .await;
        verified.pg.ping().await.unwrap();
        let c = verified.pg.shared.pool.get().await.unwrap();
        let ssl: bool = c
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert!(ssl);
        eventually(
            Duration::from_secs(10),
            "untrusted certificate refused",
            || {
                untrusted
                    .pg
                    .status()
                    .is_err_and(|e| e.contains("certificate"))
            },
        )
        .await;
        assert!(matches!(
            untrusted.pg.ping().await,
            Err(StoreError::Unavailable(_))
        ));
    })
    .await;
}
