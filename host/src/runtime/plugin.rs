//! Loading one plugin file: compile (or reuse the on-disk compile cache),
//! recognise its world, pre-instantiate it and read its manifest.

use serde::Serialize;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::{Component, InstancePre, Linker};

use super::bindings::{
    analyze::AnalyzePluginPre, create::CreatePluginPre, grade::GradePluginPre, grader,
    remix::RemixPluginPre, types,
};
use super::compile_cache::CompileCache;
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
    /// Exports `grader` (WIT 0.1.1). The WIT's `kind` enum is frozen with
    /// 0.1.0, so a grader is known by its world alone.
    Grade,
}

impl PluginKind {
    /// Lower-case name as used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Analyze => "analyze",
            PluginKind::Remix => "remix",
            PluginKind::Create => "create",
            PluginKind::Grade => "grade",
        }
    }

    /// The kind named by [`PluginKind::as_str`]'s output.
    pub fn parse(s: &str) -> Option<PluginKind> {
        match s {
            "analyze" => Some(PluginKind::Analyze),
            "remix" => Some(PluginKind::Remix),
            "create" => Some(PluginKind::Create),
            "grade" => Some(PluginKind::Grade),
            _ => None,
        }
    }
}

/// Where a plugin's component comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginSource {
    /// A `*.wasm` file in the plugins folder.
    Folder,
    /// A version published through `PUT /api/v1/plugins/{name}`, stored in the database.
    Published,
}

impl PluginSource {
    /// Lower-case name as used in the API (`source` of a plugin row).
    pub fn as_str(self) -> &'static str {
        match self {
            PluginSource::Folder => "folder",
            PluginSource::Published => "published",
        }
    }

    /// The `file` label of a published plugin: it has no file, and the
    /// label must not collide with a folder file name (those end in `.wasm`).
    pub fn published_file(name: &str) -> String {
        format!("published:{name}")
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
    /// A grade plugin.
    Grade(GradePluginPre<CallState>),
}

impl PluginPre {
    /// The kind of this plugin.
    pub fn kind(&self) -> PluginKind {
        match self {
            PluginPre::Analyze(_) => PluginKind::Analyze,
            PluginPre::Remix(_) => PluginKind::Remix,
            PluginPre::Create(_) => PluginKind::Create,
            PluginPre::Grade(_) => PluginKind::Grade,
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
    /// File name inside the plugins folder; `published:<name>` for a published plugin.
    pub file: String,
    /// Where the component comes from.
    pub source: PluginSource,
    /// sha256 of the component, hex.
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
    /// File name inside the plugins folder; `published:<name>` for a published plugin.
    pub file: String,
    /// `folder` or `published`.
    #[schema(value_type = String, example = "folder")]
    pub source: &'static str,
    /// sha256 of the component, hex.
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
            source: p.source.as_str(),
            sha256: p.sha256.clone(),
            loaded_at: p.loaded_at.clone(),
            status: "ok",
            error: None,
            styles: p.styles.iter().map(|s| s.name.clone()).collect(),
            compiled_from_cache: p.from_cache,
        }
    }

    /// The status row of a folder file that failed.
    pub fn failed(file: &str, sha256: &str, name: Option<String>, error: String) -> PluginStatus {
        PluginStatus {
            name: name.unwrap_or_else(|| file.trim_end_matches(".wasm").to_string()),
            version: None,
            kind: None,
            description: None,
            file: file.to_string(),
            source: PluginSource::Folder.as_str(),
            sha256: sha256.to_string(),
            loaded_at: now_rfc3339(),
            status: "error",
            error: Some(one_line(&error)),
            styles: Vec::new(),
            compiled_from_cache: false,
        }
    }
}

/// Current UTC time, RFC 3339 with milliseconds: the store's clock, so
/// plugin rows and stored rows read alike.
pub use crate::store::now_rfc3339;

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

