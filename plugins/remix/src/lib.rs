//! PromptSculptor's built-in remix strategy.
//!
//! Serves every style in the host's registry (builtin, user and
//! plugin-provided): with `use_llm` it asks the LLM for a rewrite that follows
//! the style's own instructions and examples (the SDK's
//! `promptsculptor_sdk::remix::rewrite`, padded from [`transform`] when the
//! LLM leaves too few usable variants); without it, the builtin styles
//! get real rule-based transforms ([`transform`]) and other styles an honest
//! structural cleanup. Either way every template placeholder of the input
//! survives in every variant.

// The component glue only exists on the Wasm target: a native cdylib cannot
// carry the component-model export names, and the native build is for tests.
#[cfg(target_arch = "wasm32")]
mod component;
pub mod text;
pub mod transform;
