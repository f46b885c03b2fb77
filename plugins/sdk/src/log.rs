//! Structured logging into the host's log, tagged with the plugin and the
//! request id. The host keeps at most 200 lines of 4 KiB per call; anything a
//! plugin prints to stdout/stderr is forwarded to the log as well.

pub use crate::bindings::promptsculptor::plugin::log::Level;
use crate::bindings::promptsculptor::plugin::log::log;

/// Log `message` at `level`.
pub fn at(level: Level, message: &str) {
    log(level, message);
}

/// Debug-level line (visible with `RUST_LOG=promptsculptor=debug`).
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Info-level line.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Warn-level line.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Error-level line.
pub fn error(message: &str) {
    log(Level::Error, message);
}
