//! @NAME@: a PromptSculptor create plugin.
use promptsculptor_sdk::prelude::*;

struct Plugin;

impl CreatePlugin for Plugin {
    fn manifest() -> Manifest {
        Manifest::new("@NAME@", "0.1.0", "Writes a compact prompt from the goal and its constraints.")
    }

    fn create(req: CreateRequest) -> Result<CreateResponse, PluginError> {
        if req.goal.trim().is_empty() {
            return Err(PluginError::invalid_input("the goal is empty"));
        }
        let mut prompt = format!("Your task: {}\n", req.goal.trim());
        if let Some(context) = &req.context {
            prompt.push_str(&format!("\nContext: {context}\n"));
        }
        for c in &req.constraints {
            prompt.push_str(&format!("- {c}\n"));
        }
        for v in &req.variables {
            prompt.push_str(&format!("\n<{v}>\n{{{{{v}}}}}\n</{v}>\n"));
        }
        if let Some(format) = &req.output_format {
            prompt.push_str(&format!("\nAnswer format: {format}\n"));
        }
        Ok(CreateResponse {
            variables: variable_names(&prompt),
            prompt,
            system: None,
            rationale: "Goal first, then context, constraints, tagged inputs and the answer format.".into(),
        })
    }
}

export_create!(Plugin);
