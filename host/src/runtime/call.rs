//! One sandboxed plugin call: instantiate, run under the limits, classify the outcome.

use super::*;

pub(super) enum CallInput {
    Manifest,
    Analyze(analyzer::AnalyzeRequest),
    /// A remix, with the style registry snapshot its style was resolved in.
    Remix(remixer::RemixRequest, Arc<StyleSnapshot>),
    Create(creator::CreateRequest),
    Grade(grader::GradeRequest),
}

impl CallInput {
    /// Whether this call may use the LLM: the request's `use_llm`, which
    /// the host enforces in `CallState`; a manifest call never may.
    fn use_llm(&self) -> bool {
        match self {
            CallInput::Manifest => false,
            CallInput::Analyze(r) => r.use_llm,
            CallInput::Remix(r, _) => r.use_llm,
            CallInput::Create(r) => r.use_llm,
            CallInput::Grade(r) => r.use_llm,
        }
    }
}

pub(super) enum CallOutput {
    Manifest(types::PluginManifest),
    /// A grade plugin's manifest: its own record (the WIT's `kind` is frozen).
    GradeManifest(grader::GradeManifest),
    Analyze(Result<analyzer::AnalyzeResponse, types::PluginError>),
    Remix(Result<remixer::RemixResponse, types::PluginError>),
    Create(Result<creator::CreateResponse, types::PluginError>),
    Grade(Result<grader::GradeResult, types::PluginError>),
}

impl Runtime {
    pub(super) async fn call(
        &self,
        plugin: &Plugin,
        input: CallInput,
        ctx: &CallContext,
    ) -> Result<(CallOutput, Usage), RuntimeError> {
        let deadline = self.inner.settings.plugin_timeout;
        let started = Instant::now();
        if let Some(sink) = &ctx.llm.stream {
            sink.send(crate::llm::stream::StreamEvent::Start {
                strategy: plugin.name.clone(),
                version: plugin.version.clone(),
            });
        }
        let result = self.invoke(plugin, input, ctx, deadline).await;
        let outcome_label = match &result {
            Ok(_) => "ok",
            Err(RuntimeError::Timeout { .. }) => "timeout",
            Err(RuntimeError::LimitExceeded { .. }) => "limit_exceeded",
            Err(RuntimeError::Busy { .. }) => "busy",
            Err(_) => "trap",
        };
        crate::metrics::plugin_call_done(&plugin.name, outcome_label, started.elapsed());
        result
    }

