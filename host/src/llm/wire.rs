//! Small helpers the providers share to build requests and read answers.

use serde_json::Value;

use super::{ChatResponse, LlmError};

/// `{base}/{path}` without a doubled slash, whatever the user's base URL ends with.
pub(crate) fn endpoint(base_url: &str, path: &str) -> String {
    format!("{}/{}", base_url.trim_end_matches('/'), path)
}

/// The answer as JSON, or the 502 a garbage body deserves.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, LlmError> {
    serde_json::from_slice(bytes)
        .map_err(|e| LlmError::BadResponse(format!("response is not JSON: {e}")))
}

/// A token count at `pointer`, 0 when absent (some local servers omit usage).
pub(crate) fn count(v: &Value, pointer: &str) -> u32 {
    v.pointer(pointer)
        .and_then(Value::as_u64)
        .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// The model the provider says answered, else the configured one.
pub(crate) fn model_or(v: &Value, pointer: &str, configured: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or(configured)
        .to_string()
}

/// Assemble the neutral answer.
pub(crate) fn response(
    text: String,
    model: String,
    input_tokens: u32,
    output_tokens: u32,
) -> ChatResponse {
    ChatResponse {
        text,
        model,
        input_tokens,
        output_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helpers() {
        assert_eq!(endpoint("http://h/v1/", "messages"), "http://h/v1/messages");
        let v = json!({"u": {"n": 5, "big": u64::MAX}, "m": ""});
        assert_eq!(count(&v, "/u/n"), 5);
        assert_eq!(count(&v, "/u/big"), u32::MAX);
        assert_eq!(count(&v, "/u/missing"), 0);
        assert_eq!(model_or(&v, "/m", "cfg"), "cfg");
        assert!(matches!(parse_json(b"nope"), Err(LlmError::BadResponse(_))));
    }
}
