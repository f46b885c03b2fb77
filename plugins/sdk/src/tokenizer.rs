//! Real BPE token counts, computed by the host.

/// Tokens of `text` in `encoding` (`o200k_base`, `cl100k_base`); `None` for
/// an encoding the host does not know. A text over the host's request body
/// limit (1 MiB by default) ends the plugin call with a limit error.
pub fn count(text: &str, encoding: &str) -> Option<u32> {
    crate::bindings::promptsculptor::plugin::tokenizer::count(text, encoding)
}
