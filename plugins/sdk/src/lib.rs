//! # PromptSculptor guest SDK
//!
//! Everything a PromptSculptor plugin needs, so that a plugin crate holds its
//! own logic and nothing else:
//!
//! - the WIT bindings of all four plugin worlds (generated once, here, from
//!   the repository's `wit/plugin.wit`, package `promptsculptor:plugin@0.1.1`);
//! - four small traits, [`AnalyzePlugin`], [`RemixPlugin`], [`CreatePlugin`]
//!   and [`GradePlugin`], and a macro per world that exports an
//!   implementation ([`export_analyze!`], [`export_remix!`],
//!   [`export_create!`], [`export_grade!`]);
//! - [`grade`]: the request and result of a grade plugin, with helpers for
//!   its config, threshold and a result the host always accepts;
//! - helpers for the host's capabilities: [`llm::chat`], [`llm::chat_json`]
//!   (with one repair attempt), [`styles::get`], [`log`], [`tokenizer`];
//! - [`llm::round_trip`], the one LLM round trip (call → check → one repair
//!   → salvage), generic over the chat function so an LLM path is
//!   unit-tested natively with a fake chat;
//! - the template-variable and JSON helpers of `ps-guest-util`
//!   ([`variable_names`], [`missing_placeholders`], [`restore_placeholders`],
//!   [`extract_json_object`], …);
//! - [`remix::with_llm`], a complete LLM rewrite into a registry style
//!   ([`remix::rewrite`] over any chat function).
//!
//! A complete style plugin:
//!
//! ```no_run
//! use promptsculptor_sdk::prelude::*;
//!
//! struct Shouty;
//!
//! impl RemixPlugin for Shouty {
//!     fn manifest() -> Manifest {
//!         Manifest::new("shouty", "0.1.0", "Loud prompts").style(
//!             StyleDefinition::new("shout", "Capitals", "Rewrite the prompt in capitals.")
//!                 .example("Summarise {{doc}}.", "SUMMARISE {{doc}}."),
//!         )
//!     }
//!
//!     fn remix(req: RemixRequest) -> Result<RemixResponse, PluginError> {
//!         let style = styles::get(&req.style)?;
//!         remix::with_llm(&req, &style)
//!     }
//! }
//!
//! export_remix!(Shouty);
//! ```
//!
//! The export macros only emit the component exports when compiling for
//! `wasm32`: component export names are not valid native symbols, and a
//! native build of a plugin crate exists for its unit tests. On a native
//! target the host imports (`llm::call`, `styles::get`, …) panic when called,
//! so natively tested logic takes the chat function as a parameter (see
//! [`llm::round_trip`]); [`log`] writes to stderr natively.

// Lets the generated bindings name this crate the same way from inside it and
// from a plugin crate that expands one of the export macros.
extern crate self as promptsculptor_sdk;

#[doc(hidden)]
pub mod bindings;
pub mod grade;
pub mod llm;
pub mod log;
pub mod remix;
pub mod styles;
pub mod tokenizer;

pub use ps_guest_util as util;
pub use ps_guest_util::{
    Placeholder, extract_json_object, is_variable_name, missing_placeholders, placeholders,
    restore_placeholders, str_field, str_list_field, variable_names,
};
pub use serde_json;

pub use bindings::analyze::exports::promptsculptor::plugin::analyzer::{
    AnalyzeRequest, AnalyzeResponse, Issue, Scores, Severity, Span, Stats,
};
pub use bindings::create::exports::promptsculptor::plugin::creator::{
    CreateRequest, CreateResponse, Example,
};
pub use bindings::promptsculptor::plugin::types::{
    Kind, LlmError, PluginError, PluginManifest, RateLimit, Style, StyleDefinition, StyleExample,
};
pub use bindings::remix::exports::promptsculptor::plugin::remixer::{RemixRequest, RemixResponse};
pub use grade::{GradeManifest, GradeRequest, GradeResult};

/// The usual imports of a plugin crate: `use promptsculptor_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AnalyzePlugin, AnalyzeRequest, AnalyzeResponse, CreatePlugin, CreateRequest,
        CreateResponse, GradePlugin, GradeRequest, GradeResult, Issue, Manifest, PluginError,
        RemixPlugin, RemixRequest, RemixResponse, Scores, Severity, Span, Stats, Style,
        StyleDefinition, StyleExample, export_analyze, export_create, export_grade, export_remix,
        grade, llm, log, missing_placeholders, remix, restore_placeholders, styles, tokenizer,
        variable_names,
    };
}

