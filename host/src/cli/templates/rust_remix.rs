//! @NAME@: a PromptSculptor remix plugin that brings two styles of its own.
use promptsculptor_sdk::prelude::*;

const PLAIN: &str = "Rewrite the prompt in plain English: short sentences, everyday words.";
const CHECKLIST: &str = "Rewrite the prompt as a one-line goal and a numbered checklist.";

struct Plugin;

impl RemixPlugin for Plugin {
    fn manifest() -> Manifest {
        let plain = StyleDefinition::new("@NAME@-plain", "Plain words", PLAIN)
            .example("Utilise {{doc}} to facilitate a summary.", "Use {{doc}} to sum up.");
        let checklist = StyleDefinition::new("@NAME@-checklist", "A checklist", CHECKLIST)
            .example("Review {{code}} for bugs.", "Goal: review {{code}}.\n1. Find bugs.");
        Manifest::new("@NAME@", "0.1.0", "Two house styles.").style(plain).style(checklist)
    }

    fn remix(req: RemixRequest) -> Result<RemixResponse, PluginError> {
        let style = styles::get(&req.style)?;
        let example = style.examples.first().map(|e| format!("{} => {}", e.before, e.after));
        let system = format!(
            "Rewrite the user's prompt; do not answer it. {} Example: {}. Keep every {{{{placeholder}}}} \
             exactly as written. Reply with the rewritten prompt only.",
            style.instructions,
            example.unwrap_or_default()
        );
        let mut variants = Vec::new();
        for _ in 0..req.variants {
            let text = match req.use_llm {
                true => llm::chat(&system, &req.prompt)?,
                false => format!("{}\n\n{}", style.instructions, req.prompt), // no LLM: a directive
            };
            variants.push(restore_placeholders(&req.prompt, &text)); // never lose a {{variable}}
        }
        Ok(RemixResponse { variants, changes: vec![format!("Rewrote it as {}.", style.name)] })
    }
}

export_remix!(Plugin);
