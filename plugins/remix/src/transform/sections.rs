//! Layouts that re-tag or re-head the parsed segments: structured-xml,
//! markdown-sections and constraints-first.

use super::*;

// ---------------------------------------------------------------- structured-xml

pub(super) fn structured_xml(p: &Prompt) -> Draft {
    let role = p.prose(Part::Role);
    let context = p.prose(Part::Context);
    let task = p.prose(Part::Task);
    let examples = p.prose(Part::Examples);
    let format = p.prose(Part::Format);
    let rules = p.rules();
    let rule_list = bullets(&rules);
    let input = xml_inputs(p, true);
    let plain_input = xml_inputs(p, false);

    let v1 = blocks(&[
        role.clone(),
        xml("context", &context),
        xml("input", &input),
        xml("examples", &examples),
        xml("instructions", &task),
        xml("constraints", &rule_list),
        xml("output_format", &format),
    ]);
    let v2 = blocks(&[
        xml("role", &role),
        xml("instructions", &task),
        xml("constraints", &rule_list),
        xml("output_format", &format),
        xml("context", &context),
        xml("examples", &examples),
        xml("input", &input),
    ]);
    let docs: Vec<String> = p
        .of(Part::Input)
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "<document index=\"{}\">\n{}\n</document>",
                i + 1,
                s.content()
            )
        })
        .collect();
    let v3 = blocks(&[
        xml("persona", &role),
        xml("background", &context),
        xml("documents", &docs.join("\n")),
        xml("examples", &examples),
        xml("task", &task),
        xml("rules", &rule_list),
        xml("response_format", &format),
    ]);
    let answer_line = if p.has(Part::Input) {
        "Base your answer only on the material inside the tags above, and write it inside <answer> tags."
    } else {
        "Write your final answer inside <answer> tags."
    };
    let v4 = blocks(&[v1.clone(), answer_line.to_string()]);
    let mut steps: Vec<String> = p.of(Part::Task).iter().map(|s| s.content()).collect();
    steps.extend(rules.iter().cloned());
    let v5 = blocks(&[
        xml("role", &role),
        xml("context", &context),
        xml("input", &plain_input),
        xml("examples", &examples),
        xml("instructions", &numbered(&steps)),
        xml("output_format", &format),
    ]);

    let mut changes = vec![format!(
        "Split the prompt into its parts ({}) and wrapped each in its own XML tag so the model can tell instructions apart from data.",
        part_names(p)
    )];
    if p.has(Part::Input) {
        let vars = p.var_list();
        let what = if vars.is_empty() {
            String::new()
        } else {
            format!(" ({vars})")
        };
        changes.push(format!(
            "Put the input data{what} in <input> ahead of the instructions, because models answer more reliably when long material comes before the question."
        ));
    }
    if p.has(Part::Role) {
        changes.push("Kept the persona as the opening line, outside the tags, so it frames everything after it.".into());
    }
    if !rules.is_empty() {
        changes.push("Collected the rules into a bulleted <constraints> list so none of them is buried in prose.".into());
    }
    if !p.has(Part::Format) {
        changes.push(
            "No output format was stated, so none was invented; add an <output_format> section to pin down the answer's shape."
                .into(),
        );
    }
    common_changes(p, &mut changes);
    // Alternate notes name only the tags that variant really has, so a note
    // never lists a section the prompt gave no material for.
    let front = tag_list(&v2, &["instructions", "constraints", "output_format"]);
    let back = tag_list(&v2, &["context", "examples", "input"]);
    let v2_note = if !front.is_empty() && !back.is_empty() {
        format!("puts {front} first and {back} last, for readers who scan for the task.")
    } else if p.has(Part::Role) {
        "wraps the persona in <role> tags too, instead of keeping it as the opening line."
            .to_string()
    } else {
        "orders the sections instructions-first.".to_string()
    };
    let alt = tag_list(
        &v3,
        &[
            "persona",
            "background",
            "documents",
            "task",
            "rules",
            "response_format",
        ],
    );
    let v3_note = if p.has(Part::Input) {
        format!("uses alternative tag names ({alt}) and indexes each input document.")
    } else {
        format!("uses alternative tag names ({alt}).")
    };
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(v2, &v2_note),
            cand(v3, &v3_note),
            cand(
                v4,
                "adds a closing line that keeps the answer grounded in the tagged material and inside <answer> tags.",
            ),
            cand(
                v5,
                "merges the task and the constraints into one numbered <instructions> list.",
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- markdown-sections

/// A short title from the first task sentence, never cutting a placeholder.
pub(super) fn title(p: &Prompt) -> String {
    let src = p
        .of(Part::Task)
        .first()
        .map(|s| s.content())
        .unwrap_or_default();
    let words: Vec<&str> = src
        .split_whitespace()
        .take_while(|w| !w.contains(['{', '}', ':', '\n']))
        .take(7)
        .collect();
    let t = words.join(" ");
    let t = t.trim_end_matches(['.', ',', ';', '!', '?']);
    if t.is_empty() {
        "Prompt".to_string()
    } else {
        capitalize(t)
    }
}

pub(super) fn md_sections(
    p: &Prompt,
    order: &[Part],
    heading: &str,
    numbered_rules: bool,
) -> String {
    let mut out = Vec::new();
    for &part in order {
        let (name, body) = match part {
            Part::Role => ("Role", p.prose(Part::Role)),
            Part::Context => ("Context", p.prose(Part::Context)),
            Part::Task => ("Task", p.prose(Part::Task)),
            Part::Input => ("Input", p.prose(Part::Input)),
            Part::Examples => ("Examples", p.prose(Part::Examples)),
            Part::Constraint => {
                let r = p.rules();
                (
                    "Constraints",
                    if numbered_rules {
                        numbered(&r)
                    } else {
                        bullets(&r)
                    },
                )
            }
            Part::Format => ("Output format", p.prose(Part::Format)),
            Part::Pleasantry => continue,
        };
        if !body.trim().is_empty() {
            out.push(format!("{heading} {name}\n{body}"));
        }
    }
    out.join("\n\n")
}

pub(super) const CANONICAL: &[Part] = &[
    Part::Role,
    Part::Context,
    Part::Task,
    Part::Input,
    Part::Examples,
    Part::Constraint,
    Part::Format,
];
pub(super) const TASK_FIRST: &[Part] = &[
    Part::Role,
    Part::Task,
    Part::Format,
    Part::Constraint,
    Part::Context,
    Part::Examples,
    Part::Input,
];

pub(super) fn markdown_sections(p: &Prompt) -> Draft {
    let v1 = md_sections(p, CANONICAL, "##", false);
    let mut bold = Vec::new();
    for (part, name) in [
        (Part::Role, "Role"),
        (Part::Context, "Context"),
        (Part::Task, "Task"),
        (Part::Input, "Input"),
        (Part::Examples, "Examples"),
        (Part::Format, "Output format"),
    ] {
        let body = p.prose(part);
        if !body.is_empty() {
            let sep = if body.contains('\n') { "\n" } else { " " };
            bold.push(format!("**{name}:**{sep}{body}"));
        }
        if part == Part::Examples && !p.rules().is_empty() {
            bold.push(format!("**Constraints:**\n{}", bullets(&p.rules())));
        }
    }
    let v2 = bold.join("\n\n");
    let v3 = format!(
        "# {}\n\n{}",
        title(p),
        md_sections(p, CANONICAL, "###", true)
    );
    let v4 = md_sections(p, TASK_FIRST, "##", false);
    let fenced_ok = !p.of(Part::Input).iter().any(|s| s.body.contains("```"));
    let v5 = if fenced_ok && p.has(Part::Input) {
        let fenced = p
            .of(Part::Input)
            .iter()
            .map(|s| format!("```text\n{}\n```", s.content()))
            .collect::<Vec<_>>()
            .join("\n");
        let mut order: Vec<Part> = CANONICAL.to_vec();
        order.retain(|&x| x != Part::Input);
        format!(
            "{}\n\n## Input\n{fenced}",
            md_sections(p, &order, "##", false)
        )
    } else {
        md_sections(p, CANONICAL, "##", false).replace("\n\n## ", "\n\n---\n\n## ")
    };
    let mut changes = vec![format!(
        "Reorganised the prompt under Markdown headings ({}) so each part is easy to find and edit.",
        part_names(p)
    )];
    if !p.rules().is_empty() {
        changes.push("Turned the rules into a bulleted Constraints list so each one can be checked on its own.".into());
    }
    if !p.has(Part::Format) {
        changes.push("No output format was stated, so no Output format section was invented; adding one would make the answer predictable.".into());
    }
    common_changes(p, &mut changes);
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(v2, "uses compact bold labels instead of headings."),
            cand(
                v3,
                "adds a title, uses third-level headings and numbers the constraints.",
            ),
            cand(
                v4,
                "orders the sections task-first, with context and input data at the end.",
            ),
            cand(
                v5,
                if fenced_ok && p.has(Part::Input) {
                    "fences the input data in a code block so it is clearly separated from the instructions."
                } else {
                    "separates the sections with horizontal rules."
                },
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- constraints-first

pub(super) const NEGATIVE_LEADS: &[&str] = &[
    "do not",
    "don't",
    "don\u{2019}t",
    "never",
    "avoid",
    "no ",
    "without",
    "refrain",
    "must not",
    "you must not",
    "not ",
];

pub(super) fn constraints_first(p: &Prompt) -> Draft {
    let mut cons = p.rules();
    for f in p.of(Part::Format) {
        let c = f.content();
        cons.push(if f.generic_label || f.label.is_none() {
            format!("Output format: {}", text::without_label(&c, FORMAT_LABELS))
        } else {
            c
        });
    }
    let rest = p.flat(&[Part::Constraint, Part::Format, Part::Pleasantry]);
    let none = cons.is_empty();
    let list = if none {
        vec!["None were stated. Add limits on length, scope, tone or sources here before using this prompt.".to_string()]
    } else {
        cons.clone()
    };
    let v1 = format!(
        "Constraints (these apply to everything below):\n{}\n\n{rest}",
        bullets(&list)
    );
    let v2 = format!(
        "Hard rules. Follow them even if something below seems to say otherwise:\n{}\n\n{rest}",
        numbered(&list)
    );
    let v3 = format!(
        "{v1}\n\nBefore you answer, re-check every constraint at the top and fix anything that breaks one."
    );
    let v4 = format!(
        "<constraints>\n{}\n</constraints>\n\n{rest}",
        bullets(&list)
    );
    let (neg, pos): (Vec<String>, Vec<String>) = list
        .iter()
        .cloned()
        .partition(|c| text::starts_with_any_lower(c, NEGATIVE_LEADS));
    let v5 = blocks(&[
        if pos.is_empty() {
            String::new()
        } else {
            format!("You must:\n{}", bullets(&pos))
        },
        if neg.is_empty() {
            String::new()
        } else {
            format!("You must not:\n{}", bullets(&neg))
        },
        rest.clone(),
    ]);
    let mut changes = Vec::new();
    if none {
        changes.push("The prompt states no constraints, so the first section is a marked slot to fill in; models weigh rules most when they come first.".into());
    } else {
        let fmt = if p.has(Part::Format) {
            ", including the output format,"
        } else {
            ""
        };
        changes.push(format!(
            "Moved {} constraint(s){fmt} to the top, because rules stated before the task frame everything the model reads next.",
            cons.len()
        ));
        changes
            .push("Gave each constraint its own bullet so none is lost inside a paragraph.".into());
    }
    common_changes(p, &mut changes);
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "numbers the rules and says they win over anything below that conflicts.",
            ),
            cand(
                v3,
                "repeats a reminder at the end to re-check the constraints (a sandwich for long prompts).",
            ),
            cand(v4, "fences the constraints in <constraints> tags."),
            cand(
                v5,
                "splits the constraints into \"You must\" and \"You must not\" lists.",
            ),
        ],
        changes,
    }
}

/// The tags of `names` that `v` contains, as "<a>, <b>".
fn tag_list(v: &str, names: &[&str]) -> String {
    names
        .iter()
        .filter(|n| v.contains(&format!("<{n}>")))
        .map(|n| format!("<{n}>"))
        .collect::<Vec<_>>()
        .join(", ")
}
