//! Published plugins: components uploaded through the API, every version
//! kept by sha256, one active per name. The runtime loads the active ones;
//! this module only stores them.

use super::{Db, StoreError, now_rfc3339};

/// The active version of a published plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPlugin {
    /// Plugin name (its manifest name).
    pub name: String,
    /// Manifest version of the active component.
    pub version: String,
    /// `analyze`, `remix` or `create`.
    pub kind: String,
    /// sha256 (hex) of the active component.
    pub sha256: String,
    /// When the active component was first uploaded.
    pub uploaded_at: String,
}

/// One stored version of a published plugin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PluginVersion {
    /// Manifest version (may repeat across uploads).
    pub version: String,
    /// sha256 (hex) of the component: the version's identity.
    pub sha256: String,
    /// When it was first uploaded.
    pub uploaded_at: String,
    /// Whether it is the one serving.
    pub active: bool,
}

/// A validated component to store.
#[derive(Debug, Clone)]
pub struct NewPluginVersion {
    /// Plugin name.
    pub name: String,
    /// Manifest version.
    pub version: String,
    /// `analyze`, `remix` or `create`.
    pub kind: String,
    /// sha256 (hex) of `component`.
    pub sha256: String,
    /// The component bytes.
    pub component: Vec<u8>,
}

/// What a publish did.
#[derive(Debug, Clone)]
pub struct Published {
    /// The name had no published plugin before.
    pub created: bool,
    /// The active version changed (false for a re-upload of the active bytes).
    pub changed: bool,
    /// The active version now.
    pub plugin: PublishedPlugin,
}

impl Db {
    /// The active version of every published plugin.
    pub async fn active_plugins(&self) -> Result<Vec<PublishedPlugin>, StoreError> {
        on_backend!(self, b => b.active_plugins().await)
    }

    /// The component bytes of one stored version; `NotFound` when absent.
    pub async fn plugin_component(&self, name: &str, sha256: &str) -> Result<Vec<u8>, StoreError> {
        on_backend!(self, b => b.plugin_component(name, sha256).await)
    }

    /// Store `version` (kept once per sha256) and make it the active one;
    /// every instance on the database is told.
    pub async fn publish_plugin(&self, version: NewPluginVersion) -> Result<Published, StoreError> {
        let now = now_rfc3339();
        on_backend!(self, b => b.publish_plugin(&version, &now).await)
    }

    /// Every stored version of `name`, newest upload first; empty when none.
    pub async fn plugin_versions(&self, name: &str) -> Result<Vec<PluginVersion>, StoreError> {
        on_backend!(self, b => b.plugin_versions(name).await)
    }

    /// Make a stored version the active one (a rollback); `NotFound` when
    /// the plugin or that version is absent.
    pub async fn activate_plugin_version(
        &self,
        name: &str,
        sha256: &str,
    ) -> Result<PublishedPlugin, StoreError> {
        let now = now_rfc3339();
        on_backend!(self, b => b.activate_plugin_version(name, sha256, &now).await)
    }

    /// Remove a published plugin and every version of it; `NotFound` when absent.
    pub async fn delete_plugin(&self, name: &str) -> Result<(), StoreError> {
        on_backend!(self, b => b.delete_plugin(name).await)
    }

    /// Keep compiled code of component `sha256` for engine configuration
    /// `engine`, so other instances of the same build need not compile it.
    pub async fn put_compiled(
        &self,
        sha256: &str,
        engine: &str,
        artifact: &[u8],
    ) -> Result<(), StoreError> {
        let now = now_rfc3339();
        on_backend!(self, b => b.put_artifact(sha256, engine, artifact, &now).await)
    }

    /// Compiled code of component `sha256` for `engine`, when some instance stored it.
    pub async fn compiled(
        &self,
        sha256: &str,
        engine: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        on_backend!(self, b => b.artifact(sha256, engine).await)
    }
}
