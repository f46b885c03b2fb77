//! The host's check of what a plugin returns: a third-party strategy must
//! not be able to make the API break its contract.

use ps_guest_util::{is_variable_name, missing_placeholders};

use super::{analyzer, creator, grader, remixer};

/// Largest result the host accepts from one plugin call, measured as the
/// bytes of its strings plus a fixed overhead per list element (roughly
/// what the JSON answer will weigh). A plugin may allocate up to its memory
/// cap; without this bound it could make the host serialize and send
/// answers of that size to every client, and a flood of tiny items weighs
/// as much as one giant string.
pub const MAX_RESULT_BYTES: usize = 8 * 1024 * 1024;

/// JSON weight of one issue besides its strings (`{"code":…,"severity":…}`).
const ISSUE_OVERHEAD: usize = 96;
/// JSON weight of one string in a list besides its bytes (quotes, comma).
const ITEM_OVERHEAD: usize = 4;

fn strings_size<'a>(items: impl IntoIterator<Item = &'a String>) -> usize {
    items
        .into_iter()
        .map(|s| s.len().saturating_add(ITEM_OVERHEAD))
        .fold(0, usize::saturating_add)
}

fn check_size(size: usize) -> Result<(), String> {
    if size > MAX_RESULT_BYTES {
        return Err(format!(
            "the result weighs about {} KiB, above the host's cap of {} KiB",
            size / 1024,
            MAX_RESULT_BYTES / 1024
        ));
    }
    Ok(())
}

/// Approximate JSON size of an analysis.
fn analysis_size(r: &analyzer::AnalyzeResponse) -> usize {
    let issues = r
        .issues
        .iter()
        .map(|i| {
            ISSUE_OVERHEAD
                .saturating_add(i.code.len())
                .saturating_add(i.message.len())
                .saturating_add(i.suggestion.as_ref().map_or(0, String::len))
        })
        .fold(0, usize::saturating_add);
    issues
        .saturating_add(strings_size(&r.suggestions))
        .saturating_add(strings_size(&r.stats.variables))
        .saturating_add(r.stats.tokenizer.len())
}

