//! Styles that add a reasoning procedure: chain-of-thought, few-shot and
//! step-by-step.

use super::*;

// ---------------------------------------------------------------- chain-of-thought

pub(super) fn kind_of_work(l: &str) -> &'static str {
    const MATH: &[&str] = &[
        "calculate",
        "compute",
        "how many",
        "how much",
        "solve",
        "equation",
        "probability",
        "percent",
        "percentage",
        "total",
        "sum",
        "math",
        "average",
        "ratio",
        "interest",
        "price",
        "cost",
    ];
    const CODE: &[&str] = &[
        "code",
        "function",
        "bug",
        "program",
        "script",
        "stack trace",
        "compile",
        "sql",
        "query",
    ];
    if MATH.iter().any(|w| has_word(l, w)) {
        "math"
    } else if CODE.iter().any(|w| has_word(l, w)) {
        "code"
    } else {
        "general"
    }
}

pub(super) fn chain_of_thought(p: &Prompt) -> Draft {
    let base = p.base_with_extra();
    let kind = kind_of_work(&p.lower());
    let facts = if p.has(Part::Input) {
        "Quote or list the facts from the input that matter, and note any assumption you must make."
    } else {
        "List the facts, definitions and assumptions that matter."
    };
    let work = match kind {
        "math" => {
            "Work through the problem one step at a time and show every intermediate calculation with its units."
        }
        "code" => {
            "Trace what the code does step by step, naming the exact line or value each conclusion rests on."
        }
        _ => "Work through the problem one step at a time, giving the reason for each step.",
    };
    let answer_fmt = if p.has(Part::Format) {
        ", following the output format above"
    } else {
        ""
    };
    let v1 = format!(
        "{base}\n\nBefore you answer, think it through inside <thinking> tags:\n\
         1. Restate the task in one sentence and what a complete answer must contain.\n\
         2. {facts}\n3. {work}\n4. Check your conclusion against every requirement above and fix anything that does not hold.\n\
         Then write only the final answer inside <answer> tags{answer_fmt}."
    );
    let v2 = format!(
        "{base}\n\nThink step by step. Write out your reasoning first, then give the final answer on its own line starting with \"Answer:\"{answer_fmt}."
    );
    let v3 = format!(
        "{base}\n\nStructure your response in three parts:\n\
         <plan>The steps you will take, as a short numbered list.</plan>\n\
         <thinking>Carry out each step of the plan. {work}</thinking>\n\
         <answer>Only the final answer{answer_fmt}.</answer>"
    );
    let v4 = format!(
        "{base}\n\nInside <thinking> tags, consider at least two different ways to approach this, work each one through, \
         and compare where they disagree. Choose the most reliable result and explain in one sentence why. \
         Then give the final answer inside <answer> tags{answer_fmt}."
    );
    let v5 = format!(
        "{base}\n\nUse a <scratchpad> for your working notes: {} {} \
         The reader will only see what is inside <answer>, so put everything they need there{answer_fmt}.",
        decapitalize(facts),
        work
    );
    let mut changes = vec![
        "Added a reasoning scaffold that has the model think step by step inside <thinking> tags before answering, which improves accuracy on multi-step tasks.".to_string(),
        "Asked for the final answer in separate <answer> tags so it can be read or parsed without the reasoning.".to_string(),
    ];
    match kind {
        "math" => changes.push("Tailored the reasoning step to calculation work: every intermediate result must be shown.".into()),
        "code" => changes.push("Tailored the reasoning step to code: each conclusion must cite the line or value it rests on.".into()),
        _ => {}
    }
    if p.has(Part::Format) {
        changes.push("Tied the answer section to the output format you already specified, so the scaffold does not override it.".into());
    }
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "uses a lighter \"think step by step\" cue with a plain \"Answer:\" line instead of tags.",
            ),
            cand(
                v3,
                "splits the response into <plan>, <thinking> and <answer> sections.",
            ),
            cand(
                v4,
                "asks the model to try two approaches and compare them before answering (self-consistency).",
            ),
            cand(
                v5,
                "keeps the reasoning in a private <scratchpad> and only the <answer> for the reader.",
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- few-shot

pub(super) fn example_input(p: &Prompt, i: usize, what: &str) -> String {
    let names = p.var_names();
    if names.is_empty() {
        format!("[{what} example input {i}]")
    } else {
        names
            .iter()
            .map(|n| format!("{n}: [{what} example value for {n}]"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub(super) fn example_output(p: &Prompt, i: usize) -> String {
    if p.has(Part::Format) {
        format!("[the ideal output for example {i}, in exactly the required format]")
    } else {
        format!("[the ideal output for example {i}]")
    }
}

pub(super) const KINDS: [&str; 3] = ["a typical", "a tricky or edge-case", "a borderline"];

pub(super) fn few_shot(p: &Prompt) -> Draft {
    let xml_example = |i: usize| {
        format!(
            "<example>\n<input>\n{}\n</input>\n<output>\n{}\n</output>\n</example>",
            example_input(p, i, KINDS[(i - 1) % 3]),
            example_output(p, i)
        )
    };
    let intro = "Here are examples of inputs and ideal outputs. Match their format, length and tone; do not copy their content.";
    let todo = "(Replace each bracketed placeholder with a real, varied example before using this prompt.)";

    // Variant 1: examples after the instructions, before the real input.
    let mut v1_parts = vec![p.flat(&[Part::Input, Part::Pleasantry, Part::Constraint])];
    let rules = p.rules();
    if !rules.is_empty() {
        v1_parts.push(format!("Rules:\n{}", bullets(&rules)));
    }
    v1_parts.push(format!(
        "{intro}\n{todo}\n\n<examples>\n{}\n{}\n</examples>",
        xml_example(1),
        xml_example(2)
    ));
    if p.has(Part::Input) {
        v1_parts.push(format!(
            "Now do the same for this input:\n{}",
            join(&p.of(Part::Input), true)
        ));
    }
    let v1 = blocks(&v1_parts);

    let base = p.base_with_extra();
    let md: Vec<String> = (1..=3)
        .map(|i| {
            format!(
                "### Example {i} ({} case)\n**Input:**\n{}\n\n**Output:**\n{}",
                KINDS[i - 1].trim_start_matches("a "),
                example_input(p, i, KINDS[i - 1]),
                example_output(p, i)
            )
        })
        .collect();
    let v2 = format!("{base}\n\n## Examples\n{todo}\n\n{}", md.join("\n\n"));
    let plain: Vec<String> = (1..=3)
        .map(|i| {
            format!(
                "Input:\n{}\nOutput:\n{}",
                example_input(p, i, KINDS[i - 1]),
                example_output(p, i)
            )
        })
        .collect();
    let v3 = format!("{intro}\n{todo}\n\n{}\n\n---\n\n{base}", plain.join("\n\n"));
    let v4 = format!(
        "{base}\n\nHere is one example of an ideal answer. {todo}\n\n<example>\n<input>\n{}\n</input>\n<output>\n{}\n</output>\n<why>[one sentence on what makes this output ideal]</why>\n</example>",
        example_input(p, 1, KINDS[0]),
        example_output(p, 1)
    );
    let v5 = format!(
        "{base}\n\nA good and a bad answer, for contrast. {todo}\n\n<good_example>\n<input>\n{}\n</input>\n<output>\n{}\n</output>\n</good_example>\n<bad_example>\n<input>\n{}\n</input>\n<output>\n[a plausible but wrong output]\n</output>\n<why_bad>[what the bad output gets wrong]</why_bad>\n</bad_example>",
        example_input(p, 1, KINDS[0]),
        example_output(p, 1),
        example_input(p, 1, KINDS[0]),
    );
    let mut changes = vec![
        "Added an examples section, because a couple of worked input/output pairs pin down format and tone better than any description.".to_string(),
        "The example slots are bracketed placeholders to fill with real cases; rule-based remixing cannot invent faithful examples (use_llm: true can).".to_string(),
    ];
    if !p.var_names().is_empty() {
        changes.push(format!(
            "Each example input mirrors the prompt's variables ({}) so the pairs line up with the real input.",
            p.var_names().join(", ")
        ));
    }
    if p.has(Part::Input) {
        changes.push("Placed the examples before the real input so the model sees the pattern first and then applies it.".into());
    }
    if p.has(Part::Examples) {
        changes.push("The prompt already had examples; the scaffold adds room for a more varied (edge-case) pair.".into());
    }
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "keeps the prompt as written and appends three Markdown examples: typical, edge case and borderline.",
            ),
            cand(
                v3,
                "puts three plain Input/Output examples before the instructions.",
            ),
            cand(
                v4,
                "is one-shot: a single example plus a line on why it is ideal.",
            ),
            cand(
                v5,
                "contrasts a good and a bad example so the model learns what to avoid.",
            ),
        ],
        changes,
    }
}

// ---------------------------------------------------------------- step-by-step

pub(super) const STEP_SEPARATORS: &[&str] = &[
    "; then ",
    ", and then ",
    " and then ",
    ", then ",
    "; after that, ",
    ". then ",
    "; ",
    " then ",
];
pub(super) const STEP_LEADS: &[&str] = &[
    "first, ",
    "first ",
    "then, ",
    "then ",
    "next, ",
    "next ",
    "finally, ",
    "finally ",
    "after that, ",
    "and ",
];

/// Split one task text into steps (masked, so quotes and variables are never cut).
pub(super) fn split_steps(content: &str) -> Vec<String> {
    let m = text::mask(content);
    if m.text.contains('\n') {
        return m
            .text
            .lines()
            .map(|l| {
                let t = l.trim();
                let t = t.trim_start_matches(['-', '*', '\u{2022}']).trim_start();
                let d = t.chars().take_while(char::is_ascii_digit).count();
                let t = if d > 0 && t[d..].starts_with(['.', ')']) {
                    t[d + 1..].trim_start()
                } else {
                    t
                };
                m.unmask(t)
            })
            .filter(|t| !t.trim().is_empty())
            .map(|t| terminate(&capitalize(&t)))
            .collect();
    }
    let mut pieces = vec![m.text.clone()];
    for sep in STEP_SEPARATORS {
        pieces = pieces
            .into_iter()
            .flat_map(|p| {
                let l = p.to_ascii_lowercase();
                let mut out = Vec::new();
                let mut last = 0;
                let mut from = 0;
                while let Some(pos) = l[from..].find(sep) {
                    let at = from + pos;
                    out.push(p[last..at].to_string());
                    last = at + sep.len();
                    from = last;
                }
                out.push(p[last..].to_string());
                out
            })
            .collect();
    }
    // "Read the email and write a reply": split at "and" before a verb.
    let mut steps = Vec::new();
    for piece in pieces {
        let ws: Vec<&str> = piece.split(' ').collect();
        let mut cur: Vec<&str> = Vec::new();
        for (i, w) in ws.iter().enumerate() {
            let next = ws
                .get(i + 1)
                .map(|n| n.to_ascii_lowercase())
                .unwrap_or_default();
            if (*w == "and" || *w == "and,")
                && !cur.is_empty()
                && TASK_VERBS.contains(&next.as_str())
                && cur.len() >= 2
            {
                steps.push(cur.join(" "));
                cur.clear();
            } else {
                cur.push(w);
            }
        }
        steps.push(cur.join(" "));
    }
    steps
        .into_iter()
        .map(|s| {
            let mut t = s.trim().trim_end_matches([',', ';']).trim().to_string();
            loop {
                let l = t.to_ascii_lowercase();
                match STEP_LEADS.iter().find(|p| l.starts_with(*p)) {
                    Some(p) => t = t[p.len()..].trim_start().to_string(),
                    None => break,
                }
            }
            m.unmask(&t)
        })
        .filter(|s| s.chars().any(char::is_alphanumeric))
        .map(|t| terminate(&capitalize(&t)))
        .collect()
}

pub(super) fn step_by_step(p: &Prompt) -> Draft {
    let task_steps: Vec<String> = p
        .of(Part::Task)
        .iter()
        .flat_map(|s| split_steps(&s.content()))
        .collect();
    let rules = p.rules();
    let format = p.prose(Part::Format);
    let has_input = p.has(Part::Input);
    let intro = p.flat(&[
        Part::Task,
        Part::Input,
        Part::Examples,
        Part::Constraint,
        Part::Format,
        Part::Pleasantry,
    ]);
    let input = if has_input {
        format!("Input:\n{}", join(&p.of(Part::Input), true))
    } else {
        String::new()
    };
    let examples = p.prose(Part::Examples);
    let tail = blocks(&[
        if rules.is_empty() {
            String::new()
        } else {
            format!("Constraints:\n{}", bullets(&rules))
        },
        if format.is_empty() {
            String::new()
        } else {
            format!(
                "Output format: {}",
                text::without_label(&format, FORMAT_LABELS)
            )
        },
    ]);
    let check = match (rules.is_empty(), format.is_empty()) {
        (false, false) => {
            "Check the result against the constraints and the output format below, and fix anything that does not match."
        }
        (false, true) => {
            "Check the result against the constraints below, and fix anything that does not match."
        }
        (true, false) => {
            "Check that the result follows the output format below, and fix anything that does not match."
        }
        (true, true) => {
            "Review the result for errors and missing parts, and fix them before you answer."
        }
    };
    let mut s1 = Vec::new();
    if has_input {
        s1.push("Read the input carefully and note what it contains.".to_string());
    }
    s1.extend(task_steps.iter().cloned());
    s1.push(check.to_string());
    let v1 = blocks(&[
        intro.clone(),
        input.clone(),
        examples.clone(),
        format!("Follow these steps in order:\n{}", numbered(&s1)),
        tail.clone(),
    ]);

    let mut s2 = task_steps.clone();
    s2.push(check.to_string());
    let labelled: Vec<String> = s2
        .iter()
        .enumerate()
        .map(|(i, s)| format!("Step {}: {s}", i + 1))
        .collect();
    let v2 = blocks(&[
        intro.clone(),
        input.clone(),
        examples.clone(),
        format!(
            "Complete each step before moving on to the next.\n{}",
            labelled.join("\n")
        ),
        tail.clone(),
    ]);

    let v3 = blocks(&[
        intro.clone(),
        input.clone(),
        examples.clone(),
        format!(
            "Work through these steps and show the result of each under its number:\n{}",
            numbered(&s1)
        ),
        tail.clone(),
        "Then give the final answer after the line \"Final answer:\".".to_string(),
    ]);

    let mut s4 = s1.clone();
    s4.pop();
    for r in &rules {
        s4.push(terminate(&capitalize(r)));
    }
    if !format.is_empty() {
        s4.push(format!(
            "Format the answer as specified: {}",
            terminate(&decapitalize(&format))
        ));
    }
    s4.push("Re-read your answer once and correct any mistake.".into());
    let v4 = blocks(&[
        intro.clone(),
        input.clone(),
        examples.clone(),
        format!("Follow these steps in order:\n{}", numbered(&s4)),
    ]);

    let checklist: Vec<String> = s1.iter().map(|s| format!("- [ ] {s}")).collect();
    let v5 = blocks(&[
        intro,
        input,
        examples,
        format!(
            "Work through this checklist from top to bottom:\n{}",
            checklist.join("\n")
        ),
        tail,
    ]);

    let mut changes = vec![if task_steps.len() > 1 {
        format!(
            "Broke the task into {} numbered steps, one action each, so the model does them in order and skips none.",
            task_steps.len()
        )
    } else {
        "Put the single task into a numbered sequence so the model works through it in a fixed order.".to_string()
    }];
    if has_input {
        changes.push("Added a first step to read the input, and moved the input above the steps so it is in view before the work starts.".into());
    }
    changes.push(
        "Added a final checking step so the model verifies its result before answering.".into(),
    );
    if !rules.is_empty() || !format.is_empty() {
        changes.push("Kept the constraints and the output format as their own sections after the steps, where the check step points to them.".into());
    }
    common_changes(p, &mut changes);
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "labels the steps \"Step 1:\", \"Step 2:\" and asks for each to be finished before the next.",
            ),
            cand(
                v3,
                "asks the model to show the result of each step and then a final answer.",
            ),
            cand(
                v4,
                "folds the constraints and the output format into the steps themselves.",
            ),
            cand(v5, "presents the steps as a checklist."),
        ],
        changes,
    }
}
