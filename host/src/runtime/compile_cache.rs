//! The on-disk cache of compiled components: one `<sha256>-<engine>.cwasm`
//! file per distinct component and engine configuration, bounded in entries
//! and bytes. Without a bound it grew by one entry per distinct file ever
//! loaded (every edit of a plugin under development), forever.
//!
//! Eviction is least-recently-used by file mtime: a cache hit refreshes the
//! mtime, and entries of the plugins currently loaded are never evicted, so
//! a restart does not have to recompile what is serving now.

use std::{
    collections::HashSet,
    hash::{DefaultHasher, Hash, Hasher},
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use wasmtime::Engine;
use wasmtime::component::Component;

use super::Runtime;

/// Bounds of the compile cache (`PROMPTSCULPTOR_CACHE_MAX_BYTES`,
/// `PROMPTSCULPTOR_CACHE_MAX_ENTRIES`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Total size of all entries, in bytes.
    pub max_bytes: u64,
    /// Number of entries.
    pub max_entries: u32,
}

impl Default for CacheLimits {
    /// 1 GiB and 256 entries: a compiled Rust plugin is 1–3 MiB and a Python
    /// one some tens of MiB, so a large plugins folder still fits.
    fn default() -> Self {
        CacheLimits {
            max_bytes: 1024 * 1024 * 1024,
            max_entries: 256,
        }
    }
}

/// Where and how one compile may use the cache.
#[derive(Debug, Clone)]
pub struct CompileCache {
    /// The cache folder (absolute).
    pub dir: PathBuf,
    /// Its bounds.
    pub limits: CacheLimits,
    /// sha256 (hex) of components whose entries must survive a prune: the
    /// plugins loaded when the compile started.
    pub keep: HashSet<String>,
}

/// What a prune did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Entries deleted.
    pub removed: usize,
    /// Entries left.
    pub entries: usize,
    /// Bytes left.
    pub bytes: u64,
}

/// A temp file of an interrupted write older than this is debris.
const STALE_TMP: Duration = Duration::from_secs(600);

impl Runtime {
    /// The cache settings for a compile starting now; `None` when the
    /// cache is disabled.
    pub(super) fn compile_cache(&self) -> Option<CompileCache> {
        let settings = &self.inner.settings;
        let dir = settings.cache_dir.clone()?;
        let keep = self
            .table()
            .by_name
            .values()
            .map(|p| p.sha256.clone())
            .collect();
        Some(CompileCache {
            dir,
            limits: settings.cache_limits,
            keep,
        })
    }
}

impl Runtime {
    /// Store this instance's compiled code of published component `sha` in
    /// the database for the rest of the fleet. Best effort: without it the
    /// others compile for themselves.
    pub(super) async fn share_compiled(&self, sha: &str) {
        let Some(cache) = self.shared_cache() else {
            return;
        };
        let path = cache.entry_path(&self.inner.engine, sha);
        let artifact = match tokio::fs::read(&path).await {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!(path = %path.display(), "no compiled code to share: {e}");
                return;
            }
        };
        let key = engine_key(&self.inner.engine);
        if let Err(e) = self.inner.caps.db.put_compiled(sha, &key, &artifact).await {
            tracing::warn!(sha256 = %sha, "compiled code not shared with the fleet: {e}");
        }
    }

    /// Put the fleet's compiled code of component `sha` into this
    /// instance's compile cache, unless it is there already, so loading it
    /// skips Cranelift. Best effort: without it the component is compiled.
    pub(super) async fn fetch_compiled(&self, sha: &str) {
        let Some(cache) = self.shared_cache() else {
            return;
        };
        let path = cache.entry_path(&self.inner.engine, sha);
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            return;
        }
        let key = engine_key(&self.inner.engine);
        match self.inner.caps.db.compiled(sha, &key).await {
            Ok(Some(artifact)) => {
                let installed =
                    tokio::task::spawn_blocking(move || install(&path, &artifact)).await;
                if let Ok(Err(e)) = installed {
                    tracing::warn!(sha256 = %sha, "cannot cache the fleet's compiled code: {e}");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::debug!(sha256 = %sha, "fleet compiled code not read: {e}"),
        }
    }

    fn shared_cache(&self) -> Option<CompileCache> {
        if !self.inner.settings.share_compiled {
            return None;
        }
        self.compile_cache()
    }
}

