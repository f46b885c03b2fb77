//! Chat completions through the provider the host is configured with.
//!
//! Every call counts against the request's cap on LLM calls (16 by default);
//! the provider, its key and its URL stay invisible to the plugin.

use serde_json::{Map, Value};

use crate::{LlmError, PluginError};

pub use crate::bindings::promptsculptor::plugin::llm::{
    ChatRequest, ChatResponse, Message, Role, TokenUsage,
};

/// Whether the host has a provider configured at all and this request
/// allows LLM calls (false for a request sent with `use_llm: false`).
pub fn available() -> bool {
    crate::bindings::promptsculptor::plugin::llm::available()
}

/// The raw call: full control over messages, temperature, token limit and
/// schema. Errors are the provider's, unmapped.
pub fn call(request: &ChatRequest) -> Result<ChatResponse, LlmError> {
    crate::bindings::promptsculptor::plugin::llm::chat(request)
}

/// A one-turn request: `system` (omitted when empty) and one user message.
pub fn request(system: &str, user: &str) -> ChatRequest {
    ChatRequest {
        system: (!system.trim().is_empty()).then(|| system.to_string()),
        messages: vec![Message {
            role: Role::User,
            content: user.to_string(),
        }],
        temperature: None,
        max_tokens: None,
        json_schema: None,
    }
}

/// One chat turn; the reply text, or the LLM failure as a [`PluginError`]
/// (which the host maps to the right HTTP status).
pub fn chat(system: &str, user: &str) -> Result<String, PluginError> {
    call(&request(system, user))
        .map(|r| r.text)
        .map_err(PluginError::Llm)
}

/// What the repair turn says when a reply was not the JSON object asked for.
pub const JSON_REPAIR: &str = "Your reply was not a single valid JSON object that follows the schema. \
     Reply again with only that JSON object: no code fences, no text before or after it.";

/// One chat turn whose reply must be a JSON object following `schema` (JSON
/// Schema as text, passed to the provider's structured-output mode). A reply
/// that does not parse gets exactly one repair turn; a second failure is
/// `unusable-llm-output` (HTTP 502). Fenced or prose-wrapped objects are
/// accepted.
pub fn chat_json(
    system: &str,
    user: &str,
    schema: &str,
) -> Result<Map<String, Value>, PluginError> {
    let mut req = request(system, user);
    req.json_schema = Some(schema.to_string());
    round_trip(call, req, check_json_object, no_salvage)
}

/// The check of [`chat_json`]: the reply's JSON object, or a [`JSON_REPAIR`]
/// rejection.
pub fn check_json_object(reply: &str) -> Result<Map<String, Value>, Rejection> {
    crate::extract_json_object(reply)
        .ok_or_else(|| Rejection::new("the LLM did not return a JSON object", JSON_REPAIR))
}

/// Why a reply cannot be used as it stands; what the `check` of a
/// [`round_trip`] returns instead of a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection<P = ()> {
    /// What is wrong, in one phrase. It is logged, and it becomes the
    /// `unusable-llm-output` message when the repaired reply is rejected too
    /// and nothing can be salvaged.
    pub problem: String,
    /// The repair turn: what the model must fix, sent after its reply.
    pub repair: String,
    /// What a salvage can still use of this reply (a parse with flaws).
    pub partial: Option<P>,
}

impl<P> Rejection<P> {
    /// A rejection with nothing worth salvaging.
    pub fn new(problem: impl Into<String>, repair: impl Into<String>) -> Rejection<P> {
        Rejection {
            problem: problem.into(),
            repair: repair.into(),
            partial: None,
        }
    }

    /// Keep `partial` for the salvage after the repair.
    pub fn with_partial(mut self, partial: P) -> Rejection<P> {
        self.partial = Some(partial);
        self
    }
}

/// The salvage of a [`round_trip`] that salvages nothing: a reply still
/// rejected after the repair is `unusable-llm-output`. Its rejections keep
/// no partial result (`Rejection<()>`).
pub fn no_salvage<T>(_repaired: Option<()>, _first: Option<()>) -> Option<T> {
    None
}

