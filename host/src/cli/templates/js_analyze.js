// @NAME@: a PromptSculptor analyze plugin in JavaScript.

import { count } from 'promptsculptor:plugin/tokenizer@@WIT_VERSION@';

const VARIABLE = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;

export const analyzer = {
  manifest() {
    return {
      name: '@NAME@', version: '0.1.0', description: 'Flags prompts too short to be specific.',
      kind: 'analyze', styles: [],
    };
  },

  analyze(request) {
    const words = request.prompt.split(/\s+/).filter((w) => w.length > 0).length;
    const chars = [...request.prompt].length;
    const tokens = count(request.prompt, request.tokenizer);
    const issues = [];
    if (words < 8) {
      issues.push({
        code: 'too-short', severity: 'warning', message: `The prompt has only ${words} words.`,
        suggestion: 'Say who the answer is for and what shape it should take.',
      });
    }
    const s = issues.length === 0 ? 80 : 40;
    return {
      scores: { overall: s, clarity: s, specificity: s, structure: s, context: s, outputFormat: s },
      issues,
      suggestions: issues.map((i) => i.suggestion),
      stats: {
        chars, words, tokens: tokens ?? Math.floor(chars / 4), tokenizer: request.tokenizer,
        variables: [...new Set([...request.prompt.matchAll(VARIABLE)].map((m) => m[1]))],
      },
    };
  },
};