impl CompileCache {
    /// Cache file for `sha`, keyed by the engine's configuration so an
    /// engine built differently never sees another's code.
    pub fn entry_path(&self, engine: &Engine, sha: &str) -> PathBuf {
        self.dir.join(format!("{sha}-{}.cwasm", engine_key(engine)))
    }

    /// The cached component at `path`, if there is a usable one; a hit
    /// marks the entry as recently used. Blocking.
    pub fn load(&self, engine: &Engine, path: &Path) -> Option<Component> {
        if !path.exists() {
            return None;
        }
        // SAFETY: the cache directory is written only by this server from
        // `Component::serialize` of the same file hash and engine config,
        // or from compiled code another instance of the fleet serialized
        // the same way and stored in the shared database (keyed by sha256
        // and engine key; PROMPTSCULPTOR_SHARE_COMPILED=false turns that
        // off, for operators who trust the database less than the binary).
        // wasmtime still checks version and config compatibility and
        // refuses a mismatch, in which case the entry is discarded below.
        // The workspace denies unsafe code; this is its one reasoned
        // exception (loading skips Cranelift: ~0.1 ms instead of ~250 ms).
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, path) };
        match loaded {
            Ok(component) => {
                touch(path);
                Some(component)
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), "discarding unusable compile-cache entry: {e}");
                let _ = std::fs::remove_file(path);
                None
            }
        }
    }

    /// Write `component` to `path` atomically (temp file, then rename),
    /// then prune the cache back within its bounds, keeping `sha`'s entry.
    /// Failures only cost a later recompile, so they are logged, not
    /// returned. Blocking.
    pub fn store(&self, component: &Component, path: &Path, sha: &str) {
        let serialized = match component.serialize() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot serialize compiled component: {e}");
                return;
            }
        };
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&tmp, &serialized))
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            tracing::warn!(path = %path.display(), "cannot write compile cache: {e}");
            return;
        }
        let mut keep = self.keep.clone();
        keep.insert(sha.to_string());
        let pruned = prune(&self.dir, self.limits, &keep);
        if pruned.removed > 0 {
            tracing::info!(
                removed = pruned.removed,
                entries = pruned.entries,
                bytes = pruned.bytes,
                "compile cache pruned"
            );
        }
    }
}

/// The engine configuration as a short key: compiled code is usable only by
/// an engine with the same key (same wasmtime build and settings).
pub fn engine_key(engine: &Engine) -> String {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Put compiled code fetched from the fleet's database at `path` (temp
/// file, then rename), where [`CompileCache::load`] finds it. Blocking.
pub fn install(path: &Path, artifact: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("fetched{}", std::process::id()));
    let written = std::fs::write(&tmp, artifact).and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Mark `path` as just used. Best effort: a read-only cache still serves.
fn touch(path: &Path) {
    let result = std::fs::File::options()
        .append(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now()));
    if let Err(e) = result {
        tracing::debug!(path = %path.display(), "cannot refresh compile-cache entry time: {e}");
    }
}

struct Entry {
    path: PathBuf,
    sha: String,
    bytes: u64,
    modified: SystemTime,
}

