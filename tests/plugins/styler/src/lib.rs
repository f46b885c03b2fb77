//! A test remix plugin that provides styles of its own, to exercise the
//! registry sync of plugin styles. Built twice: normally it provides
//! `styler-loud` and `styler-calm`; with `PS_TEST_STYLER_CONFLICT` set it
//! claims the builtin `concise`, which the host must refuse.

// Component export names (`…@0.1.0#analyze`) are not valid native symbols,
// so the bindings exist only in the wasm build.
#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({ path: "../../../wit", world: "remix-plugin" });

    use exports::promptsculptor::plugin::remixer::{Guest, RemixRequest, RemixResponse};
    use promptsculptor::plugin::types::{
        Kind, PluginError, PluginManifest, StyleDefinition, StyleExample,
    };

    struct Styler;

    fn style(name: &str, description: &str) -> StyleDefinition {
        StyleDefinition {
            name: name.into(),
            description: description.into(),
            instructions: format!("Rewrite the prompt in the {name} manner."),
            examples: vec![StyleExample {
                before: "Summarise {{text}}.".into(),
                after: format!("[{name}] Summarise {{{{text}}}}."),
            }],
        }
    }

    impl Guest for Styler {
        fn manifest() -> PluginManifest {
            let styles = if option_env!("PS_TEST_STYLER_CONFLICT").is_some() {
                vec![style("concise", "a name that belongs to a builtin")]
            } else {
                vec![
                    style("styler-loud", "tags the prompt loudly"),
                    style("styler-calm", "tags the prompt calmly"),
                ]
            };
            PluginManifest {
                name: "styler".into(),
                version: "1.0.0".into(),
                description: "provides its own styles (tests only)".into(),
                kind: Kind::Remix,
                styles,
            }
        }

        fn remix(req: RemixRequest) -> Result<RemixResponse, PluginError> {
            let variants = (0..req.variants)
                .map(|i| format!("[{} #{}] {}", req.style, i + 1, req.prompt))
                .collect();
            Ok(RemixResponse {
                variants,
                changes: vec![format!("Tagged the prompt with the {} style.", req.style)],
            })
        }
    }

    export!(Styler);
}
