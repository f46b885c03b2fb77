//! PromptSculptor's built-in create strategy, as a Wasm component.
//!
//! With `use_llm == false` the prompt is assembled deterministically from the
//! request (see `template`); with `use_llm == true` one LLM call writes it from
//! a metaprompt, with at most one repair call (see `metaprompt`). Both paths
//! guarantee that every requested variable appears as `{{name}}`.
//!
//! The host builds a fresh instance per request, so nothing here caches state
//! between calls.
//!
//! The bindings only exist on wasm: wit-bindgen's export symbols contain `:`,
//! which a native linker rejects for a cdylib, and the pure modules below are
//! what the native unit tests exercise anyway.

pub mod metaprompt;
pub mod spec;
pub mod template;

#[cfg(target_arch = "wasm32")]
mod component {
    //! Glue between the generated bindings and the pure modules.

    use crate::{metaprompt, spec, template};

    wit_bindgen::generate!({ path: "../../wit", world: "create-plugin" });

    use exports::promptsculptor::plugin::creator::{CreateRequest, CreateResponse, Guest};
    use promptsculptor::plugin::llm::{self, ChatRequest, Message, Role};
    use promptsculptor::plugin::log::{Level, log};
    use promptsculptor::plugin::types::{Kind, PluginError, PluginManifest};

    /// The component's export; stateless because each request gets a new instance.
    struct CreatePlugin;

    impl Guest for CreatePlugin {
        fn manifest() -> PluginManifest {
            PluginManifest {
                name: "create".to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                description:
                    "Creates a prompt from a goal: a best-practice template (role, tagged \
                              inputs, numbered rules, examples, output format) or, with use_llm, \
                              one written by the LLM from a metaprompt."
                        .to_string(),
                kind: Kind::Create,
                styles: Vec::new(),
            }
        }

        fn create(request: CreateRequest) -> Result<CreateResponse, PluginError> {
            let use_llm = request.use_llm;
            let spec = to_spec(request);
            spec::validate(&spec).map_err(PluginError::InvalidInput)?;
            let created = if use_llm {
                metaprompt::run(&spec, chat, |line| log(Level::Warn, line)).map_err(
                    |e| match e {
                        metaprompt::FlowError::Llm(e) => PluginError::Llm(e),
                        metaprompt::FlowError::Unusable(m) => PluginError::UnusableLlmOutput(m),
                    },
                )?
            } else {
                template::create(&spec)
            };
            Ok(CreateResponse {
                prompt: created.prompt,
                system: created.system,
                variables: created.variables,
                rationale: created.rationale,
            })
        }
    }

    fn to_spec(r: CreateRequest) -> spec::Spec {
        spec::Spec {
            goal: r.goal,
            context: r.context,
            audience: r.audience,
            output_format: r.output_format,
            constraints: r.constraints,
            examples: r
                .examples
                .into_iter()
                .map(|e| spec::Example {
                    input: e.input,
                    output: e.output,
                })
                .collect(),
            variables: r.variables,
            target_model: r.target_model,
        }
    }

    /// One host chat call; the reply schema rides along so providers with
    /// structured output enforce it.
    fn chat(
        call: &metaprompt::ChatCall,
    ) -> Result<String, promptsculptor::plugin::types::LlmError> {
        let request = ChatRequest {
            system: Some(call.system.clone()),
            messages: call
                .messages
                .iter()
                .map(|t| Message {
                    role: if t.from_user {
                        Role::User
                    } else {
                        Role::Assistant
                    },
                    content: t.content.clone(),
                })
                .collect(),
            temperature: Some(metaprompt::TEMPERATURE),
            max_tokens: Some(metaprompt::MAX_TOKENS),
            json_schema: Some(metaprompt::REPLY_SCHEMA.to_string()),
        };
        llm::chat(&request).map(|r| r.text)
    }

    export!(CreatePlugin);
}
