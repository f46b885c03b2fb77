//! Tokens, sentences and "data" regions of a prompt, computed once per call.
//!
//! Every check works on this view instead of re-scanning the prompt: tokens
//! carry their lexicon bits, so keyword tests are bit tests, and regions mark
//! the parts that are material rather than instructions (code, tagged blocks,
//! quotes, examples), which most checks must not judge.

use super::lexicon::{F_ENG, F_FOREIGN, FIRST, INDEX};

/// Lexicon bits of one lowercase word: the groups it starts a phrase of, and
/// the groups it is a one-word entry of (0, 0 when it is in none).
pub fn word_bits(word: &str) -> (u64, u64) {
    let mut h: u32 = 0x811c_9dc5;
    for &b in word.as_bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let mask = INDEX.len() - 1;
    let mut slot = h as usize & mask;
    loop {
        match INDEX[slot] {
            0 => return (0, 0),
            e => {
                let (w, first, single) = FIRST[usize::from(e) - 1];
                if w == word {
                    return (first, single);
                }
            }
        }
        slot = (slot + 1) & mask;
    }
}

/// Groups in which `word` is a one-word entry.
pub fn word_flags(word: &str) -> u64 {
    word_bits(word).1
}

/// What a region of the prompt holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// A fenced block or inline code span.
    Code,
    /// The content of a `<tag>…</tag>` pair (tags themselves included).
    Tag,
    /// A quoted string.
    Quote,
    /// An example block introduced by an "Example:" header.
    Example,
}

/// A byte range of the prompt that holds material, not instructions.
#[derive(Debug, Clone, Copy)]
pub struct Region {
    /// First byte.
    pub start: usize,
    /// Byte just past the end.
    pub end: usize,
    /// What the region holds.
    pub kind: RegionKind,
}

/// One word of the prompt.
#[derive(Debug, Clone, Copy)]
pub struct Tok<'a> {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
    /// The word with ASCII letters lowercased.
    pub lw: &'a str,
    /// The word as written.
    pub raw: &'a str,
    /// Lexicon group bits of `lw` as a phrase start.
    pub flags: u64,
    /// Lexicon group bits of `lw` as a one-word entry.
    pub single: u64,
    /// Inside a region (code, tags, quotes, examples).
    pub data: bool,
    /// Index of the sentence the token belongs to.
    pub sent: usize,
    /// A comma, colon, dash or parenthesis separates it from the previous token.
    pub comma_before: bool,
}

/// The analyzed view of a prompt.
pub struct Doc<'a> {
    /// The prompt as given.
    pub text: &'a str,
    /// Material regions, sorted by start, non-overlapping.
    pub regions: Vec<Region>,
    /// The same regions before merging, so a tag inside an example is still known.
    pub raw_regions: Vec<Region>,
    /// Words in order.
    pub toks: Vec<Tok<'a>>,
    /// Token index ranges of sentences (`[a, b)`), in order.
    pub sents: Vec<(usize, usize)>,
    /// True when the prose reads as English; keyword checks only run then.
    pub english: bool,
    /// True when the prose is mostly Latin script (not Chinese, Japanese, Korean).
    pub latin: bool,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

fn is_joiner(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '-' | '_')
}

use ps_guest_util::prompt::is_cjk;

impl<'a> Doc<'a> {
    /// Build the view; `lower` must be `text.to_ascii_lowercase()`.
    pub fn new(text: &'a str, lower: &'a str) -> Self {
        let raw_regions = find_regions(text, lower);
        let regions = merge_regions(&raw_regions);
        let mut toks = Vec::with_capacity(text.len() / 5);
        let mut sents = Vec::new();
        let mut sent = 0usize;
        let mut sent_start = 0usize;
        let mut prev_end = 0usize;
        let mut region_ix = 0usize;
        let mut latin = 0usize;
        let mut cjk = 0usize;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c.is_ascii_alphabetic() {
                latin += 1;
            } else if is_cjk(c) {
                cjk += 1;
            }
            if !is_word_char(c) {
                continue;
            }
            // Scan the word.
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if is_word_char(d) {
                    if d.is_ascii_alphabetic() {
                        latin += 1;
                    } else if is_cjk(d) {
                        cjk += 1;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                } else if is_joiner(d) {
                    let after = text[j + d.len_utf8()..].chars().next();
                    if after.is_some_and(is_word_char) {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                } else {
                    break;
                }
            }
            // CJK runs have no spaces; one token per run is enough for our needs.
            let gap = &text[prev_end..i];
            let (brk, comma) = gap_kind(gap, text.len() == i);
            if brk && !toks.is_empty() {
                sents.push((sent_start, toks.len()));
                sent += 1;
                sent_start = toks.len();
            }
            while region_ix < regions.len() && regions[region_ix].end <= i {
                region_ix += 1;
            }
            let data = region_ix < regions.len() && regions[region_ix].start <= i;
            let lw = &lower[i..end];
            let (flags, single) = word_bits(lw);
            toks.push(Tok {
                start: i,
                end,
                lw,
                raw: &text[i..end],
                flags,
                single,
                data,
                sent,
                comma_before: comma,
            });
            prev_end = end;
        }
        if toks.len() > sent_start {
            sents.push((sent_start, toks.len()));
        }
        let (mut eng, mut foreign) = (0usize, 0usize);
        for t in toks.iter().filter(|t| !t.data) {
            if t.flags & F_ENG != 0 {
                eng += 1;
            }
            if t.flags & F_FOREIGN != 0 {
                foreign += 1;
            }
        }
        let is_latin = cjk * 4 < latin;
        let english = is_latin && (eng > 0 || foreign == 0) && eng * 2 >= foreign * 3;
        Doc {
            text,
            regions,
            raw_regions,
            toks,
            sents,
            english,
            latin: is_latin,
        }
    }