/// Compile `bytes`, reusing the compile cache when given (and pruning it
/// after adding an entry). Blocking: call from `spawn_blocking`. Returns the
/// component and whether it came from cache.
pub fn compile(
    engine: &Engine,
    bytes: &[u8],
    sha: &str,
    cache: Option<&CompileCache>,
) -> Result<(Component, bool), String> {
    let cached = cache.map(|c| (c, c.entry_path(engine, sha)));
    if let Some((c, path)) = &cached
        && let Some(component) = c.load(engine, path)
    {
        return Ok((component, true));
    }
    let component = Component::new(engine, bytes).map_err(|e| compile_error(bytes, &e))?;
    if let Some((c, path)) = &cached {
        c.store(&component, path, sha);
    }
    Ok((component, false))
}

/// The WebAssembly magic number and the two layer/version words that follow
/// it: 1 for a core module, 0x1000d for a component.
const WASM_MAGIC: &[u8] = b"\0asm";
const CORE_MODULE_VERSION: [u8; 4] = [1, 0, 0, 0];

/// Why `bytes` did not compile, as one line a plugin author can act on:
/// wasmtime's own message for a file that is not Wasm at all is a
/// multi-line dump of the expected magic bytes.
fn compile_error(bytes: &[u8], e: &wasmtime::Error) -> String {
    if !bytes.starts_with(WASM_MAGIC) {
        let head: String = String::from_utf8_lossy(&bytes[..bytes.len().min(16)])
            .chars()
            .map(|c| if c.is_control() { '.' } else { c })
            .collect();
        return format!(
            "not a WebAssembly file ({} bytes starting with {head:?}); a plugin is a Wasm component, \
             e.g. from `promptsculptor plugin build`",
            bytes.len()
        );
    }
    if bytes.get(4..8) == Some(&CORE_MODULE_VERSION[..]) {
        return "a core WebAssembly module, not a component: build for the wasm32-wasip2 target \
                (`promptsculptor plugin build` does) or wrap it with `wasm-tools component new`"
            .to_string();
    }
    one_line(&format!("not a valid component: {e:#}"))
}

/// Longest load error kept in a status row; wasmtime's linker errors can
/// list a whole world.
const MAX_ERROR_CHARS: usize = 400;

/// `text` on one line: every run of whitespace (newlines included) becomes
/// one space, and it is cut at [`MAX_ERROR_CHARS`] characters with `…`.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_ERROR_CHARS + 4));
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() > MAX_ERROR_CHARS {
            let cut: String = out.chars().take(MAX_ERROR_CHARS).collect();
            return format!("{cut}…");
        }
    }
    out
}

/// Link `component` and recognise which world it targets.
pub fn prepare(linker: &Linker<CallState>, component: &Component) -> Result<PluginPre, String> {
    let pre: InstancePre<CallState> = linker.instantiate_pre(component).map_err(|e| {
        one_line(&format!(
            "imports something the host does not provide: {e:#}"
        ))
    })?;
    if let Ok(p) = AnalyzePluginPre::new(pre.clone()) {
        return Ok(PluginPre::Analyze(p));
    }
    if let Ok(p) = RemixPluginPre::new(pre.clone()) {
        return Ok(PluginPre::Remix(p));
    }
    if let Ok(p) = CreatePluginPre::new(pre.clone()) {
        return Ok(PluginPre::Create(p));
    }
    if let Ok(p) = GradePluginPre::new(pre) {
        return Ok(PluginPre::Grade(p));
    }
    Err("matches no plugin world: it must export promptsculptor:plugin/analyzer, remixer, creator or grader (0.1.x)".into())
}

/// Longest description, instructions or example text of a plugin style, in
/// characters: the same bound as a user style's fields (`POST /api/v1/styles`).
pub const MAX_STYLE_TEXT_CHARS: usize = 20_000;

/// Most before/after examples one plugin style may carry, as for a user style.
pub const MAX_STYLE_EXAMPLES: usize = 20;

