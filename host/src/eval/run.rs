//! Running a plan: a fixed set of workers takes the prompt × case × repeat
//! items in order, each under the evaluation's own concurrency and the
//! server-wide cap, and grades every output.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::assertion::{self, Check, Verdict};
use super::{Evaluator, Plan, RUBRIC_GRADER, report, template};
use crate::llm::{ChatRequest, LlmError, Message, Role};
use crate::metrics;
use crate::runtime::{CallContext, GradeInput, RuntimeError, tokens};

/// Why one item has no verdict.
#[derive(Debug)]
pub enum CaseError {
    /// The case's own LLM call failed (or no provider is configured).
    Llm(LlmError),
    /// A grade plugin failed (trap, limit, deadline, invalid result, its
    /// own LLM call).
    Grader(RuntimeError),
    /// The evaluation's deadline passed before the item started.
    Timeout {
        /// The deadline.
        secs: u64,
    },
    /// The server failed while running the item.
    Internal(String),
}

/// The verdict on one assertion of one item.
#[derive(Debug, Clone)]
pub struct AssertionResult {
    /// The assertion's type.
    pub kind: &'static str,
    /// Its verdict.
    pub verdict: Verdict,
}

/// One prompt × case × repeat.
#[derive(Debug)]
pub struct CaseResult {
    /// Index of the prompt in the plan.
    pub prompt: usize,
    /// Index of the case in the plan.
    pub case: usize,
    /// 0-based repeat.
    pub repeat: u32,
    /// The graded text; `None` when there is none (the LLM call failed).
    pub output: Option<String>,
    /// Every assertion met its threshold (false when `error` is set).
    pub pass: bool,
    /// Weight-averaged assertion score (0 when `error` is set).
    pub score: f64,
    /// One verdict per assertion graded.
    pub assertions: Vec<AssertionResult>,
    /// Time of the item's LLM call (0 for a stored output).
    pub latency: Duration,
    /// Why the item has no verdict.
    pub error: Option<CaseError>,
    /// Prompt tokens of the item's own LLM call.
    pub input_tokens: u64,
    /// Completion tokens of the item's own LLM call.
    pub output_tokens: u64,
}

/// LLM usage of a whole evaluation: the cases' calls and the judges'.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvalUsage {
    /// Chat completions made (cases and judges).
    pub llm_calls: u64,
    /// Prompt tokens billed.
    pub input_tokens: u64,
    /// Completion tokens billed.
    pub output_tokens: u64,
    /// Grade-plugin calls (`llm-rubric` and `grader`).
    pub grader_calls: u64,
    /// Model of the cases' calls, when one answered.
    pub model: Option<String>,
    /// Time spent waiting on the provider, summed over calls.
    pub llm_wait: Duration,
}

impl EvalUsage {
    fn add(&mut self, other: &EvalUsage) {
        self.llm_calls += other.llm_calls;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.grader_calls += other.grader_calls;
        self.llm_wait += other.llm_wait;
        if self.model.is_none() {
            self.model.clone_from(&other.model);
        }
    }
}

