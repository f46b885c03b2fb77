"""@NAME@: a PromptSculptor remix plugin in Python, with two styles of its own."""

import re

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import remixer
from wit_world.imports import llm, log, styles, types

STYLES = [
    types.StyleDefinition(
        name="@NAME@-plain",
        description="Plain words, short sentences",
        instructions="Rewrite the prompt in plain English: short sentences, everyday words, active voice.",
        examples=[types.StyleExample(before="Utilise {{doc}} to facilitate a summary.", after="Use {{doc}} to write a summary.")],
    ),
    types.StyleDefinition(
        name="@NAME@-checklist",
        description="The task as a numbered checklist",
        instructions="Rewrite the prompt as a one-line goal followed by a numbered checklist of steps.",
        examples=[types.StyleExample(before="Review {{code}} for bugs.", after="Goal: review {{code}}.\n1. Find bugs.")],
    ),
]

# `{{name}}`, or a lone `{name}` not part of a larger brace group: the same
# placeholders the server checks a remix for.
PLACEHOLDER = re.compile(r"\{\{\s*[A-Za-z_][\w.-]*\s*\}\}|(?<!\{)\{[A-Za-z_][\w.-]*\}(?!\})")


def keep_placeholders(original: str, text: str) -> str:
    """Re-attach any {{variable}} of the original that the rewrite lost."""
    missing = [p for p in dict.fromkeys(PLACEHOLDER.findall(original)) if p not in text]
    return text if not missing else text.rstrip() + "\n\nInputs:\n" + "\n".join(f"- {p}" for p in missing)


class Remixer(exports.Remixer):
    def manifest(self) -> types.PluginManifest:
        return types.PluginManifest(
            name="@NAME@", version="0.1.0", description="Two house styles, written in Python.",
            kind=types.Kind.REMIX, styles=STYLES,
        )

    def remix(self, request: remixer.RemixRequest) -> remixer.RemixResponse:
        style = styles.get(request.style)
        if style is None:
            raise Err(types.PluginError_InvalidInput(f"unknown style {request.style!r}; see GET /api/v1/styles"))
        variants = []
        for _ in range(request.variants):
            if request.use_llm:
                system = (f"Rewrite the user's prompt; do not answer it. {style.instructions} "
                          "Keep every {{placeholder}} exactly as written. Reply with the rewritten prompt only.")
                chat = llm.ChatRequest(system=system, messages=[llm.Message(role=llm.Role.USER, content=request.prompt)],
                                       temperature=None, max_tokens=None, json_schema=None)
                try:
                    text = llm.chat(chat).text
                except Err as e:
                    raise Err(types.PluginError_Llm(e.value))
            else:
                text = f"{style.instructions}\n\n{request.prompt}"  # no LLM: state the style as a directive
            variants.append(keep_placeholders(request.prompt, text))
        log.log(log.Level.DEBUG, f"remixed into {style.name}")
        return remixer.RemixResponse(variants=variants, changes=[f"Rewrote the prompt in the {style.name} style."])
