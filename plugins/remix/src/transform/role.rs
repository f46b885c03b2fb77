//! expert-role: a persona matched to the task's domain.

use super::*;

// ---------------------------------------------------------------- expert-role

/// Domain keywords → (persona, what that expert cares about).
pub(super) const DOMAINS: &[(&[&str], &str, &str)] = &[
    (
        &[
            "code",
            "function",
            "bug",
            "debug",
            "refactor",
            "python",
            "rust",
            "javascript",
            "typescript",
            "java",
            "api",
            "compile",
            "program",
            "script",
            "repository",
            "unit test",
            "algorithm",
            "database",
            "sql",
            "backend",
            "frontend",
        ],
        "a senior software engineer",
        "who writes correct, idiomatic, well-tested code and explains trade-offs plainly",
    ),
    (
        &[
            "security",
            "vulnerability",
            "vulnerabilities",
            "threat",
            "attack",
            "exploit",
            "malware",
            "encryption",
            "authentication",
            "phishing",
            "pentest",
            "cve",
        ],
        "a senior security engineer",
        "who thinks like an attacker and recommends concrete, prioritised mitigations",
    ),
    (
        &[
            "data",
            "dataset",
            "csv",
            "statistics",
            "statistical",
            "metric",
            "metrics",
            "chart",
            "regression",
            "spreadsheet",
            "analytics",
            "trend",
            "trends",
            "kpi",
        ],
        "an experienced data analyst",
        "who checks assumptions, quantifies uncertainty and reports numbers precisely",
    ),
    (
        &[
            "contract",
            "legal",
            "clause",
            "clauses",
            "law",
            "lawyer",
            "compliance",
            "gdpr",
            "liability",
            "agreement",
            "regulation",
            "regulatory",
            "terms of service",
        ],
        "an experienced legal analyst",
        "who reads documents closely, cites the exact clause and flags risks, without giving formal legal advice",
    ),
    (
        &[
            "health",
            "medical",
            "symptom",
            "symptoms",
            "patient",
            "patients",
            "diagnosis",
            "clinical",
            "medication",
            "doctor",
            "disease",
            "treatment",
        ],
        "a careful clinician",
        "who explains medical information accurately, states uncertainty and recommends professional care where appropriate",
    ),
    (
        &[
            "finance",
            "financial",
            "budget",
            "invest",
            "investment",
            "tax",
            "revenue",
            "profit",
            "accounting",
            "stock",
            "stocks",
            "portfolio",
            "cash flow",
            "valuation",
        ],
        "a chartered financial analyst",
        "who shows the calculations, states assumptions and avoids speculation",
    ),
    (
        &[
            "marketing",
            "campaign",
            "ad",
            "ads",
            "slogan",
            "seo",
            "brand",
            "landing page",
            "product description",
            "newsletter",
            "conversion",
            "copywriting",
            "tagline",
        ],
        "a senior marketing copywriter",
        "who writes clear, persuasive copy tailored to a specific audience",
    ),
    (
        &[
            "translate",
            "translation",
            "french",
            "spanish",
            "german",
            "chinese",
            "japanese",
            "italian",
            "portuguese",
            "localize",
            "localise",
            "localization",
        ],
        "a professional translator",
        "who preserves meaning, tone and formatting and flags terms that do not translate cleanly",
    ),
    (
        &[
            "product",
            "feature",
            "features",
            "roadmap",
            "user story",
            "user stories",
            "requirements",
            "ux",
            "stakeholder",
            "stakeholders",
            "prd",
            "prioritize",
            "prioritise",
        ],
        "an experienced product manager",
        "who ties every recommendation to user needs and measurable outcomes",
    ),
    (
        &[
            "student",
            "students",
            "teach",
            "lesson",
            "beginner",
            "beginners",
            "learn",
            "course",
            "quiz",
            "homework",
            "kids",
            "child",
            "children",
            "explain",
        ],
        "an experienced teacher",
        "who explains ideas step by step with concrete examples at the learner's level",
    ),
    (
        &[
            "research",
            "paper",
            "papers",
            "study",
            "studies",
            "literature",
            "evidence",
            "citation",
            "citations",
            "summarize",
            "summarise",
            "summary",
            "findings",
        ],
        "a meticulous research analyst",
        "who separates findings from opinion and keeps every claim traceable to its source",
    ),
    (
        &[
            "customer",
            "customers",
            "support",
            "ticket",
            "complaint",
            "refund",
            "helpdesk",
            "reply to",
        ],
        "a senior customer-support specialist",
        "who is empathetic, precise and focused on resolving the customer's problem",
    ),
    (
        &[
            "essay",
            "article",
            "blog",
            "story",
            "poem",
            "edit",
            "proofread",
            "grammar",
            "rewrite",
            "draft",
            "headline",
            "narrative",
        ],
        "a professional editor and writer",
        "who values clarity, structure and a consistent voice",
    ),
];

