//! conflicting-instructions, part A: a cap on the answer's length ("be
//! brief", "a single short paragraph", "höchstens 30 Wörter", "una sola
//! palabra") against a request for more ("in depth", "describe each of the
//! five", "at least 2000 words", "paso a paso"). The cues are lexicon phrases
//! or numbers, so the check runs for every Latin-script language the lexicon
//! covers, not only English.

// The family shares the parent's signals, helpers and sibling tables.
use super::*;

/// What a capped amount is measured in, in the languages the lexicon covers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Word,
    Sentence,
    Line,
    Paragraph,
    Page,
    Char,
}

fn unit_of(w: &str) -> Option<Unit> {
    Some(match w {
        "word" | "words" | "palabra" | "palabras" | "mot" | "mots" | "wort" | "wörter"
        | "wörtern" | "palavra" | "palavras" => Unit::Word,
        "sentence" | "sentences" | "frase" | "frases" | "oración" | "oraciones" | "phrase"
        | "phrases" | "satz" | "sätze" | "sätzen" => Unit::Sentence,
        "line" | "lines" | "línea" | "líneas" | "ligne" | "lignes" | "zeile" | "zeilen" => {
            Unit::Line
        }
        "paragraph" | "paragraphs" | "párrafo" | "párrafos" | "paragraphe" | "paragraphes"
        | "absatz" | "absätze" | "absätzen" => Unit::Paragraph,
        "page" | "pages" | "página" | "páginas" | "seite" | "seiten" => Unit::Page,
        "character" | "characters" | "chars" | "caracteres" | "caractères" | "zeichen" => {
            Unit::Char
        }
        _ => return None,
    })
}

/// A cap this small leaves no room for depth; above it, detail may fit.
fn small(n: u32, u: Unit) -> bool {
    match u {
        Unit::Word => n <= 150,
        Unit::Sentence | Unit::Line => n <= 3,
        Unit::Char => n <= 300,
        Unit::Paragraph | Unit::Page => n <= 1,
    }
}

/// A minimum this large is itself a request for a long answer.
fn large(n: u32, u: Unit) -> bool {
    match u {
        Unit::Word => n >= 500,
        Unit::Sentence | Unit::Line => n >= 20,
        Unit::Char => n >= 3000,
        Unit::Paragraph => n >= 5,
        Unit::Page => n >= 2,
    }
}

/// "one", "zwei", "tres", "single", "sola" …: the amount before a unit.
fn amount(w: &str) -> Option<u32> {
    count_value(w).or(match w {
        "sola" | "solo" | "seul" | "seule" | "einzigen" | "einzige" | "einzigem" => Some(1),
        _ => None,
    })
}

/// Words before a number that make it a cap on the whole answer.
const CAP_LEAD: &[&str] = &["in", "en", "mit", "con", "avec", "to", "de"];

/// Token `i` starts a cap: "no more than 80 words", "in maximal zwei Sätzen",
/// "con una sola palabra", "a single short paragraph".
fn cap_at(doc: &Doc, i: usize) -> bool {
    if doc.phrase_at(i, F_BREVITY, BREVITY).is_some() {
        return true;
    }
    let t = &doc.toks[i];
    let Some(n) = amount(t.lw) else {
        return false;
    };
    // The unit may follow an adjective: "single short paragraph", "sola palabra".
    let Some(u) = (i + 1..(i + 3).min(doc.toks.len()))
        .take_while(|&k| doc.toks[k].sent == t.sent)
        .find_map(|k| unit_of(doc.toks[k].lw).map(|u| (k, u)))
        .filter(|&(k, _)| {
            // "one sentence per item" / "a line each" caps a part, not the answer.
            !doc.toks.get(k + 1).is_some_and(|v| {
                v.sent == t.sent && matches!(v.lw, "per" | "each" | "for" | "pro" | "por" | "par")
            })
        })
        .map(|(_, u)| u)
    else {
        return false;
    };
    small(n, u)
        && (i.saturating_sub(3)..i).any(|k| {
            doc.phrase_at(k, F_LIMIT, LIMIT).is_some()
                || doc.phrase_at(k, F_LIMIT_NUM, LIMIT_NUM).is_some()
                || CAP_LEAD.contains(&doc.toks[k].lw)
        })
}

