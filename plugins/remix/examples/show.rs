//! Print the deterministic remix of a prompt read from stdin:
//! `echo 'Summarise {{doc}}.' | cargo run -p ps-plugin-remix --example show -- concise 2`.
//! Style-pack styles are served too, so every deterministic style can be eyeballed.

// A developer tool, not plugin code: a broken setup should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;

fn main() {
    let mut args = std::env::args().skip(1);
    let style = args.next().unwrap_or_else(|| "structured-xml".to_string());
    let n = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut prompt = String::new();
    std::io::stdin().read_to_string(&mut prompt).unwrap();
    let (variants, changes) = match ps_plugin_style_pack::transform::PackStyle::from_name(&style) {
        Some(s) => {
            let r = ps_plugin_style_pack::transform::remix(s, &prompt, None, n);
            (r.variants, r.changes)
        }
        None => {
            let r = ps_plugin_remix::transform::remix(&prompt, &style, None, n);
            (r.variants, r.changes)
        }
    };
    for (k, v) in variants.iter().enumerate() {
        println!("---- variant {}\n{v}", k + 1);
    }
    println!("---- changes");
    for c in changes {
        println!("- {c}");
    }
}
