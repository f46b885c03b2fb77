"""@NAME@: a PromptSculptor remix plugin in Python, with two styles of its own."""

import re

from componentize_py_types import Err
from promptsculptor_kit import Rejected, chat, keep_placeholders, placeholders, protect, sentences, style
from wit_world import exports
from wit_world.exports import remixer
from wit_world.imports import log, styles, types

STYLES = [
    style("@NAME@-plain", "Plain words, short sentences",
          "Rewrite the prompt in plain English: short sentences, everyday words, active voice.",
          [("Utilise {{doc}} to facilitate a summary.", "Use {{doc}} to help sum up.")]),
    style("@NAME@-checklist", "The task as a numbered checklist",
          "Rewrite the prompt as a one-line goal followed by a numbered checklist of steps.",
          [("Review {{code}}. Find bugs.", "Goal: Review {{code}}.\n1. Find bugs.")]),
]

REPAIR = "That answered the prompt. Rewrite the prompt itself, keeping every {{placeholder}}."

# The no-LLM `plain` rewrite: wordy phrases and their plain words.
WORDY = [("utilise", "use"), ("utilize", "use"), ("facilitate", "help"), ("in order to", "to"),
         ("prior to", "before"), ("commence", "start"), ("approximately", "about")]


def plain(prompt: str) -> list:
    """Plain words, then the same with one sentence per line."""
    text, restore = protect(prompt)
    done = []
    for wordy, simple in WORDY:
        pattern = re.compile(rf"\b{re.escape(wordy)}\b", re.IGNORECASE)
        text, count = pattern.subn(lambda m: simple.capitalize() if m.group(0)[0].isupper() else simple, text)
        if count:
            done.append(f"{wordy}→{simple}")
    said = f"Replaced {len(done)} wordy phrase(s): {', '.join(done)}" if done else "Found no wordy phrase to replace"
    return [(restore(text), said),
            (restore("\n".join(sentences(text))), f"{said}; put each sentence on its own line")]


def checklist(prompt: str) -> list:
    """A goal and numbered steps, then the same as a `- [ ]` checklist."""
    text, restore = protect(prompt)
    parts = sentences(text)
    if not parts:
        return []
    goal, steps = parts[0], parts[1:]
    said = f"Turned {len(parts)} sentence(s) into a goal and {len(steps)} step(s)"
    numbered = "".join(f"\n{i}. {s}" for i, s in enumerate(steps, 1))
    boxes = "".join(f"\n- [ ] {s}" for s in steps)
    return [(restore(f"Goal: {goal}{numbered}"), f"{said}, numbered"),
            (restore(f"Goal: {goal}{boxes}"), f"{said}, as a checklist")]


class Remixer(exports.Remixer):
    def manifest(self) -> types.PluginManifest:
        return types.PluginManifest(
            name="@NAME@", version="0.1.0", description="Two house styles, written in Python.",
            kind=types.Kind.REMIX, styles=STYLES,
        )

    def remix(self, request: remixer.RemixRequest) -> remixer.RemixResponse:
        if not request.prompt.strip() or not 1 <= request.variants <= 5:
            raise Err(types.PluginError_InvalidInput("need a prompt and 1 to 5 variants"))
        found = styles.get(request.style)
        if found is None:
            raise Err(types.PluginError_InvalidInput(f"unknown style {request.style!r}; see GET /api/v1/styles"))
        if request.use_llm:
            system = (f"Rewrite the user's prompt; do not answer it. {found.instructions} "
                      "Keep every {{placeholder}} exactly as written. Reply with the rewritten prompt only.")
            literals = placeholders(request.prompt)

            # A reply without any of the prompt's variables answered it instead of
            # rewriting it: one repair turn. Any other loss is put back.
            def check(reply: str) -> str:
                if literals and not any(p in reply for p in literals):
                    raise Rejected("it dropped every {{variable}}", REPAIR)
                return keep_placeholders(request.prompt, reply)

            variants = [chat(system, request.prompt, check=check) for _ in range(request.variants)]
            log.log(log.Level.DEBUG, f"remixed into {found.name} with the LLM")
            return remixer.RemixResponse(variants=variants,
                                         changes=[f"Rewrote it with the LLM in the {found.name} style."])
        # Without an LLM: rule-based rewrites, each one different, or a clear refusal.
        forms = []
        for text, change in (checklist if found.name.endswith("-checklist") else plain)(request.prompt):
            if text != request.prompt and all(text != t for t, _ in forms):
                forms.append((text, change))
        if len(forms) < request.variants:
            k = len(forms)
            why = (f"without an LLM, no rule of {found.name} changes this prompt" if k == 0 else
                   f"without an LLM, {found.name} has {k} distinct rewrite(s); ask for at most {k}")
            raise Err(types.PluginError_InvalidInput(f"{why}, or set use_llm"))
        forms = forms[:request.variants]
        return remixer.RemixResponse(variants=[t for t, _ in forms], changes=[c for _, c in forms])
