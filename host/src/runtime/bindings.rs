//! Host bindings generated from `wit/plugin.wit`, one module per world.
//!
//! The three worlds import the same interfaces; `remix` and `create` reuse
//! the analyze world's import bindings so one `Host` impl serves them all.

/// Bindings of the `analyze-plugin` world (and the shared imports).
pub mod analyze {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "analyze-plugin",
        imports: { default: async | trappable },
        exports: { default: async },
    });
}

/// Bindings of the `remix-plugin` world.
pub mod remix {
    wasmtime::component::bindgen!({
        path: "../wit",
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
        path: "../wit",
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

pub use analyze::exports::promptsculptor::plugin::analyzer;
pub use analyze::promptsculptor::plugin::{llm, log, styles, tokenizer, types};
pub use create::exports::promptsculptor::plugin::creator;
pub use remix::exports::promptsculptor::plugin::remixer;
