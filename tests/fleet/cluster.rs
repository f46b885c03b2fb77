//! A private, throwaway PostgreSQL cluster (`scripts/pg-throwaway`) a test
//! may restart, kill or freeze, without touching the shared test server.

use std::{
    path::PathBuf,
    process::Command,
    sync::atomic::{AtomicBool, Ordering},
    time::Instant,
};

use crate::common::{self, pg};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A throwaway PostgreSQL cluster of this test process
/// (`scripts/pg-throwaway`), stopped and removed on drop.
pub struct Cluster {
    /// The cluster's handle folder, `target/pg-fleet-<pid>-<tag>`.
    pub dir: PathBuf,
    /// Its port.
    pub port: u16,
    /// Its administrative URL (database `postgres`), for the servers.
    pub url: String,
    /// Whether its processes are stopped (SIGSTOP) by [`Cluster::freeze`].
    frozen: AtomicBool,
}

/// Run `scripts/pg-throwaway` with `args` off the runtime; its stdout, or
/// its stderr as the error.
async fn throwaway(args: Vec<String>) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(common::repo_root().join("scripts/pg-throwaway"))
            .args(&args)
            .output()
            .map_err(|e| format!("pg-throwaway {args:?}: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(format!(
                "pg-throwaway {args:?}: {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    })
    .await
    .expect("pg-throwaway thread")
}

impl Cluster {
    /// Create and start a cluster on a free port. `None` (the test is
    /// skipped with a note) when that fails and PostgreSQL is not required.
    pub async fn start(tag: &str) -> Option<Cluster> {
        let dir = common::repo_root()
            .join("target")
            .join(format!("pg-fleet-{}-{tag}", std::process::id()));
        let port = free_port();
        let mut cluster = Cluster {
            dir,
            port,
            url: String::new(),
            frozen: AtomicBool::new(false),
        };
        match throwaway(vec![
            "start".into(),
            cluster.dir.display().to_string(),
            port.to_string(),
        ])
        .await
        {
            Ok(url) => {
                cluster.url = url;
                Some(cluster)
            }
            Err(e) if pg::required() => panic!("a private PostgreSQL cluster: {e}"),
            Err(e) => {
                eprintln!("skipping a PostgreSQL cluster test: {e}");
                None
            }
        }
    }

    /// `scripts/pg-throwaway VERB DIR` (stop, restart, kill), or `start DIR PORT`.
    pub async fn ctl(&self, verb: &str) {
        let mut args = vec![verb.to_string(), self.dir.display().to_string()];
        if verb == "start" {
            args.push(self.port.to_string());
        }
        let t = Instant::now();
        if let Err(e) = throwaway(args).await {
            panic!("{e}");
        }
        eprintln!("pg-throwaway {verb}: {:?}", t.elapsed());
    }
}

impl Cluster {
    /// The postmaster and its children, read from the cluster's
    /// `postmaster.pid` (only processes this test's cluster runs).
    fn pids(&self) -> Vec<String> {
        let pidfile = std::fs::read_to_string(self.dir.join("postmaster.pid")).unwrap_or_default();
        let Some(postmaster) = pidfile.lines().next().map(str::trim).map(str::to_string) else {
            return Vec::new();
        };
        if postmaster.is_empty() || !postmaster.bytes().all(|b| b.is_ascii_digit()) {
            return Vec::new();
        }
        let children = Command::new("pgrep")
            .arg("-P")
            .arg(&postmaster)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default();
        let mut pids = vec![postmaster];
        pids.extend(children.split_whitespace().map(str::to_string));
        pids
    }

    fn signal(&self, sig: &str) {
        let pids = self.pids();
        assert!(!pids.is_empty(), "no postmaster in {}", self.dir.display());
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .args(&pids)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{sig} {pids:?}");
    }

    /// Freeze the database (SIGSTOP to every process of the cluster): its
    /// sockets stay open and nothing answers, so only the server's own
    /// timeouts end a database call.
    pub fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
        self.signal("STOP");
    }

    /// Let a frozen database run again (SIGCONT).
    pub fn thaw(&self) {
        self.signal("CONT");
        self.frozen.store(false, Ordering::SeqCst);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // A failed test may leave it frozen; stopping it needs it running.
        if self.frozen.load(Ordering::SeqCst) {
            let pids = self.pids();
            let _ = Command::new("kill").arg("-CONT").args(&pids).status();
        }
        let _ = Command::new(common::repo_root().join("scripts/pg-throwaway"))
            .arg("stop")
            .arg(&self.dir)
            .output();
        // The handle may be a symlink to the real folder in /tmp.
        if let Ok(real) = std::fs::canonicalize(&self.dir) {
            let _ = std::fs::remove_dir_all(&real);
        }
        let _ = std::fs::remove_file(&self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
