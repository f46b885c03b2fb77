// promptsculptor-kit: the conveniences of the Rust SDK for JavaScript and
// TypeScript plugins (types in promptsculptor-kit.d.ts).
//
// - style(): a style definition for a remix plugin's manifest;
// - placeholders() / keepPlaceholders(): the template variables the server
//   checks a remix for, and putting back any that a rewrite lost;
// - chat(): the LLM round trip — one call, your check of the reply, exactly
//   one repair turn when the check rejects it, then a clear plugin error;
// - PluginError and its helpers: what an operation throws so the server
//   answers with the matching status (a plain Error is a plugin crash, 500);
// - rule-based text helpers (protect(), sentences()) for a no-LLM path.
//
// Written by `promptsculptor plugin new` for WIT promptsculptor:plugin@@WIT_VERSION@.

import { chat as llmChat } from 'promptsculptor:plugin/llm@@WIT_VERSION@';
import { log } from 'promptsculptor:plugin/log@@WIT_VERSION@';

// `{{name}}` (spaces allowed inside), or a lone `{name}` not part of a larger
// brace group: the same placeholders the server checks a remix for.
const PLACEHOLDER = /\{\{\s*[A-Za-z_][\w.-]*\s*\}\}|(?<!\{)\{[A-Za-z_][\w.-]*\}(?!\})/g;

/** A plugin error: the component returns `payload` as the operation's error. */
export class PluginError extends Error {
  constructor(tag, val) {
    super(`${tag}: ${typeof val === 'string' ? val : JSON.stringify(val)}`);
    // componentize-js hands a thrown value's `payload` to the host as the
    // result's error case.
    this.payload = { tag, val };
  }
}

/** The request cannot be served as asked (HTTP 422). */
export const invalidInput = (message) => new PluginError('invalid-input', message);

/** Anything else the plugin cannot recover from (HTTP 500). */
export const internal = (message) => new PluginError('internal', message);

/** Thrown by a chat() check: what is wrong with a reply, and the repair
 * instruction the model gets once. */
export class Rejected extends Error {
  constructor(problem, repair) {
    super(problem);
    this.problem = problem;
    this.repair = repair;
  }
}

/** A style for the manifest; examples are [before, after] pairs. */
export function style(name, description, instructions, examples = []) {
  return {
    name,
    description,
    instructions,
    examples: examples.map(([before, after]) => ({ before, after })),
  };
}

/** Distinct placeholder literals of text, as written, in order. */
export function placeholders(text) {
  return [...new Set(text.match(PLACEHOLDER) ?? [])];
}

/** text, with every placeholder of original that it lost listed at the end. */
export function keepPlaceholders(original, text) {
  const missing = placeholders(original).filter((p) => !text.includes(p));
  return missing.length === 0
    ? text
    : `${text.trimEnd()}\n\nInputs:\n${missing.map((p) => `- ${p}`).join('\n')}`;
}

/**
 * One LLM call through the host; check(replyText) returns the result or
 * throws Rejected. A rejected reply gets exactly one repair turn; rejected
 * again, it is the plugin error unusable-llm-output. An LLM failure is
 * thrown as the plugin error llm(<the failure>), so the server answers with
 * the provider's status. Without check, the reply text is the result.
 */
export function chat({ system, user, check, jsonSchema, temperature, maxTokens }) {
  let messages = [{ role: 'user', content: user }];
  for (let attempt = 1; ; attempt += 1) {
    let text;
    try {
      text = llmChat({ system, messages, temperature, maxTokens, jsonSchema }).text;
    } catch (e) {
      // A WIT result's error arrives as the thrown value's `payload`.
      if (e && typeof e === 'object' && 'payload' in e) {
        throw new PluginError('llm', e.payload);
      }
      throw e;
    }
    if (!check) {
      return text;
    }
    try {
      return check(text);
    } catch (e) {
      if (!(e instanceof Rejected)) {
        throw e;
      }
      if (attempt === 2) {
        throw new PluginError('unusable-llm-output', e.problem);
      }
      log('warn', `LLM reply needs repair (${e.problem}); asking once`);
      messages = [
        ...messages,
        { role: 'assistant', content: text },
        { role: 'user', content: e.repair },
      ];
    }
  }
}

/** text with every placeholder replaced by an opaque token, and a function
 * that puts them back: rules applied in between cannot touch a variable. */
export function protect(text) {
  const found = [];
  const masked = text.replace(PLACEHOLDER, (m) => {
    found.push(m);
    return `\ue000${found.length - 1}\ue001`;
  });
  return [masked, (s) => s.replace(/\ue000(\d+)\ue001/g, (_, i) => found[Number(i)])];
}

/** The sentences of text, line by line (a simple split after . ! ? — enough
 * for a rule-based rewrite). */
export function sentences(text) {
  return text
    .split(/\r?\n/)
    .flatMap((line) => line.split(/(?<=[.!?])\s+/))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
