//! Regression tests of the sandbox and host hardening (issue 11): every way
//! a hostile plugin, a hostile file in the plugins folder or a client behind
//! a proxy hurt someone else, each against the real server binary.
//! `RELIABILITY.md` has a row per item.

// A test crate: a failed unwrap, expect or panic is a failed test, and the
// shared helpers in tests/common are not #[test] functions that clippy.toml's
// allow-*-in-tests would cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[path = "hardening/names.rs"]
mod names;

#[path = "hardening/host_caps.rs"]
mod host_caps;

#[path = "hardening/fairness.rs"]
mod fairness;

#[path = "hardening/operator.rs"]
mod operator;