    /// Region containing byte `pos`, if any.
    pub fn region_at(&self, pos: usize) -> Option<Region> {
        let i = self.regions.partition_point(|r| r.end <= pos);
        self.regions.get(i).copied().filter(|r| r.start <= pos)
    }

    /// Length in tokens of the longest phrase of `group` starting at token `i`
    /// without crossing a sentence boundary.
    pub fn phrase_at(&self, i: usize, flag: u64, group: &[&[&str]]) -> Option<usize> {
        let t = self.toks.get(i)?;
        if t.flags & flag == 0 {
            return None;
        }
        let mut best = None;
        let from = group.partition_point(|p| p[0] < t.lw);
        for p in group[from..].iter().take_while(|p| p[0] == t.lw) {
            if p.len() > self.toks.len() - i || best.is_some_and(|b| b >= p.len()) {
                continue;
            }
            let ok = p.iter().enumerate().all(|(k, w)| {
                let u = &self.toks[i + k];
                u.lw == *w && u.sent == t.sent
            });
            if ok {
                best = Some(p.len());
            }
        }
        best
    }

    /// Every non-data occurrence of a phrase of `group`: (token index, length).
    pub fn find_phrases(&self, flag: u64, group: &[&[&str]]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.toks.len() {
            if !self.toks[i].data
                && let Some(n) = self.phrase_at(i, flag, group)
            {
                out.push((i, n));
                i += n;
                continue;
            }
            i += 1;
        }
        out
    }

    /// Byte span of tokens `[i, i + n)`.
    pub fn span(&self, i: usize, n: usize) -> (usize, usize) {
        let last = (i + n).max(i + 1).min(self.toks.len()) - 1;
        (self.toks[i].start, self.toks[last].end)
    }

    /// Byte span of sentence `s`.
    pub fn sent_span(&self, s: usize) -> (usize, usize) {
        let (a, b) = self.sents[s];
        (self.toks[a].start, self.toks[b - 1].end)
    }

    /// True if the token is a number (digits, or a number word).
    pub fn is_number(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| {
            t.lw.bytes().all(|b| b.is_ascii_digit())
                || t.flags & super::lexicon::F_NUMBER != 0 && t.lw != "a"
        })
    }
}

/// Classify the text between two tokens: (sentence break, clause break).
fn gap_kind(gap: &str, _at_end: bool) -> (bool, bool) {
    let mut brk = false;
    let mut comma = false;
    let mut it = gap.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\n' | '!' | '?' | ';' | '\u{3002}' | '\u{FF01}' | '\u{FF1F}' => brk = true,
            '.' if it.peek().is_none_or(|n| n.is_whitespace()) => brk = true,
            ',' | ':' | '(' | ')' | '\u{2014}' | '\u{2013}' | '\u{FF0C}' => comma = true,
            _ => {}
        }
    }
    (brk, comma)
}

/// Tag names whose content is instructions, not material.
const INSTRUCTION_TAGS: &[&str] = &[
    "constraints",
    "format",
    "goal",
    "guidelines",
    "instruction",
    "instructions",
    "objective",
    "output_format",
    "persona",
    "requirements",
    "role",
    "rules",
    "steps",
    "style",
    "system",
    "task",
    "tone",
];

