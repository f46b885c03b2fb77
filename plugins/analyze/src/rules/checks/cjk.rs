//! multiple-tasks for Chinese and Japanese prose. The tokenizer keeps a CJK
//! run between punctuation marks as one token, which is one clause here
//! ("同时帮我规划一下去成都的三天行程", "それから来週の出張のホテルを探して").
//! A clause that opens with a sequencing word ("同时", "另外", "それから",
//! "あと") and asks for an action starts a new task; three tasks, none of
//! which points back at an earlier one ("它", "それ"), are unrelated jobs.

// The family shares the parent's signals, helpers and sibling tables.
use super::*;

/// Words that open the next request in a list of requests.
const CONNECTORS: &[&str] = &[
    "然后",
    "同时",
    "另外",
    "还有",
    "再",
    "此外",
    "接着",
    "之后",
    "最后",
    "顺便",
    "以及",
    "并且",
    "还要",
    "それから",
    "あと",
    "また",
    "さらに",
    "次に",
    "その後",
    "そして",
    "ついでに",
    "最後に",
];

/// Connectors that add a further, separate request ("另外", "あと"); "然后"
/// and "最后" only order steps, which are often one pipeline.
const ADDING: &[&str] = &[
    "同时",
    "另外",
    "还有",
    "此外",
    "顺便",
    "以及",
    "还要",
    "あと",
    "また",
    "さらに",
    "ついでに",
];

/// Markers that a clause asks for something: request forms and common
/// action verbs.
const ACTION: &[&str] = &[
    "请",
    "帮",
    "写",
    "翻译",
    "推荐",
    "规划",
    "起",
    "总结",
    "列出",
    "做",
    "给",
    "找",
    "查",
    "改",
    "设计",
    "计划",
    "介绍",
    "て",
    "てください",
    "ください",
    "考え",
    "探し",
    "書い",
    "作っ",
    "翻訳",
    "要約",
    "教え",
];

/// Words that point back at an earlier clause's object or result.
const BACK: &[&str] = &[
    "它", "它们", "这些", "这个", "其", "上述", "结果", "それ", "これ", "その", "結果",
];

/// Clause `t` asks for an action.
fn acts(t: &str) -> bool {
    ACTION.iter().any(|m| t.contains(m))
}

pub(super) fn cjk_multiple_tasks(doc: &Doc, out: &mut Vec<Raw>) {
    // Steps around delimited or templated material are usually a pipeline
    // over that material (summarise it, then list points, then title it).
    if !doc.regions.is_empty() || doc.text.contains("{{") {
        return;
    }
    let clauses: Vec<&Tok> = doc
        .toks
        .iter()
        .filter(|t| !t.data && t.raw.chars().any(ps_guest_util::prompt::is_cjk))
        .collect();
    let Some(first) = clauses.iter().position(|t| acts(t.raw)) else {
        return;
    };
    let mut tasks = vec![clauses[first]];
    let mut adding = false;
    for t in &clauses[first + 1..] {
        let Some(rest) = CONNECTORS.iter().find_map(|c| t.raw.strip_prefix(c)) else {
            continue;
        };
        if !acts(rest) {
            continue;
        }
        if BACK.iter().any(|b| rest.contains(b)) {
            // A step on the same material ("然后把它翻译成英文") is one job.
            return;
        }
        adding |= ADDING.iter().any(|c| t.raw.starts_with(c));
        tasks.push(t);
    }
    if tasks.len() < 3 || !adding {
        return;
    }
    let a = tasks[0].start;
    let b = tasks[tasks.len() - 1].end;
    let shown: Vec<String> = tasks
        .iter()
        .map(|t| t.raw.chars().take(12).collect())
        .collect();
    out.push(Raw::new(
        "multiple-tasks",
        Some((a, b)),
        format!(
            "The prompt packs {} unrelated tasks into one request ({}).",
            tasks.len(),
            shown.join(" / ")
        ),
        "Send each task as its own prompt, or say how they relate and which one matters most.",
    ));
}
