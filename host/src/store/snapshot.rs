//! The style registry in memory: an immutable snapshot of every style,
//! swapped with one atomic pointer store (the pattern the plugin table
//! uses), so a remix and a plugin's `styles.get`/`styles.list` read styles
//! without a thread hand-off or a database query.
//!
//! The database stays the source of truth: every write still runs in its
//! own transaction (with today's `If-Match` checks), and the snapshot is
//! replaced after the write commits, while the connection is still held,
//! so snapshots are published in commit order and a write's answer is
//! sent only once its snapshot is visible. A refresh from the store (the
//! start, a plugin-style sync, later a fleet notification) is one call:
//! [`super::Db::refresh_styles`].

use std::{collections::BTreeMap, sync::Arc};

use arc_swap::ArcSwap;
use rusqlite::Connection;

use super::StoreError;
use super::styles::{StyleRecord, load_all};

/// Every style of the registry at one moment, ordered by name (the order
/// of `GET /api/v1/styles`, which SQLite's `ORDER BY name` gave: byte order).
#[derive(Debug, Default, Clone)]
pub struct StyleSnapshot {
    by_name: BTreeMap<String, Arc<StyleRecord>>,
}

impl StyleSnapshot {
    /// A snapshot holding exactly `styles`.
    pub fn from_records(styles: impl IntoIterator<Item = StyleRecord>) -> StyleSnapshot {
        StyleSnapshot {
            by_name: styles
                .into_iter()
                .map(|s| (s.name.clone(), Arc::new(s)))
                .collect(),
        }
    }

    /// One style by name.
    pub fn get(&self, name: &str) -> Option<&Arc<StyleRecord>> {
        self.by_name.get(name)
    }

    /// Every style, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<StyleRecord>> {
        self.by_name.values()
    }

    /// Number of styles.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True when the registry holds no style.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// The published snapshot; cheap to clone (shared).
#[derive(Clone, Default)]
pub(super) struct StyleCache {
    current: Arc<ArcSwap<StyleSnapshot>>,
}

impl StyleCache {
    /// The current snapshot: one atomic load, no lock.
    pub(super) fn load(&self) -> Arc<StyleSnapshot> {
        self.current.load_full()
    }

    /// Replace the snapshot with every style stored in `conn`. Callers hold
    /// the connection (the `Db` mutex), so no write commits in between.
    pub(super) fn reload(&self, conn: &Connection) -> Result<(), StoreError> {
        let styles = load_all(conn)?;
        self.current
            .store(Arc::new(StyleSnapshot::from_records(styles)));
        Ok(())
    }

    /// Publish one committed change: `record` replaces the style of its
    /// name. Copies the name index (pointers, not styles): a write costs
    /// O(styles) pointer copies, reads stay lock-free.
    pub(super) fn put(&self, record: StyleRecord) {
        let mut next = StyleSnapshot::clone(&self.current.load());
        next.by_name.insert(record.name.clone(), Arc::new(record));
        self.current.store(Arc::new(next));
    }

    /// Publish one committed deletion.
    pub(super) fn remove(&self, name: &str) {
        let mut next = StyleSnapshot::clone(&self.current.load());
        if next.by_name.remove(name).is_some() {
            self.current.store(Arc::new(next));
        }
    }
}
