//! Turns `src/rules/lexicon.txt` into static tables at compile time.
//!
//! The host builds a fresh Wasm instance per request, so anything built at
//! run time (hash maps, compiled patterns) would be paid on every call. This
//! script emits plain sorted arrays instead: one phrase list per group and a
//! first-word index carrying one bit per group, searched with a binary search.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::{env, fs, path::PathBuf};

/// FNV-1a, 32 bits; `text.rs` computes the same function at run time.
fn fnv1a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let src = "src/rules/lexicon.txt";
    println!("cargo:rerun-if-changed={src}");
    let text = fs::read_to_string(src)?;

    let mut groups: Vec<(String, Vec<Vec<String>>)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            groups.push((name.to_string(), Vec::new()));
            continue;
        }
        let Some((_, phrases)) = groups.last_mut() else {
            return Err(format!("entry before any [GROUP]: {line}").into());
        };
        for phrase in line.split('|') {
            let words: Vec<String> = phrase.split_whitespace().map(str::to_lowercase).collect();
            if words.is_empty() {
                continue;
            }
            // Typographic apostrophes are common in pasted prompts.
            let curly: Vec<String> = words.iter().map(|w| w.replace('\'', "\u{2019}")).collect();
            for variant in [words, curly] {
                if !phrases.contains(&variant) {
                    phrases.push(variant);
                }
            }
        }
    }
    if groups.len() > 64 {
        return Err("more than 64 lexicon groups".into());
    }

    let mut out = String::new();
    let mut first: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (bit, (name, phrases)) in groups.iter_mut().enumerate() {
        // Sorted by first word so a lookup can binary-search its candidates.
        phrases.sort_by(|a, b| a[0].cmp(&b[0]).then(b.len().cmp(&a.len())));
        writeln!(out, "/// Bit of the `{name}` group in [`FIRST`].")?;
        writeln!(out, "pub const F_{name}: u64 = 1 << {bit};")?;
        writeln!(
            out,
            "/// Phrases of the `{name}` group, as token sequences."
        )?;
        write!(out, "pub static {name}: &[&[&str]] = &[")?;
        for words in phrases {
            let e = first.entry(words[0].clone()).or_insert((0, 0));
            e.0 |= 1 << bit;
            if words.len() == 1 {
                e.1 |= 1 << bit;
            }
            write!(out, "&[")?;
            for w in words {
                write!(out, "{w:?},")?;
            }
            write!(out, "],")?;
        }
        writeln!(out, "];")?;
    }
    writeln!(
        out,
        "/// Every first word of every phrase, sorted, with the bits of the groups"
    )?;
    writeln!(
        out,
        "/// it starts a phrase of, and of the groups it is a one-word entry of."
    )?;
    write!(out, "pub static FIRST: &[(&str, u64, u64)] = &[")?;
    for (word, (bits, single)) in &first {
        write!(out, "({word:?}, {bits}, {single}),")?;
    }
    writeln!(out, "];")?;

    // Open-addressing hash index into FIRST (FNV-1a, linear probing): one
    // hash and usually one comparison per word instead of a binary search.
    let size = (first.len() * 3).next_power_of_two();
    let mut table = vec![0u16; size];
    for (ix, word) in first.keys().enumerate() {
        let mut h = fnv1a(word.as_bytes()) as usize & (size - 1);
        while table[h] != 0 {
            h = (h + 1) & (size - 1);
        }
        table[h] = u16::try_from(ix + 1)?;
    }
    writeln!(
        out,
        "/// Hash index into [`FIRST`]: entry `i + 1`, or 0 for an empty slot."
    )?;
    write!(out, "pub static INDEX: [u16; {size}] = [")?;
    for v in &table {
        write!(out, "{v},")?;
    }
    writeln!(out, "];")?;

    let dest = PathBuf::from(env::var("OUT_DIR")?).join("lexicon.rs");
    fs::write(dest, out)?;
    Ok(())
}