/// The LLM round trip every plugin needs: call, check the reply, on a
/// rejection send exactly one repair turn (the model's reply plus what is
/// wrong with it), check again, and if the repaired reply is still rejected,
/// `salvage` what the two replies left (`(repaired, first)` partials).
///
/// - `chat` performs one call: [`call`] in a plugin, a scripted fake in a
///   native unit test (no Wasm, no host needed).
/// - `check` turns a reply's text into the result, or a [`Rejection`] that
///   says what is wrong, what the repair turn asks, and what can be kept.
/// - `salvage` returns `None` when nothing is usable ([`no_salvage`] always
///   does): the result is then [`PluginError::UnusableLlmOutput`] with the
///   repaired reply's problem.
///
/// An LLM failure on either call is returned as [`PluginError::Llm`],
/// unchanged, so the host answers with the provider's status. At most two
/// calls are made.
///
/// ```
/// use promptsculptor_sdk::llm::{self, ChatRequest, ChatResponse, FakeChat, Rejection};
/// use promptsculptor_sdk::{LlmError, PluginError};
///
/// /// A one-word verdict; in the plugin: `verdict(llm::call, &req.prompt)`.
/// fn verdict<F>(chat: F, prompt: &str) -> Result<String, PluginError>
/// where
///     F: FnMut(&ChatRequest) -> Result<ChatResponse, LlmError>,
/// {
///     let request = llm::request("Answer with one word: good or bad.", prompt);
///     let check = |reply: &str| match reply.trim().to_lowercase().as_str() {
///         w @ ("good" | "bad") => Ok(w.to_string()),
///         _ => Err(Rejection::new("not one word", "Reply with exactly one word: good or bad.")),
///     };
///     llm::round_trip(chat, request, check, llm::no_salvage)
/// }
///
/// // Natively, with a fake chat: a chatty first reply is repaired once.
/// let mut fake = FakeChat::new(["Well, I would say it is good.", "Good"]);
/// assert_eq!(verdict(|r| fake.chat(r), "Summarise {{doc}}.")?, "good");
/// assert_eq!(fake.requests.len(), 2);
/// assert!(fake.requests[1].messages[2].content.contains("exactly one word"));
///
/// // Twice unusable: `unusable-llm-output`; an LLM failure passes through.
/// let mut fake = FakeChat::new(["Hmm.", "Hard to say."]);
/// let out = verdict(|r| fake.chat(r), "x");
/// assert!(matches!(out, Err(PluginError::UnusableLlmOutput(_))));
/// let mut fake = FakeChat::default().fail(LlmError::Timeout("slow".into()));
/// let out = verdict(|r| fake.chat(r), "x");
/// assert!(matches!(out, Err(PluginError::Llm(LlmError::Timeout(_)))));
/// # Ok::<(), PluginError>(())
/// ```
pub fn round_trip<T, P, F>(
    mut chat: F,
    mut request: ChatRequest,
    check: impl Fn(&str) -> Result<T, Rejection<P>>,
    salvage: impl FnOnce(Option<P>, Option<P>) -> Option<T>,
) -> Result<T, PluginError>
where
    F: FnMut(&ChatRequest) -> Result<ChatResponse, LlmError>,
{
    let first = chat(&request).map_err(PluginError::Llm)?;
    let rejected = match check(&first.text) {
        Ok(done) => return Ok(done),
        Err(rejected) => rejected,
    };
    crate::log::warn(&format!(
        "LLM reply needs repair ({}); asking once",
        rejected.problem
    ));
    push_repair(&mut request, first.text, &rejected.repair);
    let second = chat(&request).map_err(PluginError::Llm)?;
    let still = match check(&second.text) {
        Ok(done) => return Ok(done),
        Err(still) => still,
    };
    match salvage(still.partial, rejected.partial) {
        Some(done) => {
            crate::log::warn(&format!(
                "LLM reply still flawed after the repair ({}); using what it got right",
                still.problem
            ));
            Ok(done)
        }
        None => Err(PluginError::UnusableLlmOutput(still.problem)),
    }
}

/// A scripted chat for native unit tests of an LLM path: it answers with
/// its replies in order and records every request, so a test can drive
/// [`round_trip`] (or a plugin function generic over the chat) without Wasm
/// or a host: `round_trip(|r| fake.chat(r), …)`, then read `fake.requests`.
#[derive(Debug, Default)]
pub struct FakeChat {
    script: std::collections::VecDeque<Result<String, LlmError>>,
    /// Every request received, in order.
    pub requests: Vec<ChatRequest>,
}

impl FakeChat {
    /// A chat that answers with `replies`, in order.
    pub fn new<S: Into<String>>(replies: impl IntoIterator<Item = S>) -> FakeChat {
        replies
            .into_iter()
            .fold(FakeChat::default(), |fake, r| fake.reply(r))
    }

    /// Then answer with `text`.
    pub fn reply(mut self, text: impl Into<String>) -> FakeChat {
        self.script.push_back(Ok(text.into()));
        self
    }

    /// Then fail with `error`, as the host does when the provider fails.
    pub fn fail(mut self, error: LlmError) -> FakeChat {
        self.script.push_back(Err(error));
        self
    }

    /// One call: the next scripted answer. A call beyond the script is
    /// `unavailable`, which a test sees as an unexpected extra call.
    pub fn chat(&mut self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        self.requests.push(request.clone());
        let text = self.script.pop_front().unwrap_or_else(|| {
            Err(LlmError::Unavailable(
                "the fake chat has no reply left".to_string(),
            ))
        })?;
        Ok(ChatResponse {
            text,
            model: "fake".to_string(),
            usage: TokenUsage {
                input_tokens: 0,
                output_tokens: 0,
            },
        })
    }
}