/// Delete the least recently used entries of `dir` until it holds at most
/// `limits` (entries whose sha256 is in `keep` are never deleted, so the
/// folder may stay above the bounds when they alone exceed them), and
/// temp files that an interrupted write left behind. Blocking.
pub fn prune(dir: &Path, limits: CacheLimits, keep: &HashSet<String>) -> Pruned {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Pruned::default();
    };
    let now = SystemTime::now();
    let mut entries = Vec::new();
    for item in read.filter_map(Result::ok) {
        let path = item.path();
        let Ok(meta) = item.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if ext.starts_with("tmp") {
            if now.duration_since(modified).unwrap_or_default() > STALE_TMP {
                let _ = std::fs::remove_file(&path);
            }
            continue;
        }
        if ext != "cwasm" {
            continue;
        }
        let sha = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.split('-').next())
            .unwrap_or_default()
            .to_string();
        entries.push(Entry {
            path,
            sha,
            bytes: meta.len(),
            modified,
        });
    }
    // Oldest first; the path breaks ties so the order is deterministic.
    entries.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.path.cmp(&b.path)));
    let mut count = entries.len();
    let mut bytes: u64 = entries.iter().map(|e| e.bytes).sum();
    let mut removed = 0;
    for e in &entries {
        if count <= limits.max_entries as usize && bytes <= limits.max_bytes {
            break;
        }
        if keep.contains(&e.sha) {
            continue;
        }
        match std::fs::remove_file(&e.path) {
            Ok(()) => removed += 1,
            // Another prune (a concurrent load) got there first.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                tracing::warn!(path = %e.path.display(), "cannot delete compile-cache entry: {err}");
                continue;
            }
        }
        count -= 1;
        bytes = bytes.saturating_sub(e.bytes);
    }
    Pruned {
        removed,
        entries: count,
        bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dir: &Path, sha: &str, len: usize, age_secs: u64) {
        let path = dir.join(format!("{sha}-0123456789abcdef.cwasm"));
        std::fs::write(&path, vec![0u8; len]).unwrap();
        let f = std::fs::File::options().append(true).open(&path).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(age_secs))
            .unwrap();
    }

    fn left(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().chars().take(1).collect())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn prunes_oldest_first_down_to_the_entry_bound() {
        let dir = tempfile::tempdir().unwrap();
        for (sha, age) in [("a", 50), ("b", 40), ("c", 30), ("d", 20), ("e", 10)] {
            entry(dir.path(), sha, 10, age);
        }
        let limits = CacheLimits {
            max_bytes: u64::MAX,
            max_entries: 2,
        };
        let p = prune(dir.path(), limits, &HashSet::new());
        assert_eq!(p.removed, 3);
        assert_eq!(left(dir.path()), ["d", "e"]);
    }

    #[test]
    fn prunes_down_to_the_byte_bound_and_keeps_loaded_entries() {
        let dir = tempfile::tempdir().unwrap();
        for (sha, age) in [("a", 50), ("b", 40), ("c", 30), ("d", 20)] {
            entry(dir.path(), sha, 100, age);
        }
        let limits = CacheLimits {
            max_bytes: 250,
            max_entries: 100,
        };
        let keep: HashSet<String> = ["a".to_string()].into();
        let p = prune(dir.path(), limits, &keep);
        // "a" is the oldest but loaded; "b" and "c" go, then "a" + "d" fit.
        assert_eq!(left(dir.path()), ["a", "d"]);
        assert_eq!(p.entries, 2);
        assert_eq!(p.bytes, 200);
        // Kept entries stay even when they alone break the bound.
        let tiny = CacheLimits {
            max_bytes: 1,
            max_entries: 100,
        };
        let p = prune(dir.path(), tiny, &keep);
        assert_eq!(left(dir.path()), ["a"]);
        assert_eq!(p.bytes, 100);
    }

    #[test]
    fn a_hit_refreshes_the_entry_so_it_outlives_older_ones() {
        let dir = tempfile::tempdir().unwrap();
        for (sha, age) in [("a", 50), ("b", 40), ("c", 30)] {
            entry(dir.path(), sha, 10, age);
        }
        touch(&dir.path().join("a-0123456789abcdef.cwasm"));
        let limits = CacheLimits {
            max_bytes: u64::MAX,
            max_entries: 1,
        };
        prune(dir.path(), limits, &HashSet::new());
        assert_eq!(left(dir.path()), ["a"]);
    }

    #[test]
    fn stale_temp_files_are_removed_and_fresh_ones_left() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("x-0123456789abcdef.tmp42");
        std::fs::write(&old, b"half").unwrap();
        std::fs::File::options()
            .append(true)
            .open(&old)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        let fresh = dir.path().join("y-0123456789abcdef.tmp43");
        std::fs::write(&fresh, b"half").unwrap();
        prune(dir.path(), CacheLimits::default(), &HashSet::new());
        assert!(!old.exists());
        assert!(fresh.exists());
    }
}
