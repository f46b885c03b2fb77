//! Chat completions through the provider the host is configured with.
//!
//! Every call counts against the request's cap on LLM calls (16 by default);
//! the provider, its key and its URL stay invisible to the plugin.

use serde_json::{Map, Value};

use crate::{LlmError, PluginError};

pub use crate::bindings::promptsculptor::plugin::llm::{
    ChatRequest, ChatResponse, Message, Role, TokenUsage,
};

/// Whether the host has a provider configured at all and this request
/// allows LLM calls (false for a request sent with `use_llm: false`).
pub fn available() -> bool {
    crate::bindings::promptsculptor::plugin::llm::available()
}

/// The raw call: full control over messages, temperature, token limit and
/// schema. Errors are the provider's, unmapped.
pub fn call(request: &ChatRequest) -> Result<ChatResponse, LlmError> {
    crate::bindings::promptsculptor::plugin::llm::chat(request)
}

/// A one-turn request: `system` (omitted when empty) and one user message.
pub fn request(system: &str, user: &str) -> ChatRequest {
    ChatRequest {
        system: (!system.trim().is_empty()).then(|| system.to_string()),
        messages: vec![Message {
            role: Role::User,
            content: user.to_string(),
        }],
        temperature: None,
        max_tokens: None,
        json_schema: None,
    }
}

/// One chat turn; the reply text, or the LLM failure as a [`PluginError`]
/// (which the host maps to the right HTTP status).
pub fn chat(system: &str, user: &str) -> Result<String, PluginError> {
    call(&request(system, user))
        .map(|r| r.text)
        .map_err(PluginError::Llm)
}

/// What the repair turn says when a reply was not the JSON object asked for.
pub const JSON_REPAIR: &str = "Your reply was not a single valid JSON object that follows the schema. \
     Reply again with only that JSON object: no code fences, no text before or after it.";

/// One chat turn whose reply must be a JSON object following `schema` (JSON
/// Schema as text, passed to the provider's structured-output mode). A reply
/// that does not parse gets exactly one repair turn; a second failure is
/// `unusable-llm-output` (HTTP 502). Fenced or prose-wrapped objects are
/// accepted.
pub fn chat_json(
    system: &str,
    user: &str,
    schema: &str,
) -> Result<Map<String, Value>, PluginError> {
    let mut req = request(system, user);
    req.json_schema = Some(schema.to_string());
    let first = call(&req).map_err(PluginError::Llm)?;
    if let Some(map) = crate::extract_json_object(&first.text) {
        return Ok(map);
    }
    crate::log::debug("chat_json: reply was not a JSON object; asking once for a repair");
    push_repair(&mut req, first.text, JSON_REPAIR);
    let second = call(&req).map_err(PluginError::Llm)?;
    crate::extract_json_object(&second.text).ok_or_else(|| {
        PluginError::UnusableLlmOutput(
            "the LLM did not return a JSON object, even after one repair attempt".to_string(),
        )
    })
}

/// Append the model's unusable `reply` and a `repair` instruction to `req`,
/// so the next call sees what it said and what was wrong with it.
pub fn push_repair(req: &mut ChatRequest, reply: String, repair: &str) {
    req.messages.push(Message {
        role: Role::Assistant,
        content: reply,
    });
    req.messages.push(Message {
        role: Role::User,
        content: repair.to_string(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_omits_an_empty_system() {
        assert!(request("  ", "hi").system.is_none());
        let r = request("be brief", "hi");
        assert_eq!(r.system.as_deref(), Some("be brief"));
        assert_eq!(r.messages.len(), 1);
    }

    #[test]
    fn repair_appends_two_turns() {
        let mut r = request("", "hi");
        push_repair(&mut r, "nope".into(), JSON_REPAIR);
        assert_eq!(r.messages.len(), 3);
        assert!(matches!(r.messages[1].role, Role::Assistant));
        assert!(matches!(r.messages[2].role, Role::User));
    }
}
