//! What the request already fixes about the answer, so the template's
//! defaults never contradict it: a length the user set ("max 120 words",
//! "in 3 sentences", "不超过100字"), a structure the user asked for (bullets,
//! a table, JSON), a form with its own length (a haiku, a tweet), and the
//! language the goal is written in.

use ps_guest_util::prompt::{is_cjk, language};

/// Units a number can bound. Matched as word prefixes, so "sentences" and
/// "bullet points" are covered by "sentence" and "bullet".
const LENGTH_UNITS: &[&str] = &[
    "word",
    "sentence",
    "paragraph",
    "line",
    "character",
    "char",
    "bullet",
    "point",
    "item",
    "idea",
    "token",
    "page",
    "syllable",
    "step",
    "tip",
    "example",
    "question",
    "option",
    "reason",
];

const NUMBER_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "fifteen", "twenty", "single", "a",
];

/// Units that "a" bounds on its own ("in a sentence", "a paragraph").
const A_UNITS: &[&str] = &["sentence", "paragraph", "line"];

/// CJK length units: 字 (characters), 句 (sentences), 段 (paragraphs), 行
/// (lines). Counters such as 个 are left out: "一个介绍" is "an
/// introduction", not a length.
const CJK_UNITS: &[char] = &['字', '句', '段', '行'];

/// Words that state the answer's structure.
const STRUCTURE_WORDS: &[&str] = &[
    "bullet",
    "bulleted",
    "list",
    "table",
    "json",
    "yaml",
    "csv",
    "markdown",
    "heading",
    "headings",
    "paragraph",
    "paragraphs",
    "prose",
    "numbered",
];

/// Forms that carry their own length and shape; a default word bound or
/// "finished text" format beside them would contradict the form.
const FORMS: &[(&str, &str)] = &[
    ("haiku", "haiku"),
    ("haikus", "haiku"),
    ("limerick", "limerick"),
    ("limericks", "limerick"),
    ("sonnet", "sonnet"),
    ("sonnets", "sonnet"),
    ("tweet", "tweet"),
    ("tweets", "tweet"),
    ("tagline", "tagline"),
    ("taglines", "tagline"),
    ("slogan", "slogan"),
    ("slogans", "slogan"),
    ("headline", "headline"),
    ("headlines", "headline"),
    ("title", "title"),
    ("titles", "title"),
    ("couplet", "couplet"),
    ("acrostic", "acrostic"),
    ("one-liner", "one-liner"),
    ("epigram", "epigram"),
    ("motto", "motto"),
];

/// True when `text` sets a length: a number (digits or a number word)
/// followed within two words by a unit, or a CJK number before a CJK unit.
pub(crate) fn states_length(text: &str) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let is_number = |w: &str| {
        w.chars().all(|c| c.is_ascii_digit())
            || NUMBER_WORDS.contains(&w)
            || w.split('-')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    };
    let numbered_unit = words.iter().enumerate().any(|(i, w)| {
        is_number(w)
            && words
                .iter()
                .skip(i + 1)
                .take(2)
                .any(|u| LENGTH_UNITS.iter().any(|unit| u.starts_with(unit)))
            // "a list" is not a length: a bare "a" counts only right
            // before "sentence", "paragraph" or "line".
            && (*w != "a" || words.get(i + 1).is_some_and(|u| A_UNITS.iter().any(|unit| u.starts_with(unit))))
    });
    numbered_unit
        || cjk_length(text)
        || lower.contains("one-line")
        || lower.contains("one-sentence")
}

/// "不超过100字", "三句话", "5行以内": a digit or CJK numeral right before a
/// CJK unit.
fn cjk_length(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(2).any(|w| {
        let numeral = w[0].is_ascii_digit() || "一二两三四五六七八九十百千".contains(w[0]);
        numeral && CJK_UNITS.contains(&w[1])
    })
}

/// True when `text` asks for a structure (a list, a table, JSON …).
pub(crate) fn states_structure(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| STRUCTURE_WORDS.contains(&w))
        || ["列表", "表格", "要点", "箇条書き", "表で"]
            .iter()
            .any(|k| text.contains(k))
}

/// The fixed form the goal names, if any ("Write a haiku" → "haiku").
pub(crate) fn named_form(goal: &str) -> Option<&'static str> {
    let lower = goal.to_lowercase();
    lower
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .find_map(|w| FORMS.iter().find(|(k, _)| *k == w).map(|(_, f)| *f))
}

/// A goal language other than English: its English name and a sentence in
/// that language asking for an answer in it. Scaffolding stays English (the
/// model reads it either way), but the answer language is stated in the
/// user's own language so the model does not drift into English.
pub(crate) struct Language {
    pub(crate) name: &'static str,
    pub(crate) native: &'static str,
}

/// The goal's language when it is not English; `None` for English goals.
pub(crate) fn goal_language(goal: &str) -> Option<Language> {
    let (name, native) = match language(goal) {
        "zh" => ("Chinese", "请用中文回答。"),
        "ja" => ("Japanese", "日本語で回答してください。"),
        "ko" => ("Korean", "한국어로 답변해 주세요."),
        "de" => ("German", "Antworte auf Deutsch."),
        "es" => ("Spanish", "Responde en español."),
        "fr" => ("French", "Réponds en français."),
        _ => return None,
    };
    Some(Language { name, native })
}

/// True when `s` ends in a CJK character, so a sentence mark added after it
/// is `。`, not an ASCII full stop.
pub(crate) fn ends_cjk(s: &str) -> bool {
    s.trim_end().chars().next_back().is_some_and(is_cjk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_recognised_in_several_phrasings() {
        for t in [
            "max 120 words",
            "Keep it under 50 words.",
            "Answer in 3 sentences",
            "at most five bullet points",
            "a 2-3 paragraph reply",
            "Write a one-line summary",
            "不超过100字",
            "用三句话总结",
            "in a single sentence",
        ] {
            assert!(states_length(t), "{t}");
        }
        for t in [
            "Use a friendly tone",
            "Write a poem about autumn",
            "Summarize the report",
            "Quote the clause behind each claim",
            "Make a list",
        ] {
            assert!(!states_length(t), "{t}");
        }
    }

    #[test]
    fn forms_and_structures() {
        assert_eq!(named_form("Write a haiku about autumn"), Some("haiku"));
        assert_eq!(named_form("Five taglines for a bakery"), Some("tagline"));
        assert_eq!(named_form("Summarize the report"), None);
        assert!(states_structure("Use a table with two columns"));
        assert!(states_structure("请用列表回答"));
        assert!(!states_structure("Be polite"));
    }

    #[test]
    fn languages_other_than_english_are_named() {
        let zh = goal_language("为我们的新产品写一段介绍");
        assert_eq!(zh.as_ref().map(|l| l.name), Some("Chinese"));
        assert!(goal_language("Summarize the report for the board").is_none());
        assert_eq!(
            goal_language("Schreibe eine Einladung für das Team und die Kunden").map(|l| l.name),
            Some("German")
        );
    }
}