    /// Instantiate `plugin` in a fresh store and run one export under the
    /// deadline, the memory cap and the LLM-call cap.
    pub(super) async fn invoke(
        &self,
        plugin: &Plugin,
        input: CallInput,
        ctx: &CallContext,
        deadline: Duration,
    ) -> Result<(CallOutput, Usage), RuntimeError> {
        let mut started = Instant::now();
        let _slots = if matches!(input, CallInput::Manifest) {
            // Only loading calls the manifest export. A load takes one of
            // the pool's load slots, never a request slot, so a pool full of
            // slow calls cannot delay or refuse it; its deadline counts from
            // the moment it has a slot (the wait is bounded by the manifest
            // deadlines of the loads ahead of it).
            let slot = self
                .inner
                .load_permits
                .acquire()
                .await
                .map_err(|e| RuntimeError::Engine(e.to_string()))?;
            started = Instant::now();
            Slots {
                _share: None,
                _slot: slot,
            }
        } else {
            self.request_slots(plugin, deadline).await?
        };
        let use_llm = input.use_llm();
        let mut state = CallState::new(
            Arc::clone(&self.inner.caps),
            Arc::from(plugin.name.as_str()),
            ctx,
            self.inner.settings.engine.memory_bytes,
            self.inner.settings.max_llm_calls,
            self.inner.settings.host_limits,
            use_llm,
        );
        // A remix's plugin reads the registry version its style was found in.
        if let CallInput::Remix(_, styles) = &input {
            state.styles = Arc::clone(styles);
        }
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Yield(1)));
        let remaining = deadline.saturating_sub(started.elapsed());
        let outcome = tokio::time::timeout(remaining, run(&mut store, &plugin.pre, input)).await;
        let state = store.into_data();
        let request_id = &*ctx.request_id;
        forward_output(plugin, request_id, &state);
        let result = self.classify(plugin, outcome, state, deadline);
        if result.is_ok() {
            tracing::debug!(plugin = %plugin.name, request_id, elapsed_us = started.elapsed().as_micros() as u64, "plugin call");
        }
        result
    }

    /// Take one of `plugin`'s share of the request slots, then a slot of
    /// the pool, both within the call's deadline.
    ///
    /// A call over its plugin's share queues behind that plugin's own
    /// calls only, holding no pool slot, so other plugins keep answering;
    /// a legitimate burst (10,000 requests waiting on a slow LLM) still
    /// queues instead of failing. A call whose deadline passes before it
    /// got its share never ran: [`RuntimeError::Busy`] (503 with
    /// `Retry-After`), not a timeout. So is a call whose turn comes with
    /// less than [`min_turn`] of its deadline left: behind a plugin whose
    /// calls run to their deadline, each queued call would otherwise start
    /// with the few milliseconds between its arrival and the one ahead's,
    /// spend an instance and end 504 — a chain through the whole queue.
    async fn request_slots(
        &self,
        plugin: &Plugin,
        deadline: Duration,
    ) -> Result<Slots<'_>, RuntimeError> {
        let limit = self.share_limit();
        let share = {
            // The map holds no invariant a panic elsewhere could break.
            let mut shares = self
                .inner
                .shares
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(
                shares
                    .entry(plugin.name.clone())
                    .or_insert_with(|| Arc::new(Semaphore::new(limit as usize))),
            )
        };
        let started = Instant::now();
        let share = tokio::time::timeout(deadline, share.acquire_owned())
            .await
            .map_err(|_| RuntimeError::Busy {
                plugin: plugin.name.clone(),
                limit,
            })?
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        let remaining = deadline.saturating_sub(started.elapsed());
        if remaining < min_turn(deadline) {
            return Err(RuntimeError::Busy {
                plugin: plugin.name.clone(),
                limit,
            });
        }
        let slot = tokio::time::timeout(remaining, self.inner.permits.acquire())
            .await
            .map_err(|_| RuntimeError::Timeout {
                plugin: plugin.name.clone(),
                secs: deadline.as_secs(),
            })?
            .map_err(|e| RuntimeError::Engine(e.to_string()))?;
        Ok(Slots {
            _share: Some(share),
            _slot: slot,
        })
    }

    /// Calls one plugin may run at once.
    fn share_limit(&self) -> u32 {
        let e = &self.inner.settings.engine;
        let pool = e.max_instances.max(1);
        e.per_plugin.clamp(1, pool)
    }

    /// Forget the share of every plugin `table` no longer serves, so the
    /// map holds at most the loaded names (plus names that come back
    /// through a call still in flight on an old table, until the next
    /// reload). Calls in flight keep the semaphore they hold.
    pub(super) fn prune_shares(&self, table: &PluginTable) {
        let mut shares = self
            .inner
            .shares
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        shares.retain(|name, _| table.by_name.contains_key(name));
    }

    /// Map the raw outcome of a call to the runtime's result.
    fn classify(
        &self,
        plugin: &Plugin,
        outcome: Result<wasmtime::Result<CallOutput>, tokio::time::error::Elapsed>,
        state: CallState,
        deadline: Duration,
    ) -> Result<(CallOutput, Usage), RuntimeError> {
        let timeout = || RuntimeError::Timeout {
            plugin: plugin.name.clone(),
            secs: deadline.as_secs(),
        };
        match outcome {
            Err(_) => Err(timeout()),
            Ok(Err(trap)) => {
                if let Some(limit) = state.limit_hit {
                    return Err(RuntimeError::LimitExceeded {
                        plugin: plugin.name.clone(),
                        message: limit,
                    });
                }
                if is_memory_trap(&trap) {
                    return Err(RuntimeError::LimitExceeded {
                        plugin: plugin.name.clone(),
                        message: format!(
                            "plugin exceeded its memory cap of {} MiB",
                            self.inner.settings.engine.memory_bytes / (1024 * 1024)
                        ),
                    });
                }
                Err(RuntimeError::Trap {
                    plugin: plugin.name.clone(),
                    message: describe_trap(&trap, &state),
                })
            }
            Ok(Ok(out)) => Ok((out, state.usage)),
        }
    }
}

