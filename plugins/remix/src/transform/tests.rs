use super::*;

/// Prompts that exercise the parser: roles, labels, lists, JSON braces,
/// multibyte text and placeholders glued to punctuation.
const PROMPTS: &[&str] = &[
    "You are a helpful assistant. I run a small bakery in Lyon. Could you please summarize the following customer review: {{review}}. \
     Please do not mention prices. It is really important that you keep it under 50 words. Respond in JSON. Thanks!",
    "Translate {{text}} into {{ target_language }},keeping the tone.\nDo NOT translate product names!!!",
    "Schreibe eine kurze Zusammenfassung von {{dokument}} für {{zielgruppe}}. Verwende höchstens 3 Sätze. 日本語の{{名前}}も残してください。",
    "Extract every email address from {{input}}.\nReturn {\"emails\": [\"...\"], \"count\": 0} and nothing else.\nUse {name} as the greeting.",
    "Context: we sell shoes online.\n\nRules:\n- be brief\n- no emojis\n\nEmail: {{email}}\n\nWrite a reply to the customer and suggest a fix.",
    "Write a haiku about autumn.",
    "({{a}}),[{{b}}];\"{{c}}\"!",
];

fn check_all(style: &str) {
    for prompt in PROMPTS {
        for n in 1..=5 {
            let r = remix(prompt, style, None, n);
            assert_eq!(r.variants.len(), n, "{style} n={n} {prompt}");
            for (i, v) in r.variants.iter().enumerate() {
                assert!(!v.trim().is_empty(), "{style} variant {i} empty");
                assert!(
                    missing_placeholders(prompt, v).is_empty(),
                    "{style} variant {i} lost a placeholder:\n{v}"
                );
                if normalize_ws(v) == normalize_ws(prompt) {
                    // Only acceptable when the transform says there was nothing to do.
                    assert!(
                        i == 0 && r.changes.iter().any(|c| c.contains("already")),
                        "{style} variant {i} equals the input"
                    );
                }
            }
            for i in 0..n {
                for j in i + 1..n {
                    assert_ne!(
                        r.variants[i], r.variants[j],
                        "{style} variants {i} and {j} are equal"
                    );
                }
            }
            assert!(!r.changes.is_empty());
            assert!(
                r.changes.len() >= n,
                "{style}: one change line per alternate"
            );
            // No placeholder was restored by the safety net: the transform
            // itself keeps them.
            assert!(
                !r.changes.iter().any(|c| c.starts_with("Re-attached")),
                "{style}: {:?}\n{:?}",
                r.changes,
                r.variants
            );
            assert_eq!(
                r,
                remix(prompt, style, None, n),
                "{style} is not deterministic"
            );
        }
    }
}

#[test]
fn every_builtin_style_keeps_placeholders_and_gives_distinct_variants() {
    for style in BUILTIN_STYLES {
        check_all(style);
    }
}

#[test]
fn unknown_style_gets_an_honest_cleanup() {
    check_all("my-house-style");
    let r = remix("Summarize {{doc}}. Be brief.", "my-house-style", None, 1);
    assert!(r.changes[0].contains("use_llm: true"), "{:?}", r.changes);
    assert!(r.variants[0].contains("## Task"));
}

#[test]
fn extra_instructions_reach_every_variant_and_the_changes() {
    for style in BUILTIN_STYLES.iter().chain(["custom"].iter()) {
        let r = remix(
            "Summarize {{doc}} for managers.",
            style,
            Some("Use British spelling"),
            5,
        );
        for v in &r.variants {
            assert!(v.contains("Use British spelling"), "{style}: {v}");
        }
        assert!(
            r.changes.iter().any(|c| c.contains("Use British spelling")),
            "{style}"
        );
    }
}

#[test]
fn structured_xml_tags_every_part() {
    let r = remix(PROMPTS[0], "structured-xml", None, 1);
    let v = &r.variants[0];
    assert!(v.starts_with("You are a helpful assistant."), "{v}");
    for tag in [
        "<context>",
        "<input>",
        "<review>\n{{review}}\n</review>",
        "<instructions>",
        "<constraints>",
        "<output_format>",
    ] {
        assert!(v.contains(tag), "missing {tag} in\n{v}");
    }
    assert!(!v.contains("Thanks"), "pleasantry kept:\n{v}");
    assert!(
        v.find("<input>") < v.find("<instructions>"),
        "data should come first:\n{v}"
    );
}

