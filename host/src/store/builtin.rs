//! The builtin styles, compiled into the server: every instance of one
//! version serves the same ones without reading them from a database, and
//! they are there even when the database is not.

use serde::Deserialize;

use super::{StoreError, StyleExample, StyleRecord};

/// When the builtin styles of this release were written; their timestamps
/// (and so their ETags) are the same on every instance and every start.
const BUILTIN_AT: &str = "2026-01-01T00:00:00.000Z";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Builtin {
    name: String,
    description: String,
    instructions: String,
    examples: Vec<StyleExample>,
}

/// Every builtin style, in the order of the file.
pub(super) fn styles() -> Result<Vec<StyleRecord>, StoreError> {
    let parsed: Vec<Builtin> = serde_json::from_str(include_str!("builtin_styles.json"))
        .map_err(|e| StoreError::Corrupt(format!("builtin styles: {e}")))?;
    Ok(parsed
        .into_iter()
        .map(|b| StyleRecord {
            name: b.name,
            description: b.description,
            source: "builtin".into(),
            instructions: b.instructions,
            examples: b.examples,
            created_at: BUILTIN_AT.into(),
            updated_at: BUILTIN_AT.into(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_styles_parse_and_keep_their_variables() {
        let styles = styles().unwrap();
        assert_eq!(styles.len(), 10);
        assert!(styles.iter().any(|s| s.name == "concise"));
        for s in &styles {
            assert!(!s.examples.is_empty(), "{} has an example", s.name);
            for e in &s.examples {
                for var in e.before.match_indices("{{").map(|(i, _)| &e.before[i..]) {
                    let end = var.find("}}").unwrap() + 2;
                    // few-shot replaces variables by samples in its examples,
                    // but keeps them where the real input goes.
                    assert!(
                        e.after.contains(&var[..end]),
                        "{}: {} kept",
                        s.name,
                        &var[..end]
                    );
                }
            }
        }
    }
}