/// The least of its deadline a queued call must have left when its turn
/// comes to be started: a tenth, at most a second.
fn min_turn(deadline: Duration) -> Duration {
    (deadline / 10).min(Duration::from_secs(1))
}

/// The slots a running call holds; dropping it frees them.
struct Slots<'a> {
    /// Its plugin's share (request calls only).
    _share: Option<tokio::sync::OwnedSemaphorePermit>,
    /// A request slot or a load slot of the pool.
    _slot: tokio::sync::SemaphorePermit<'a>,
}

async fn run(
    store: &mut Store<CallState>,
    pre: &PluginPre,
    input: CallInput,
) -> wasmtime::Result<CallOutput> {
    match (pre, input) {
        (PluginPre::Analyze(p), input) => {
            let instance = p.instantiate_async(&mut *store).await?;
            let api = instance.promptsculptor_plugin_analyzer();
            match input {
                CallInput::Manifest => {
                    Ok(CallOutput::Manifest(api.call_manifest(&mut *store).await?))
                }
                CallInput::Analyze(r) => Ok(CallOutput::Analyze(
                    api.call_analyze(&mut *store, &r).await?,
                )),
                _ => Err(wasmtime::Error::msg(
                    "operation does not match the plugin kind",
                )),
            }
        }
        (PluginPre::Remix(p), input) => {
            let instance = p.instantiate_async(&mut *store).await?;
            let api = instance.promptsculptor_plugin_remixer();
            match input {
                CallInput::Manifest => {
                    Ok(CallOutput::Manifest(api.call_manifest(&mut *store).await?))
                }
                CallInput::Remix(r, _) => {
                    Ok(CallOutput::Remix(api.call_remix(&mut *store, &r).await?))
                }
                _ => Err(wasmtime::Error::msg(
                    "operation does not match the plugin kind",
                )),
            }
        }
        (PluginPre::Create(p), input) => {
            let instance = p.instantiate_async(&mut *store).await?;
            let api = instance.promptsculptor_plugin_creator();
            match input {
                CallInput::Manifest => {
                    Ok(CallOutput::Manifest(api.call_manifest(&mut *store).await?))
                }
                CallInput::Create(r) => {
                    Ok(CallOutput::Create(api.call_create(&mut *store, &r).await?))
                }
                _ => Err(wasmtime::Error::msg(
                    "operation does not match the plugin kind",
                )),
            }
        }
        (PluginPre::Grade(p), input) => {
            let instance = p.instantiate_async(&mut *store).await?;
            let api = instance.promptsculptor_plugin_grader();
            match input {
                CallInput::Manifest => Ok(CallOutput::GradeManifest(
                    api.call_manifest(&mut *store).await?,
                )),
                CallInput::Grade(r) => {
                    Ok(CallOutput::Grade(api.call_grade(&mut *store, &r).await?))
                }
                _ => Err(wasmtime::Error::msg(
                    "operation does not match the plugin kind",
                )),
            }
        }
    }
}

/// A short description of a trap for the error body (the full chain and
/// backtrace go to the debug log): the trap kind, and the guest's panic
/// message when it printed one.
fn describe_trap(e: &wasmtime::Error, state: &CallState) -> String {
    tracing::debug!("plugin trap: {e:?}");
    let mut msg = match e.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => e.root_cause().to_string(),
    };
    if let Some(panic) = panic_message(&state.stderr.contents()) {
        msg = format!("panicked: {panic} ({msg})");
    }
    truncate(&mut msg, 500);
    msg
}

/// The message of a Rust guest's panic, from what it wrote to stderr.
fn panic_message(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let mut lines = text.lines();
    lines.find(|l| l.contains("panicked at"))?;
    lines
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

fn is_memory_trap(e: &wasmtime::Error) -> bool {
    e.chain()
        .any(|c| c.to_string().contains("forcing trap when growing memory"))
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

fn forward_output(plugin: &Plugin, request_id: &str, state: &CallState) {
    for (stream, pipe) in [("stdout", &state.stdout), ("stderr", &state.stderr)] {
        let bytes = pipe.contents();
        if bytes.is_empty() {
            continue;
        }
        for line in String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(100)
        {
            tracing::info!(plugin = %plugin.name, request_id, stream, "{line}");
        }
    }
}
