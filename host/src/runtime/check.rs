//! One-shot validation of a component file, for `promptsculptor plugin check`.
//!
//! It runs the server's own loading path — compile, world recognition,
//! manifest call, manifest checks, and the style-registry sync that refuses
//! names taken by builtin styles — against a throw-away plugins folder and
//! database, so "check passes" means "the server would load it".

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{
    CacheLimits, Capabilities, EngineLimits, HostLimits, LoadLimits, PluginKind, Runtime,
    RuntimeSettings,
};
use crate::store::{Db, NewStyle, StoreConfig};

/// What a component that would load says about itself.
#[derive(Debug, Clone)]
pub struct ManifestInfo {
    /// Plugin name (what requests name as `strategy`).
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// The world it targets.
    pub kind: PluginKind,
    /// Its description.
    pub description: String,
    /// Styles it provides (remix plugins).
    pub styles: Vec<NewStyle>,
}

/// Removes the scratch folder however the check ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Load `path` the way the server would, with `limits` as its engine sizing,
/// and return its manifest or the reason the server would refuse it. With
/// `cache_dir`, the compiled code is stored there under the key the server
/// uses (sha256 and engine configuration), so a server sharing that cache
/// loads the component without compiling it a second time.
pub async fn check_component(
    path: &Path,
    limits: EngineLimits,
    cache_dir: Option<PathBuf>,
) -> Result<ManifestInfo, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let scratch = Scratch(std::env::temp_dir().join(format!(
        "promptsculptor-check-{}-{nanos}",
        std::process::id()
    )));
    let plugins_dir = scratch.0.join("plugins");
    std::fs::create_dir_all(&plugins_dir)
        .map_err(|e| format!("cannot create {}: {e}", plugins_dir.display()))?;
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".wasm"))
        .unwrap_or_else(|| "plugin.wasm".to_string());
    std::fs::write(plugins_dir.join(&file), &bytes)
        .map_err(|e| format!("cannot copy the component: {e}"))?;
    let path = scratch.0.join("check.db");
    let db = Db::open(&StoreConfig::Sqlite { path })
        .await
        .map_err(|e| format!("cannot open a scratch database: {e}"))?;
    let settings = RuntimeSettings {
        plugins_dir,
        cache_dir,
        cache_limits: CacheLimits::default(),
        plugin_timeout: Duration::from_secs(30),
        max_llm_calls: 0,
        host_limits: HostLimits::default(),
        engine: limits,
        default_analyze: String::new(),
        default_remix: String::new(),
        default_create: String::new(),
        // The server's default caps: "check passes" means the server with
        // its default settings would load it.
        load: LoadLimits::default(),
        share_compiled: false,
    };
    let runtime = Runtime::new(
        settings,
        Capabilities {
            llm: crate::llm::Gateway::default(),
            db,
        },
    )
    .map_err(|e| format!("cannot start the wasm runtime: {e}"))?;
    let table = runtime.reload().await;
    let status = table
        .statuses()
        .iter()
        .find(|s| s.file == file)
        .ok_or_else(|| "the runtime did not look at the file".to_string())?;
    if let Some(error) = &status.error {
        return Err(error.clone());
    }
    let plugin = table
        .get(&status.name)
        .ok_or_else(|| "the plugin loaded but is not in the table".to_string())?;
    Ok(ManifestInfo {
        name: plugin.name.clone(),
        version: plugin.version.clone(),
        kind: plugin.kind(),
        description: plugin.description.clone(),
        styles: plugin.styles.clone(),
    })
}
