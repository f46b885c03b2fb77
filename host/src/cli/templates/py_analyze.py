"""@NAME@: a PromptSculptor analyze plugin in Python."""

import re

from wit_world import exports
from wit_world.exports import analyzer
from wit_world.imports import tokenizer, types

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")


class Analyzer(exports.Analyzer):
    def manifest(self) -> types.PluginManifest:
        return types.PluginManifest(
            name="@NAME@", version="0.1.0", description="Flags prompts too short to be specific.",
            kind=types.Kind.ANALYZE, styles=[],
        )

    def analyze(self, request: analyzer.AnalyzeRequest) -> analyzer.AnalyzeResponse:
        words = len(request.prompt.split())
        chars = len(request.prompt)
        tokens = tokenizer.count(request.prompt, request.tokenizer)
        issues = []
        if words < 8:
            issues.append(analyzer.Issue(
                code="too-short", severity=analyzer.Severity.WARNING,
                message=f"The prompt has only {words} words.", span=None,
                suggestion="Say who the answer is for and what shape it should take.",
            ))
        s = 80 if not issues else 40
        return analyzer.AnalyzeResponse(
            scores=analyzer.Scores(overall=s, clarity=s, specificity=s, structure=s, context=s, output_format=s),
            issues=issues,
            suggestions=[i.suggestion for i in issues if i.suggestion],
            stats=analyzer.Stats(
                chars=chars, words=words, tokens=tokens if tokens is not None else chars // 4,
                tokenizer=request.tokenizer, variables=list(dict.fromkeys(PLACEHOLDER.findall(request.prompt))),
            ),
        )
