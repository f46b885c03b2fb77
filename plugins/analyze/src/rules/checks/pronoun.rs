//! ambiguous-reference, second half: pronouns and demonstratives that are
//! the object of an operation ("compare it with them, then fix it", "merge
//! this with the other one", "Traduis ça en anglais") in a prompt that holds
//! no material at all. With nothing pasted, tagged or templated, such a
//! pronoun can only point at something the model never sees, unless the
//! prompt first asks the model to produce it ("Write a poem and make it
//! rhyme"), in which case the pronoun means the model's own output.

// The family shares the parent's signals, helpers and sibling tables.
use super::*;

/// Verbs that ask the model to make something new; a later pronoun may
/// refer to that output.
const CREATE_VERBS: &[&str] = &[
    "write",
    "generate",
    "create",
    "draft",
    "compose",
    "give",
    "list",
    "suggest",
    "produce",
    "brainstorm",
    "design",
    "plan",
    "invent",
    "build",
    "propose",
    "name",
    "tell",
    "describe",
    "outline",
];

/// Verbs that act on existing material (beyond the lexicon's edit verbs).
const OPERATE_VERBS: &[&str] = &[
    "compare", "merge", "combine", "take", "apply", "test", "run", "open",
];

/// Words between the verb and its object ("look at it", "send it back").
const PARTICLES: &[&str] = &["at", "over", "through", "up", "again"];

/// Words that may follow a bare demonstrative used as a pronoun ("merge this
/// with", "translate that into", "that.").
const AFTER_PRONOUN: &[&str] = &[
    "with", "to", "into", "for", "and", "again", "back", "so", "then", "please", "too", "as", "in",
    "from", "against",
];

/// Pronouns that point at material other languages' prompts never give:
/// "Traduis ça", "Übersetze das bitte", "Corrige esto".
const FOREIGN_PRONOUNS: &[&str] = &[
    "ça", "cela", "ceci", "esto", "eso", "isso", "isto", "dies", "das",
];
/// "el documento anterior", "den obigen Text", "le texte précédent".
const FOREIGN_EARLIER: &[&str] = &[
    "anterior",
    "anteriores",
    "previo",
    "previa",
    "précédent",
    "précédente",
    "ci-dessus",
    "vorherigen",
    "vorherige",
    "obigen",
    "obige",
];

/// The prompt holds no material: nothing tagged, fenced, templated or pasted
/// after a colon or a line break.
fn materialless(doc: &Doc) -> bool {
    doc.regions.is_empty()
        && !doc.text.contains("{{")
        && !doc.text.contains('{')
        && (0..doc.sents.len()).all(|s| !content_after(doc, doc.sent_span(s).1))
        && doc.toks.iter().filter(|t| !t.data).count() <= 60
}

fn flag(doc: &Doc, i: usize, out: &mut Vec<Raw>) {
    out.push(Raw::new(
        "ambiguous-reference",
        Some(doc.span(i, 1)),
        format!(
            "\"{}\" points at something the prompt never gives.",
            doc.toks[i].raw
        ),
        "Paste the material it refers to, delimited, e.g. <text>…</text>, or a {{variable}} for it.",
    ));
}

/// English: a pronoun object of an operating verb with no material to name.
pub(super) fn dangling_pronoun(doc: &Doc, out: &mut Vec<Raw>) {
    if !materialless(doc) {
        return;
    }
    let toks = &doc.toks;
    for i in 0..toks.len() {
        let t = &toks[i];
        if t.data {
            continue;
        }
        if CREATE_VERBS.contains(&t.lw) {
            // The model's own output is a valid antecedent from here on.
            return;
        }
        let operates = OPERATE_VERBS.contains(&t.lw)
            || is_word(t, F_EDIT_VERB)
                && !matches!(
                    t.lw,
                    "make" | "use" | "explain" | "respond" | "reply" | "answer"
                );
        if !operates {
            continue;
        }
        // Skip particles: "look at it", "go over them".
        let mut k = i + 1;
        while toks
            .get(k)
            .is_some_and(|u| u.sent == t.sent && PARTICLES.contains(&u.lw))
        {
            k += 1;
        }
        let Some(p) = toks.get(k).filter(|u| u.sent == t.sent) else {
            continue;
        };
        let next = toks.get(k + 1).filter(|u| u.sent == t.sent);
        let pronoun = match p.lw {
            "it" | "them" => true,
            // A demonstrative is a pronoun only when no noun follows it.
            "this" | "these" | "those" | "that" => {
                next.is_none_or(|u| AFTER_PRONOUN.contains(&u.lw))
            }
            _ => false,
        };
        // "Translate this into Spanish: Good morning …" names its material.
        if pronoun && !content_after(doc, p.end) {
            flag(doc, k, out);
            return;
        }
    }
}

/// Other Latin-script languages: "Traduis ça en anglais", "Übersetze das
/// bitte", "Resume el documento anterior" with no material in the prompt.
pub(super) fn foreign_pronoun(doc: &Doc, out: &mut Vec<Raw>) {
    if !materialless(doc) {
        return;
    }
    let toks = &doc.toks;
    for i in 0..toks.len() {
        let t = &toks[i];
        if t.data {
            continue;
        }
        let (a, _) = doc.sents[t.sent];
        let next = toks.get(i + 1).filter(|u| u.sent == t.sent);
        if content_after(doc, t.end) {
            continue;
        }
        let hit = if FOREIGN_PRONOUNS.contains(&t.lw) {
            // Right after the sentence's verb, and ("das" is also an article)
            // not followed by a capitalised noun.
            i == a + 1
                && (t.lw != "das"
                    || next.is_none_or(|u| !u.raw.starts_with(|c: char| c.is_uppercase())))
        } else {
            FOREIGN_EARLIER.contains(&t.lw) && i > a
        };
        if hit {
            flag(doc, i, out);
            return;
        }
    }
}
