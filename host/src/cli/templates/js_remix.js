// @NAME@: a PromptSculptor remix plugin in JavaScript, with two styles of its own.

import { get as getStyle } from 'promptsculptor:plugin/styles@@WIT_VERSION@';
import { log } from 'promptsculptor:plugin/log@@WIT_VERSION@';
import {
  Rejected, chat, invalidInput, keepPlaceholders, placeholders, protect, sentences, style,
} from './promptsculptor-kit.js';

const STYLES = [
  style('@NAME@-plain', 'Plain words, short sentences',
    'Rewrite the prompt in plain English: short sentences, everyday words, active voice.',
    [['Utilise {{doc}} to facilitate a summary.', 'Use {{doc}} to help sum up.']]),
  style('@NAME@-checklist', 'The task as a numbered checklist',
    'Rewrite the prompt as a one-line goal followed by a numbered checklist of steps.',
    [['Review {{code}}. Find bugs.', 'Goal: Review {{code}}.\n1. Find bugs.']]),
];

const REPAIR = 'That answered the prompt. Rewrite the prompt itself, keeping every {{placeholder}}.';

// The no-LLM `plain` rewrite: wordy phrases and their plain words.
const WORDY = [['utilise', 'use'], ['utilize', 'use'], ['facilitate', 'help'], ['in order to', 'to'],
  ['prior to', 'before'], ['commence', 'start'], ['approximately', 'about']];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Plain words, then the same with one sentence per line: [text, change] pairs. */
function plain(prompt) {
  const [masked, restore] = protect(prompt);
  let text = masked;
  const done = [];
  for (const [wordy, simple] of WORDY) {
    let count = 0;
    text = text.replace(new RegExp(`\\b${escape(wordy)}\\b`, 'gi'), (m) => {
      count += 1;
      const first = m.charAt(0);
      return first === first.toUpperCase() ? simple.charAt(0).toUpperCase() + simple.slice(1) : simple;
    });
    if (count > 0) {
      done.push(`${wordy}→${simple}`);
    }
  }
  const said = done.length > 0
    ? `Replaced ${done.length} wordy phrase(s): ${done.join(', ')}`
    : 'Found no wordy phrase to replace';
  return [[restore(text), said],
    [restore(sentences(text).join('\n')), `${said}; put each sentence on its own line`]];
}

/** A goal and numbered steps, then the same as a `- [ ]` checklist. */
function checklist(prompt) {
  const [text, restore] = protect(prompt);
  const parts = sentences(text);
  if (parts.length === 0) {
    return [];
  }
  const [goal, ...steps] = parts;
  const said = `Turned ${parts.length} sentence(s) into a goal and ${steps.length} step(s)`;
  const numbered = steps.map((s, i) => `\n${i + 1}. ${s}`).join('');
  const boxes = steps.map((s) => `\n- [ ] ${s}`).join('');
  return [[restore(`Goal: ${goal}${numbered}`), `${said}, numbered`],
    [restore(`Goal: ${goal}${boxes}`), `${said}, as a checklist`]];
}

export const remixer = {
  manifest() {
    return {
      name: '@NAME@', version: '0.1.0', description: 'Two house styles, written in JavaScript.',
      kind: 'remix', styles: STYLES,
    };
  },

  remix(request) {
    if (!request.prompt.trim() || request.variants < 1 || request.variants > 5) {
      throw invalidInput('need a prompt and 1 to 5 variants');
    }
    const found = getStyle(request.style);
    if (found === undefined) {
      throw invalidInput(`unknown style '${request.style}'; see GET /api/v1/styles`);
    }
    if (request.useLlm) {
      const system = `Rewrite the user's prompt; do not answer it. ${found.instructions} `
        + 'Keep every {{placeholder}} exactly as written. Reply with the rewritten prompt only.';
      const literals = placeholders(request.prompt);
      // A reply without any of the prompt's variables answered it instead of
      // rewriting it: one repair turn. Any other loss is put back.
      const check = (reply) => {
        if (literals.length > 0 && !literals.some((p) => reply.includes(p))) {
          throw new Rejected('it dropped every {{variable}}', REPAIR);
        }
        return keepPlaceholders(request.prompt, reply);
      };
      const variants = Array.from({ length: request.variants },
        () => chat({ system, user: request.prompt, check }));
      log('debug', `remixed into ${found.name} with the LLM`);
      return { variants, changes: [`Rewrote it with the LLM in the ${found.name} style.`] };
    }
    // Without an LLM: rule-based rewrites, each one different, or a clear refusal.
    const rules = found.name.endsWith('-checklist') ? checklist : plain;
    const forms = [];
    for (const [text, change] of rules(request.prompt)) {
      if (text !== request.prompt && forms.every(([t]) => t !== text)) {
        forms.push([text, change]);
      }
    }
    if (forms.length < request.variants) {
      const k = forms.length;
      const why = k === 0
        ? `without an LLM, no rule of ${found.name} changes this prompt`
        : `without an LLM, ${found.name} has ${k} distinct rewrite(s); ask for at most ${k}`;
      throw invalidInput(`${why}, or set use_llm`);
    }
    const chosen = forms.slice(0, request.variants);
    return { variants: chosen.map(([t]) => t), changes: chosen.map(([, c]) => c) };
  },
};
