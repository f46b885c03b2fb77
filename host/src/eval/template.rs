//! Filling a prompt's `{{variables}}` from a case, with the placeholder
//! parser every plugin uses (`ps_guest_util::placeholders`).
//!
//! Only the double-brace form is filled: a single-brace `{word}` in a
//! prompt is as likely a JSON example as a variable, and the contract
//! names `{{vars}}`.

/// The variables of `text` (double-brace placeholders) that `vars` lacks,
/// in order of first appearance.
pub fn missing(text: &str, vars: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in ps_guest_util::placeholders(text) {
        if p.double && !vars.iter().any(|(k, _)| *k == p.name) && !out.contains(&p.name) {
            out.push(p.name);
        }
    }
    out
}

/// `text` with every double-brace placeholder replaced by its value;
/// placeholders without a value stay as written (callers check
/// [`missing`] first).
pub fn fill(text: &str, vars: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for p in ps_guest_util::placeholders(text) {
        if !p.double {
            continue;
        }
        let Some((_, value)) = vars.iter().find(|(k, _)| *k == p.name) else {
            continue;
        };
        out.push_str(&text[last..p.start]);
        out.push_str(value);
        last = p.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fills_double_braces_with_inner_spaces() {
        let v = vars(&[("ticket", "printer on fire"), ("lang", "fr")]);
        assert_eq!(
            fill("Classify {{ticket}} in {{ lang }}; {{ticket}}!", &v),
            "Classify printer on fire in fr; printer on fire!"
        );
    }

    #[test]
    fn leaves_single_braces_and_json_alone() {
        let v = vars(&[("x", "1")]);
        assert_eq!(
            fill(r#"Answer {"a": {x}} {{x}}"#, &v),
            r#"Answer {"a": {x}} 1"#
        );
        assert!(missing("Reply as {label}", &[]).is_empty());
    }

    #[test]
    fn a_value_is_not_filled_again() {
        let v = vars(&[("a", "{{b}}"), ("b", "no")]);
        assert_eq!(fill("{{a}}", &v), "{{b}}");
    }

    #[test]
    fn names_missing_variables_once_in_order() {
        let v = vars(&[("b", "1")]);
        assert_eq!(missing("{{c}} {{a}} {{b}} {{c}}", &v), vec!["c", "a"]);
    }
}
