//! Real BPE token counts (tiktoken's o200k_base and cl100k_base), a host
//! capability so plugins need not ship the multi-megabyte vocabularies.

use tiktoken_rs::CoreBPE;

/// Encoding used when a target model is unknown or not an OpenAI model: the
/// newest OpenAI vocabulary is the closest public approximation.
pub const DEFAULT_ENCODING: &str = "o200k_base";

/// The BPE encoding that matches `model` (OpenAI naming), or the default.
pub fn encoding_for_model(model: Option<&str>) -> &'static str {
    let Some(model) = model.map(|m| m.trim().to_ascii_lowercase()) else {
        return DEFAULT_ENCODING;
    };
    let cl100k = [
        "gpt-4-",
        "gpt-3.5",
        "gpt-35",
        "text-embedding-3",
        "text-embedding-ada",
    ];
    if model == "gpt-4"
        || cl100k.iter().any(|p| model.starts_with(p)) && !model.starts_with("gpt-4o")
    {
        return "cl100k_base";
    }
    DEFAULT_ENCODING
}

fn bpe(encoding: &str) -> Option<&'static CoreBPE> {
    match encoding {
        "o200k_base" => Some(tiktoken_rs::o200k_base_singleton()),
        "cl100k_base" => Some(tiktoken_rs::cl100k_base_singleton()),
        _ => None,
    }
}

/// Load both vocabularies now (a few hundred ms) instead of on the first request.
pub fn warm_up() {
    let _ = bpe("o200k_base");
    let _ = bpe("cl100k_base");
}

/// Number of tokens of `text` in `encoding`, `None` for an unknown encoding.
pub fn count(text: &str, encoding: &str) -> Option<u32> {
    let bpe = bpe(encoding)?;
    Some(bpe.encode_ordinary(text).len().min(u32::MAX as usize) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_encodings() {
        assert_eq!(encoding_for_model(Some("gpt-4o-mini")), "o200k_base");
        assert_eq!(encoding_for_model(Some("gpt-4")), "cl100k_base");
        assert_eq!(encoding_for_model(Some("gpt-3.5-turbo")), "cl100k_base");
        assert_eq!(encoding_for_model(Some("claude-sonnet-4")), "o200k_base");
        assert_eq!(encoding_for_model(None), "o200k_base");
    }

    #[test]
    fn counts_real_tokens() {
        // Reference values from OpenAI's tiktoken.
        assert_eq!(count("hello world", "cl100k_base"), Some(2));
        assert_eq!(count("hello world", "o200k_base"), Some(2));
        assert_eq!(count("x", "nope"), None);
    }
}