/// Verbs that, followed by "each"/"every"/"all", ask to cover a whole set.
const COVER_VERBS: &[&str] = &[
    "describe",
    "explain",
    "cover",
    "discuss",
    "detail",
    "analyse",
    "analyze",
    "review",
    "compare",
    "walk",
    "explica",
    "describa",
    "analiza",
    "beschreibe",
    "erkläre",
    "erläutere",
    "décris",
    "explique",
    "détaille",
    "analyse",
];
const ALL_WORDS: &[&str] = &[
    "each", "every", "all", "alle", "allen", "jede", "jeden", "cada", "todos", "todas", "tous",
    "toutes", "chaque",
];
/// Words before a number that make it a minimum: "at least", "minimum",
/// "mindestens", "al menos", "au moins".
const MIN_LEAD: &[&[&str]] = &[
    &["at", "least"],
    &["minimum"],
    &["mindestens"],
    &["al", "menos"],
    &["au", "moins"],
];

/// Token `i` asks for more than a short answer; returns the cue's length.
fn more_at(doc: &Doc, i: usize) -> Option<usize> {
    if let Some(len) = doc.phrase_at(i, F_DETAIL, DETAIL) {
        return Some(len);
    }
    let t = &doc.toks[i];
    let same = |k: usize| doc.toks.get(k).filter(|u| u.sent == t.sent);
    // "describe each of the five neighbourhoods", "cover every major disease".
    if COVER_VERBS.contains(&t.lw)
        && (i + 1..i + 4).any(|k| same(k).is_some_and(|u| ALL_WORDS.contains(&u.lw)))
    {
        return Some(1);
    }
    // "at least 2000 words", "mindestens 800 Wörter".
    if let Some(lead) = MIN_LEAD
        .iter()
        .find(|seq| seq_at(doc, i, seq))
        .map(|s| s.len())
        && let Some(n) = same(i + lead).and_then(|u| amount(u.lw))
        && let Some(u) = same(i + lead + 1).and_then(|u| unit_of(u.lw))
        && large(n, u)
    {
        return Some(lead + 2);
    }
    // "a 3000-word guide".
    if let Some((num, unit)) = t.lw.split_once('-')
        && let (Ok(n), Some(u)) = (num.parse::<u32>(), unit_of(unit))
        && large(n, u)
    {
        return Some(1);
    }
    None
}

/// A. The answer is capped in one sentence and asked to be long in another.
pub(super) fn length_conflict(doc: &Doc, negated: &[Option<usize>], out: &mut Vec<Raw>) {
    let mut cap: Option<usize> = None;
    let mut more: Option<(usize, usize)> = None;
    for i in 0..doc.toks.len() {
        let t = &doc.toks[i];
        // "If the user asks for more detail, give a detailed answer" only
        // refines the default; it does not contradict it.
        if t.data || is_conditional(doc, t.sent) {
            continue;
        }
        // "Keep each bullet brief" caps a part of the answer, not the whole.
        if cap.is_none()
            && cap_at(doc, i)
            && find_in_sentence(doc, t.sent, ALL_WORDS).is_none()
            && find_in_sentence(doc, t.sent, &["per", "pro", "por", "par"]).is_none()
        {
            cap = Some(i);
        }
        if more.is_none()
            && negated[t.sent].is_none_or(|k| k > i)
            && let Some(len) = more_at(doc, i)
        {
            more = Some((i, len));
        }
    }
    if let (Some(b), Some((d, len))) = (cap, more)
        && doc.toks[b].sent != doc.toks[d].sent
    {
        let (bs, _) = doc.span(b, 1);
        let (_, be) = doc.sent_span(doc.toks[b].sent);
        let (ds, de) = doc.span(d, len);
        out.push(Raw::new(
            "conflicting-instructions",
            Some((ds, de)),
            format!(
                "\"{}\" asks for more than \"{}\" allows; the model cannot satisfy both.",
                &doc.text[ds..de],
                clip(doc.text[bs..be].trim_end_matches(['.', '!', ' ']))
            ),
            format!(
                "Decide which matters more: keep \"{}\" and ask only for the most important points, or drop the limit.",
                clip(doc.text[bs..be].trim_end_matches(['.', '!', ' ']))
            ),
        ));
    }
}
