//! Evaluation (contract §6): prompts × cases × repeats, each output graded
//! by assertions, summarised and ranked per prompt.
//!
//! This layer sits beside the plugin runtime, below HTTP: it makes the
//! cases' LLM calls through the same [`Gateway`] as plugins do, and grades
//! `llm-rubric` and `grader` assertions through [`Runtime::grade`], so the
//! sandbox, deadlines and caps are the ones every plugin call has.

pub mod assertion;
mod report;
mod run;
pub mod template;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

pub use assertion::{Assertion, AssertionSpec, Check, Verdict};
pub use report::{PromptSummary, Report, rank};
pub use run::{AssertionResult, CaseError, CaseResult, EvalUsage};

use crate::llm::Gateway;
use crate::runtime::{PluginKind, Runtime};

/// Name of the grade plugin that judges `llm-rubric` assertions.
pub const RUBRIC_GRADER: &str = "llm-rubric";

/// Most prompts in one evaluation.
pub const MAX_PROMPTS: usize = 10;
/// Most cases in one evaluation.
pub const MAX_CASES: usize = 500;
/// Most repeats of each prompt × case.
pub const MAX_REPEAT: u32 = 5;
/// Most assertions on one case (its own plus the shared ones).
pub const MAX_ASSERTIONS: usize = 50;

/// Why an evaluation cannot start.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The request breaks a rule (a missing variable, a bad assertion…).
    #[error("{0}")]
    Invalid(String),
    /// An assertion names a grade plugin that is not loaded.
    #[error(
        "no grade plugin named '{name}' is loaded ({at}); GET /api/v1/plugins lists what is loaded"
    )]
    UnknownGrader {
        /// The name asked for.
        name: String,
        /// Where the assertion is.
        at: String,
    },
}

/// One prompt to evaluate.
#[derive(Debug, Clone)]
pub struct PromptSpec {
    /// Its id in the results.
    pub id: String,
    /// The prompt, with `{{variables}}`.
    pub prompt: String,
    /// Optional system prompt (variables filled too).
    pub system: Option<String>,
}

/// One test case.
#[derive(Debug, Clone)]
pub struct CaseSpec {
    /// Its id in the results.
    pub id: String,
    /// Variable values, in the order given.
    pub vars: Vec<(String, String)>,
    /// A stored output to grade instead of calling the LLM.
    pub output: Option<String>,
    /// Its own assertions (the plan's shared ones apply too).
    pub asserts: Vec<Assertion>,
}

/// A checked evaluation request.
#[derive(Debug, Clone)]
pub struct Plan {
    /// 1..=10 prompts with distinct ids.
    pub prompts: Vec<PromptSpec>,
    /// 1..=500 cases.
    pub cases: Vec<CaseSpec>,
    /// Assertions applied to every case.
    pub shared: Vec<Assertion>,
    /// Model to ask instead of the configured one.
    pub model: Option<String>,
    /// 1..=5.
    pub repeat: u32,
    /// Calls of this evaluation in flight at once (before the server cap).
    pub max_concurrency: usize,
}

impl Plan {
    /// Prompt × case × repeat items.
    pub fn len(&self) -> usize {
        self.prompts.len() * self.cases.len() * self.repeat as usize
    }

    /// True when there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn assertions(&self) -> impl Iterator<Item = (String, &Assertion)> {
        let own = self.cases.iter().enumerate().flat_map(|(i, c)| {
            c.asserts
                .iter()
                .enumerate()
                .map(move |(j, a)| (format!("cases[{i}].assert[{j}]"), a))
        });
        let shared = self
            .shared
            .iter()
            .enumerate()
            .map(|(j, a)| (format!("assert[{j}]"), a));
        own.chain(shared)
    }
}

/// Server-wide evaluation settings.
#[derive(Debug, Clone)]
pub struct EvalSettings {
    /// Calls in flight at once across every evaluation of the server
    /// (`PROMPTSCULPTOR_EVAL_MAX_CONCURRENCY`).
    pub max_concurrency: usize,
    /// Deadline of one evaluation: items not started by then are results
    /// with error `eval_timeout` (`PROMPTSCULPTOR_EVAL_TIMEOUT_SECS`).
    pub timeout: Duration,
}

struct Inner {
    runtime: Runtime,
    llm: Gateway,
    slots: Semaphore,
    settings: EvalSettings,
}

/// Runs evaluations; cheap to clone.
#[derive(Clone)]
pub struct Evaluator {
    inner: Arc<Inner>,
}

impl Evaluator {
    /// An evaluator calling the LLM through `llm` and grade plugins through `runtime`.
    pub fn new(runtime: Runtime, llm: Gateway, settings: EvalSettings) -> Evaluator {
        Evaluator {
            inner: Arc::new(Inner {
                runtime,
                llm,
                slots: Semaphore::new(settings.max_concurrency.max(1)),
                settings,
            }),
        }
    }

    /// Whether an LLM provider is configured.
    pub fn llm_configured(&self) -> bool {
        self.inner.llm.configured()
    }

    /// The server-wide cap on calls in flight.
    pub fn max_concurrency(&self) -> usize {
        self.inner.settings.max_concurrency.max(1)
    }

    /// What must hold before anything runs: every variable of every prompt
    /// has a value in every case, and every `grader` names a loaded grade
    /// plugin.
    pub fn check(&self, plan: &Plan) -> Result<(), EvalError> {
        for (pi, p) in plan.prompts.iter().enumerate() {
            let text = match &p.system {
                Some(s) => format!("{s}\n{}", p.prompt),
                None => p.prompt.clone(),
            };
            for (ci, c) in plan.cases.iter().enumerate() {
                let missing = template::missing(&text, &c.vars);
                if let Some(first) = missing.first() {
                    let all = missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Err(EvalError::Invalid(format!(
                        "prompts[{pi}] ('{}') uses {all} but cases[{ci}] ('{}') has no value for \
                         `{first}` in `vars`; nothing was run",
                        p.id, c.id
                    )));
                }
            }
        }
        let table = self.inner.runtime.table();
        for (at, a) in plan.assertions() {
            let name = match &a.check {
                Check::Grader { name, .. } => name.as_str(),
                Check::LlmRubric(_) => RUBRIC_GRADER,
                _ => continue,
            };
            if !table
                .get(name)
                .is_some_and(|p| p.kind() == PluginKind::Grade)
            {
                return Err(EvalError::UnknownGrader {
                    name: name.to_string(),
                    at,
                });
            }
        }
        Ok(())
    }
}
