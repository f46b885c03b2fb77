//! PromptSculptor: a self-hosted prompt-engineering server whose strategies
//! (analyze, remix, create) are sandboxed, hot-swappable Wasm components.
//!
//! Layers, each depending only on the ones below it:
//! `api` (HTTP) → `runtime` (wasmtime, plugins, host capabilities) →
//! `llm` (providers) and `store` (SQLite). `server` wires them together.

pub mod api;
pub mod config;
pub mod eval;
pub mod llm;
pub mod metrics;
pub mod runtime;
pub mod server;
pub mod store;
