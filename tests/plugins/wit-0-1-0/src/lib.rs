//! The WIT compatibility fixture: a remix plugin whose bindings wit-bindgen
//! generates directly from the frozen `wit/versions/0.1.0/plugin.wit`, so the
//! component imports and exports `promptsculptor:plugin/…@0.1.0` exactly as
//! a plugin built before 0.1.1 does. `tests/wit_compat.rs` loads it into the
//! current host and calls it over HTTP; it touches every import (styles,
//! tokenizer, log, llm) so a host that stopped matching one would fail it.
//!
//! Never regenerate it against a newer WIT: its value is that it stays old.

// The generated export glue is unsafe FFI code expanded in this crate (the
// SDK's export macros keep it in the SDK); this crate has no other unsafe.
#![allow(unsafe_code)]

mod bindings {
    #![allow(missing_docs, clippy::all)]
    wit_bindgen::generate!({
        path: "../../../wit/versions/0.1.0/plugin.wit",
        world: "remix-plugin",
    });
}

use bindings::exports::promptsculptor::plugin::remixer::{Guest, RemixRequest, RemixResponse};
use bindings::promptsculptor::plugin::types::{
    Kind, PluginError, PluginManifest, StyleDefinition, StyleExample,
};
use bindings::promptsculptor::plugin::{llm, log, styles, tokenizer};

/// The style the fixture provides; its remixes go to this plugin.
const STYLE: &str = "wit-0-1-0-tag";

struct Fixture;

impl Guest for Fixture {
    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "wit-0-1-0".into(),
            version: "0.1.0".into(),
            description: "built against promptsculptor:plugin@0.1.0 (tests only)".into(),
            kind: Kind::Remix,
            styles: vec![StyleDefinition {
                name: STYLE.into(),
                description: "tags the prompt with what the host told a 0.1.0 plugin".into(),
                instructions: "Prefix the prompt with a tag.".into(),
                examples: vec![StyleExample {
                    before: "Summarise {{doc}}.".into(),
                    after: "[wit-0-1-0-tag 1/1] Summarise {{doc}}.".into(),
                }],
            }],
        }
    }

    fn remix(req: RemixRequest) -> Result<RemixResponse, PluginError> {
        let style = styles::get(&req.style)
            .ok_or_else(|| PluginError::InvalidInput(format!("no style '{}'", req.style)))?;
        let tokens = tokenizer::count(&req.prompt, "o200k_base")
            .ok_or_else(|| PluginError::Internal("the host does not know o200k_base".into()))?;
        log::log(log::Level::Info, "wit-0-1-0 fixture remixing");
        let llm = if llm::available() { "llm" } else { "no-llm" };
        let n = req.variants;
        let variants = (1..=n)
            .map(|i| {
                format!(
                    "[{} {i}/{n} tokens={tokens} {llm}] {}",
                    style.name, req.prompt
                )
            })
            .collect();
        Ok(RemixResponse {
            variants,
            changes: vec![format!(
                "Tagged by a 0.1.0 component with style '{}' from '{}'.",
                style.name, style.source
            )],
        })
    }
}

bindings::export!(Fixture with_types_in bindings);
