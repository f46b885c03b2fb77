//! Hot reload: watch the plugins folder and rescan it when a `*.wasm` file
//! is added, replaced, renamed or deleted; retry, without an event, what
//! failed for a reason that may pass (including a database that could not
//! be read for the published plugins).

use std::{path::Path, time::Duration};

use notify::{
    EventKind, RecommendedWatcher, RecursiveMode, Watcher,
    event::{AccessKind, AccessMode, ModifyKind},
};
use tokio::sync::mpsc;

use super::{Runtime, RuntimeError};

/// Quiet time after the last file event before rescanning: editors and
/// `cp` write a file in several steps.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// First wait before a rescan that retries a failure which may pass by
/// itself (a time-out, a read error, a style name taken by another style);
/// it doubles on every retry that still fails, up to [`RETRY_MAX`].
pub const RETRY_FIRST: Duration = Duration::from_secs(1);

/// Longest wait between two retries: a file whose manifest call always
/// times out costs one manifest call per this period.
pub const RETRY_MAX: Duration = Duration::from_secs(300);

/// Longest wait between two retries while the published plugins cannot be
/// read: one bounded query each, and a publish made meanwhile should reach
/// this instance soon after the database answers again (on PostgreSQL the
/// listener's resync usually triggers the reload first).
pub const DB_RETRY_MAX: Duration = Duration::from_secs(5);

/// Keeps the watcher alive; dropping it stops hot reload.
pub struct PluginWatcher {
    _watcher: RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PluginWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Only changes to a plugin file's content or name matter. Opens and
/// reads (including our own reads of the file) must not trigger a reload,
/// or every reload would trigger the next.
fn relevant(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(m) => matches!(
            m,
            ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any
        ),
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        _ => false,
    }
}

fn is_plugin_path(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "wasm")
}

impl Runtime {
    /// Start watching the plugins folder; each burst of relevant events
    /// triggers one [`Runtime::reload`].
    pub fn watch(&self) -> Result<PluginWatcher, RuntimeError> {
        let (tx, mut rx) = mpsc::channel::<()>(1);
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
                Ok(event)
                    if relevant(&event.kind) && event.paths.iter().any(|p| is_plugin_path(p)) =>
                {
                    // A full channel already holds a pending reload: nothing lost.
                    let _ = tx.try_send(());
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("plugin watcher error: {e}"),
            })
            .map_err(|e| RuntimeError::Engine(format!("cannot watch the plugins folder: {e}")))?;
        let dir = self.inner.settings.plugins_dir.clone();
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| RuntimeError::Engine(format!("cannot watch {}: {e}", dir.display())))?;
        let rt = self.clone();
        let task = tokio::spawn(async move {
            // A failure that may pass is retried without waiting for a file
            // event: nothing in the folder changes when a time-out or a
            // style conflict ends.
            let mut retry = rt.table().needs_retry.then_some(RETRY_FIRST);
            loop {
                let event = match retry {
                    Some(wait) => tokio::time::timeout(wait, rx.recv()).await.ok(),
                    None => tokio::select! {
                        e = rx.recv() => Some(e),
                        // Another caller's reload left something to retry.
                        () = rt.inner.retry_wanted.notified() => {
                            retry = Some(RETRY_FIRST);
                            continue;
                        }
                    },
                };
                match event {
                    // The watcher is gone.
                    Some(None) => break,
                    // Debounce: wait until the folder has been quiet for a moment.
                    Some(Some(())) => {
                        while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
                    }
                    None => {
                        tracing::info!("rescanning plugins that failed for a reason that may pass")
                    }
                }
                let table = rt.reload().await;
                let max = if table.db_unavailable {
                    DB_RETRY_MAX
                } else {
                    RETRY_MAX
                };
                retry = table
                    .needs_retry
                    .then(|| retry.map_or(RETRY_FIRST, |w| (w * 2).min(max)));
            }
        });
        tracing::info!(dir = %dir.display(), "watching plugins folder for changes");
        Ok(PluginWatcher {
            _watcher: watcher,
            task,
        })
    }
}
