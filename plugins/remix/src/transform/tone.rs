//! friendly-tone: commands softened, shouting lowered.

use super::*;

// ---------------------------------------------------------------- friendly-tone

pub(super) const ACRONYMS: &[&str] = &[
    "JSON", "HTML", "HTTP", "HTTPS", "YAML", "XML", "CSV", "SQL", "API", "URL", "PDF", "NASA",
    "GDPR", "ASCII", "UTF-8",
];

/// Lowercase shouted words (ALL CAPS, four letters or more, not an acronym).
pub(super) fn unshout(s: &str) -> (String, bool) {
    let mut changed = false;
    let out: Vec<String> = s
        .split(' ')
        .map(|w| {
            let letters: String = w.chars().filter(|c| c.is_alphabetic()).collect();
            let shouted = letters.chars().count() >= 4
                && letters.chars().all(|c| c.is_uppercase())
                && !ACRONYMS.contains(&letters.as_str());
            if shouted {
                changed = true;
                w.to_lowercase()
            } else {
                w.to_string()
            }
        })
        .collect();
    let mut t = out.join(" ");
    while t.contains("!!") {
        t = t.replace("!!", "!");
        changed = true;
    }
    (t, changed)
}

/// Soften one sentence; `first_task` is consumed by the first imperative.
pub(super) fn soften(s: &str, first_task: &mut bool, shouted: &mut bool) -> String {
    let (t, sh) = unshout(s);
    *shouted |= sh;
    let l = t.to_lowercase();
    let rest = |n: usize| t[n..].trim_start().to_string();
    for (lead, rep) in [
        ("do not ", "Please don't "),
        ("don't ", "Please don't "),
        ("never ", "Please never "),
        ("you must not ", "Please don't "),
        ("you must ", "Please make sure you "),
        ("you should ", "Please "),
        ("you need to ", "Please "),
    ] {
        if l.starts_with(lead) {
            return format!("{rep}{}", rest(lead.len()));
        }
    }
    let first = l.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("");
    if *first_task && TASK_VERBS.contains(&first) && classify(&t) == Part::Task {
        *first_task = false;
        let body = decapitalize(&t);
        return match body.strip_suffix('.') {
            Some(b) => format!("Could you please {b}?"),
            None => format!("Could you please {body}"),
        };
    }
    t
}

pub(super) fn friendly_body(p: &Prompt, shouted: &mut bool) -> String {
    let mut first_task = true;
    map_sentences(&p.clean, |_, s| Some(soften(s, &mut first_task, shouted)))
}

/// (opening, closing) in the prompt's language for the languages whose
/// greetings we can write well; English sentences never go into a German or
/// Chinese prompt.
fn local_greeting(lang: &str) -> Option<(&'static str, &'static str)> {
    match lang {
        "de" => Some(("Hallo! Ich freue mich über deine Hilfe.", "Vielen Dank!")),
        "es" => Some(("¡Hola! Te agradezco mucho tu ayuda.", "¡Muchas gracias!")),
        "fr" => Some((
            "Bonjour ! Merci d'avance pour ton aide.",
            "Merci beaucoup !",
        )),
        "zh" => Some(("你好！非常感谢你的帮助。", "谢谢！")),
        "ja" => Some((
            "こんにちは！よろしくお願いします。",
            "ありがとうございます！",
        )),
        _ => None,
    }
}

/// friendly-tone for a prompt not in English: the author's sentences as
/// written (the polite rephrasings are English), framed by a greeting in
/// the prompt's language when we have one, otherwise left as it is.
fn friendly_local(p: &Prompt, lang: &str) -> Draft {
    let body = p.base_with_extra();
    let Some((hello, thanks)) = local_greeting(lang) else {
        return Draft {
            candidates: vec![cand(body, "")],
            changes: vec![
                "No change: friendly phrasing is only written for English, German, Spanish, French, Chinese and Japanese prompts."
                    .into(),
            ],
        };
    };
    let sep = if matches!(lang, "zh" | "ja") { "" } else { " " };
    Draft {
        candidates: vec![
            cand(format!("{hello}\n\n{body}\n\n{thanks}"), ""),
            cand(format!("{hello}\n\n{body}"), "keeps only the greeting."),
            cand(format!("{body}\n\n{thanks}"), "keeps only the thanks at the end."),
            cand(
                format!("{hello}{sep}{thanks}\n\n{body}"),
                "puts greeting and thanks before the request.",
            ),
        ],
        changes: vec![
            "Added a friendly greeting and thanks in the prompt's own language; the instructions are unchanged.".into(),
        ],
    }
}

pub(super) fn friendly_tone(p: &Prompt) -> Draft {
    let lang = text::language(&p.clean);
    if lang != "en" {
        return friendly_local(p, lang);
    }
    let mut shouted = false;
    let body = with_extra(&friendly_body(p, &mut shouted), p.extra);
    let opener = if p.has(Part::Pleasantry) {
        ""
    } else {
        "Hi! I'd really appreciate your help with something.\n\n"
    };
    let v1 = format!(
        "{opener}{body}\n\nPlease keep your reply warm, encouraging and easy to follow. Thanks so much!"
    );
    let v2 = format!(
        "Hey there! Quick favour:\n\n{body}\n\nKeep the tone relaxed and conversational, like you're explaining it to a friend. Thanks!"
    );
    let v3 = format!(
        "Let's work on this together.\n\n{body}\n\nIf anything is unclear, ask me a short question before you start. A friendly, supportive reply would be lovely. Thank you!"
    );
    let v4 = format!(
        "{}\n\nTone: answer in a warm, friendly and approachable way.",
        p.base_with_extra()
    );
    let v5 = format!(
        "{body}\n\nWrite your reply in a friendly, upbeat voice and use plain words instead of jargon where you can. Thanks in advance, I really appreciate it!"
    );
    let mut changes = Vec::new();
    if normalize_ws(&friendly_body(p, &mut false)) != p.clean {
        changes.push("Rephrased commands as polite requests (\"Could you please …\", \"Please don't …\") so the prompt reads as a collaboration rather than orders.".to_string());
    }
    changes.push(
        "Added a friendly opening and closing and asked for a warm, approachable tone in the answer."
            .to_string(),
    );
    if shouted {
        changes.push("Replaced ALL-CAPS emphasis and repeated exclamation marks with normal case; shouting adds tension, not clarity.".into());
    }
    changes.push("Kept every instruction, constraint and variable; only the tone changed.".into());
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(v2, "is more casual and asks for a conversational answer."),
            cand(
                v3,
                "frames the prompt as a collaboration and invites clarifying questions.",
            ),
            cand(
                v4,
                "keeps your wording as written and only asks for a friendly answer.",
            ),
            cand(
                v5,
                "skips the greeting and asks for an upbeat, jargon-free reply.",
            ),
        ],
        changes,
    }
}
