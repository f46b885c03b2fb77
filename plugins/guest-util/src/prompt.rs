//! The one prompt parser every built-in plugin uses (analyze, remix, create
//! and the style-pack, through the SDK's re-export).
//!
//! A prompt is *masked*: every span that must never be edited — template
//! placeholders, fenced and inline code, JSON-like brace groups, quoted
//! strings and tagged sections (`<article>…</article>`, nesting included) —
//! becomes one opaque token, so sentence splitting and phrase rewriting
//! cannot reach inside it and a transform moves it whole. What is left is
//! editable text, split into sentences by [`split_sentences`], which knows
//! CJK sentence marks and common abbreviations.

use crate::placeholders;

/// Start of a masked span; from the Unicode private-use area so it never
/// collides with ordinary prompt text.
pub const OPEN: char = '\u{E000}';
/// End of a masked span.
pub const CLOSE: char = '\u{E001}';

/// A text whose protected spans are replaced by opaque tokens.
#[derive(Debug, Clone)]
pub struct Masked {
    /// The text with every protected span replaced by a token.
    pub text: String,
    slots: Vec<String>,
}

impl Masked {
    /// Put the protected spans back into `s` (a piece of [`Masked::text`],
    /// possibly edited).
    pub fn unmask(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(pos) = rest.find(OPEN) {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + OPEN.len_utf8()..];
            let restored = after.find(CLOSE).and_then(|end| {
                let idx: usize = after[..end].parse().ok()?;
                let slot = self.slots.get(idx)?;
                Some((slot, end))
            });
            match restored {
                Some((slot, end)) => {
                    out.push_str(slot);
                    rest = &after[end + CLOSE.len_utf8()..];
                }
                None => {
                    out.push(OPEN);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

fn push_slot(out: &mut String, slots: &mut Vec<String>, span: &str) {
    out.push(OPEN);
    out.push_str(&slots.len().to_string());
    out.push(CLOSE);
    slots.push(span.to_string());
}

/// Byte length of a balanced `{…}` group starting at `start`, if it closes
/// within a sane distance (an unbalanced brace is left as ordinary text).
fn brace_group_len(text: &str, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (off, c) in text[start..].char_indices() {
        if off > 20_000 {
            return None;
        }
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(off + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Byte length of a span from `start` (an opening delimiter of `open_len`
/// bytes) to the first `close` on the same line, within `limit` bytes.
fn same_line_span(
    text: &str,
    start: usize,
    open_len: usize,
    close: char,
    limit: usize,
) -> Option<usize> {
    let body = &text[start + open_len..];
    for (off, c) in body.char_indices() {
        if c == '\n' || off > limit {
            return None;
        }
        if c == close {
            return Some(open_len + off + c.len_utf8());
        }
    }
    None
}

/// Byte length of the tagged section opening at `start` (`<name>` up to its
/// matching `</name>`, same-name nesting counted). A tag mentioned in prose
/// ("the text in <doc> tags") is followed by a space or punctuation and is
/// not a section, so it never swallows the text up to a later `</doc>`.
fn tag_section_len(text: &str, start: usize) -> Option<usize> {
    let rest = &text[start + 1..];
    let gt = rest.find('>')?;
    let name = &rest[..gt];
    let valid = !name.is_empty()
        && name.chars().count() <= 40
        && name.chars().next().is_some_and(char::is_alphabetic)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    if !valid {
        return None;
    }
    let after = &rest[gt + 1..];
    let content_follows = after
        .chars()
        .next()
        .is_some_and(|c| c == '\n' || c == '{' || c == '<' || c.is_alphanumeric());
    if !content_follows {
        return None;
    }
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    // A section that spans lines starts a line; mid-line, only a pair closed
    // on the same line counts ("请根据<数据>中的数据" mentions the tag in CJK
    // prose, which has no space after it).
    let line_start = text[..start]
        .rsplit('\n')
        .next()
        .is_none_or(|before| before.trim().is_empty());
    if !line_start {
        let line = after.split('\n').next().unwrap_or("");
        if !line.contains(&close) {
            return None;
        }
    }
    let mut depth = 1usize;
    let mut pos = 0;
    while pos < after.len() && pos < 50_000 {
        let next_close = after[pos..].find(&close)?;
        let opens = after[pos..pos + next_close].matches(&open).count();
        depth += opens;
        depth -= 1;
        pos += next_close + close.len();
        if depth == 0 {
            return Some(1 + gt + 1 + pos);
        }
    }
    None
}

/// Mask placeholders, tagged sections, code fences, inline code, brace
/// groups and quoted strings of `text`.
pub fn mask(text: &str) -> Masked {
    let phs = placeholders(text);
    let mut out = String::with_capacity(text.len());
    let mut slots = Vec::new();
    let mut pi = 0;
    let mut i = 0;
    while i < text.len() {
        while pi < phs.len() && phs[pi].start < i {
            pi += 1;
        }
        if let Some(p) = phs.get(pi)
            && p.start == i
        {
            push_slot(&mut out, &mut slots, &text[p.start..p.end]);
            i = p.end;
            continue;
        }
        let rest = &text[i..];
        let Some(c) = rest.chars().next() else { break };
        let span = if c == '<' {
            tag_section_len(text, i)
        } else if let Some(after) = rest.strip_prefix("```") {
            // A fence runs to the closing fence (or the end of the text).
            Some(after.find("```").map_or(rest.len(), |e| e + 6))
        } else {
            match c {
                '`' => same_line_span(text, i, 1, '`', 400),
                '{' => brace_group_len(text, i),
                '"' => same_line_span(text, i, 1, '"', 400),
                '\u{201C}' => same_line_span(text, i, c.len_utf8(), '\u{201D}', 400),
                _ => None,
            }
        };
        match span {
            Some(len) => {
                push_slot(&mut out, &mut slots, &text[i..i + len]);
                i += len;
            }
            None => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    Masked { text: out, slots }
}

/// True when `s` holds only mask tokens, whitespace and light punctuation —
/// e.g. a line that is nothing but `{{document}}`.
pub fn is_only_slots(s: &str) -> bool {
    let mut saw_slot = false;
    let mut in_slot = false;
    for c in s.chars() {
        match c {
            OPEN => {
                in_slot = true;
                saw_slot = true;
            }
            CLOSE => in_slot = false,
            _ if in_slot => {}
            c if c.is_whitespace() || ",;:-.\"'()[]<>".contains(c) => {}
            _ => return false,
        }
    }
    saw_slot
}

/// Number of words outside mask tokens. Each CJK ideograph or kana counts
/// as one word (as UAX #29 segments them), so a Chinese sentence is not
/// "one word".
pub fn word_count(s: &str) -> usize {
    let plain = strip_slots(s);
    let cjk = plain.chars().filter(|c| is_cjk(*c)).count();
    let spaced = plain
        .split(|c: char| c.is_whitespace() || is_cjk(c) || is_cjk_punct(c))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    cjk + spaced
}

/// `s` with every mask token replaced by a space (the editable text only).
pub fn strip_slots(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_slot = false;
    for c in s.chars() {
        match c {
            OPEN => {
                in_slot = true;
                out.push(' ');
            }
            CLOSE => in_slot = false,
            _ if in_slot => {}
            c => out.push(c),
        }
    }
    out
}

const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "vs", "dr", "mr", "mrs", "ms", "no", "fig", "approx", "incl", "etc", "cf", "st",
    "jr", "sr", "prof", "inc", "ltd", "co", "eg", "ie", "al",
];

/// Split a line of masked text into sentences; every byte of the line lands
/// in exactly one sentence (whitespace between them aside).
pub fn split_sentences(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (pos, c) = chars[k];
        let cjk = matches!(c, '。' | '！' | '？');
        if matches!(c, '.' | '!' | '?') || cjk {
            let mut j = k + 1;
            while j < chars.len()
                && matches!(
                    chars[j].1,
                    '.' | '!' | '?' | ')' | '"' | '\'' | '’' | '”' | '。'
                )
            {
                j += 1;
            }
            let end = chars.get(j).map_or(line.len(), |&(p, _)| p);
            let boundary = if cjk {
                true
            } else {
                let next_ws = chars.get(j).is_none_or(|&(_, n)| n.is_whitespace());
                let word: String = line[start..pos]
                    .rsplit(char::is_whitespace)
                    .next()
                    .unwrap_or("")
                    .trim_start_matches(['(', '"', '\''])
                    .to_lowercase();
                let abbrev = c == '.'
                    && (ABBREVIATIONS.contains(&word.as_str())
                        || (word.chars().count() == 1 && word.chars().all(char::is_alphabetic)));
                next_ws && !abbrev
            };
            if boundary {
                let s = line[start..end].trim();
                if !s.is_empty() {
                    out.push(s);
                }
                start = end;
            }
            k = j;
            continue;
        }
        let _ = pos;
        k += 1;
    }
    let s = line[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

/// A variable name as an XML tag or label (`user-input` → `user_input`,
/// `2nd` → `var_2nd`, `文章` → `文章`): letters and digits kept (ASCII
/// lowercased), anything else `_`, and a name that would not start with a
/// letter or `_` is prefixed with `var_`, so the result is a valid XML name.
/// Every plugin names a variable's tag this way, so the analyzer's advice
/// and the remix styles' output agree.
pub fn tag_name(name: &str) -> String {
    let mut t: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if !t.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        t.insert_str(0, "var_");
    }
    t
}

/// A Han ideograph, kana or Hangul syllable.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF)
}

/// Full-width CJK punctuation (sentence marks, commas, brackets).
pub fn is_cjk_punct(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF5B..=0xFF65)
}

/// True when `s` is mostly CJK text (more CJK characters than Latin letters).
pub fn is_cjk_text(s: &str) -> bool {
    let cjk = s.chars().filter(|c| is_cjk(*c)).count();
    let latin = s.chars().filter(char::is_ascii_alphabetic).count();
    cjk > 0 && cjk * 3 >= latin
}

/// Join sentences back into a line: a space between Latin sentences, nothing
/// after a CJK sentence mark (Chinese and Japanese put no space there).
pub fn join_sentences<S: AsRef<str>>(parts: &[S]) -> String {
    let mut out = String::new();
    for p in parts {
        let p = p.as_ref().trim();
        if p.is_empty() {
            continue;
        }
        let glue = out
            .chars()
            .next_back()
            .is_some_and(|c| !(is_cjk_punct(c) || is_cjk(c)));
        if glue {
            out.push(' ');
        }
        out.push_str(p);
    }
    out
}

/// End a sentence with terminal punctuation unless it has some already, ends
/// in a block (fence, tag, list). CJK text (a CJK last character, or a
/// placeholder closing mostly-CJK text) gets `。`, never an ASCII full stop.
pub fn terminate(s: &str) -> String {
    let t = s.trim_end();
    let Some(last) = t.chars().next_back() else {
        return String::new();
    };
    let done = matches!(
        last,
        '.' | '!' | '?' | ':' | ';' | '`' | '>' | '"' | '\u{201D}' | CLOSE
    ) || is_cjk_punct(last)
        || t.contains('\n');
    if done {
        t.to_string()
    } else if is_cjk(last) || (last == '}' && is_cjk_text(t)) {
        format!("{t}\u{3002}")
    } else {
        format!("{t}.")
    }
}

/// The language of `text` among a few common ones, by script and function
/// words; `"en"` when nothing else is recognised. Used to keep scaffolding in
/// the prompt's own language (or to neutral structure) instead of English.
pub fn language(text: &str) -> &'static str {
    let kana = text
        .chars()
        .filter(|c| matches!(*c as u32, 0x3040..=0x30FF))
        .count();
    if kana > 0 {
        return "ja";
    }
    if text.chars().any(|c| matches!(c as u32, 0xAC00..=0xD7AF)) {
        return "ko";
    }
    if is_cjk_text(text) {
        return "zh";
    }
    const WORDS: &[(&str, &[&str])] = &[
        (
            "en",
            &[
                "the", "and", "you", "your", "of", "to", "is", "with", "for", "write", "please",
            ],
        ),
        (
            "de",
            &[
                "der", "die", "das", "und", "du", "ist", "nicht", "mit", "ein", "eine", "zu",
                "den", "bitte", "sie",
            ],
        ),
        (
            "es",
            &[
                "el", "la", "los", "las", "y", "eres", "que", "en", "por", "para", "una", "del",
                "con", "no",
            ],
        ),
        (
            "fr",
            &[
                "le", "la", "les", "et", "tu", "vous", "est", "une", "des", "du", "pour", "avec",
                "en", "pas",
            ],
        ),
    ];
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let mut best = ("en", 0usize);
    for (lang, list) in WORDS {
        let hits = words.iter().filter(|w| list.contains(w)).count();
        if hits > best.1 {
            best = (lang, hits);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_names_are_valid_xml_names() {
        assert_eq!(tag_name("user-input"), "user_input");
        assert_eq!(tag_name("Article"), "article");
        assert_eq!(tag_name("2nd"), "var_2nd");
        assert_eq!(tag_name(""), "var_");
        assert_eq!(tag_name("文章"), "文章");
        assert_eq!(tag_name("_x"), "_x");
    }

    #[test]
    fn tagged_sections_are_one_slot_and_prose_mentions_are_not() {
        let t = "Read the text in <doc> tags.\n<doc>\n<p>{{body}}</p>\n</doc>\nThen stop.";
        let m = mask(t);
        assert_eq!(m.unmask(&m.text), t);
        assert!(m.text.contains("<doc> tags"));
        assert!(!m.text.contains("</doc>"));
        assert!(!m.text.contains("{{body}}"));
    }

    #[test]
    fn a_tag_named_in_cjk_prose_is_not_a_section() {
        let t = "请根据<数据>中的销售数据回答。\n\n<数据>\n{{sales}}\n</数据>";
        let m = mask(t);
        assert!(m.text.starts_with("请根据<数据>中的销售数据回答。"));
        assert!(!m.text.contains("</数据>"));
    }

    #[test]
    fn nested_same_name_tags_close_at_the_outer_close() {
        let t = "<a>x <a>y</a> z</a> after";
        let m = mask(t);
        assert_eq!(m.text.matches(OPEN).count(), 1);
        assert!(m.text.ends_with(" after"));
    }

    #[test]
    fn cjk_sentences_split_and_rejoin_without_spaces() {
        let m = mask("请总结{{doc}}。不要添加评论。");
        let s = split_sentences(&m.text);
        assert_eq!(s.len(), 2);
        assert_eq!(
            m.unmask(&join_sentences(&s)),
            "请总结{{doc}}。不要添加评论。"
        );
    }

    #[test]
    fn terminate_respects_script_and_placeholders() {
        assert_eq!(terminate("不要添加评论"), "不要添加评论。");
        assert_eq!(terminate("Fasse {{artikel}}"), "Fasse {{artikel}}.");
        assert_eq!(terminate("请总结{{doc}}"), "请总结{{doc}}。");
        assert_eq!(terminate("Write a poem"), "Write a poem.");
    }

    #[test]
    fn word_count_counts_ideographs() {
        assert_eq!(word_count("你好世界"), 4);
        assert_eq!(word_count("Hello big world"), 3);
    }

    #[test]
    fn languages() {
        assert_eq!(
            language("Du bist ein Redakteur und fasst den Text zusammen."),
            "de"
        );
        assert_eq!(
            language("Eres un asistente de viajes para la ciudad."),
            "es"
        );
        assert_eq!(
            language("Tu es un professeur et tu expliques le texte."),
            "fr"
        );
        assert_eq!(language("你是一名编辑。"), "zh");
        assert_eq!(language("あなたは先生です。"), "ja");
        assert_eq!(language("Summarise the text for me."), "en");
    }
}
