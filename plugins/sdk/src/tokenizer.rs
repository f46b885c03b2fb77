//! Real BPE token counts, computed by the host.

/// Tokens of `text` in `encoding` (`o200k_base`, `cl100k_base`); `None` for
/// an encoding the host does not know.
pub fn count(text: &str, encoding: &str) -> Option<u32> {
    crate::bindings::promptsculptor::plugin::tokenizer::count(text, encoding)
}
