//! Host bindings generated from the plugin WIT, one module per WIT version
//! and, inside it, one module per world.
//!
//! Only the current version is generated: wasmtime matches names on a
//! semver track (`@0.1.0` and `@0.1.1` are the same track), for the imports
//! the linker provides and for the exports `…Pre::new` looks up, and the
//! records of 0.1.0 are unchanged in 0.1.1, so a component built against
//! `wit/versions/0.1.0/plugin.wit` type-checks against these bindings
//! (`tests/wit_compat.rs` proves it with such a component). A future version
//! whose exports stopped matching would get a module of its own here (for
//! example `v0_2_0`), loaded through its own bindings.
//!
//! The worlds import the same interfaces; `remix`, `create` and `grade`
//! reuse the analyze world's import bindings so one `Host` impl serves them
//! all.

/// Bindings of `promptsculptor:plugin@0.1.1` (`wit/plugin.wit`).
pub mod v0_1_1 {
    /// Bindings of the `analyze-plugin` world (and the shared imports).
    pub mod analyze {
        wasmtime::component::bindgen!({
            path: "../wit/plugin.wit",
            world: "analyze-plugin",
            imports: { default: async | trappable },
            exports: { default: async },
        });
    }

    /// Bindings of the `remix-plugin` world.
    pub mod remix {
        wasmtime::component::bindgen!({
            path: "../wit/plugin.wit",
            world: "remix-plugin",
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                "promptsculptor:plugin/types": super::analyze::promptsculptor::plugin::types,
                "promptsculptor:plugin/llm": super::analyze::promptsculptor::plugin::llm,
                "promptsculptor:plugin/styles": super::analyze::promptsculptor::plugin::styles,
                "promptsculptor:plugin/tokenizer": super::analyze::promptsculptor::plugin::tokenizer,
                "promptsculptor:plugin/log": super::analyze::promptsculptor::plugin::log,
            },
        });
    }

    /// Bindings of the `create-plugin` world.
    pub mod create {
        wasmtime::component::bindgen!({
            path: "../wit/plugin.wit",
            world: "create-plugin",
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                "promptsculptor:plugin/types": super::analyze::promptsculptor::plugin::types,
                "promptsculptor:plugin/llm": super::analyze::promptsculptor::plugin::llm,
                "promptsculptor:plugin/styles": super::analyze::promptsculptor::plugin::styles,
                "promptsculptor:plugin/tokenizer": super::analyze::promptsculptor::plugin::tokenizer,
                "promptsculptor:plugin/log": super::analyze::promptsculptor::plugin::log,
            },
        });
    }

    /// Bindings of the `grade-plugin` world (since 0.1.1).
    pub mod grade {
        wasmtime::component::bindgen!({
            path: "../wit/plugin.wit",
            world: "grade-plugin",
            imports: { default: async | trappable },
            exports: { default: async },
            with: {
                "promptsculptor:plugin/types": super::analyze::promptsculptor::plugin::types,
                "promptsculptor:plugin/llm": super::analyze::promptsculptor::plugin::llm,
                "promptsculptor:plugin/styles": super::analyze::promptsculptor::plugin::styles,
                "promptsculptor:plugin/tokenizer": super::analyze::promptsculptor::plugin::tokenizer,
                "promptsculptor:plugin/log": super::analyze::promptsculptor::plugin::log,
            },
        });
    }
}

/// The WIT version the host is generated from (`package` of `wit/plugin.wit`).
pub const WIT_VERSION: &str = "0.1.1";

pub use v0_1_1::analyze::exports::promptsculptor::plugin::analyzer;
pub use v0_1_1::analyze::promptsculptor::plugin::{llm, log, styles, tokenizer, types};
pub use v0_1_1::create::exports::promptsculptor::plugin::creator;
pub use v0_1_1::grade::exports::promptsculptor::plugin::grader;
pub use v0_1_1::remix::exports::promptsculptor::plugin::remixer;
pub use v0_1_1::{analyze, create, grade, remix};
