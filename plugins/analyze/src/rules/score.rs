//! 0–100 scores and top-level suggestions, derived from findings plus the
//! positive signals a good prompt shows (role, stated form, limits, examples,
//! delimited material, visible structure).

use super::checks::Signals;
use super::text::{Doc, RegionKind};
use super::{Finding, Severity};

/// Scores from 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores {
    /// Weighted summary of the other five.
    pub overall: u8,
    /// Unambiguous, non-contradictory wording.
    pub clarity: u8,
    /// Concrete amounts, limits and details.
    pub specificity: u8,
    /// Sections, delimiters, one task, sane length.
    pub structure: u8,
    /// Role, audience, background and examples.
    pub context: u8,
    /// A stated form for the answer.
    pub output_format: u8,
}

fn has(issues: &[Finding], code: &str) -> bool {
    issues.iter().any(|f| f.code == code)
}

fn clamp(v: i32) -> u8 {
    u8::try_from(v.clamp(0, 100)).unwrap_or(0)
}

/// Penalty per code for each dimension: (code, clarity, specificity, structure, context, format).
const PENALTIES: &[(&str, i32, i32, i32, i32, i32)] = &[
    ("ambiguous-reference", 25, 10, 0, 15, 0),
    ("vague-quantifier", 10, 20, 0, 0, 5),
    ("conflicting-instructions", 30, 5, 10, 0, 20),
    ("negative-only", 20, 15, 5, 0, 0),
    ("shouting", 8, 0, 5, 0, 0),
    ("multiple-tasks", 15, 5, 25, 0, 10),
    ("malformed-variable", 10, 0, 25, 0, 0),
    ("injection-risk", 5, 0, 20, 5, 0),
    ("unbounded-length", 5, 25, 0, 0, 20),
    ("missing-output-format", 5, 15, 5, 0, 45),
    ("missing-examples", 0, 10, 0, 10, 15),
    ("missing-role", 0, 5, 0, 30, 0),
    ("excessive-length", 5, 0, 25, 0, 0),
];

/// Score a prompt from its findings and signals.
pub fn scores(doc: &Doc, sig: &Signals, issues: &[Finding]) -> Scores {
    let words = doc.toks.iter().filter(|t| !t.data).count();
    let lines = doc.text.lines().filter(|l| !l.trim().is_empty()).count();
    let delimited = doc
        .regions
        .iter()
        .any(|r| matches!(r.kind, RegionKind::Tag | RegionKind::Code));
    let numbers = doc
        .toks
        .iter()
        .filter(|t| !t.data && t.lw.bytes().all(|b| b.is_ascii_digit()))
        .count();

    // Other languages get no keyword credit or blame: judge them on structure.
    let english = doc.english;
    let short = if words < 8 {
        30
    } else if words < 15 {
        18
    } else if words < 30 {
        8
    } else {
        0
    };

    let mut clarity = 100 - short / 2;
    let mut specificity = 70 - short
        + if sig.limit || !english { 15 } else { 0 }
        + if numbers > 0 { 10 } else { 0 }
        + if sig.example { 10 } else { 0 };
    let mut structure = 70
        + if lines >= 3 { 15 } else { 0 }
        + if delimited { 10 } else { 0 }
        + if words >= 15 { 5 } else { 0 }
        - if words > 60 && lines < 2 { 10 } else { 0 };
    let mut context = 35
        + if sig.role || !english { 25 } else { 0 }
        + if sig.audience { 15 } else { 0 }
        + if sig.example { 15 } else { 0 }
        + if delimited || words >= 40 { 10 } else { 0 };
    let mut format = if sig.format || !english { 85 } else { 55 }
        + if sig.limit { 10 } else { 0 }
        + if sig.example { 5 } else { 0 };

    for &(code, c, s, st, cx, f) in PENALTIES {
        if has(issues, code) {
            clarity -= c;
            specificity -= s;
            structure -= st;
            context -= cx;
            format -= f;
        }
    }
    // Codes from other plugins or the LLM critique cost a little everywhere.
    let extra = issues
        .iter()
        .filter(|f| super::standard_severity(&f.code).is_none())
        .count() as i32;
    clarity -= 3 * extra;
    specificity -= 3 * extra;

    let (clarity, specificity, structure, context, format) = (
        clamp(clarity),
        clamp(specificity),
        clamp(structure),
        clamp(context),
        clamp(format),
    );
    let weighted = (25 * i32::from(clarity)
        + 20 * i32::from(specificity)
        + 15 * i32::from(structure)
        + 20 * i32::from(context)
        + 20 * i32::from(format))
        / 100;
    let errors = issues
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count() as i32;
    // Substance: a prompt of a few words ("hi", "thoughts?") gives the model
    // almost nothing to work with, whatever it avoids getting wrong, so it
    // must rank below a real prompt that has flaws. Material (code, tags,
    // variables) counts as substance too.
    let prose: String = doc
        .toks
        .iter()
        .filter(|t| !t.data)
        .map(|t| t.raw)
        .collect::<Vec<_>>()
        .join(" ");
    let substance = i32::try_from(super::word_count(&prose)).unwrap_or(i32::MAX)
        + if delimited || doc.text.contains("{{") {
            10
        } else {
            0
        };
    let cap = 10 + 5 * substance.min(18);
    let overall = clamp((weighted - 8 * errors.min(3)).min(cap));
    Scores {
        overall,
        clarity,
        specificity,
        structure,
        context,
        output_format: format,
    }
}

/// Top-level advice: the fix of each distinct problem, most severe first.
pub fn suggestions(doc: &Doc, sig: &Signals, issues: &[Finding]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut codes: Vec<&str> = Vec::new();
    for f in issues {
        if codes.contains(&f.code.as_str()) {
            continue;
        }
        codes.push(&f.code);
        if let Some(s) = &f.suggestion
            && !out.contains(s)
        {
            out.push(s.clone());
        }
    }
    if out.is_empty() && doc.english && !sig.example {
        out.push("Consider adding one short example of the ideal answer; examples anchor format and tone.".to_string());
    }
    out.truncate(6);
    out
}
