//! Loading one plugin file: compile (or reuse the on-disk compile cache),
//! recognise its world, pre-instantiate it and read its manifest.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    path::{Path, PathBuf},
};

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::{Component, InstancePre, Linker};

use super::bindings::{
    analyze::AnalyzePluginPre, create::CreatePluginPre, remix::RemixPluginPre, types,
};
use super::state::CallState;
use crate::store::{NewStyle, StyleExample};

/// The operation a plugin implements, recognised from its exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    /// Exports `analyzer`.
    Analyze,
    /// Exports `remixer`.
    Remix,
    /// Exports `creator`.
    Create,
}

impl PluginKind {
    /// Lower-case name as used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Analyze => "analyze",
            PluginKind::Remix => "remix",
            PluginKind::Create => "create",
        }
    }
}

/// A pre-instantiated component of a known world.
pub enum PluginPre {
    /// An analyze plugin.
    Analyze(AnalyzePluginPre<CallState>),
    /// A remix plugin.
    Remix(RemixPluginPre<CallState>),
    /// A create plugin.
    Create(CreatePluginPre<CallState>),
}

impl PluginPre {
    /// The kind of this plugin.
    pub fn kind(&self) -> PluginKind {
        match self {
            PluginPre::Analyze(_) => PluginKind::Analyze,
            PluginPre::Remix(_) => PluginKind::Remix,
            PluginPre::Create(_) => PluginKind::Create,
        }
    }
}

/// A loaded, servable plugin.
pub struct Plugin {
    /// Name from the manifest.
    pub name: String,
    /// Version from the manifest.
    pub version: String,
    /// Description from the manifest.
    pub description: String,
    /// File name inside the plugins folder.
    pub file: String,
    /// sha256 of the file, hex.
    pub sha256: String,
    /// RFC 3339 time it was loaded.
    pub loaded_at: String,
    /// Styles the plugin provides.
    pub styles: Vec<NewStyle>,
    /// Whether the compiled code came from the on-disk cache.
    pub from_cache: bool,
    pub(super) pre: PluginPre,
}

impl Plugin {
    /// The kind of this plugin.
    pub fn kind(&self) -> PluginKind {
        self.pre.kind()
    }
}

/// One row of `GET /api/v1/plugins`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PluginStatus {
    /// Manifest name, or the file stem when the file never loaded.
    pub name: String,
    /// Manifest version, when known.
    pub version: Option<String>,
    /// Kind, when known.
    pub kind: Option<PluginKind>,
    /// Manifest description, when known.
    pub description: Option<String>,
    /// File name inside the plugins folder.
    pub file: String,
    /// sha256 of the file, hex.
    pub sha256: String,
    /// When it was loaded (or tried).
    pub loaded_at: String,
    /// `ok` or `error`.
    #[schema(value_type = String, example = "ok")]
    pub status: &'static str,
    /// Why it failed to load.
    pub error: Option<String>,
    /// Styles it provides.
    pub styles: Vec<String>,
    /// Whether the compiled code came from the on-disk cache.
    pub compiled_from_cache: bool,
}

impl PluginStatus {
    /// The status row of a loaded plugin.
    pub fn ok(p: &Plugin) -> PluginStatus {
        PluginStatus {
            name: p.name.clone(),
            version: Some(p.version.clone()),
            kind: Some(p.kind()),
            description: Some(p.description.clone()),
            file: p.file.clone(),
            sha256: p.sha256.clone(),
            loaded_at: p.loaded_at.clone(),
            status: "ok",
            error: None,
            styles: p.styles.iter().map(|s| s.name.clone()).collect(),
            compiled_from_cache: p.from_cache,
        }
    }

    /// The status row of a file that failed.
    pub fn failed(file: &str, sha256: &str, name: Option<String>, error: String) -> PluginStatus {
        PluginStatus {
            name: name.unwrap_or_else(|| file.trim_end_matches(".wasm").to_string()),
            version: None,
            kind: None,
            description: None,
            file: file.to_string(),
            sha256: sha256.to_string(),
            loaded_at: now_rfc3339(),
            status: "error",
            error: Some(error),
            styles: Vec::new(),
            compiled_from_cache: false,
        }
    }
}

/// Current UTC time, RFC 3339 with milliseconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// True for a valid plugin or style name: `^[a-z0-9][a-z0-9-]{0,63}$`.
pub fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// Cache file for `sha` under `dir`, keyed by the engine's configuration so
/// an engine built differently never sees another's code.
fn cache_path(engine: &Engine, dir: &Path, sha: &str) -> PathBuf {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!("{sha}-{:016x}.cwasm", h.finish()))
}