impl Evaluator {
    /// Run a checked plan (see [`Evaluator::check`]). Never fails as a
    /// whole: an item that cannot be graded is a result with an error.
    /// Dropping the future cancels the items not yet finished.
    pub async fn run(&self, plan: Arc<Plan>, ctx: &CallContext) -> report::Report {
        let total = plan.len();
        let workers = plan
            .max_concurrency
            .clamp(1, self.max_concurrency())
            .min(total.max(1));
        let next = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + self.inner.settings.timeout;
        // `max-tokens` counts with the tokenizer of the model the run asks.
        let encoding =
            tokens::encoding_for_model(plan.model.as_deref().or(self.inner.llm.default_model()));
        let mut set = JoinSet::new();
        for _ in 0..workers {
            let (this, plan, next, ctx) = (
                self.clone(),
                Arc::clone(&plan),
                Arc::clone(&next),
                ctx.clone(),
            );
            set.spawn(async move {
                let mut done = Vec::new();
                let mut usage = EvalUsage::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= plan.len() {
                        break;
                    }
                    let (r, u) = this.item(&plan, i, deadline, encoding, &ctx).await;
                    usage.add(&u);
                    done.push(r);
                }
                (done, usage)
            });
        }
        let mut results = Vec::with_capacity(total);
        let mut usage = EvalUsage::default();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((done, u)) => {
                    results.extend(done);
                    usage.add(&u);
                }
                // A worker that panicked loses only its items; they are
                // filled in below as errors, so the report stays whole.
                Err(e) => {
                    tracing::error!(request_id = %ctx.request_id, "evaluate worker failed: {e}")
                }
            }
        }
        results.sort_by_key(|r| (r.prompt, r.case, r.repeat));
        report::Report::build(&plan, results, usage)
    }

    /// Item `i` in prompt-major order: generate (or take the stored
    /// output) and grade.
    async fn item(
        &self,
        plan: &Plan,
        i: usize,
        deadline: Instant,
        encoding: &'static str,
        ctx: &CallContext,
    ) -> (CaseResult, EvalUsage) {
        let per_prompt = plan.cases.len() * plan.repeat as usize;
        let (p, rest) = (i / per_prompt, i % per_prompt);
        let (c, repeat) = (
            rest / plan.repeat as usize,
            (rest % plan.repeat as usize) as u32,
        );
        let (prompt, case) = (&plan.prompts[p], &plan.cases[c]);
        let mut result = CaseResult {
            prompt: p,
            case: c,
            repeat,
            output: None,
            pass: false,
            score: 0.0,
            assertions: Vec::new(),
            latency: Duration::ZERO,
            error: None,
            input_tokens: 0,
            output_tokens: 0,
        };
        let mut usage = EvalUsage::default();
        if Instant::now() >= deadline {
            result.error = Some(CaseError::Timeout {
                secs: self.inner.settings.timeout.as_secs(),
            });
            return done(result, usage);
        }
        // The server-wide cap: held for the whole item, so judges count too.
        let Ok(_slot) = self.inner.slots.acquire().await else {
            result.error = Some(CaseError::Llm(LlmError::Unavailable(
                "the server is shutting down".into(),
            )));
            return done(result, usage);
        };
        let text = template::fill(&prompt.prompt, &case.vars);
        let system = prompt
            .system
            .as_deref()
            .map(|s| template::fill(s, &case.vars));
        let output = match &case.output {
            Some(o) => o.clone(),
            None => {
                let request = ChatRequest {
                    system,
                    messages: vec![Message {
                        role: Role::User,
                        content: text.clone(),
                    }],
                    model: plan.model.clone(),
                    ..ChatRequest::default()
                };
                let answered = self.inner.llm.chat(request, &ctx.llm).await;
                result.latency = answered.elapsed;
                if self.inner.llm.configured() {
                    usage.llm_calls += 1;
                    usage.llm_wait += answered.elapsed;
                    usage.model = Some(answered.model);
                }
                match answered.result {
                    Ok(r) => {
                        result.input_tokens = u64::from(r.input_tokens);
                        result.output_tokens = u64::from(r.output_tokens);
                        usage.input_tokens += result.input_tokens;
                        usage.output_tokens += result.output_tokens;
                        r.text
                    }
                    Err(e) => {
                        result.error = Some(CaseError::Llm(e));
                        return done(result, usage);
                    }
                }
            }
        };
        let (mut weighted, mut weights, mut plain, mut pass) = (0.0, 0.0, 0.0, true);
        let asserts = case.asserts.iter().chain(plan.shared.iter());
        for a in asserts {
            let verdict = match assertion::grade_local(a, &output, encoding) {
                Some(v) => v,
                None => match self
                    .grade_plugin(a, &output, &text, case, ctx, &mut usage)
                    .await
                {
                    Ok(v) => v,
                    Err(e) => {
                        result.output = Some(output);
                        result.error = Some(e);
                        return done(result, usage);
                    }
                },
            };
            pass &= verdict.pass;
            weighted += verdict.score * a.weight;
            weights += a.weight;
            plain += verdict.score;
            result.assertions.push(AssertionResult {
                kind: a.check.type_name(),
                verdict,
            });
        }
        let n = result.assertions.len();
        result.score = if weights > 0.0 {
            weighted / weights
        } else if n > 0 {
            // Every weight 0: the plain mean, so the score still says something.
            plain / n as f64
        } else {
            1.0
        };
        result.pass = pass;
        result.output = Some(output);
        done(result, usage)
    }

    /// Grade with a plugin: `llm-rubric` through the judge, `grader` through
    /// the named grade plugin. The assertion passes when the score meets
    /// its threshold; the plugin's own `pass` is kept in the reason when it
    /// disagrees.
    async fn grade_plugin(
        &self,
        a: &assertion::Assertion,
        output: &str,
        prompt: &str,
        case: &super::CaseSpec,
        ctx: &CallContext,
        usage: &mut EvalUsage,
    ) -> Result<Verdict, CaseError> {
        let (name, config) = match &a.check {
            Check::LlmRubric(rubric) => {
                if !self.inner.llm.configured() {
                    return Err(CaseError::Llm(LlmError::NotConfigured));
                }
                (
                    RUBRIC_GRADER,
                    serde_json::json!({ "rubric": rubric, "threshold": a.threshold }),
                )
            }
            Check::Grader { name, config } => (name.as_str(), config.clone()),
            _ => {
                return Err(CaseError::Llm(LlmError::InvalidRequest(
                    "not a plugin assertion".into(),
                )));
            }
        };
        let input = GradeInput {
            output: output.to_string(),
            vars: case.vars.clone(),
            prompt: prompt.to_string(),
            config,
            use_llm: self.inner.llm.configured(),
        };
        usage.grader_calls += 1;
        let called = self.inner.runtime.grade(name, input, ctx).await;
        let outcome = if called.is_ok() { "ok" } else { "error" };
        ::metrics::counter!(metrics::EVAL_GRADER_CALLS, "grader" => name.to_string(), "outcome" => outcome)
            .increment(1);
        let called = called.map_err(CaseError::Grader)?;
        usage.llm_calls += u64::from(called.usage.llm_calls);
        usage.input_tokens += called.usage.input_tokens;
        usage.output_tokens += called.usage.output_tokens;
        usage.llm_wait += called.usage.llm_wait;
        let g = called.value;
        let pass = g.score >= a.threshold;
        let reason = if pass == g.pass {
            g.reason
        } else {
            format!(
                "{} (the grader's own verdict was {}; the assertion's threshold {} decides)",
                g.reason,
                if g.pass { "pass" } else { "fail" },
                a.threshold
            )
        };
        Ok(Verdict {
            pass,
            score: g.score,
            reason,
        })
    }
}

fn done(result: CaseResult, usage: EvalUsage) -> (CaseResult, EvalUsage) {
    let outcome = match (&result.error, result.pass) {
        (Some(_), _) => "error",
        (None, true) => "pass",
        (None, false) => "fail",
    };
    ::metrics::counter!(metrics::EVAL_CASES, "outcome" => outcome).increment(1);
    (result, usage)
}