/// What a plugin says about itself. The export macro adds the `kind`, so it
/// always agrees with the world the component targets.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Unique among loaded plugins; what requests name as `strategy`. Must
    /// match `^[a-z0-9][a-z0-9-]{0,63}$`.
    pub name: String,
    /// Semantic version, e.g. `1.2.0`.
    pub version: String,
    /// One or two sentences shown in `GET /api/v1/plugins`.
    pub description: String,
    /// Styles the plugin adds to the registry (remix plugins only).
    pub styles: Vec<StyleDefinition>,
}

impl Manifest {
    /// A manifest without styles.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
    ) -> Manifest {
        Manifest {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            styles: Vec::new(),
        }
    }

    /// Add a style the plugin provides.
    pub fn style(mut self, style: StyleDefinition) -> Manifest {
        self.styles.push(style);
        self
    }

    /// The WIT record of a grade plugin: `grade-manifest` has no kind (the
    /// world is the kind; the WIT's `kind` enum is frozen with 0.1.0) and no
    /// styles (a grader provides none, so any added are dropped).
    pub fn into_grade_wit(self) -> GradeManifest {
        GradeManifest {
            name: self.name,
            version: self.version,
            description: self.description,
        }
    }

    /// The WIT record for a plugin of `kind`.
    pub fn into_wit(self, kind: Kind) -> PluginManifest {
        PluginManifest {
            name: self.name,
            version: self.version,
            description: self.description,
            kind,
            styles: self.styles,
        }
    }
}

impl StyleDefinition {
    /// A style with no examples yet. Its name must match
    /// `^[a-z0-9][a-z0-9-]{0,63}$` and not collide with a builtin or user style.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        instructions: impl Into<String>,
    ) -> StyleDefinition {
        StyleDefinition {
            name: name.into(),
            description: description.into(),
            instructions: instructions.into(),
            examples: Vec::new(),
        }
    }

    /// Add a before/after example (also what the LLM path shows the model).
    pub fn example(
        mut self,
        before: impl Into<String>,
        after: impl Into<String>,
    ) -> StyleDefinition {
        self.examples.push(StyleExample {
            before: before.into(),
            after: after.into(),
        });
        self
    }
}

impl PluginError {
    /// The request cannot be served as asked (HTTP 422).
    pub fn invalid_input(message: impl Into<String>) -> PluginError {
        PluginError::InvalidInput(message.into())
    }

    /// Anything else (HTTP 500).
    pub fn internal(message: impl Into<String>) -> PluginError {
        PluginError::Internal(message.into())
    }
}

/// An analyze plugin. Export it with [`export_analyze!`].
pub trait AnalyzePlugin {
    /// Name, version and description.
    fn manifest() -> Manifest;
    /// Analyze one prompt.
    fn analyze(request: AnalyzeRequest) -> Result<AnalyzeResponse, PluginError>;
}

/// A remix plugin. Export it with [`export_remix!`].
pub trait RemixPlugin {
    /// Name, version, description and the styles it provides.
    fn manifest() -> Manifest;
    /// Rewrite one prompt into `request.style`. Every `{{variable}}` of the
    /// input must survive in each of exactly `request.variants` variants.
    fn remix(request: RemixRequest) -> Result<RemixResponse, PluginError>;
}

/// A create plugin. Export it with [`export_create!`].
pub trait CreatePlugin {
    /// Name, version and description.
    fn manifest() -> Manifest;
    /// Write a prompt from a goal. Every requested variable must appear as `{{name}}`.
    fn create(request: CreateRequest) -> Result<CreateResponse, PluginError>;
}

/// A grade plugin (WIT 0.1.1): scores one output for `grader` assertions of
/// `POST /api/v1/evaluate`. Export it with [`export_grade!`].
///
/// ```no_run
/// use promptsculptor_sdk::prelude::*;
///
/// struct Polite;
///
/// impl GradePlugin for Polite {
///     fn manifest() -> Manifest {
///         Manifest::new("polite", "0.1.0", "Passes outputs that say please.")
///     }
///
///     fn grade(req: GradeRequest) -> Result<GradeResult, PluginError> {
///         let polite = req.output.to_lowercase().contains("please");
///         let score = if polite { 1.0 } else { 0.0 };
///         Ok(GradeResult::scored(score, 1.0, if polite { "says please" } else { "no please" }))
///     }
/// }
///
/// export_grade!(Polite);
/// ```
pub trait GradePlugin {
    /// Name (what a `grader` assertion names), version and description.
    /// Styles are remix-only: a grade manifest drops them.
    fn manifest() -> Manifest;
    /// Grade one output. The score must be finite and within 0..=1 and the
    /// reason at most 2,000 characters ([`GradeResult::scored`] ensures both).
    fn grade(request: GradeRequest) -> Result<GradeResult, PluginError>;
}

