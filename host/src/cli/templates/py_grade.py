"""@NAME@: a PromptSculptor grade plugin in Python.

Config of a `grader` assertion: {"max_words": 50}. The score is 1 up to
max_words words and falls in proportion beyond; it passes at 1.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import grader
from wit_world.imports import types


class Grader(exports.Grader):
    def manifest(self) -> grader.GradeManifest:
        return grader.GradeManifest(
            name="@NAME@", version="0.1.0", description="Passes outputs of at most config.max_words words (default 50).",
        )

    def grade(self, request: grader.GradeRequest) -> grader.GradeResult:
        try:
            config = json.loads(request.config) or {}
        except ValueError:
            raise Err(types.PluginError_InvalidInput("config is not valid JSON"))
        max_words = config.get("max_words", 50) if isinstance(config, dict) else None
        if not isinstance(max_words, int) or isinstance(max_words, bool) or max_words <= 0:
            raise Err(types.PluginError_InvalidInput("config.max_words must be a positive integer"))
        words = len(request.output.split())
        score = 1.0 if words <= max_words else max_words / words
        return grader.GradeResult(pass_=score >= 1.0, score=score, reason=f"{words} words; at most {max_words} pass")