#[test]
fn concise_removes_filler_and_repetition() {
    let p = "Could you please basically summarize {{doc}} in order to help the team? Keep it short. Keep it short. Thank you so much!";
    let r = remix(p, "concise", None, 1);
    let v = &r.variants[0];
    assert_eq!(v, "Summarize {{doc}} to help the team. Keep it short.");
    assert!(r.changes.iter().any(|c| c.contains("repeated")));
    // Quoted text and placeholders are never edited.
    let q = remix(
        "Reply with \"please just wait\" to {{just}}.",
        "concise",
        None,
        1,
    );
    assert!(
        q.variants[0].contains("\"please just wait\"") && q.variants[0].contains("{{just}}"),
        "{:?}",
        q.variants
    );
}

#[test]
fn concise_is_honest_when_nothing_to_cut() {
    let r = remix("Summarize {{doc}} in 3 bullets.", "concise", None, 1);
    assert!(
        r.changes.iter().any(|c| c.contains("already concise")),
        "{:?}",
        r.changes
    );
}

#[test]
fn chain_of_thought_adds_scaffold_tailored_to_math() {
    let r = remix(
        "Calculate the total cost of {{items}} including 8% tax.",
        "chain-of-thought",
        None,
        1,
    );
    let v = &r.variants[0];
    assert!(v.contains("<thinking>") && v.contains("<answer>"), "{v}");
    assert!(v.contains("intermediate calculation"), "{v}");
}

#[test]
fn few_shot_scaffold_mirrors_variables() {
    let r = remix(
        "Classify the sentiment of {{review}}. Answer with one word.",
        "few-shot",
        None,
        1,
    );
    let v = &r.variants[0];
    assert!(
        v.contains("<examples>") && v.contains("review: [a typical example value for review]"),
        "{v}"
    );
    // The scaffold adds no new placeholders.
    assert_eq!(ps_guest_util::variable_names(v), vec!["review"]);
}

#[test]
fn expert_role_infers_domain_and_replaces_old_role() {
    let r = remix(
        "You are a helpful assistant. Debug this Python function: {{code}}",
        "expert-role",
        None,
        1,
    );
    let v = &r.variants[0];
    assert!(v.starts_with("You are a senior software engineer"), "{v}");
    assert!(!v.contains("helpful assistant"), "{v}");
    let legal = remix(
        "Review {{contract}} and flag risky clauses.",
        "expert-role",
        None,
        1,
    );
    assert!(
        legal.variants[0].contains("legal analyst"),
        "{:?}",
        legal.variants
    );
}

#[test]
fn markdown_sections_use_headings() {
    let r = remix(PROMPTS[4], "markdown-sections", None, 1);
    let v = &r.variants[0];
    for h in [
        "## Context\nWe sell shoes online.",
        "## Task",
        "## Input\nEmail: {{email}}",
        "## Constraints\n- Be brief.",
    ] {
        assert!(v.contains(h), "missing {h:?} in\n{v}");
    }
}

#[test]
fn json_output_infers_fields_or_keeps_the_users_shape() {
    let r = remix(
        "Summarize {{article}} in a few sentences. Use bullet points.",
        "json-output",
        None,
        2,
    );
    let v = &r.variants[0];
    assert!(
        v.contains("\"summary\"") && v.contains("\"key_points\""),
        "{v}"
    );
    assert!(
        !v.contains("Use bullet points"),
        "conflicting format kept:\n{v}"
    );
    let schema_start = r.variants[1].find("{\n  \"type\"").unwrap_or(0);
    let schema: Result<serde_json::Value, _> = serde_json::from_str(&r.variants[1][schema_start..]);
    assert!(schema.is_ok(), "schema does not parse:\n{}", r.variants[1]);
    let own = remix(PROMPTS[3], "json-output", None, 1);
    assert!(
        own.variants[0].contains("{\"emails\": [\"...\"], \"count\": 0}"),
        "{:?}",
        own.variants
    );
}

#[test]
fn step_by_step_numbers_the_actions() {
    let r = remix(
        "Read {{email}} and write a polite reply, then list open questions.",
        "step-by-step",
        None,
        1,
    );
    let v = &r.variants[0];
    assert!(
        v.contains(
            "1. Read {{email}}.\n2. Write a polite reply.\n3. List open questions.\n4. Review"
        ),
        "{v}"
    );
    let with_input = remix(
        "Summarize the following text: {{text}}",
        "step-by-step",
        None,
        1,
    );
    assert!(
        with_input.variants[0].contains("Input:\n{{text}}"),
        "{:?}",
        with_input.variants
    );
    assert!(
        with_input.variants[0].contains("1. Read the input carefully"),
        "{:?}",
        with_input.variants
    );
}

