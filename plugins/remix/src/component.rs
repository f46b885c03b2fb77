//! The component glue: bindings, export and the LLM round trip come from
//! the SDK; the rule-based transforms from [`crate::transform`].

use promptsculptor_sdk::{
    Manifest, PluginError, RemixPlugin, RemixRequest, RemixResponse, export_remix, llm, remix,
    styles,
};

/// The component's export.
struct Remix;

impl RemixPlugin for Remix {
    fn manifest() -> Manifest {
        // Builtin and user styles live in the registry; this plugin serves
        // them all and provides none of its own.
        Manifest::new(
            "remix",
            "0.1.0",
            "Rewrites a prompt into any registry style: an LLM rewrite guided by the style's instructions \
             and examples, or rule-based transforms for the builtin styles when no LLM is used.",
        )
    }

    fn remix(req: RemixRequest) -> Result<RemixResponse, PluginError> {
        remix::validate(&req)?;
        let style = styles::get(&req.style)?;
        let extra = req.instructions.as_deref();
        if req.use_llm {
            // Too few usable LLM variants are padded with the rule-based ones.
            let fallback = || crate::transform::remix(&req.prompt, &style.name, extra, 5).variants;
            return remix::rewrite(llm::call, &req, &style, fallback);
        }
        let out =
            crate::transform::remix(&req.prompt, &style.name, extra, usize::from(req.variants));
        Ok(RemixResponse {
            variants: out.variants,
            changes: out.changes,
        })
    }
}

export_remix!(Remix);