fn is_kebab(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Within [`MAX_RESULT_BYTES`], spans within the prompt, kebab-case codes,
/// scores within 0–100.
pub fn analysis(prompt: &str, r: &analyzer::AnalyzeResponse) -> Result<(), String> {
    check_size(analysis_size(r))?;
    let chars = prompt.chars().count() as u64;
    for issue in &r.issues {
        if !is_kebab(&issue.code) {
            return Err(format!("issue code '{}' is not kebab-case", issue.code));
        }
        if issue.message.trim().is_empty() {
            return Err(format!("issue '{}' has an empty message", issue.code));
        }
        if let Some(span) = &issue.span
            && (span.start > span.end || u64::from(span.end) > chars)
        {
            return Err(format!(
                "issue '{}' has span {}..{} outside the prompt's {chars} characters",
                issue.code, span.start, span.end
            ));
        }
    }
    let s = &r.scores;
    for (name, v) in [
        ("overall", s.overall),
        ("clarity", s.clarity),
        ("specificity", s.specificity),
        ("structure", s.structure),
        ("context", s.context),
        ("output_format", s.output_format),
    ] {
        if v > 100 {
            return Err(format!("score {name} is {v}, above 100"));
        }
    }
    Ok(())
}

/// Within [`MAX_RESULT_BYTES`]; exactly the requested number of non-empty
/// variants, each keeping every
/// placeholder of the input verbatim.
pub fn remix(prompt: &str, wanted: u8, r: &remixer::RemixResponse) -> Result<(), String> {
    check_size(strings_size(&r.variants).saturating_add(strings_size(&r.changes)))?;
    if r.variants.len() != usize::from(wanted) {
        return Err(format!(
            "asked for {wanted} variants, got {}",
            r.variants.len()
        ));
    }
    for (i, v) in r.variants.iter().enumerate() {
        if v.trim().is_empty() {
            return Err(format!("variant {i} is empty"));
        }
        let missing = missing_placeholders(prompt, v);
        if !missing.is_empty() {
            return Err(format!(
                "variant {i} dropped template variables: {}",
                missing.join(", ")
            ));
        }
    }
    Ok(())
}

/// Within [`MAX_RESULT_BYTES`]; a non-empty prompt in which every requested
/// variable appears as `{{name}}`.
pub fn creation(requested: &[String], r: &creator::CreateResponse) -> Result<(), String> {
    check_size(
        [&r.prompt, &r.rationale]
            .into_iter()
            .chain(r.system.as_ref())
            .chain(&r.variables)
            .map(|s| s.len().saturating_add(ITEM_OVERHEAD))
            .fold(0, usize::saturating_add),
    )?;
    if r.prompt.trim().is_empty() {
        return Err("the created prompt is empty".into());
    }
    let system = r.system.as_deref().unwrap_or("");
    for name in requested {
        if !is_variable_name(name) {
            continue;
        }
        let used = ps_guest_util::placeholders(&r.prompt)
            .into_iter()
            .chain(ps_guest_util::placeholders(system))
            .any(|p| p.double && &p.name == name);
        if !used {
            return Err(format!(
                "requested variable '{name}' does not appear as {{{{{name}}}}}"
            ));
        }
    }
    Ok(())
}

/// Longest reason a grade plugin may give, in characters: a sentence or
/// two, repeated for every case of an evaluation run.
pub const MAX_GRADE_REASON_CHARS: usize = 2_000;

/// A finite score within 0..=1 and a reason of at most
/// [`MAX_GRADE_REASON_CHARS`] characters.
pub fn grade(r: &grader::GradeResult) -> Result<(), String> {
    if !r.score.is_finite() || !(0.0..=1.0).contains(&r.score) {
        return Err(format!("score {} is not a number within 0..=1", r.score));
    }
    let chars = r.reason.chars().count();
    if chars > MAX_GRADE_REASON_CHARS {
        return Err(format!(
            "the reason has {chars} characters; at most {MAX_GRADE_REASON_CHARS} are allowed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graded(score: f64, reason: &str) -> grader::GradeResult {
        grader::GradeResult {
            pass: true,
            score,
            reason: reason.into(),
        }
    }

    #[test]
    fn a_grade_needs_a_finite_score_within_0_to_1_and_a_short_reason() {
        for ok in [0.0, 0.5, 1.0] {
            assert_eq!(grade(&graded(ok, "fine")), Ok(()));
        }
        for bad in [-0.01, 1.01, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = grade(&graded(bad, "fine")).unwrap_err();
            assert!(err.contains("within 0..=1"), "{bad}: {err}");
        }
        // The cap counts characters, not bytes.
        assert_eq!(
            grade(&graded(1.0, &"é".repeat(MAX_GRADE_REASON_CHARS))),
            Ok(())
        );
        let err = grade(&graded(1.0, &"x".repeat(MAX_GRADE_REASON_CHARS + 1))).unwrap_err();
        assert!(err.contains("at most 2000"), "{err}");
    }

    fn analysis_with(suggestions: Vec<String>, issues: usize) -> analyzer::AnalyzeResponse {
        analyzer::AnalyzeResponse {
            scores: analyzer::Scores {
                overall: 1,
                clarity: 1,
                specificity: 1,
                structure: 1,
                context: 1,
                output_format: 1,
            },
            issues: vec![
                analyzer::Issue {
                    code: "x".into(),
                    severity: analyzer::Severity::Info,
                    message: "m".into(),
                    span: None,
                    suggestion: None,
                };
                issues
            ],
            suggestions,
            stats: analyzer::Stats {
                chars: 0,
                words: 0,
                tokens: 0,
                tokenizer: "o200k_base".into(),
                variables: Vec::new(),
            },
        }
    }

    #[test]
    fn results_over_the_size_cap_are_refused() {
        let small = analysis_with(vec!["s".repeat(1 << 20); 7], 10);
        assert_eq!(analysis("p", &small), Ok(()));
        let giant = analysis_with(vec!["s".repeat(1 << 20); 9], 0);
        let err = analysis("p", &giant).expect_err("9 MiB refused");
        assert!(err.contains("cap"), "{err}");
        // A flood of tiny items weighs as much as one big string.
        let swarm = analysis_with(Vec::new(), 100_000);
        assert!(analysis("p", &swarm).is_err());

        let remix_ok = remixer::RemixResponse {
            variants: vec!["v".repeat(1 << 20)],
            changes: Vec::new(),
        };
        assert_eq!(remix("p", 1, &remix_ok), Ok(()));
        let remix_big = remixer::RemixResponse {
            variants: vec!["v".repeat(3 << 20); 3],
            changes: Vec::new(),
        };
        assert!(remix("p", 3, &remix_big).is_err());

        let create_big = creator::CreateResponse {
            prompt: "p".into(),
            system: Some("s".repeat(9 << 20)),
            variables: Vec::new(),
            rationale: String::new(),
        };
        assert!(creation(&[], &create_big).is_err());
    }
}
