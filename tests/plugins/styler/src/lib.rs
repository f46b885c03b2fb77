//! A test remix plugin that provides styles of its own, to exercise the
//! registry sync of plugin styles. Built twice: normally it provides
//! `styler-loud` and `styler-calm`; with `PS_TEST_STYLER_CONFLICT` set it
//! claims the builtin `concise`, which the host must refuse.

use promptsculptor_sdk::{
    Manifest, PluginError, RemixPlugin, RemixRequest, RemixResponse, StyleDefinition, export_remix,
};

struct Styler;

fn style(name: &str, description: &str) -> StyleDefinition {
    StyleDefinition::new(
        name,
        description,
        format!("Rewrite the prompt in the {name} manner."),
    )
    .example(
        "Summarise {{text}}.",
        format!("[{name}] Summarise {{{{text}}}}."),
    )
}

impl RemixPlugin for Styler {
    fn manifest() -> Manifest {
        let many = option_env!("PS_TEST_STYLER_MANY").and_then(|n| n.parse::<usize>().ok());
        let styles = if let Some(n) = many {
            (0..n)
                .map(|i| style(&format!("many-{i}"), "one of very many"))
                .collect()
        } else if option_env!("PS_TEST_STYLER_CONFLICT").is_some() {
            vec![style("concise", "a name that belongs to a builtin")]
        } else {
            vec![
                style("styler-loud", "tags the prompt loudly"),
                style("styler-calm", "tags the prompt calmly"),
            ]
        };
        Manifest {
            styles,
            ..Manifest::new("styler", "1.0.0", "provides its own styles (tests only)")
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

// The SDK's macro emits the component exports on wasm32 only.
export_remix!(Styler);
