//! The tables the deterministic template chooses from: fields of expertise
//! (the role), kinds of task (role fallback and default output format) and
//! the goal words that call for step-by-step thinking. Kept apart from the
//! assembly logic in `template` so that file stays readable.

/// A field of expertise; decides the role when the goal names one.
pub(crate) struct Domain {
    pub(crate) stems: &'static [&'static str],
    pub(crate) role: &'static str,
}

/// Ordered by priority: the first domain whose stem matches wins, so the
/// more specific fields come before the broad ones.
pub(crate) const DOMAINS: &[Domain] = &[
    Domain {
        stems: &[
            "code",
            "coding",
            "program",
            "function",
            "bug",
            "debug",
            "refactor",
            "sql",
            "python",
            "rust",
            "javascript",
            "typescript",
            "java",
            "golang",
            "api",
            "regex",
            "algorithm",
            "software",
            "compil",
        ],
        role: "a senior software engineer who writes correct, idiomatic and well-tested code",
    },
    Domain {
        stems: &[
            "legal", "contract", "clause", "complian", "regulat", "lawyer", "law", "gdpr",
            "attorney", "litigat", "statut",
        ],
        role: "an experienced legal analyst who reads documents closely and states their \
               implications plainly",
    },
    Domain {
        stems: &[
            "medic", "clinic", "patient", "health", "symptom", "drug", "nurs", "doctor", "disease",
            "therap",
        ],
        role: "a careful clinical expert who communicates medical information accurately and \
               responsibly",
    },
    Domain {
        stems: &[
            "financ",
            "invest",
            "budget",
            "accounting",
            "taxes",
            "taxat",
            "revenue",
            "stock",
            "portfolio",
            "earnings",
            "bank",
            "loan",
            "expense",
            "pricing",
        ],
        role: "a seasoned financial analyst who grounds every claim in the figures provided",
    },
    Domain {
        stems: &[
            "market", "advert", "ads", "slogan", "tagline", "headline", "seo", "campaign",
            "copywrit", "brand", "landing",
        ],
        role: "a senior marketing copywriter who writes clear, persuasive copy",
    },
    Domain {
        stems: &[
            "customer",
            "support",
            "ticket",
            "complaint",
            "helpdesk",
            "refund",
        ],
        role: "an experienced customer-support specialist who resolves issues with empathy and \
               precision",
    },
    Domain {
        stems: &[
            "recruit",
            "resume",
            "résumé",
            "candidate",
            "hiring",
            "hire",
            "interview",
            "job",
        ],
        role: "an experienced recruiter who assesses candidates fairly against the role's \
               requirements",
    },
    Domain {
        stems: &[
            "teach",
            "tutor",
            "lesson",
            "quiz",
            "student",
            "learner",
            "educat",
            "curriculum",
            "course",
            "pupil",
            "homework",
        ],
        role: "an expert teacher who explains ideas clearly and checks for understanding",
    },
    Domain {
        stems: &[
            "story",
            "stories",
            "poem",
            "poet",
            "fiction",
            "novel",
            "lyric",
            "song",
            "screenplay",
            "creative",
            "narrat",
        ],
        role: "an accomplished creative writer with a distinctive, controlled voice",
    },
    Domain {
        stems: &[
            "data",
            "statistic",
            "spreadsheet",
            "csv",
            "metric",
            "chart",
            "survey",
            "kpi",
        ],
        role: "an experienced data analyst who draws conclusions only from the evidence in the \
               data",
    },
    Domain {
        stems: &[
            "scien",
            "research",
            "physics",
            "chemi",
            "biolog",
            "experiment",
            "hypothes",
        ],
        role: "a research scientist who separates established findings from speculation",
    },
];

/// What kind of work the goal asks for; decides the default output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Task {
    Translate,
    Summarize,
    Extract,
    Classify,
    Correspond,
    Analyze,
    Brainstorm,
    Answer,
    Create,
    Code,
    General,
}

pub(crate) struct TaskInfo {
    pub(crate) task: Task,
    pub(crate) stems: &'static [&'static str],
    /// Used when no domain matched.
    pub(crate) role: &'static str,
    /// The default output format, a complete sentence with a length bound.
    pub(crate) format: &'static str,
    /// The format in a few words, for the rationale.
    pub(crate) brief: &'static str,
    /// The length bound alone, used when examples set the structure.
    pub(crate) bound: &'static str,
    /// The format without its length bound, used when the user already set
    /// a length (a second, different bound would contradict theirs).
    pub(crate) shape: &'static str,
}

