"""@NAME@: a PromptSculptor create plugin in Python."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import creator
from wit_world.imports import types


class Creator(exports.Creator):
    def manifest(self) -> types.PluginManifest:
        return types.PluginManifest(
            name="@NAME@", version="0.1.0", description="Writes a compact prompt from the goal and its constraints.",
            kind=types.Kind.CREATE, styles=[],
        )

    def create(self, request: creator.CreateRequest) -> creator.CreateResponse:
        if not request.goal.strip():
            raise Err(types.PluginError_InvalidInput("the goal is empty"))
        lines = [f"Your task: {request.goal.strip()}"]
        if request.context:
            lines.append(f"Context: {request.context}")
        lines += [f"- {c}" for c in request.constraints]
        lines += [f"<{v}>\n{{{{{v}}}}}\n</{v}>" for v in request.variables]
        if request.output_format:
            lines.append(f"Answer format: {request.output_format}")
        return creator.CreateResponse(
            prompt="\n".join(lines), system=None, variables=list(request.variables),
            rationale="Goal first, then context, constraints, tagged inputs and the answer format.",
        )
