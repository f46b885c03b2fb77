//! negative-only: rules that say only what not to do.

// The family shares the parent's signals, helpers and sibling tables.
use super::*;

// ---------------------------------------------------------------- negative-only

pub(super) const ALT: &[&str] = &[
    "instead",
    "rather",
    "but",
    "otherwise",
    "except",
    "unless",
    "alternatively",
    "sondern",
    "stattdessen",
    "sino",
    "plutôt",
    "mais",
];
pub(super) const ROLE_ACTION: &[&str] = &[
    "who", "that", "helping", "helps", "answers", "assists", "assist", "help", "writes", "handles",
    "to",
];

/// French elided negation: "n'utilise", "n’écris".
pub(super) fn elided_negation(w: &str) -> bool {
    (w.starts_with("n'") && w.len() > 2) || (w.starts_with("n\u{2019}") && w.len() > 4)
}

pub(super) fn negative_only(doc: &Doc, out: &mut Vec<Raw>) {
    let (mut neg, mut pos) = (Vec::new(), 0usize);
    for s in 0..doc.sents.len() {
        let Some(h) = head(doc, s) else { continue };
        let words = non_data_sentence(doc, s).count();
        if words < 2 {
            continue;
        }
        let t = &doc.toks[h];
        let role = doc.phrase_at(h, F_ROLE, ROLE).is_some()
            || t.lw == "as"
                && doc
                    .toks
                    .get(h + 1)
                    .is_some_and(|u| u.lw == "a" || u.lw == "an")
            || doc.phrase_at(h.saturating_sub(1), F_ROLE, ROLE).is_some();
        if role {
            if find_in_sentence(doc, s, ROLE_ACTION).is_some() {
                pos += 1;
            }
            continue;
        }
        let (a, b) = doc.sents[s];
        // German and Romance imperatives put the negation after the verb
        // ("Nenne keine Preise", "Sprich nicht über …"); English never does
        // at the head, and "Use no more than" is a limit, not a prohibition.
        // A clause opened by "si"/"wenn"/"quand" is a condition, whose
        // negation ("si no sabes algo, dilo") does not forbid anything.
        let conditional = matches!(
            doc.toks[h].lw,
            "si" | "wenn" | "falls" | "quand" | "cuando" | "lorsque" | "ob" | "se"
        );
        let last = if doc.english || conditional {
            h
        } else {
            (h + 1).min(b - 1)
        };
        let negative = (a..=last).any(|k| {
            doc.phrase_at(k, F_NEG_LEAD, NEG_LEAD).is_some() || elided_negation(doc.toks[k].lw)
        }) && find_in_sentence(doc, s, ALT).is_none();
        if negative {
            neg.push(s);
        } else {
            pos += 1;
        }
    }
    if neg.len() >= 2 && pos == 0 {
        let (a, _) = doc.sent_span(neg[0]);
        let (_, b) = doc.sent_span(neg[neg.len() - 1]);
        out.push(Raw::new(
            "negative-only",
            Some((a, b)),
            format!("All {} instructions say what not to do; none says what to do instead.", neg.len()),
            {
                let (c, d) = doc.sent_span(neg[0]);
                format!(
                    "Pair each prohibition with the behaviour you want: after \"{}\", say what to do instead.",
                    clip(doc.text[c..d].trim())
                )
            },
        ));
    }
}