/// Export an [`AnalyzePlugin`] as the component's `analyze-plugin` world.
#[macro_export]
macro_rules! export_analyze {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __PromptSculptorExport;
            impl $crate::bindings::analyze::exports::promptsculptor::plugin::analyzer::Guest
                for __PromptSculptorExport
            {
                fn manifest() -> $crate::PluginManifest {
                    <$plugin as $crate::AnalyzePlugin>::manifest().into_wit($crate::Kind::Analyze)
                }
                fn analyze(
                    request: $crate::AnalyzeRequest,
                ) -> ::core::result::Result<$crate::AnalyzeResponse, $crate::PluginError> {
                    <$plugin as $crate::AnalyzePlugin>::analyze(request)
                }
            }
            $crate::bindings::analyze::export_analyze_world!(
                __PromptSculptorExport with_types_in $crate::bindings::analyze
            );
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() -> $crate::Manifest = <$plugin as $crate::AnalyzePlugin>::manifest;
    };
}

/// Export a [`RemixPlugin`] as the component's `remix-plugin` world.
#[macro_export]
macro_rules! export_remix {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __PromptSculptorExport;
            impl $crate::bindings::remix::exports::promptsculptor::plugin::remixer::Guest
                for __PromptSculptorExport
            {
                fn manifest() -> $crate::PluginManifest {
                    <$plugin as $crate::RemixPlugin>::manifest().into_wit($crate::Kind::Remix)
                }
                fn remix(
                    request: $crate::RemixRequest,
                ) -> ::core::result::Result<$crate::RemixResponse, $crate::PluginError> {
                    <$plugin as $crate::RemixPlugin>::remix(request)
                }
            }
            $crate::bindings::remix::export_remix_world!(
                __PromptSculptorExport with_types_in $crate::bindings::remix
            );
        };
        // Natively there is nothing to export; naming the trait impl keeps
        // the plugin type "used" for the dead-code lint of native test builds.
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() -> $crate::Manifest = <$plugin as $crate::RemixPlugin>::manifest;
    };
}

/// Export a [`CreatePlugin`] as the component's `create-plugin` world.
#[macro_export]
macro_rules! export_create {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __PromptSculptorExport;
            impl $crate::bindings::create::exports::promptsculptor::plugin::creator::Guest
                for __PromptSculptorExport
            {
                fn manifest() -> $crate::PluginManifest {
                    <$plugin as $crate::CreatePlugin>::manifest().into_wit($crate::Kind::Create)
                }
                fn create(
                    request: $crate::CreateRequest,
                ) -> ::core::result::Result<$crate::CreateResponse, $crate::PluginError> {
                    <$plugin as $crate::CreatePlugin>::create(request)
                }
            }
            $crate::bindings::create::export_create_world!(
                __PromptSculptorExport with_types_in $crate::bindings::create
            );
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() -> $crate::Manifest = <$plugin as $crate::CreatePlugin>::manifest;
    };
}

/// Export a [`GradePlugin`] as the component's `grade-plugin` world.
#[macro_export]
macro_rules! export_grade {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __PromptSculptorExport;
            impl $crate::bindings::grade::exports::promptsculptor::plugin::grader::Guest
                for __PromptSculptorExport
            {
                fn manifest() -> $crate::GradeManifest {
                    <$plugin as $crate::GradePlugin>::manifest().into_grade_wit()
                }
                fn grade(
                    request: $crate::GradeRequest,
                ) -> ::core::result::Result<$crate::GradeResult, $crate::PluginError> {
                    <$plugin as $crate::GradePlugin>::grade(request)
                }
            }
            $crate::bindings::grade::export_grade_world!(
                __PromptSculptorExport with_types_in $crate::bindings::grade
            );
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() -> $crate::Manifest = <$plugin as $crate::GradePlugin>::manifest;
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}
