#!/usr/bin/env bash
# Remix → evaluate in one step (docs/evaluate.md): remix a prompt into two
# styles, then evaluate the original and both variants on the same cases
# and print the ranking. Needs curl and jq, and a running server:
#   PROMPTSCULPTOR_SERVER  the server's base URL (default http://127.0.0.1:8080)
#   PROMPTSCULPTOR_BIN     the promptsculptor binary (default: on PATH)
#   MIN_PASS_RATE          fail (exit 1) when the best prompt passes less (default 0)
set -euo pipefail
server=${PROMPTSCULPTOR_SERVER:-http://127.0.0.1:8080}
bin=${PROMPTSCULPTOR_BIN:-promptsculptor}
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "$tool is needed: apt-get install $tool" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

prompt='Classify the support ticket {{ticket}} as high or low priority.'

# 1. Remix: one variant per style (deterministic here: use_llm false).
for style in json-output constraints-first; do
  jq -n --arg p "$prompt" --arg s "$style" '{prompt: $p, style: $s, use_llm: false}' |
    curl -sS --fail-with-body "$server/api/v1/remix" -H 'content-type: application/json' -d @- |
    jq -c --arg s "$style" '{id: $s, prompt: .prompt}'
done > "$work/variants.jsonl"

# 2. Evaluate the original and the variants on the same cases.
jq -n --arg p "$prompt" --slurpfile variants "$work/variants.jsonl" '{
  prompts: ([{id: "original", prompt: $p}] + $variants),
  cases: [
    {id: "outage", vars: {ticket: "The checkout page is down for every customer."}},
    {id: "typo",   vars: {ticket: "There is a typo in the footer."}}
  ],
  assert: [
    {type: "icontains", value: "json", weight: 2},
    {type: "max-tokens", value: 200}
  ]
}' > "$work/evaluate.json"

# 3. Run it: a table per prompt, ranked; exit 1 below MIN_PASS_RATE.
"$bin" eval "$work/evaluate.json" --server "$server" --min-pass-rate "${MIN_PASS_RATE:-0}"
