//! Structured logging into the host's log, tagged with the plugin and the
//! request id. The host keeps at most 200 lines of 4 KiB per call; anything a
//! plugin prints to stdout/stderr is forwarded to the log as well.
//!
//! In a native build (a plugin's unit tests) there is no host: lines go to
//! stderr instead, so code that logs, such as [`crate::llm::round_trip`], is
//! testable natively.

pub use crate::bindings::promptsculptor::plugin::log::Level;
#[cfg(target_arch = "wasm32")]
use crate::bindings::promptsculptor::plugin::log::log;

/// Natively the host import does not exist; stderr is what `cargo test`
/// captures and shows for a failing test.
#[cfg(not(target_arch = "wasm32"))]
fn log(level: Level, message: &str) {
    eprintln!("[{level:?}] {message}");
}

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
