//! The component glue (bindings and export come from the SDK) and the LLM
//! call sequence.

use crate::metaprompt::{self, Parsed, StyleInfo};
use promptsculptor_sdk::llm::{self, ChatRequest, Message, Role};
use promptsculptor_sdk::log::{self, Level};
use promptsculptor_sdk::{
    Manifest, PluginError, RemixPlugin, RemixRequest, RemixResponse, Style, export_remix, styles,
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
        if req.prompt.trim().is_empty() {
            return Err(PluginError::InvalidInput("the prompt is empty".to_string()));
        }
        if !(1..=5).contains(&req.variants) {
            return Err(PluginError::InvalidInput(format!(
                "variants must be 1..=5, got {}",
                req.variants
            )));
        }
        let style = styles::get(&req.style)?;
        let n = usize::from(req.variants);
        let extra = req.instructions.as_deref();
        let out = if req.use_llm {
            remix_with_llm(&req.prompt, &style, extra, n)?
        } else {
            crate::transform::remix(&req.prompt, &style.name, extra, n)
        };
        Ok(RemixResponse {
            variants: out.variants,
            changes: out.changes,
        })
    }
}

fn info(style: &Style) -> StyleInfo {
    StyleInfo {
        name: style.name.clone(),
        description: style.description.clone(),
        instructions: style.instructions.clone(),
        examples: style
            .examples
            .iter()
            .map(|e| (e.before.clone(), e.after.clone()))
            .collect(),
    }
}

/// One rewrite call, plus at most one repair call when the reply is unusable.
fn remix_with_llm(
    prompt: &str,
    style: &Style,
    extra: Option<&str>,
    n: usize,
) -> Result<crate::transform::Remix, PluginError> {
    let mut request = ChatRequest {
        system: Some(metaprompt::system_prompt()),
        messages: vec![Message {
            role: Role::User,
            content: metaprompt::user_prompt(prompt, &info(style), extra, n),
        }],
        // Some spread helps distinct variants; a single one should stay faithful.
        temperature: Some(if n > 1 { 0.7 } else { 0.3 }),
        max_tokens: Some(metaprompt::max_tokens(prompt, n)),
        json_schema: Some(metaprompt::response_schema(n)),
    };
    let first = llm::call(&request).map_err(PluginError::Llm)?;
    let (first_parse, problems) = match metaprompt::check(&first.text, prompt, n) {
        Ok(parsed) => return Ok(metaprompt::finalize(parsed, prompt, &style.name, extra, n)),
        Err(e) => e,
    };
    log::at(
        Level::Warn,
        &format!("remix: LLM reply needs repair: {problems:?}"),
    );
    request.messages.push(Message {
        role: Role::Assistant,
        content: first.text,
    });
    request.messages.push(Message {
        role: Role::User,
        content: metaprompt::repair_prompt(&problems, prompt, n),
    });
    let second = llm::call(&request).map_err(PluginError::Llm)?;
    // A flawed but parsable first answer beats giving up on an unparsable repair.
    let parsed: Option<Parsed> = metaprompt::parse(&second.text).or(first_parse);
    match parsed {
        Some(p) => Ok(metaprompt::finalize(p, prompt, &style.name, extra, n)),
        None => Err(PluginError::UnusableLlmOutput(
            "the LLM did not return a JSON object with a \"variants\" list, even after one repair attempt".to_string(),
        )),
    }
}

export_remix!(Remix);
