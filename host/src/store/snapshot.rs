//! The style registry in memory: an immutable snapshot of every style,
//! swapped with one atomic pointer store (the pattern the plugin table
//! uses), so a remix and a plugin's `styles.get`/`styles.list` read styles
//! without a thread hand-off or a database query.
//!
//! The snapshot merges three layers: builtin styles (compiled into the
//! server, the same on every instance of a version), user styles (the
//! database's, the only ones it stores) and plugin styles (this instance's
//! loaded plugins). The database stays the source of truth for user
//! styles: every write runs in its own transaction and returns the
//! registry version it produced; the user layer moves only forward in that
//! version, so a local write, a change notification from another instance
//! and a full reload can arrive in any order and the newest wins.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use arc_swap::ArcSwap;

use super::styles::{NewStyle, StyleRecord};

/// Every style of the registry at one moment, ordered by name (byte order).
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

/// One committed change to a user style.
pub(crate) enum UserChange {
    /// The style now reads as this record.
    Put(StyleRecord),
    /// The style is gone.
    Remove(String),
}

/// The layers the snapshot is made of.
#[derive(Default)]
struct Layers {
    builtin: BTreeMap<String, Arc<StyleRecord>>,
    user: BTreeMap<String, Arc<StyleRecord>>,
    /// Registry version the user layer reflects; `None` until first loaded.
    user_version: Option<u64>,
    plugin: BTreeMap<String, Arc<StyleRecord>>,
}

impl Layers {
    /// Builtin first, then user, then plugin: a name is claimed by the
    /// first layer holding it (writes and plugin loads refuse clashes, so
    /// a shadowed style only exists briefly across instances).
    fn merged(&self) -> StyleSnapshot {
        let mut by_name = self.plugin.clone();
        by_name.extend(self.user.iter().map(|(k, v)| (k.clone(), Arc::clone(v))));
        by_name.extend(self.builtin.iter().map(|(k, v)| (k.clone(), Arc::clone(v))));
        StyleSnapshot { by_name }
    }
}

/// The published snapshot and the layers behind it; cheap to clone (shared).
#[derive(Clone, Default)]
pub(crate) struct StyleCache {
    current: Arc<ArcSwap<StyleSnapshot>>,
    /// Writers only: readers load `current`.
    layers: Arc<Mutex<Layers>>,
}

impl StyleCache {
    /// A cache holding the builtin styles and nothing else yet.
    pub(crate) fn with_builtin(builtin: Vec<StyleRecord>) -> StyleCache {
        let cache = StyleCache::default();
        {
            let mut layers = cache.lock();
            layers.builtin = builtin
                .into_iter()
                .map(|s| (s.name.clone(), Arc::new(s)))
                .collect();
            cache.publish(&layers);
        }
        cache
    }

