//! A finished evaluation: its results, and per prompt a summary and a rank.

use std::cmp::Ordering;
use std::time::Duration;

use super::Plan;
use super::run::{CaseError, CaseResult, EvalUsage};

/// One prompt's tally.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptSummary {
    /// Index of the prompt in the plan.
    pub prompt: usize,
    /// 1 is best.
    pub rank: usize,
    /// passed / all results.
    pub pass_rate: f64,
    /// Mean score over all results (an error scores 0).
    pub mean_score: f64,
    /// Results that passed.
    pub passed: u64,
    /// Results graded and failed.
    pub failed: u64,
    /// Results without a verdict.
    pub errors: u64,
    /// Prompt tokens of the prompt's own calls.
    pub input_tokens: u64,
    /// Completion tokens of the prompt's own calls.
    pub output_tokens: u64,
    /// Median latency of its results.
    pub latency_p50: Duration,
}

/// A finished evaluation.
#[derive(Debug)]
pub struct Report {
    /// Every item, prompt-major, then case, then repeat.
    pub results: Vec<CaseResult>,
    /// Per prompt, in the order of the plan's prompts.
    pub summary: Vec<PromptSummary>,
    /// Index of the rank-1 prompt.
    pub best: usize,
    /// LLM usage of the whole run.
    pub usage: EvalUsage,
}

impl Report {
    /// Tally `results` (which may lack items a failed worker lost: they are
    /// added as errors) and rank the prompts.
    pub fn build(plan: &Plan, mut results: Vec<CaseResult>, usage: EvalUsage) -> Report {
        if results.len() < plan.len() {
            fill_lost(plan, &mut results);
        }
        let mut summary: Vec<PromptSummary> = (0..plan.prompts.len())
            .map(|p| summarise(p, results.iter().filter(|r| r.prompt == p)))
            .collect();
        rank(&mut summary);
        let best = summary.iter().find(|s| s.rank == 1).map_or(0, |s| s.prompt);
        Report {
            results,
            summary,
            best,
            usage,
        }
    }
}

fn fill_lost(plan: &Plan, results: &mut Vec<CaseResult>) {
    let mut have = vec![false; plan.len()];
    let per_prompt = plan.cases.len() * plan.repeat as usize;
    for r in results.iter() {
        let i = r.prompt * per_prompt + r.case * plan.repeat as usize + r.repeat as usize;
        if let Some(h) = have.get_mut(i) {
            *h = true;
        }
    }
    for (i, _) in have.iter().enumerate().filter(|(_, h)| !**h) {
        let (p, rest) = (i / per_prompt, i % per_prompt);
        results.push(CaseResult {
            prompt: p,
            case: rest / plan.repeat as usize,
            repeat: (rest % plan.repeat as usize) as u32,
            output: None,
            pass: false,
            score: 0.0,
            assertions: Vec::new(),
            latency: Duration::ZERO,
            error: Some(CaseError::Internal(
                "the server failed while running this item; see its log".into(),
            )),
            input_tokens: 0,
            output_tokens: 0,
        });
    }
    results.sort_by_key(|r| (r.prompt, r.case, r.repeat));
}

fn summarise<'a>(prompt: usize, results: impl Iterator<Item = &'a CaseResult>) -> PromptSummary {
    let mut s = PromptSummary {
        prompt,
        rank: 0,
        pass_rate: 0.0,
        mean_score: 0.0,
        passed: 0,
        failed: 0,
        errors: 0,
        input_tokens: 0,
        output_tokens: 0,
        latency_p50: Duration::ZERO,
    };
    let mut latencies = Vec::new();
    let mut score_sum = 0.0;
    for r in results {
        match (&r.error, r.pass) {
            (Some(_), _) => s.errors += 1,
            (None, true) => s.passed += 1,
            (None, false) => s.failed += 1,
        }
        if r.error.is_none() {
            score_sum += r.score;
        }
        s.input_tokens += r.input_tokens;
        s.output_tokens += r.output_tokens;
        latencies.push(r.latency);
    }
    let n = s.passed + s.failed + s.errors;
    if n > 0 {
        s.pass_rate = s.passed as f64 / n as f64;
        s.mean_score = score_sum / n as f64;
    }
    latencies.sort_unstable();
    // The lower median, so p50 is always a latency some result had.
    if let Some(m) = latencies.get(latencies.len().saturating_sub(1) / 2) {
        s.latency_p50 = *m;
    }
    s
}

/// Rank by pass rate, then mean score (both higher first), then fewer
/// tokens, then the order of the prompts in the request.
pub fn rank(summary: &mut [PromptSummary]) {
    let mut order: Vec<usize> = (0..summary.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&summary[a], &summary[b]);
        y.pass_rate
            .partial_cmp(&x.pass_rate)
            .unwrap_or(Ordering::Equal)
            .then(
                y.mean_score
                    .partial_cmp(&x.mean_score)
                    .unwrap_or(Ordering::Equal),
            )
            .then((x.input_tokens + x.output_tokens).cmp(&(y.input_tokens + y.output_tokens)))
            .then(x.prompt.cmp(&y.prompt))
    });
    for (r, i) in order.into_iter().enumerate() {
        summary[i].rank = r + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(prompt: usize, pass_rate: f64, mean_score: f64, tokens: u64) -> PromptSummary {
        PromptSummary {
            prompt,
            rank: 0,
            pass_rate,
            mean_score,
            passed: 0,
            failed: 0,
            errors: 0,
            input_tokens: tokens,
            output_tokens: 0,
            latency_p50: Duration::ZERO,
        }
    }

    fn ranks(mut v: Vec<PromptSummary>) -> Vec<usize> {
        rank(&mut v);
        v.iter().map(|s| s.rank).collect()
    }

    #[test]
    fn ranking_follows_the_contracts_order_of_keys() {
        // pass rate first
        assert_eq!(
            ranks(vec![s(0, 0.5, 1.0, 1), s(1, 0.9, 0.1, 9)]),
            vec![2, 1]
        );
        // then mean score
        assert_eq!(
            ranks(vec![s(0, 0.5, 0.6, 1), s(1, 0.5, 0.7, 9)]),
            vec![2, 1]
        );
        // then fewer tokens
        assert_eq!(
            ranks(vec![s(0, 0.5, 0.7, 10), s(1, 0.5, 0.7, 9)]),
            vec![2, 1]
        );
        // then request order
        assert_eq!(
            ranks(vec![
                s(0, 0.5, 0.7, 9),
                s(1, 0.5, 0.7, 9),
                s(2, 0.5, 0.7, 9)
            ]),
            vec![1, 2, 3]
        );
    }
}