/// Domains ranked by keyword hits (best first), ties in table order.
pub(super) fn rank_domains(l: &str) -> Vec<(usize, usize)> {
    let mut scored: Vec<(usize, usize)> = DOMAINS
        .iter()
        .enumerate()
        .map(|(i, (kw, _, _))| (i, kw.iter().filter(|w| has_word(l, w)).count()))
        .filter(|&(_, n)| n > 0)
        .collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

/// Roles that name no expertise; expert-role replaces them, while a
/// specific role the user wrote is kept and sharpened.
const GENERIC_ROLES: &[&str] = &[
    "helpful assistant",
    "an assistant",
    "ai assistant",
    "an ai",
    "a chatbot",
    "language model",
    "a bot",
    "an expert",
    "a helpful",
];

/// The sentence that sharpens an existing role, in the prompt's language
/// for a few common ones so no English is added to a non-English prompt.
fn sharpening(lang: &str) -> &'static str {
    match lang {
        "zh" => "请遵循你所在领域的专业标准，准确使用术语；如果输入中没有答案，请直接说明。",
        "ja" => {
            "専門分野の基準に従い、用語を正確に使ってください。入力に答えがない場合は、そのように明言してください。"
        }
        "de" => {
            "Halte dich an die Standards deines Fachs, verwende die Fachbegriffe präzise und sag offen, wenn die Eingabe die Antwort nicht enthält."
        }
        "es" => {
            "Aplica los estándares de tu campo, usa su terminología con precisión y dilo claramente cuando la entrada no contenga la respuesta."
        }
        "fr" => {
            "Applique les normes de ton domaine, emploie sa terminologie avec précision et dis-le clairement lorsque l'entrée ne contient pas la réponse."
        }
        _ => {
            "Apply the standards of your field, use its terminology precisely, and say so plainly when the input does not contain the answer."
        }
    }
}

pub(super) fn expert_role(p: &Prompt) -> Draft {
    let old = p.prose(Part::Role);
    let lower_old = old.to_lowercase();
    let specific = !old.trim().is_empty() && !GENERIC_ROLES.iter().any(|g| lower_old.contains(g));
    if specific {
        keep_role(p, &old)
    } else {
        new_role(p)
    }
}

/// The prompt already casts the model in a specific role: keep it word for
/// word (later sentences may refer to it, e.g. "for that audience") and
/// sharpen it with the standards of the field.
fn keep_role(p: &Prompt, old: &str) -> Draft {
    let lang = ps_guest_util::prompt::language(&p.clean);
    // "the input" only makes sense when the prompt has one.
    let sharpen = if lang == "en" && !p.has(Part::Input) {
        "Apply the standards of your field, use its terminology precisely, and say so plainly when a question falls outside your expertise."
    } else {
        sharpening(lang)
    };
    let body = with_extra(&p.without(&[Part::Role]), p.extra);
    let role = terminate(old.trim());
    if p.clean.contains(sharpen) {
        // Already sharpened (expert-role run twice): nothing to add.
        return Draft {
            candidates: vec![cand(p.base_with_extra(), "")],
            changes: vec![
                "No change: the prompt already has a specific role held to its field's standards."
                    .to_string(),
            ],
        };
    }
    let sharpened = ps_guest_util::prompt::join_sentences(&[role.as_str(), sharpen]);
    let v1 = format!("{sharpened}\n\n{body}");
    let mut candidates = vec![cand(v1, "")];
    if lang == "en" {
        candidates.push(cand(
            format!(
                "{sharpened} Before answering, consider how someone in your role would approach the task and what they would check first.\n\n{body}"
            ),
            "also asks the model to think as that expert before answering.",
        ));
        candidates.push(cand(
            format!("{sharpened}\n\n{body}\n\nStay in that role throughout and flag any assumption you make."),
            "closes with a reminder to stay in the role and flag assumptions.",
        ));
        if let Some(&(i, _)) = rank_domains(&p.lower()).first() {
            let title = DOMAINS[i].1;
            let bare = title.trim_start_matches("a ").trim_start_matches("an ");
            if !p.lower().contains(bare) {
                candidates.push(cand(
                    format!("{sharpened} Where it helps, also draw on the perspective of {title}.\n\n{body}"),
                    "adds the perspective of a second expert that matched the task's keywords.",
                ));
            }
        }
    }
    candidates.push(cand(
        headed(&sharpened, &body),
        "puts the role and the task under separate Markdown headings.",
    ));
    Draft {
        candidates,
        changes: vec![format!(
            "Kept your role (\u{201C}{}\u{201D}) word for word and sharpened it with the standards of its field and permission to say when the input lacks the answer.",
            clip(old, 60)
        )],
    }
}