/// Ordered by priority: "write a summary" is a summary, not free writing.
pub(crate) const TASKS: &[TaskInfo] = &[
    TaskInfo {
        task: Task::Translate,
        stems: &["translat", "locali"],
        role: "a professional translator who preserves meaning, tone and formatting",
        format: "The translation only, with the original formatting (paragraphs, lists, markup) \
                 preserved.",
        brief: "the bare translation with its formatting kept",
        bound: "at about the length of the original",
        shape: "The translation only, with the original formatting (paragraphs, lists, markup) preserved.",
    },
    TaskInfo {
        task: Task::Summarize,
        stems: &["summar", "tldr", "recap", "condens", "digest"],
        role: "an expert editor who writes precise, faithful summaries",
        format: "A summary of at most 150 words: one sentence stating the main point, then at \
                 most 5 bullet points with the key details.",
        brief: "a summary of at most 150 words",
        bound: "in at most 150 words",
        shape: "A summary: one sentence stating the main point, then bullet points with the key details.",
    },
    TaskInfo {
        task: Task::Extract,
        stems: &["extract"],
        role: "a precise information-extraction specialist who reports only what the input \
               states",
        format: "A single JSON object with one key per requested field and null for a field the \
                 input does not contain. Output the JSON object only.",
        brief: "a single JSON object",
        bound: "as a single JSON object",
        shape: "A single JSON object with one key per requested field and null for a field the input does not contain. Output the JSON object only.",
    },
    TaskInfo {
        task: Task::Classify,
        stems: &[
            "classif",
            "categori",
            "label",
            "sentiment",
            "triage",
            "tagging",
            "detect",
        ],
        role: "a meticulous annotator who applies category definitions consistently",
        format: "The chosen label on the first line, then one sentence of at most 25 words that \
                 justifies the label.",
        brief: "a label plus a one-sentence justification",
        bound: "in at most 30 words",
        shape: "The chosen label on the first line, then one sentence that justifies the label.",
    },
    TaskInfo {
        task: Task::Correspond,
        stems: &[
            "email",
            "mail",
            "letter",
            "newsletter",
            "memo",
            "reply",
            "respond",
        ],
        role: "an experienced professional writer of clear, courteous correspondence",
        format: "The message only: a subject line, then a body of at most 200 words.",
        brief: "a subject line and a body of at most 200 words",
        bound: "in at most 200 words",
        shape: "The message only: a subject line, then the body.",
    },
    TaskInfo {
        task: Task::Analyze,
        stems: &[
            "analy",
            "evaluat",
            "assess",
            "compar",
            "review",
            "critiq",
            "audit",
            "investigat",
            "diagnos",
            "apprais",
            "grade",
            "judge",
        ],
        role: "a senior analyst who reasons carefully from evidence",
        format: "Findings as a numbered list of at most 5 points, each with the evidence behind \
                 the point, then a conclusion of at most 3 sentences. Stay under 400 words.",
        brief: "at most 5 numbered findings and a short conclusion, under 400 words",
        bound: "in at most 400 words",
        shape: "Findings as a numbered list, each with the evidence behind the point, then a short conclusion.",
    },
    TaskInfo {
        task: Task::Brainstorm,
        stems: &["brainstorm", "idea", "suggest", "name"],
        role: "an inventive strategist who generates varied, practical ideas",
        format: "A numbered list of 10 ideas, one line of at most 20 words each.",
        brief: "a numbered list of 10 one-line ideas",
        bound: "with at most 10 items",
        shape: "A numbered list of ideas, one line each.",
    },
    TaskInfo {
        task: Task::Answer,
        stems: &["answer", "question", "explain", "faq", "clarif"],
        role: "a knowledgeable expert who gives accurate, well-supported answers",
        format: "A direct answer in the first sentence, then supporting detail in at most 3 \
                 short paragraphs (under 250 words in total).",
        brief: "a direct answer with at most 3 short supporting paragraphs",
        bound: "in at most 250 words",
        shape: "A direct answer in the first sentence, then supporting detail.",
    },
    TaskInfo {
        task: Task::Create,
        stems: &[
            "write",
            "draft",
            "compose",
            "generat",
            "creat",
            "story",
            "poem",
            "post",
            "blog",
            "article",
            "essay",
            "slogan",
            "tagline",
            "headline",
            "description",
        ],
        role: "a skilled writer with a clear, engaging style",
        format: "The finished text only, at most 400 words.",
        brief: "the finished text, at most 400 words",
        bound: "in at most 400 words",
        shape: "The finished text only.",
    },
];

pub(crate) const CODE_TASK: TaskInfo = TaskInfo {
    task: Task::Code,
    stems: &[],
    role: "a senior software engineer who writes correct, idiomatic and well-tested code",
    format: "The code in a single fenced code block, followed by an explanation of at most 3 \
             sentences.",
    brief: "one fenced code block and at most 3 sentences of explanation",
    bound: "with one fenced code block and at most 3 sentences of explanation",
    shape: "The code in a single fenced code block, followed by a short explanation.",
};

pub(crate) const GENERAL_TASK: TaskInfo = TaskInfo {
    task: Task::General,
    stems: &[],
    role: "a meticulous expert assistant who follows instructions precisely",
    format: "Plain prose of at most 300 words, with a numbered list where the answer involves \
             steps.",
    brief: "plain prose of at most 300 words",
    bound: "in at most 300 words",
    shape: "Plain prose, with a numbered list where the answer involves steps.",
};

/// Goal words that signal a problem worth reasoning through before answering.
pub(crate) const ANALYTIC_STEMS: &[&str] = &[
    "analy",
    "evaluat",
    "assess",
    "compar",
    "review",
    "critiq",
    "audit",
    "diagnos",
    "reason",
    "solve",
    "plan",
    "decid",
    "decision",
    "strateg",
    "recommend",
    "prioriti",
    "math",
    "proof",
    "prove",
    "calculat",
    "estimat",
    "debug",
    "tradeoff",
    "trade",
    "logic",
    "why",
    "judge",
];