/// Append the model's unusable `reply` and a `repair` instruction to `req`,
/// so the next call sees what it said and what was wrong with it.
pub fn push_repair(req: &mut ChatRequest, reply: String, repair: &str) {
    req.messages.push(Message {
        role: Role::Assistant,
        content: reply,
    });
    req.messages.push(Message {
        role: Role::User,
        content: repair.to_string(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_omits_an_empty_system() {
        assert!(request("  ", "hi").system.is_none());
        let r = request("be brief", "hi");
        assert_eq!(r.system.as_deref(), Some("be brief"));
        assert_eq!(r.messages.len(), 1);
    }

    #[test]
    fn repair_appends_two_turns() {
        let mut r = request("", "hi");
        push_repair(&mut r, "nope".into(), JSON_REPAIR);
        assert_eq!(r.messages.len(), 3);
        assert!(matches!(r.messages[1].role, Role::Assistant));
        assert!(matches!(r.messages[2].role, Role::User));
    }

    /// Accepts a reply that is a number; keeps a reply's length as the
    /// partial a salvage may use.
    fn number(reply: &str) -> Result<u32, Rejection<usize>> {
        reply.trim().parse().map_err(|_| {
            Rejection::new(format!("{reply:?} is not a number"), "Reply with a number.")
                .with_partial(reply.len())
        })
    }

    /// Asks `fake` for a number, salvaging nothing.
    fn ask(fake: &mut FakeChat) -> Result<u32, PluginError> {
        round_trip(
            |r: &ChatRequest| fake.chat(r),
            request("sys", "a number?"),
            number,
            |_, _| None,
        )
    }

    #[test]
    fn round_trip_good_first_answer_makes_one_call() {
        let mut fake = FakeChat::new(["42"]);
        let out = ask(&mut fake);
        assert!(matches!(out, Ok(42)), "{out:?}");
        assert_eq!(fake.requests.len(), 1);
    }

    #[test]
    fn round_trip_bad_then_repaired() {
        let mut fake = FakeChat::new(["forty-two", " 42 "]);
        let out = ask(&mut fake);
        assert!(matches!(out, Ok(42)), "{out:?}");
        assert_eq!(fake.requests.len(), 2);
        // The repair call carries the bad reply and the check's repair turn.
        let turns: Vec<(&str, bool)> = fake.requests[1]
            .messages
            .iter()
            .map(|m| (m.content.as_str(), matches!(m.role, Role::User)))
            .collect();
        assert_eq!(
            turns,
            vec![
                ("a number?", true),
                ("forty-two", false),
                ("Reply with a number.", true)
            ]
        );
        assert_eq!(fake.requests[1].system.as_deref(), Some("sys"));
    }

    #[test]
    fn round_trip_bad_twice_then_salvaged_from_either_reply() {
        let mut fake = FakeChat::new(["abc", "abcdefg"]);
        let out = round_trip(
            |r: &ChatRequest| fake.chat(r),
            request("", "a number?"),
            number,
            |repaired: Option<usize>, first: Option<usize>| {
                Some(u32::try_from(repaired? * 100 + first?).unwrap_or(0))
            },
        );
        assert!(matches!(out, Ok(703)), "{out:?}");
        assert_eq!(fake.requests.len(), 2);
    }

    #[test]
    fn round_trip_bad_twice_unsalvageable_is_unusable_output() {
        let mut fake = FakeChat::new(["abc", "xyz", "1"]);
        let out = ask(&mut fake);
        match out {
            Err(PluginError::UnusableLlmOutput(m)) => assert!(m.contains("\"xyz\""), "{m}"),
            other => panic!("expected unusable output, got {other:?}"),
        }
        assert_eq!(fake.requests.len(), 2, "exactly one repair");
    }

    #[test]
    fn round_trip_passes_llm_errors_through_typed() {
        let mut fake = FakeChat::default().fail(LlmError::Timeout("slow".into()));
        let out = ask(&mut fake);
        assert!(
            matches!(&out, Err(PluginError::Llm(LlmError::Timeout(m))) if m == "slow"),
            "{out:?}"
        );
        // On the repair call too.
        let mut fake = FakeChat::new(["nope"]).fail(LlmError::QuotaExceeded("none".into()));
        let out = ask(&mut fake);
        assert!(
            matches!(&out, Err(PluginError::Llm(LlmError::QuotaExceeded(_)))),
            "{out:?}"
        );
    }

    #[test]
    fn json_check_accepts_wrapped_objects_and_rejects_prose() {
        assert!(check_json_object("Sure: ```json\n{\"a\": 1}\n```").is_ok());
        let r = check_json_object("no").err();
        assert_eq!(r.map(|r| r.repair), Some(JSON_REPAIR.to_string()));
    }
}
