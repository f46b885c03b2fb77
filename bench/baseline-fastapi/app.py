"""Baseline of the seed's design, for scripts/bench-llm only: FastAPI + Uvicorn,
the three endpoints calling an OpenAI-compatible LLM over HTTP (httpx async
client), parsing the completion's JSON. The smallest faithful version: no
plugins, no database, styles in a dict, one tiny deterministic remix.

Run: BASELINE_LLM_BASE_URL=http://127.0.0.1:18190/v1 \
     uvicorn app:app --host 127.0.0.1 --port 18182 --workers 1
"""

import json
import os
import re
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

LLM_BASE_URL = os.environ.get("BASELINE_LLM_BASE_URL", "http://127.0.0.1:8081/v1")
LLM_MODEL = os.environ.get("BASELINE_LLM_MODEL", "local")

STYLES = {
    "structured-xml": "Rewrite the prompt with XML tags for role, task, context and output format.",
    "concise": "Rewrite the prompt as briefly as possible without losing any requirement.",
}

REMIX_SCHEMA = {
    "type": "object",
    "properties": {
        "variants": {"type": "array", "items": {"type": "string"}},
        "changes": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["variants", "changes"],
}

client: httpx.AsyncClient


@asynccontextmanager
async def lifespan(_app):
    global client
    limits = httpx.Limits(max_connections=20000, max_keepalive_connections=20000)
    client = httpx.AsyncClient(base_url=LLM_BASE_URL, limits=limits, timeout=60.0)
    yield
    await client.aclose()


app = FastAPI(lifespan=lifespan)


class AnalyzeBody(BaseModel):
    prompt: str = Field(min_length=1)
    target_model: str | None = None
    use_llm: bool = True


class RemixBody(BaseModel):
    prompt: str = Field(min_length=1)
    style: str
    instructions: str | None = None
    variants: int = Field(default=1, ge=1, le=5)
    use_llm: bool = True


class CreateBody(BaseModel):
    goal: str = Field(min_length=1)
    context: str | None = None
    constraints: list[str] = []
    variables: list[str] = []
    output_format: str | None = None
    use_llm: bool = True


async def chat(system: str, user: str, schema: dict | None = None) -> tuple[dict, dict]:
    """One chat completion; returns the reply's JSON object and the usage."""
    body = {
        "model": LLM_MODEL,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "temperature": 0.3,
    }
    if schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": schema, "strict": False},
        }
    try:
        resp = await client.post("/chat/completions", json=body)
    except httpx.HTTPError as e:
        raise HTTPException(503, f"llm unavailable: {e}") from e
    if resp.status_code != 200:
        raise HTTPException(502, f"llm answered {resp.status_code}")
    data = resp.json()
    try:
        reply = json.loads(data["choices"][0]["message"]["content"])
    except (KeyError, IndexError, ValueError) as e:
        raise HTTPException(502, "llm reply is not JSON") from e
    return reply, data.get("usage", {})


def usage_of(u: dict) -> dict:
    return {
        "llm_calls": 1,
        "input_tokens": u.get("prompt_tokens", 0),
        "output_tokens": u.get("completion_tokens", 0),
        "model": LLM_MODEL,
    }


STRATEGY = {"name": "baseline", "version": "0.1.0"}


def remix_rules(prompt: str) -> str:
    """Tiny deterministic structured-xml remix: role sentence vs task sentences."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", prompt) if s.strip()]
    role = [s for s in sentences if s.lower().startswith("you are")]
    task = [s for s in sentences if s not in role]
    parts = []
    if role:
        parts.append("<role>" + " ".join(role) + "</role>")
    parts.append("<task>" + " ".join(task) + "</task>")
    return "\n".join(parts)


@app.post("/api/v1/remix")
async def remix(body: RemixBody):
    if body.style not in STYLES:
        raise HTTPException(404, f"unknown style {body.style}")
    if not body.use_llm:
        out = remix_rules(body.prompt)
        return {
            "prompt": out,
            "variants": [out],
            "style": {"name": body.style, "source": "builtin"},
            "changes": ["Wrapped the prompt's parts in XML tags."],
            "strategy": STRATEGY,
            "usage": {"llm_calls": 0, "input_tokens": 0, "output_tokens": 0, "model": None},
        }
    user = (
        f"Style: {body.style}: {STYLES[body.style]}\n"
        f"{body.instructions or ''}\n"
        f"Write exactly {body.variants} variant(s) of this prompt, as JSON "
        '{"variants": [...], "changes": [...]}:\n\n' + body.prompt
    )
    reply, usage = await chat("You rewrite prompts.", user, REMIX_SCHEMA)
    variants = [v for v in reply.get("variants", []) if isinstance(v, str) and v.strip()]
    if not variants:
        raise HTTPException(502, "llm reply has no variants")
    return {
        "prompt": variants[0],
        "variants": variants[: body.variants],
        "style": {"name": body.style, "source": "builtin"},
        "changes": [c for c in reply.get("changes", []) if isinstance(c, str)],
        "strategy": STRATEGY,
        "usage": usage_of(usage),
    }


@app.post("/api/v1/analyze")
async def analyze(body: AnalyzeBody):
    stats = {"chars": len(body.prompt), "words": len(body.prompt.split())}
    if not body.use_llm:
        return {"stats": stats, "issues": [], "suggestions": [], "strategy": STRATEGY}
    reply, usage = await chat(
        "You review prompts. Answer JSON {\"issues\": [...], \"suggestions\": [...]}.", body.prompt
    )
    return {
        "stats": stats,
        "issues": reply.get("issues", []),
        "suggestions": reply.get("suggestions", reply.get("changes", [])),
        "strategy": STRATEGY,
        "usage": usage_of(usage),
    }


@app.post("/api/v1/create")
async def create(body: CreateBody):
    spec = "\n".join(
        [f"Goal: {body.goal}", f"Context: {body.context or ''}"]
        + [f"Constraint: {c}" for c in body.constraints]
        + [f"Variable: {{{{{v}}}}}" for v in body.variables]
    )
    if not body.use_llm:
        return {"prompt": spec, "system": None, "variables": body.variables, "rationale": "template"}
    reply, usage = await chat("You write prompts. Answer JSON {\"variants\": [prompt]}.", spec)
    variants = reply.get("variants") or [spec]
    return {
        "prompt": variants[0],
        "system": None,
        "variables": body.variables,
        "rationale": " ".join(reply.get("changes", [])),
        "usage": usage_of(usage),
    }


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}