    fn lock(&self) -> MutexGuard<'_, Layers> {
        // Every update below leaves the layers consistent before it can
        // panic; a poisoned lock still guards usable maps.
        self.layers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, layers: &Layers) {
        self.current.store(Arc::new(layers.merged()));
    }

    /// The current snapshot: one atomic load, no lock.
    pub(crate) fn load(&self) -> Arc<StyleSnapshot> {
        self.current.load_full()
    }

    /// The registry version of the user layer; `None` before the first load.
    pub(crate) fn user_version(&self) -> Option<u64> {
        self.lock().user_version
    }

    /// Replace the user layer with a full read made at `version`. Ignored
    /// (false) when the layer already reflects a newer version.
    pub(crate) fn replace_user(&self, version: u64, styles: Vec<StyleRecord>) -> bool {
        let mut layers = self.lock();
        if layers.user_version.is_some_and(|v| v > version) {
            return false;
        }
        layers.user = styles
            .into_iter()
            .map(|s| (s.name.clone(), Arc::new(s)))
            .collect();
        layers.user_version = Some(version);
        self.publish(&layers);
        true
    }

    /// Apply the change a write committed as registry `version`. False when
    /// the layer is missing an earlier version (another instance wrote in
    /// between): the caller reloads in full.
    pub(crate) fn apply_user(&self, version: u64, change: UserChange) -> bool {
        let mut layers = self.lock();
        match layers.user_version {
            Some(v) if v >= version => return true,
            Some(v) if v + 1 == version => {}
            _ => return false,
        }
        match change {
            UserChange::Put(record) => {
                layers.user.insert(record.name.clone(), Arc::new(record));
            }
            UserChange::Remove(name) => {
                layers.user.remove(&name);
            }
        }
        layers.user_version = Some(version);
        self.publish(&layers);
        true
    }

    /// Why `name` cannot be a new user style, when a builtin or a loaded
    /// plugin's style holds it.
    pub(crate) fn reserved(&self, name: &str) -> Option<String> {
        let layers = self.lock();
        if layers.builtin.contains_key(name) {
            return Some(format!("a builtin style named '{name}' already exists"));
        }
        layers.plugin.get(name).map(|s| {
            format!(
                "a style named '{name}' already exists (source '{}')",
                s.source
            )
        })
    }

    /// Make the plugin layer exactly the styles of `plugins` (name, styles)
    /// and publish it, then run `swap` with the plugins refused (name,
    /// reason) while still holding the layers, so the snapshot is published
    /// right before the plugin table and no reader sees a style whose
    /// plugin is gone for longer than that.
    ///
    /// A plugin is refused when one of its style names belongs to a builtin
    /// or user style or to another plugin that already provides it (or,
    /// among newcomers, comes first by name). A style whose
    /// fields did not change keeps its timestamps.
    pub(crate) fn set_plugin_styles<R>(
        &self,
        plugins: &[(String, Vec<NewStyle>)],
        now: &str,
        swap: impl FnOnce(&[(String, String)]) -> R,
    ) -> R {
        let mut layers = self.lock();
        let mut refused = Vec::new();
        let mut next: BTreeMap<String, Arc<StyleRecord>> = BTreeMap::new();
        // A plugin that already serves styles goes first, so a newcomer
        // claiming one of its names is the one refused; then name order.
        let holders: HashSet<&str> = layers.plugin.values().map(|s| s.source.as_str()).collect();
        let mut order: Vec<&(String, Vec<NewStyle>)> = plugins.iter().collect();
        order.sort_by_key(|(p, _)| (!holders.contains(format!("plugin:{p}").as_str()), p.clone()));
        for (plugin, styles) in order {
            let source = format!("plugin:{plugin}");
            let mut seen = HashSet::new();
            let clash = styles.iter().find_map(|s| {
                let other = layers
                    .builtin
                    .get(&s.name)
                    .or_else(|| layers.user.get(&s.name))
                    .or_else(|| next.get(&s.name));
                match other {
                    Some(o) => Some(format!(
                        "style '{}' already exists with source '{}'",
                        s.name, o.source
                    )),
                    None if !seen.insert(s.name.as_str()) => {
                        Some(format!("style '{}' is provided twice", s.name))
                    }
                    None => None,
                }
            });
            if let Some(reason) = clash {
                refused.push((plugin.clone(), reason));
                continue;
            }
            for s in styles {
                let record = match layers.plugin.get(&s.name) {
                    Some(old)
                        if old.source == source
                            && old.description == s.description
                            && old.instructions == s.instructions
                            && old.examples == s.examples =>
                    {
                        Arc::clone(old)
                    }
                    old => {
                        let created_at = old
                            .filter(|o| o.source == source)
                            .map_or_else(|| now.to_string(), |o| o.created_at.clone());
                        Arc::new(StyleRecord {
                            name: s.name.clone(),
                            description: s.description.clone(),
                            source: source.clone(),
                            instructions: s.instructions.clone(),
                            examples: s.examples.clone(),
                            created_at,
                            updated_at: now.to_string(),
                        })
                    }
                };
                next.insert(s.name.clone(), record);
            }
        }
        layers.plugin = next;
        self.publish(&layers);
        swap(&refused)
    }
}
