//! concise: filler phrases and pleasantries removed, sentences kept.

use super::*;

// ---------------------------------------------------------------- concise

/// Filler phrases and their shorter replacements, longest first so a longer
/// phrase wins over its own prefix.
pub(super) const FILLERS: &[(&str, &str)] = &[
    ("i was wondering if you could ", ""),
    ("it would be great if you could ", ""),
    ("it would be nice if you could ", ""),
    ("i would really appreciate it if you could ", ""),
    ("i would appreciate it if you could ", ""),
    ("as an ai language model, ", ""),
    ("could you please ", ""),
    ("can you please ", ""),
    ("would you please ", ""),
    ("i would like you to ", ""),
    ("i'd like you to ", ""),
    ("i want you to ", ""),
    ("i need you to ", ""),
    ("it is important that you ", ""),
    ("it is important to ", ""),
    ("it's important to ", ""),
    ("it is essential that you ", ""),
    ("make sure that you ", ""),
    ("make sure to ", ""),
    ("be sure to ", ""),
    ("feel free to ", ""),
    ("if you don't mind", ""),
    ("if at all possible", ""),
    ("if possible", ""),
    ("if you can", ""),
    ("could you ", ""),
    ("can you ", ""),
    ("would you ", ""),
    ("due to the fact that", "because"),
    ("at this point in time", "now"),
    ("in the event that", "if"),
    ("for the purpose of", "for"),
    ("in order to", "to"),
    ("a large number of", "many"),
    ("the majority of", "most"),
    ("with regard to", "about"),
    ("with respect to", "about"),
    ("in terms of", "in"),
    ("each and every", "every"),
    ("first and foremost", "first"),
    ("in a clear and concise manner", "clearly"),
    ("in a concise manner", "concisely"),
    ("in a clear manner", "clearly"),
    (", please", ""),
    ("please, ", ""),
    ("please ", ""),
    ("kindly ", ""),
    ("basically ", ""),
    ("actually ", ""),
    ("really ", ""),
    ("very ", ""),
    ("just ", ""),
    ("simply ", ""),
    ("quite ", ""),
    ("somewhat ", ""),
    ("perhaps ", ""),
    ("maybe ", ""),
    ("sort of ", ""),
    ("kind of ", ""),
    ("i think ", ""),
    ("note that ", ""),
    ("try to ", ""),
];

/// Request openers whose removal turns a question into a command.
pub(super) const REQUEST_OPENERS: &[&str] =
    &["could you", "can you", "would you", "i was wondering"];

/// Replace every whole-word, case-insensitive occurrence of the fillers.
pub(super) fn strip_fillers(s: &str, removed: &mut Vec<String>) -> String {
    // Removing one filler can expose another ("it is really important that
    // you" → "it is important that you"), so repeat until nothing changes.
    let mut t = s.to_string();
    for _ in 0..3 {
        let next = strip_fillers_once(&t, s, removed);
        if next == t {
            break;
        }
        t = next;
    }
    t
}

pub(super) fn strip_fillers_once(cur: &str, s: &str, removed: &mut Vec<String>) -> String {
    let mut t = cur.to_string();
    let lower_start = s.trim_start().to_ascii_lowercase();
    let was_request = REQUEST_OPENERS.iter().any(|r| lower_start.starts_with(r));
    for (pat, rep) in FILLERS {
        let pb = pat.as_bytes();
        let mut i = 0;
        while i + pb.len() <= t.len() {
            let tb = t.as_bytes();
            let boundary_before =
                i == 0 || !(tb[i - 1].is_ascii_alphanumeric() || tb[i - 1] == b'\'');
            let ends_alpha = pat.ends_with(|c: char| c.is_ascii_alphanumeric());
            let boundary_after = !ends_alpha
                || tb
                    .get(i + pb.len())
                    .is_none_or(|b| !b.is_ascii_alphanumeric());
            if tb[i..i + pb.len()].eq_ignore_ascii_case(pb) && boundary_before && boundary_after {
                t.replace_range(i..i + pb.len(), rep);
                let name = pat.trim_matches([' ', ',']).to_string();
                if !removed.contains(&name) {
                    removed.push(name);
                }
                i += rep.len();
            } else {
                i += 1;
                while i < t.len() && !t.is_char_boundary(i) {
                    i += 1;
                }
            }
        }
    }
    let mut t = t
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    for (a, b) in [("!!", "!"), ("??", "?")] {
        if t.contains(a) {
            let name = format!("repeated \"{b}\"");
            if !removed.contains(&name) {
                removed.push(name);
            }
        }
        while t.contains(a) {
            t = t.replace(a, b);
        }
    }
    for (a, b) in [
        (" ,", ","),
        (" .", "."),
        (",,", ","),
        (" ?", "?"),
        (" !", "!"),
        (" ;", ";"),
        (" :", ":"),
    ] {
        while t.contains(a) {
            t = t.replace(a, b);
        }
    }
    let mut t = t.trim_start_matches([',', ' ']).trim().to_string();
    if was_request && t.ends_with('?') {
        t.pop();
        t.push('.');
    }
    if s.trim_start().starts_with(char::is_uppercase) {
        t = capitalize(&t);
    }
    t
}

