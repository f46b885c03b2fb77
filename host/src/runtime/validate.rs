//! The host's check of what a plugin returns: a third-party strategy must
//! not be able to make the API break its contract.

use ps_guest_util::{is_variable_name, missing_placeholders};

use super::{analyzer, creator, remixer};

fn is_kebab(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Spans within the prompt, kebab-case codes, scores within 0–100.
pub fn analysis(prompt: &str, r: &analyzer::AnalyzeResponse) -> Result<(), String> {
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

/// Exactly the requested number of non-empty variants, each keeping every
/// placeholder of the input verbatim.
pub fn remix(prompt: &str, wanted: u8, r: &remixer::RemixResponse) -> Result<(), String> {
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

/// A non-empty prompt in which every requested variable appears as `{{name}}`.
pub fn creation(requested: &[String], r: &creator::CreateResponse) -> Result<(), String> {
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
