//! Property tests: proptest generates prompts mixing code fences, nested
//! tags, `{{variables}}`, lists and CJK text, and every deterministic style
//! (builtins and style-pack) must keep code blocks verbatim, keep tags
//! balanced around the same inner text, keep each variable without
//! duplicating it, write no label twice and make only change notes that are
//! true of the first variant. The checkers are the structural test's own
//! (`common`), so both tests judge a variant the same way.

// A test crate: a failed unwrap, expect or panic is a failed test, and its
// helpers are not #[test] functions that clippy.toml's allow-*-in-tests cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{CHECKS, Case, all_styles, judge, run};
use proptest::prelude::*;
use proptest::sample::select;

/// The checks this test holds to a pass rate of 1: code, tags, variables,
/// labels and notes (indices into `CHECKS`).
const REQUIRED: &[usize] = &[0, 1, 4, 5, 6];

const WORDS: &[&str] = &[
    "report",
    "customer",
    "budget",
    "summary",
    "Kubernetes",
    "invoice",
    "draft",
    "table",
    "release",
    "policy",
];
const VARS: &[&str] = &["doc", "input", "article", "user_name", "notes", "文本"];
const TAGS: &[&str] = &["article", "context", "data", "example", "doc", "资料"];
const CODE_LINES: &[&str] = &[
    "def avg(xs):",
    "    return sum(xs) / len(xs)",
    "const x = {a: 1};",
    "console.log(x.a);",
    "SELECT * FROM t WHERE id = 1;",
    "# Output format: keep this line",
    "1. not a step",
    "<b>bold</b> stays",
    "print(\"Be concise. Thanks!\")",
];
const CJK: &[&str] = &[
    "请总结要点，不超过五十字。",
    "不要添加评论。",
    "你是一名经验丰富的编辑。",
    "文章の要点を三つ挙げてください。",
    "请用列表回答。",
    "请根据<资料>中的内容回答。",
    "Read the text in <doc> tags and answer briefly.",
];
const SENTENCES: &[&str] = &[
    "You are a careful data engineer.",
    "Please summarise the text for a busy manager.",
    "Do not invent facts.",
    "Output format: a numbered list.",
    "Task: rewrite the text so a child understands it.",
    "Keep names exactly as written.",
    "Hi! Thanks in advance.",
    "Compare the two drafts and recommend one.",
    "## Task\nSummarise the text.",
    "Context: we sell shoes online.",
    "Rules:\n- be brief\n- no emojis",
    "Return {\"emails\": [], \"count\": 0} and nothing else.",
    "Please could you kindly explain it?",
    "Examples:\nInput: a\nOutput: b",
    "Summarise <article>{{article}}</article> in two lines.",
    "Extract every date from {text} and list them.",
    "<outer>\n<mid>\n<inner>{{notes}}</inner>\n</mid>\nKeep it.\n</outer>",
];

/// One fragment of a prompt: English or CJK prose, a list, a fenced code
/// block, a (possibly nested) tagged section or a bare variable.
fn fragment() -> impl Strategy<Value = String> {
    let sentence = select(SENTENCES).prop_map(str::to_string);
    let cjk = select(CJK).prop_map(str::to_string);
    let with_var = (select(SENTENCES), select(VARS))
        .prop_map(|(s, v)| format!("{} Use {{{{{v}}}}}.", s.trim_end_matches('.')));
    let list = prop::collection::vec((select(WORDS), select(WORDS)), 1..4).prop_map(|items| {
        items
            .iter()
            .map(|(a, b)| format!("- Mention the {a} and the {b}."))
            .collect::<Vec<_>>()
            .join("\n")
    });
    let code = (
        select(&["python", "js", "sql", ""][..]),
        prop::collection::vec(select(CODE_LINES), 1..4),
    )
        .prop_map(|(lang, lines)| format!("```{lang}\n{}\n```", lines.join("\n")));
    let tagged = (
        select(TAGS),
        select(TAGS),
        select(VARS),
        select(WORDS),
        any::<bool>(),
    )
        .prop_map(|(outer, inner, v, w, nest)| {
            if nest && outer != inner {
                format!("<{outer}>\n<{inner}>{{{{{v}}}}}</{inner}>\nThe {w} follows.\n</{outer}>")
            } else {
                format!("<{outer}>\n{{{{{v}}}}}\n</{outer}>")
            }
        });
    let var = select(VARS).prop_map(|v| format!("{{{{{v}}}}}"));
    prop_oneof![
        3 => sentence,
        2 => cjk,
        2 => with_var,
        2 => list,
        2 => code,
        2 => tagged,
        1 => var,
    ]
}

/// A prompt of 2–5 fragments, with each variable used at most once (a
/// prompt that repeats a variable is legal, but "not duplicated" is then
/// judged against the repeat count, which the structural set already covers).
fn prompt() -> impl Strategy<Value = String> {
    (prop::collection::vec(fragment(), 2..6), any::<bool>()).prop_map(|(parts, blank)| {
        let mut seen: Vec<String> = Vec::new();
        let kept: Vec<String> = parts
            .into_iter()
            .filter(|p| {
                let vars: Vec<String> = ps_guest_util::placeholders(p)
                    .into_iter()
                    .map(|v| v.literal)
                    .collect();
                if vars.iter().any(|v| seen.contains(v)) {
                    return false;
                }
                seen.extend(vars);
                true
            })
            .collect();
        kept.join(if blank { "\n\n" } else { "\n" })
    })
}

fn language(prompt: &str) -> String {
    let ascii_words = prompt
        .split_whitespace()
        .filter(|w| w.chars().all(|c| c.is_ascii_alphabetic()))
        .count();
    if ascii_words > 0 { "en" } else { "zh" }.to_string()
}

proptest! {
    // 64 prompts × 13 styles × 3 variants runs in a few seconds
    // (PROPTEST_CASES raises it for a deeper local run); no persistence
    // file, so a run never writes into the source tree.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_style_keeps_structure_on_generated_prompts(p in prompt()) {
        let case = Case { id: "gen".into(), lang: language(&p), prompt: p };
        for style in all_styles() {
            let (variants, notes) = run(&style, &case.prompt, 3);
            let fails: Vec<String> = judge(&case, &style, &variants, &notes)
                .into_iter()
                .filter(|(c, _)| REQUIRED.contains(c))
                .map(|(c, why)| format!("[{}] {why}", CHECKS[c]))
                .collect();
            prop_assert!(
                fails.is_empty(),
                "{style} on {:?}:\n{}\nvariants: {variants:#?}\nnotes: {notes:#?}",
                case.prompt,
                fails.join("\n")
            );
        }
    }
}
