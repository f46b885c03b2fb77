//! An example style plugin written with the PromptSculptor SDK: three styles
//! drawn from the vendors' own prompting guides, each with an LLM rewrite
//! (the SDK's `remix::rewrite`: a metaprompt built from the style's
//! instructions and examples, one repair turn, placeholders kept) and a
//! deterministic transform for `use_llm: false`.
//!
//! While loaded, its styles appear in `GET /api/v1/styles` with
//! `source: plugin:style-pack`.

pub mod transform;

use promptsculptor_sdk::prelude::*;
use transform::PackStyle;

/// The plugin.
pub struct StylePack;

impl RemixPlugin for StylePack {
    fn manifest() -> Manifest {
        PackStyle::ALL.iter().fold(
            Manifest::new(
                "style-pack",
                env!("CARGO_PKG_VERSION"),
                "Three vendor-guide prompt styles: Anthropic XML tags, OpenAI Markdown sections, and a strict \
                 JSON Schema output contract.",
            ),
            |m, s| m.style(s.definition()),
        )
    }

    fn remix(req: RemixRequest) -> Result<RemixResponse, PluginError> {
        remix::validate(&req)?;
        if req.use_llm {
            // Any registry style works on the LLM path: it only needs
            // instructions and examples, which every style has.
            let style = styles::get(&req.style)?;
            // Too few usable LLM variants are padded with the pack's own
            // transform where the style is one of ours.
            let fallback = || {
                PackStyle::from_name(&req.style)
                    .map(|s| transform::remix(s, &req.prompt, req.instructions.as_deref(), 5))
                    .map(|r| r.variants)
                    .unwrap_or_default()
            };
            return remix::rewrite(llm::call, &req, &style, fallback);
        }
        let style = PackStyle::from_name(&req.style).ok_or_else(|| {
            PluginError::invalid_input(format!(
                "style-pack transforms only its own styles without an LLM ({}); got \u{201C}{}\u{201D}",
                PackStyle::ALL.map(PackStyle::name).join(", "),
                req.style
            ))
        })?;
        let out = transform::remix(
            style,
            &req.prompt,
            req.instructions.as_deref(),
            usize::from(req.variants),
        );
        Ok(RemixResponse {
            variants: out.variants,
            changes: out.changes,
        })
    }
}

export_remix!(StylePack);