/// Check a manifest against the plugin's world, the naming rules and the
/// manifest caps: at most `max_styles` styles and `max_bytes` bytes of text
/// in all (name, version, description and every style field), each style
/// bounded like a user style. The checks are linear in the manifest and the
/// count is checked before anything is copied, so an oversized manifest is
/// refused at once.
pub fn check_manifest(
    kind: PluginKind,
    m: &types::PluginManifest,
    max_styles: usize,
    max_bytes: usize,
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
    check_identity(&m.name, &m.version)?;
    if kind != PluginKind::Remix && !m.styles.is_empty() {
        return Err("only remix plugins may provide styles".into());
    }
    if m.styles.len() > max_styles {
        return Err(format!(
            "manifest declares {} styles; at most {max_styles} are allowed per plugin \
             (PROMPTSCULPTOR_MAX_STYLES_PER_PLUGIN)",
            m.styles.len()
        ));
    }
    let size = manifest_bytes(m);
    if size > max_bytes {
        return Err(format!(
            "manifest holds {size} bytes of text; at most {max_bytes} are allowed \
             (PROMPTSCULPTOR_MAX_MANIFEST_BYTES)"
        ));
    }
    if m.description.chars().count() > MAX_STYLE_TEXT_CHARS {
        return Err(format!(
            "manifest description is longer than {MAX_STYLE_TEXT_CHARS} characters"
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(m.styles.len());
    let mut styles = Vec::with_capacity(m.styles.len());
    for s in &m.styles {
        if !is_valid_name(&s.name) {
            return Err(format!(
                "style name '{}' must match ^[a-z0-9][a-z0-9-]{{0,63}}$",
                s.name
            ));
        }
        if !seen.insert(s.name.as_str()) {
            return Err(format!("style '{}' is listed twice", s.name));
        }
        check_style_fields(s)?;
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

/// Check a grade plugin's manifest: the naming rules and the manifest caps
/// of every plugin. The `grade-manifest` record has no kind (the world is
/// the kind) and no styles.
pub fn check_grade_manifest(m: &grader::GradeManifest, max_bytes: usize) -> Result<(), String> {
    check_identity(&m.name, &m.version)?;
    let size = m.name.len() + m.version.len() + m.description.len();
    if size > max_bytes {
        return Err(format!(
            "manifest holds {size} bytes of text; at most {max_bytes} are allowed \
             (PROMPTSCULPTOR_MAX_MANIFEST_BYTES)"
        ));
    }
    if m.description.chars().count() > MAX_STYLE_TEXT_CHARS {
        return Err(format!(
            "manifest description is longer than {MAX_STYLE_TEXT_CHARS} characters"
        ));
    }
    Ok(())
}

/// The name and version rules every manifest follows.
fn check_identity(name: &str, version: &str) -> Result<(), String> {
    if !is_valid_name(name) {
        return Err(format!(
            "manifest name '{name}' must match ^[a-z0-9][a-z0-9-]{{0,63}}$"
        ));
    }
    if version.trim().is_empty() || version.len() > 64 {
        return Err("manifest version must be a non-empty semantic version".into());
    }
    Ok(())
}

/// Bytes of text in a manifest: what it costs to keep and to list.
fn manifest_bytes(m: &types::PluginManifest) -> usize {
    let style = |s: &types::StyleDefinition| {
        s.name.len()
            + s.description.len()
            + s.instructions.len()
            + s.examples
                .iter()
                .map(|e| e.before.len() + e.after.len())
                .sum::<usize>()
    };
    m.name.len() + m.version.len() + m.description.len() + m.styles.iter().map(style).sum::<usize>()
}

/// A plugin style is bounded like a user style: its stored form is served
/// by `GET /api/v1/styles` next to them.
fn check_style_fields(s: &types::StyleDefinition) -> Result<(), String> {
    if s.examples.len() > MAX_STYLE_EXAMPLES {
        return Err(format!(
            "style '{}' has {} examples; at most {MAX_STYLE_EXAMPLES} are allowed",
            s.name,
            s.examples.len()
        ));
    }
    let texts = [
        ("description", &s.description),
        ("instructions", &s.instructions),
    ]
    .into_iter()
    .chain(
        s.examples
            .iter()
            .flat_map(|e| [("an example", &e.before), ("an example", &e.after)]),
    );
    for (field, text) in texts {
        if text.chars().count() > MAX_STYLE_TEXT_CHARS {
            return Err(format!(
                "style '{}': {field} is longer than {MAX_STYLE_TEXT_CHARS} characters",
                s.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in [
            PluginKind::Analyze,
            PluginKind::Remix,
            PluginKind::Create,
            PluginKind::Grade,
        ] {
            assert_eq!(PluginKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(PluginKind::parse("grader"), None);
        assert_eq!(PluginKind::parse("Analyze"), None);
    }

    fn compile_plain(bytes: &[u8]) -> String {
        let engine = Engine::default();
        match compile(&engine, bytes, "0", None) {
            Ok(_) => "compiled".to_string(),
            Err(e) => e,
        }
    }

    #[test]
    fn load_errors_are_one_actionable_line() {
        let readme = compile_plain(b"# PromptSculptor\n\nA prompt server.\n");
        assert!(
            readme.starts_with(
                "not a WebAssembly file (35 bytes starting with \"# PromptSculptor\")"
            ),
            "{readme}"
        );
        assert!(readme.contains("plugin build"), "{readme}");
        let core = compile_plain(b"\0asm\x01\0\0\0");
        assert!(
            core.starts_with("a core WebAssembly module, not a component"),
            "{core}"
        );
        // A component header with garbage after it: wasmtime's reason, flattened.
        let broken = compile_plain(b"\0asm\x0d\0\x01\0\xff\xff\xff");
        assert!(broken.starts_with("not a valid component: "), "{broken}");
        for e in [&readme, &core, &broken] {
            assert!(!e.contains('\n') && !e.contains("  "), "one line: {e:?}");
        }
        assert_eq!(
            compile_plain(b""),
            "not a WebAssembly file (0 bytes starting with \"\"); a plugin is a Wasm component, e.g. from `promptsculptor plugin build`"
        );
    }

    #[test]
    fn one_line_flattens_and_bounds() {
        assert_eq!(
            one_line("bad magic number - expected=[\n    0x0,\n    0x61,\n]"),
            "bad magic number - expected=[ 0x0, 0x61, ]"
        );
        let long = one_line(&"word ".repeat(500));
        assert_eq!(long.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(long.ends_with('…'));
        assert_eq!(one_line("short"), "short");
    }

    fn grade_manifest(name: &str, version: &str, description: &str) -> grader::GradeManifest {
        grader::GradeManifest {
            name: name.into(),
            version: version.into(),
            description: description.into(),
        }
    }

    #[test]
    fn a_grade_manifest_follows_the_rules_of_every_manifest() {
        assert!(
            check_grade_manifest(&grade_manifest("llm-rubric", "0.1.0", "judge"), 1024).is_ok()
        );
        let bad_name = check_grade_manifest(&grade_manifest("LLM", "0.1.0", ""), 1024);
        assert!(bad_name.is_err_and(|e| e.contains("must match")));
        let no_version = check_grade_manifest(&grade_manifest("g", " ", ""), 1024);
        assert!(no_version.is_err_and(|e| e.contains("version")));
        let big = check_grade_manifest(&grade_manifest("g", "1.0.0", &"x".repeat(100)), 64);
        assert!(big.is_err_and(|e| e.contains("PROMPTSCULPTOR_MAX_MANIFEST_BYTES")));
        let long = "é".repeat(MAX_STYLE_TEXT_CHARS + 1);
        let too_long = check_grade_manifest(&grade_manifest("g", "1.0.0", &long), usize::MAX);
        assert!(too_long.is_err_and(|e| e.contains("description")));
    }

    #[test]
    fn a_published_label_never_looks_like_a_folder_file() {
        let label = PluginSource::published_file("analyze");
        assert_eq!(label, "published:analyze");
        // Status rows are keyed by file: a folder file always ends in .wasm.
        assert!(!label.ends_with(".wasm"));
        assert_eq!(PluginSource::Published.as_str(), "published");
        assert_eq!(PluginSource::Folder.as_str(), "folder");
    }
}
