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

mod catalog;
mod fit;
pub mod metaprompt;
pub mod spec;
pub mod template;

#[cfg(target_arch = "wasm32")]
mod component {
    //! Glue between the generated bindings and the pure modules.

    use crate::{metaprompt, spec, template};

    // Bindings and the export come from the SDK.
    use promptsculptor_sdk::{
        CreatePlugin, CreateRequest, CreateResponse, Manifest, PluginError, export_create, llm,
    };

    /// The component's export; stateless because each request gets a new instance.
    struct Create;

    impl CreatePlugin for Create {
        fn manifest() -> Manifest {
            Manifest::new(
                "create",
                env!("CARGO_PKG_VERSION"),
                "Creates a prompt from a goal: a best-practice template (role, tagged \
                 inputs, numbered rules, examples, output format) or, with use_llm, \
                 one written by the LLM from a metaprompt.",
            )
        }

        fn create(request: CreateRequest) -> Result<CreateResponse, PluginError> {
            let use_llm = request.use_llm;
            let spec = to_spec(request);
            spec::validate(&spec).map_err(PluginError::InvalidInput)?;
            let created = if use_llm {
                metaprompt::run(&spec, llm::call)?
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

    export_create!(Create);
}