#[test]
fn constraints_first_moves_rules_up() {
    let r = remix(PROMPTS[0], "constraints-first", None, 1);
    let v = &r.variants[0];
    assert!(v.starts_with("Constraints"), "{v}");
    assert!(
        v.find("do not mention prices") < v.find("You are a helpful assistant"),
        "{v}"
    );
    let none = remix(
        "Write a haiku about {{season}}.",
        "constraints-first",
        None,
        1,
    );
    assert!(
        none.variants[0].contains("None were stated"),
        "{:?}",
        none.variants
    );
}

#[test]
fn friendly_tone_softens_and_unshouts() {
    let r = remix(PROMPTS[1], "friendly-tone", None, 1);
    let v = &r.variants[0];
    assert!(v.contains("Could you please translate {{text}}"), "{v}");
    assert!(v.contains("Please don't translate product names!"), "{v}");
    assert!(r.changes.iter().any(|c| c.contains("ALL-CAPS")));
}

#[test]
fn tiny_prompts_still_give_n_distinct_variants() {
    for style in BUILTIN_STYLES.iter().chain(["x"].iter()) {
        for p in ["{{x}}", "Hi", "?"] {
            let r = remix(p, style, None, 5);
            assert_eq!(r.variants.len(), 5);
            let mut v = r.variants.clone();
            v.dedup();
            assert_eq!(v.len(), 5, "{style} {p}: {:?}", r.variants);
        }
    }
}

#[test]
fn expert_role_keeps_and_sharpens_a_specific_role() {
    let prompt = "You are a senior technical writer who writes onboarding guides for backend engineers new to Kubernetes.\n\nExplain how a Deployment rolls out a new version, in terms that suit that audience.";
    let r = remix(prompt, "expert-role", None, 3);
    for v in &r.variants {
        assert!(
            v.contains("a senior technical writer who writes onboarding guides for backend engineers new to Kubernetes"),
            "{v}"
        );
        assert!(!v.contains("You are a senior software engineer"), "{v}");
        assert!(v.contains("for backend engineers new to Kubernetes"), "{v}");
    }
    assert!(r.variants[0].contains("Apply the standards of your field"));
    assert!(
        r.changes[0].starts_with("Kept your role"),
        "{:?}",
        r.changes
    );
    assert!(
        !r.changes.iter().any(|c| c.contains("Replaced")),
        "{:?}",
        r.changes
    );
}

#[test]
fn expert_role_on_its_own_output_says_nothing_changed() {
    let prompt = "You are a careful patent attorney.\n\nReview {{claims}} for prior-art risks.";
    let once = remix(prompt, "expert-role", None, 1);
    let twice = remix(&once.variants[0], "expert-role", None, 1);
    assert_eq!(twice.variants[0], once.variants[0]);
    assert_eq!(twice.changes.len(), 1, "{:?}", twice.changes);
    assert!(
        twice.changes[0].starts_with("No change"),
        "{:?}",
        twice.changes
    );
}

#[test]
fn expert_role_sharpens_a_non_english_role_in_its_language() {
    let r = remix(
        "你是一名经验丰富的律师。请审查{{contract}}中的风险条款。",
        "expert-role",
        None,
        2,
    );
    let v = &r.variants[0];
    assert!(v.starts_with("你是一名经验丰富的律师。请遵循"), "{v}");
    assert!(!v.contains("You are"), "{v}");
    assert_eq!(v.matches("{{contract}}").count(), 1, "{v}");
}

#[test]
fn labels_inside_a_block_head_their_lines() {
    // Found by the property test: a "Rules:" or "Examples:" line after a
    // prose line was read as a task and written twice.
    let r = remix(
        "Summarise {{doc}}.\nRules:\n- be brief\n- no emojis\nExamples:\nInput: a\nOutput: b",
        "structured-xml",
        None,
        1,
    );
    let v = &r.variants[0];
    assert!(!v.contains("Rules:"), "{v}");
    assert!(
        v.contains("<constraints>\n- Be brief.\n- No emojis.\n</constraints>"),
        "{v}"
    );
    assert!(v.contains("Input: a\nOutput: b"), "{v}");
    assert!(!v.contains("<output_format>"), "{v}");
}