/// No role, or only a generic one ("a helpful assistant"): infer an expert
/// persona from the task's domain keywords.
fn new_role(p: &Prompt) -> Draft {
    let ranked = rank_domains(&p.lower());
    let generic = (
        "a seasoned expert in the subject of this task",
        "who gives accurate, specific and well-reasoned answers",
    );
    let first = ranked
        .first()
        .map_or(generic, |&(i, _)| (DOMAINS[i].1, DOMAINS[i].2));
    let second = ranked.get(1).map(|&(i, _)| (DOMAINS[i].1, DOMAINS[i].2));
    let body = with_extra(&p.without(&[Part::Role]), p.extra);
    let title = first.0.trim_start_matches("a ").trim_start_matches("an ");

    let v1 = format!("You are {}, {}.\n\n{body}", first.0, first.1);
    let v2 = format!(
        "You are {} with more than 15 years of experience, {}. Apply the standards of your field, \
         use its terminology precisely, and say so plainly when something is outside your expertise or the input does not contain the answer.\n\n{body}",
        first.0, first.1
    );
    let v3 = match second {
        Some(s) => format!(
            "You are {}, {}, and you also draw on the perspective of {}.\n\n{body}",
            first.0, first.1, s.0
        ),
        None => format!(
            "Act as {}. Before answering, consider how a {title} would approach this task and what they would check first.\n\n{body}",
            first.0
        ),
    };
    let v4 = headed(&format!("You are {}, {}.", first.0, first.1), &body);
    let v5 = format!(
        "{body}\n\nAnswer as {} would: {}. Flag any assumption you make.",
        first.0,
        first.1.trim_start_matches("who ")
    );
    let mut changes = vec![match ranked.first() {
        Some(&(i, _)) => format!(
            "Opened with an expert persona ({}) inferred from the task's domain keywords, because a specific role sets the vocabulary, depth and standards of the answer.",
            DOMAINS[i].1
        ),
        None => "No domain keyword matched, so a generic expert persona was used; name the domain in the prompt for a sharper persona.".to_string(),
    }];
    let old = p.of(Part::Role);
    if let Some(r) = old.first() {
        changes.push(format!(
            "Replaced the generic role (\u{201C}{}\u{201D}) with a specific one, so the prompt does not give the model two personas.",
            clip(&r.content(), 60)
        ));
    }
    Draft {
        candidates: vec![
            cand(v1, ""),
            cand(
                v2,
                "elaborates the persona with experience, professional standards and permission to say what it does not know.",
            ),
            cand(
                v3,
                if second.is_some() {
                    "blends in a second expert perspective that also matched the task."
                } else {
                    "phrases the role as \"Act as\" and asks the model to think as that expert before answering."
                },
            ),
            cand(
                v4,
                "puts the persona and the task under separate Markdown headings.",
            ),
            cand(
                v5,
                "keeps the task first and adds the expert stance as a closing instruction.",
            ),
        ],
        changes,
    }
}

/// The role and the task under Markdown headings; a body that already opens
/// with its own heading keeps it instead of getting a second "## Task".
fn headed(role: &str, body: &str) -> String {
    if body.trim_start().starts_with('#') {
        format!("## Role\n{role}\n\n{body}")
    } else {
        format!("## Role\n{role}\n\n## Task\n{body}")
    }
}