/// Apply `f` to every sentence of `text` (masked), keeping line structure,
/// list markers and labels; `None` drops the sentence.
pub(super) fn map_sentences(
    text: &str,
    mut f: impl FnMut(&Masked, &str) -> Option<String>,
) -> String {
    let m = text::mask(text);
    let mut out: Vec<String> = Vec::new();
    for line in m.text.lines() {
        if line.trim().is_empty() {
            out.push(String::new());
            continue;
        }
        let body_start = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        let mut prefix_len = body_start;
        for mk in ["- ", "* ", "\u{2022} "] {
            if trimmed.starts_with(mk) {
                prefix_len += mk.len();
            }
        }
        let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
        if prefix_len == body_start && digits > 0 && trimmed[digits..].starts_with(['.', ')']) {
            prefix_len += digits + 1;
        }
        let (prefix, body) = line.split_at(prefix_len);
        let kept: Vec<String> = text::split_sentences(body)
            .into_iter()
            .filter_map(|s| f(&m, s))
            .collect();
        if kept.is_empty() {
            continue;
        }
        out.push(format!("{prefix}{}", text::join_sentences(&kept)));
    }
    m.unmask(&normalize_ws(&out.join("\n")))
}

pub(super) fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

pub(super) fn concise(p: &Prompt) -> Draft {
    let mut removed = Vec::new();
    let mut dropped = Vec::new();
    let mut dups = 0;
    let mut seen: Vec<String> = Vec::new();
    let v1 = map_sentences(&p.clean, |m, s| {
        if classify(s) == Part::Pleasantry {
            dropped.push(m.unmask(s));
            return None;
        }
        let t = strip_fillers(s, &mut removed);
        let key: String = m
            .unmask(&t)
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        if key.is_empty() {
            return None;
        }
        if seen.contains(&key) {
            dups += 1;
            return None;
        }
        seen.push(key);
        Some(t)
    });
    let v1 = if v1.trim().is_empty() {
        p.clean.clone()
    } else {
        v1
    };
    let short = Prompt::new(&v1, None);
    let mut labelled = Vec::new();
    for (part, label) in [
        (Part::Role, "Role"),
        (Part::Context, "Context"),
        (Part::Task, "Task"),
        (Part::Input, "Input"),
        (Part::Examples, "Examples"),
        (Part::Constraint, "Rules"),
        (Part::Format, "Format"),
    ] {
        let body = short.prose(part);
        if !body.is_empty() {
            let sep = if body.contains('\n') { "\n" } else { " " };
            labelled.push(format!("{label}:{sep}{body}"));
        }
    }
    let v2 = labelled.join("\n");
    // One paragraph of the inline sentences; a block (fence, tagged section,
    // list) keeps its own lines so it still starts a line.
    let mut v3_lines: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for seg in &short.segs {
        let c = seg.content();
        if c.contains('\n') {
            if !run.is_empty() {
                v3_lines.push(text::join_sentences(&std::mem::take(&mut run)));
            }
            v3_lines.push(c);
        } else {
            run.push(terminate(&c));
        }
    }
    if !run.is_empty() {
        v3_lines.push(text::join_sentences(&run));
    }
    let v3 = v3_lines.join("\n");
    let v4 = short
        .segs
        .iter()
        .map(|s| {
            if s.content().contains('\n') {
                s.content()
            } else {
                format!("- {}", terminate(&s.content()))
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let v5 = format!("{v1}\n\nBe brief: answer in as few words as the task allows.");
    let v1 = with_extra(&v1, p.extra);
    let v2 = with_extra(&v2, p.extra);
    let v3 = with_extra(&v3, p.extra);
    let v4 = with_extra(&v4, p.extra);
    let v5 = with_extra(&v5, p.extra);

    let mut changes = Vec::new();
    if !removed.is_empty() {
        let list: Vec<String> = removed
            .iter()
            .take(5)
            .map(|r| format!("\u{201C}{r}\u{201D}"))
            .collect();
        changes.push(format!(
            "Removed filler and hedging phrases ({}) that add length without adding instructions.",
            list.join(", ")
        ));
    }
    if dups > 0 {
        changes.push(format!("Removed {dups} repeated sentence(s); saying a thing twice does not make the model follow it better."));
    }
    if !dropped.is_empty() {
        changes.push(format!(
            "Dropped pleasantries ({}) because they give the model no instruction.",
            quoted_list(&dropped, 3)
        ));
    }
    let (before, after) = (words(&p.clean), words(&v1));
    if removed.is_empty() && dups == 0 && dropped.is_empty() {
        changes.push("Found no filler, hedging or repetition to remove, so the first variant only normalises whitespace; the prompt was already concise.".into());
    } else {
        changes.push(format!("Cut the prompt from {before} to {after} words without dropping an instruction or a variable."));
    }
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "compresses the prompt further into one labelled line per part (Task, Input, Rules, Format).",
            ),
            cand(v3, "folds the prompt into a single paragraph."),
            cand(v4, "turns every sentence into a terse bullet."),
            cand(v5, "also asks the model to keep its answer brief."),
        ],
        changes,
    }
}
