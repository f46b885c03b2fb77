//! Read access to the host's style registry (builtin, user and plugin styles).

use crate::{PluginError, Style};

/// The style called `name`, or an `invalid-input` error (HTTP 422) that tells
/// the caller where to look.
pub fn get(name: &str) -> Result<Style, PluginError> {
    find(name).ok_or_else(|| {
        PluginError::InvalidInput(format!(
            "unknown style \u{201C}{name}\u{201D}; see GET /api/v1/styles"
        ))
    })
}

/// The style called `name`, if the registry has it.
pub fn find(name: &str) -> Option<Style> {
    crate::bindings::promptsculptor::plugin::styles::get(name)
}

/// Every style, ordered by name.
pub fn list() -> Vec<Style> {
    crate::bindings::promptsculptor::plugin::styles::list()
}
