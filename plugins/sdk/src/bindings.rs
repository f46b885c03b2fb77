//! The generated WIT bindings: the shared imports once, and one module per
//! plugin world whose exports are only emitted where a plugin invokes an
//! export macro.
//!
//! A crate can generate each world only once, and the plugin worlds
//! import the same interfaces, so the imports come from the export-less
//! `sdk` world and the per-world modules map onto them with `with:`. The
//! per-world modules use `pub_export_macro`, which keeps their exports out
//! of this crate's own custom section: a plugin ends up exporting exactly the
//! world whose macro it calls, never several.

#![allow(missing_docs, clippy::all)]

wit_bindgen::generate!({
    path: "../../wit/plugin.wit",
    world: "sdk",
    // The manifest and error records are used by the exports only; the
    // per-world modules below reuse these definitions.
    generate_unused_types: true,
});

/// The `analyze-plugin` world.
pub mod analyze {
    wit_bindgen::generate!({
        path: "../../wit/plugin.wit",
        world: "analyze-plugin",
        with: {
            "promptsculptor:plugin/types@0.1.1": crate::bindings::promptsculptor::plugin::types,
            "promptsculptor:plugin/llm@0.1.1": crate::bindings::promptsculptor::plugin::llm,
            "promptsculptor:plugin/styles@0.1.1": crate::bindings::promptsculptor::plugin::styles,
            "promptsculptor:plugin/tokenizer@0.1.1": crate::bindings::promptsculptor::plugin::tokenizer,
            "promptsculptor:plugin/log@0.1.1": crate::bindings::promptsculptor::plugin::log,
        },
        pub_export_macro: true,
        export_macro_name: "export_analyze_world",
        default_bindings_module: "promptsculptor_sdk::bindings::analyze",
        runtime_path: "promptsculptor_sdk::__private::wit_bindgen::rt",
    });
}

/// The `remix-plugin` world.
pub mod remix {
    wit_bindgen::generate!({
        path: "../../wit/plugin.wit",
        world: "remix-plugin",
        with: {
            "promptsculptor:plugin/types@0.1.1": crate::bindings::promptsculptor::plugin::types,
            "promptsculptor:plugin/llm@0.1.1": crate::bindings::promptsculptor::plugin::llm,
            "promptsculptor:plugin/styles@0.1.1": crate::bindings::promptsculptor::plugin::styles,
            "promptsculptor:plugin/tokenizer@0.1.1": crate::bindings::promptsculptor::plugin::tokenizer,
            "promptsculptor:plugin/log@0.1.1": crate::bindings::promptsculptor::plugin::log,
        },
        pub_export_macro: true,
        export_macro_name: "export_remix_world",
        default_bindings_module: "promptsculptor_sdk::bindings::remix",
        runtime_path: "promptsculptor_sdk::__private::wit_bindgen::rt",
    });
}

/// The `create-plugin` world.
pub mod create {
    wit_bindgen::generate!({
        path: "../../wit/plugin.wit",
        world: "create-plugin",
        with: {
            "promptsculptor:plugin/types@0.1.1": crate::bindings::promptsculptor::plugin::types,
            "promptsculptor:plugin/llm@0.1.1": crate::bindings::promptsculptor::plugin::llm,
            "promptsculptor:plugin/styles@0.1.1": crate::bindings::promptsculptor::plugin::styles,
            "promptsculptor:plugin/tokenizer@0.1.1": crate::bindings::promptsculptor::plugin::tokenizer,
            "promptsculptor:plugin/log@0.1.1": crate::bindings::promptsculptor::plugin::log,
        },
        pub_export_macro: true,
        export_macro_name: "export_create_world",
        default_bindings_module: "promptsculptor_sdk::bindings::create",
        runtime_path: "promptsculptor_sdk::__private::wit_bindgen::rt",
    });
}

/// The `grade-plugin` world (WIT 0.1.1).
pub mod grade {
    wit_bindgen::generate!({
        path: "../../wit/plugin.wit",
        world: "grade-plugin",
        with: {
            "promptsculptor:plugin/types@0.1.1": crate::bindings::promptsculptor::plugin::types,
            "promptsculptor:plugin/llm@0.1.1": crate::bindings::promptsculptor::plugin::llm,
            "promptsculptor:plugin/styles@0.1.1": crate::bindings::promptsculptor::plugin::styles,
            "promptsculptor:plugin/tokenizer@0.1.1": crate::bindings::promptsculptor::plugin::tokenizer,
            "promptsculptor:plugin/log@0.1.1": crate::bindings::promptsculptor::plugin::log,
        },
        pub_export_macro: true,
        export_macro_name: "export_grade_world",
        default_bindings_module: "promptsculptor_sdk::bindings::grade",
        runtime_path: "promptsculptor_sdk::__private::wit_bindgen::rt",
    });
}