fn find_regions(text: &str, lower: &str) -> Vec<Region> {
    let b = text.as_bytes();
    let mut regions: Vec<Region> = Vec::new();

    // Fenced code blocks (``` or ~~~), then inline code outside them.
    let mut i = 0;
    while i + 3 <= b.len() {
        let fence = &b[i..i + 3];
        if fence == b"```" || fence == b"~~~" {
            let close = lower[i + 3..].find(std::str::from_utf8(fence).unwrap_or("```"));
            let end = close.map_or(b.len(), |c| i + 3 + c + 3);
            regions.push(Region {
                start: i,
                end,
                kind: RegionKind::Code,
            });
            i = end;
            continue;
        }
        if b[i] == b'`' {
            let line_end = lower[i + 1..].find('\n').map_or(b.len(), |n| i + 1 + n);
            if let Some(c) = lower[i + 1..line_end].find('`') {
                let end = i + 1 + c + 1;
                regions.push(Region {
                    start: i,
                    end,
                    kind: RegionKind::Code,
                });
                i = end;
                continue;
            }
        }
        i += 1;
    }

    // Tag pairs `<name …>` … `</name>`.
    let mut tags: Vec<(&str, bool, usize, usize)> = Vec::new();
    let mut i = 0;
    while let Some(off) = lower[i..].find('<') {
        let s = i + off;
        i = s + 1;
        let mut j = s + 1;
        let close = b.get(j) == Some(&b'/');
        if close {
            j += 1;
        }
        let name_start = j;
        // Names may be non-ASCII (`<问题>`, `<ejercicio>`): scan characters.
        for c in text[j..].chars() {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':') {
                j += c.len_utf8();
            } else {
                break;
            }
        }
        if j == name_start || !text[name_start..].starts_with(char::is_alphabetic) {
            continue;
        }
        let name = &lower[name_start..j];
        // Attributes up to `>` on the same line.
        let mut k = j;
        while k < b.len() && k - j < 200 && b[k] != b'>' && b[k] != b'\n' && b[k] != b'<' {
            k += 1;
        }
        if b.get(k) != Some(&b'>') {
            continue;
        }
        tags.push((name, close, s, k + 1));
    }
    // A close tag pairs with the latest unpaired open tag of the same name, so
    // a prose mention ("inside the <article> tags") does not swallow the text.
    let mut used = vec![false; tags.len()];
    for (c, &(name, close, _, end)) in tags.iter().enumerate() {
        if !close {
            continue;
        }
        if let Some(a) = (0..c)
            .rev()
            .find(|&a| !used[a] && !tags[a].1 && tags[a].0 == name)
        {
            used[a] = true;
            if !INSTRUCTION_TAGS.contains(&name) {
                regions.push(Region {
                    start: tags[a].2,
                    end,
                    kind: RegionKind::Tag,
                });
            }
        }
    }

    // Example blocks: an "Example…:" header line up to the next blank line.
    let mut line_start = 0;
    while line_start < b.len() {
        let line_end = lower[line_start..]
            .find('\n')
            .map_or(b.len(), |n| line_start + n);
        let line = lower[line_start..line_end].trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, '#' | '*' | '_' | '-' | '>')
        });
        let word_end = line
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(line.len());
        let head = &line[..word_end];
        let is_header = matches!(
            head,
            "example"
                | "examples"
                | "sample"
                | "ejemplo"
                | "ejemplos"
                | "beispiel"
                | "exemple"
                | "esempio"
        ) && line.split_whitespace().count() <= 8
            && (line.trim_end().ends_with(':')
                || line.split_whitespace().count() <= 2
                || line.contains(':'));
        if is_header {
            let body = match lower[line_start..line_end].find(':') {
                Some(c) => line_start + c + 1,
                None => line_end,
            };
            let end = lower[body..].find("\n\n").map_or(b.len(), |n| body + n);
            // A blank line right after the header still belongs to the example.
            let end = if lower[body..end].trim().is_empty() {
                let rest_start = end + (lower[end..].len() - lower[end..].trim_start().len());
                lower[rest_start..]
                    .find("\n\n")
                    .map_or(b.len(), |n| rest_start + n)
            } else {
                end
            };
            if end > body {
                regions.push(Region {
                    start: body,
                    end,
                    kind: RegionKind::Example,
                });
            }
            line_start = end.max(line_end + 1);
            continue;
        }
        line_start = line_end + 1;
    }

    // Quotes, within one line.
    let pairs: &[(char, char)] = &[
        ('"', '"'),
        ('\u{201C}', '\u{201D}'),
        ('\u{201E}', '\u{201C}'),
        ('\u{AB}', '\u{BB}'),
        ('\u{300C}', '\u{300D}'),
        ('\u{300E}', '\u{300F}'),
    ];
    let mut quotes: Vec<Region> = Vec::new();
    let mut it = text.char_indices();
    while let Some((s, c)) = it.next() {
        if c != '"' && c.is_ascii() {
            continue;
        }
        let Some(&(_, close)) = pairs.iter().find(|(o, _)| *o == c) else {
            continue;
        };
        let rest = &text[s + c.len_utf8()..];
        let mut found = None;
        for (k, d) in rest.char_indices() {
            if d == '\n' || k > 400 {
                break;
            }
            if d == close {
                found = Some(s + c.len_utf8() + k + d.len_utf8());
                break;
            }
        }
        if let Some(end) = found {
            quotes.push(Region {
                start: s,
                end,
                kind: RegionKind::Quote,
            });
            // Skip past the closing quote.
            for (k, d) in it.by_ref() {
                if k + d.len_utf8() >= end {
                    break;
                }
            }
        }
    }
    regions.extend(quotes);
    regions.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    regions
}

/// Sorted, non-overlapping union of `regions` (sorted by start).
fn merge_regions(regions: &[Region]) -> Vec<Region> {
    let mut out: Vec<Region> = Vec::with_capacity(regions.len());
    for &r in regions {
        match out.last_mut() {
            Some(last) if r.start < last.end => {
                if r.end > last.end {
                    last.end = r.end;
                }
            }
            _ => out.push(r),
        }
    }
    out
}
