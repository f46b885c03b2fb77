"""promptsculptor_kit: the conveniences of the Rust SDK for Python plugins.

- style(): a style definition for a remix plugin's manifest;
- placeholders() / keep_placeholders(): the template variables the server
  checks a remix for, and putting back any that a rewrite lost;
- chat(): the LLM round trip — one call, your check of the reply, exactly one
  repair turn when the check rejects it, then a clear plugin error;
- rule-based text helpers (protect(), sentences()) for a no-LLM path.

Written by `promptsculptor plugin new` for WIT promptsculptor:plugin@@WIT_VERSION@.
"""

import re

from componentize_py_types import Err
from wit_world.imports import llm, log, types

# `{{name}}` (spaces allowed inside), or a lone `{name}` not part of a larger
# brace group: the same placeholders the server checks a remix for.
PLACEHOLDER = re.compile(r"\{\{\s*[A-Za-z_][\w.-]*\s*\}\}|(?<!\{)\{[A-Za-z_][\w.-]*\}(?!\})")


class Rejected(Exception):
    """Raised by a chat() check: what is wrong with a reply, and the repair
    instruction the model gets once."""

    def __init__(self, problem: str, repair: str):
        super().__init__(problem)
        self.problem = problem
        self.repair = repair


def style(name: str, description: str, instructions: str, examples=()) -> types.StyleDefinition:
    """A style for the manifest; examples are (before, after) pairs."""
    return types.StyleDefinition(
        name=name, description=description, instructions=instructions,
        examples=[types.StyleExample(before=b, after=a) for b, a in examples],
    )


def placeholders(text: str) -> list:
    """Distinct placeholder literals of text, as written, in order."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def keep_placeholders(original: str, text: str) -> str:
    """text, with every placeholder of original that it lost listed at the end."""
    missing = [p for p in placeholders(original) if p not in text]
    return text if not missing else text.rstrip() + "\n\nInputs:\n" + "\n".join(f"- {p}" for p in missing)


def chat(system: str, user: str, check=None, json_schema=None, temperature=None, max_tokens=None):
    """One LLM call through the host; check(reply_text) returns the result or
    raises Rejected. A rejected reply gets exactly one repair turn; rejected
    again, it is the plugin error unusable-llm-output. An LLM failure is
    raised as the plugin error llm(<the failure>), so the server answers with
    the provider's status. Without check, the reply text is the result."""
    messages = [llm.Message(role=llm.Role.USER, content=user)]
    for attempt in (1, 2):
        request = llm.ChatRequest(system=system, messages=messages, temperature=temperature,
                                  max_tokens=max_tokens, json_schema=json_schema)
        try:
            text = llm.chat(request).text
        except Err as e:
            raise Err(types.PluginError_Llm(e.value))
        if check is None:
            return text
        try:
            return check(text)
        except Rejected as r:
            if attempt == 2:
                raise Err(types.PluginError_UnusableLlmOutput(r.problem))
            log.log(log.Level.WARN, f"LLM reply needs repair ({r.problem}); asking once")
            messages = messages + [llm.Message(role=llm.Role.ASSISTANT, content=text),
                                   llm.Message(role=llm.Role.USER, content=r.repair)]


def protect(text: str):
    """text with every placeholder replaced by an opaque token, and a function
    that puts them back: rules applied in between cannot touch a variable."""
    found = []

    def hide(m):
        found.append(m.group(0))
        return f"\ue000{len(found) - 1}\ue001"

    masked = PLACEHOLDER.sub(hide, text)
    return masked, lambda s: re.sub("\ue000(\\d+)\ue001", lambda m: found[int(m.group(1))], s)


def sentences(text: str) -> list:
    """The sentences of text, line by line (a simple split after . ! ? ;
    enough for a rule-based rewrite)."""
    out = []
    for line in text.splitlines():
        out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", line) if s.strip())
    return out