/// Compile `bytes`, reusing `cache_dir` when given. Blocking: call from
/// `spawn_blocking`. Returns the component and whether it came from cache.
pub fn compile(
    engine: &Engine,
    bytes: &[u8],
    sha: &str,
    cache_dir: Option<&Path>,
) -> Result<(Component, bool), String> {
    let cached = cache_dir.map(|d| cache_path(engine, d, sha));
    if let Some(path) = &cached
        && path.exists()
    {
        // SAFETY: the cache directory is written only by this server from
        // `Component::serialize` of the same file hash and engine config;
        // wasmtime still checks version and config compatibility and
        // refuses a mismatch, in which case the entry is discarded below.
        match unsafe { Component::deserialize_file(engine, path) } {
            Ok(component) => return Ok((component, true)),
            Err(e) => {
                tracing::warn!(path = %path.display(), "discarding unusable compile-cache entry: {e}");
                let _ = std::fs::remove_file(path);
            }
        }
    }
    let component =
        Component::new(engine, bytes).map_err(|e| format!("not a valid component: {e:#}"))?;
    if let Some(path) = &cached {
        match component.serialize() {
            Ok(serialized) => {
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                let written = path
                    .parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(&tmp, &serialized))
                    .and_then(|()| std::fs::rename(&tmp, path));
                if let Err(e) = written {
                    let _ = std::fs::remove_file(&tmp);
                    tracing::warn!(path = %path.display(), "cannot write compile cache: {e}");
                }
            }
            Err(e) => tracing::warn!("cannot serialize compiled component: {e}"),
        }
    }
    Ok((component, false))
}

/// Link `component` and recognise which world it targets.
pub fn prepare(linker: &Linker<CallState>, component: &Component) -> Result<PluginPre, String> {
    let pre: InstancePre<CallState> = linker
        .instantiate_pre(component)
        .map_err(|e| format!("imports something the host does not provide: {e:#}"))?;
    if let Ok(p) = AnalyzePluginPre::new(pre.clone()) {
        return Ok(PluginPre::Analyze(p));
    }
    if let Ok(p) = RemixPluginPre::new(pre.clone()) {
        return Ok(PluginPre::Remix(p));
    }
    if let Ok(p) = CreatePluginPre::new(pre) {
        return Ok(PluginPre::Create(p));
    }
    Err("matches no plugin world: it must export promptsculptor:plugin/analyzer, remixer or creator (0.1.x)".into())
}

/// Check a manifest against the plugin's world and the naming rules.
pub fn check_manifest(
    kind: PluginKind,
    m: &types::PluginManifest,
) -> Result<Vec<NewStyle>, String> {
    let declared = match m.kind {
        types::Kind::Analyze => PluginKind::Analyze,
        types::Kind::Remix => PluginKind::Remix,
        types::Kind::Create => PluginKind::Create,
    };
    if declared != kind {
        return Err(format!(
            "manifest says kind '{}' but the component exports the {} world",
            declared.as_str(),
            kind.as_str()
        ));
    }
    if !is_valid_name(&m.name) {
        return Err(format!(
            "manifest name '{}' must match ^[a-z0-9][a-z0-9-]{{0,63}}$",
            m.name
        ));
    }
    if m.version.trim().is_empty() || m.version.len() > 64 {
        return Err("manifest version must be a non-empty semantic version".into());
    }
    if kind != PluginKind::Remix && !m.styles.is_empty() {
        return Err("only remix plugins may provide styles".into());
    }
    let mut styles = Vec::with_capacity(m.styles.len());
    for s in &m.styles {
        if !is_valid_name(&s.name) {
            return Err(format!(
                "style name '{}' must match ^[a-z0-9][a-z0-9-]{{0,63}}$",
                s.name
            ));
        }
        if styles.iter().any(|x: &NewStyle| x.name == s.name) {
            return Err(format!("style '{}' is listed twice", s.name));
        }
        styles.push(NewStyle {
            name: s.name.clone(),
            description: s.description.clone(),
            instructions: s.instructions.clone(),
            examples: s
                .examples
                .iter()
                .map(|e| StyleExample {
                    before: e.before.clone(),
                    after: e.after.clone(),
                })
                .collect(),
        });
    }
    Ok(styles)
}
