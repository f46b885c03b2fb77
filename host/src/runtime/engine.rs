//! The one wasmtime `Engine` and `Linker` every plugin shares.

use std::{sync::Arc, thread, time::Duration};

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::RuntimeError;
use super::bindings::analyze::AnalyzePlugin;
use super::state::CallState;

/// How often the epoch advances. A running guest yields to the async
/// executor at every tick, so a busy loop cannot hold a worker thread for
/// longer than this, and a wall-clock deadline can always fire.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Most bytes of each linear memory reset by copying (rather than madvise)
/// when a slot is reused. With PAGEMAP_SCAN only the pages the guest wrote
/// are restored, so this is a ceiling, not a cost per call. Measured on the
/// 2-core dev machine, analyze without LLM, CPU per request (wrk -c16,
/// noisy shared cores, 2-3 runs each): 256 KiB memset without the scan
/// 151-193 µs (memset 3.9 % and TLB shoot-downs from CoW re-faults 2 % of
/// the profile); scan + 256 KiB 143-166 µs; scan + 1 MiB 116-180 µs (both
/// gone from the profile); scan + 4 MiB 163-205 µs; no CoW image + scan +
/// 2 MiB 162 µs; no CoW image + 256 KiB memset 224 µs.
const KEEP_RESIDENT: usize = 1024 * 1024;

/// The reset ceiling without PAGEMAP_SCAN (kernels before 6.7): then the
/// first bytes are memset whether the guest wrote them or not, so keep it
/// near what a small Rust guest touches in one call (the pre-issue-14 value).
const KEEP_RESIDENT_NO_SCAN: usize = 256 * 1024;

/// Pool slots kept for loading plugins (the manifest call of a reload), on
/// top of the `max_instances` request slots: a load never waits for, or is
/// refused by, a pool full of request calls. Reloads are serialized; a few
/// slots let one reload's files run their manifest calls side by side.
pub const LOAD_SLOTS: u32 = 4;

/// Sizing of the engine.
#[derive(Debug, Clone)]
pub struct EngineLimits {
    /// Linear-memory cap of one plugin instance, in bytes.
    pub memory_bytes: usize,
    /// Request calls alive at once (pool size); the pool holds
    /// [`LOAD_SLOTS`] more instances for loading.
    pub max_instances: u32,
    /// Request calls of one plugin alive at once: its share of the
    /// `max_instances` slots (clamped to 1..=max_instances).
    pub per_plugin: u32,
    /// Use the pooling allocator (fast instantiation) instead of mmap per instance.
    pub pooling: bool,
}

/// Build the engine: async, epoch interruption, and (by default) the pooling
/// allocator sized for `max_instances` concurrent plugin calls plus
/// [`LOAD_SLOTS`] loads.
pub fn build_engine(limits: &EngineLimits) -> Result<Engine, RuntimeError> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    // Linear memories never grow past the cap, so reserve only that much
    // address space per slot instead of the default 4 GiB.
    let reservation = (limits.memory_bytes as u64).next_multiple_of(64 * 1024);
    config.memory_reservation(reservation);
    config.memory_reservation_for_growth(0);
    config.memory_guard_size(64 * 1024);
    if limits.pooling {
        let n = limits.max_instances.max(1).saturating_add(LOAD_SLOTS);
        let keep_resident = if PoolingAllocationConfig::is_pagemap_scan_available() {
            KEEP_RESIDENT
        } else {
            KEEP_RESIDENT_NO_SCAN
        };
        let mut pool = PoolingAllocationConfig::new();
        // A small Rust guest takes 3 core instances, 1 memory, 2 tables and
        // 1 stack; leave headroom for bigger guests (e.g. Python).
        //
        // The pool-wide totals never go below one component's maximum: a
        // componentize-py guest (CPython plus libc, adapters and shims)
        // instantiates about 10 core instances and several tables, so with
        // a small pool (`max_instances` 1, as `plugin check` uses, or a tiny
        // PROMPTSCULPTOR_MAX_CONCURRENT_PLUGINS) "8 per slot" alone would
        // refuse every Python plugin.
        const MAX_CORE_INSTANCES: u32 = 32;
        const MAX_MEMORIES: u32 = 4;
        const MAX_TABLES: u32 = 16;
        pool.total_component_instances(n)
            .total_core_instances(n.saturating_mul(8).max(MAX_CORE_INSTANCES))
            .total_memories(n.saturating_mul(2).max(MAX_MEMORIES))
            .total_tables(n.saturating_mul(4).max(MAX_TABLES))
            .total_stacks(n)
            .max_core_instances_per_component(MAX_CORE_INSTANCES)
            .max_memories_per_component(MAX_MEMORIES)
            .max_tables_per_component(MAX_TABLES)
            .max_memory_size(limits.memory_bytes)
            // A fresh instance per request makes slot reuse the hot path. The
            // profile showed ~15 % of server CPU in the kernel decommitting
            // and re-faulting slot memory: zero the first pages with memset
            // instead of madvise, and batch the remaining decommits.
            .linear_memory_keep_resident(keep_resident)
            .table_keep_resident(64 * 1024)
            .decommit_batch_size(16)
            // Issue 14: with PAGEMAP_SCAN (Linux >= 6.7) the reset finds
            // the pages the guest actually wrote and restores only those
            // (up to KEEP_RESIDENT), so a call that touched less than that
            // costs no madvise, no TLB shoot-down and no re-fault on the
            // next use of the slot. `Auto`: older kernels fall back to the
            // memset of the first KEEP_RESIDENT_NO_SCAN bytes.
            .pagemap_scan(Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&config).map_err(|e| RuntimeError::Engine(format!("{e:#}")))
}

/// Advance the engine's epoch forever from a dedicated thread. The thread
/// holds only a weak reference, so it ends when the engine is dropped.
pub fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                thread::sleep(EPOCH_TICK);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(
            "cannot start the epoch ticker: {e}; plugin deadlines will not interrupt busy guests"
        );
    }
}

/// The linker with WASI p2 (no preopens, env, or sockets are granted per
/// call) and the PromptSculptor capabilities. All worlds import the same
/// interfaces, so one linker serves every plugin kind.
pub fn build_linker(engine: &Engine) -> Result<Arc<Linker<CallState>>, RuntimeError> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
    AnalyzePlugin::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |s| s)
        .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
    Ok(Arc::new(linker))
}
